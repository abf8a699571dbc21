/* storage/s3/json.c - see json.h.  Recursive descent with a depth cap. */
#include "storage/s3/json.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *p, *end;
} jcur;

static void
ws(jcur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
	                         *c->p == '\r'))
		c->p++;
}

static int hexv(char ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

/* Parses a string at c->p ('"'); stores decoded copy in *out if out. */
static int
jstr(jcur *c, char **out)
{
	const char *p = c->p + 1;
	char *o = NULL, *w = NULL;
	if (c->p >= c->end || *c->p != '"')
		return -1;
	if (out) {
		o = w = malloc((size_t)(c->end - c->p) + 1);
		if (!o)
			return -1;
	}
	while (p < c->end && *p != '"') {
		unsigned char ch = (unsigned char)*p;
		if (ch < 0x20)
			goto bad;
		if (ch != '\\') {
			if (w) *w++ = (char)ch;
			p++;
			continue;
		}
		if (++p >= c->end)
			goto bad;
		char e = *p++, r;
		switch (e) {
		case '"': r = '"'; break;
		case '\\': r = '\\'; break;
		case '/': r = '/'; break;
		case 'b': r = '\b'; break;
		case 'f': r = '\f'; break;
		case 'n': r = '\n'; break;
		case 'r': r = '\r'; break;
		case 't': r = '\t'; break;
		case 'u': {
			unsigned cp = 0;
			if (c->end - p < 4)
				goto bad;
			for (int i = 0; i < 4; i++) {
				int v = hexv(p[i]);
				if (v < 0)
					goto bad;
				cp = cp * 16 + (unsigned)v;
			}
			p += 4;
			if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
				goto bad; /* credentials are ASCII; no surrogates */
			if (w) {
				if (cp < 0x80) *w++ = (char)cp;
				else if (cp < 0x800) {
					*w++ = (char)(0xC0 | (cp >> 6));
					*w++ = (char)(0x80 | (cp & 0x3F));
				} else {
					*w++ = (char)(0xE0 | (cp >> 12));
					*w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
					*w++ = (char)(0x80 | (cp & 0x3F));
				}
			}
			continue;
		}
		default: goto bad;
		}
		if (w) *w++ = r;
	}
	if (p >= c->end)
		goto bad;
	c->p = p + 1;
	if (out) {
		*w = '\0';
		*out = o;
	}
	return 0;
bad:
	free(o);
	return -1;
}

static int jval(jcur *c, int depth);

static int
jobj_or_arr(jcur *c, int depth)
{
	char close = *c->p == '{' ? '}' : ']';
	int obj = close == '}';
	c->p++;
	ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;;) {
		ws(c);
		if (obj) {
			if (jstr(c, NULL))
				return -1;
			ws(c);
			if (c->p >= c->end || *c->p != ':')
				return -1;
			c->p++;
		}
		if (jval(c, depth + 1))
			return -1;
		ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == close) {
			c->p++;
			return 0;
		}
		return -1;
	}
}

static int
jval(jcur *c, int depth)
{
	if (depth > 32)
		return -1;
	ws(c);
	if (c->p >= c->end)
		return -1;
	switch (*c->p) {
	case '{': case '[': return jobj_or_arr(c, depth);
	case '"': return jstr(c, NULL);
	case 't': if (c->end - c->p >= 4 && !memcmp(c->p, "true", 4)) { c->p += 4; return 0; } return -1;
	case 'f': if (c->end - c->p >= 5 && !memcmp(c->p, "false", 5)) { c->p += 5; return 0; } return -1;
	case 'n': if (c->end - c->p >= 4 && !memcmp(c->p, "null", 4)) { c->p += 4; return 0; } return -1;
	default: {
		const char *s = c->p;
		if (*c->p == '-') c->p++;
		while (c->p < c->end && ((*c->p >= '0' && *c->p <= '9') || *c->p == '.' ||
		                         *c->p == 'e' || *c->p == 'E' || *c->p == '+' || *c->p == '-'))
			c->p++;
		return c->p > s && (c->p[-1] >= '0' && c->p[-1] <= '9') ? 0 : -1;
	}
	}
}

int
eb_json_get_str(const char *doc, size_t len, const char *key, char **out)
{
	jcur c = {doc, doc + len}, chk = {doc, doc + len};
	int found = 0;
	*out = NULL;
	/* validate the whole document first */
	ws(&chk);
	if (chk.p >= chk.end || *chk.p != '{' || jval(&chk, 0))
		return -1;
	ws(&chk);
	if (chk.p != chk.end)
		return -1;
	ws(&c);
	c.p++; /* '{' */
	ws(&c);
	if (*c.p == '}')
		return 0;
	for (;;) {
		char *k = NULL;
		ws(&c);
		if (jstr(&c, &k))
			return -1;
		ws(&c);
		c.p++; /* ':' (validated) */
		ws(&c);
		if (!found && strcmp(k, key) == 0 && *c.p == '"') {
			free(k);
			if (jstr(&c, out))
				return -1;
			found = 1;
		} else {
			free(k);
			if (jval(&c, 1))
				return -1;
		}
		ws(&c);
		if (*c.p == ',') {
			c.p++;
			continue;
		}
		return found;
	}
}
