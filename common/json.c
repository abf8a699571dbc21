#include "common/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

/* ---- parser ---- */

typedef struct {
	const char *s;
	size_t len, pos;
	eb_err *err;
} parser;

static int
perr(parser *p, const char *what)
{
	return eb_err_set(p->err, EB_ECORRUPT, "bad JSON at byte %zu: %s", p->pos, what);
}

static void
ws(parser *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]))
		p->pos++;
}

static int
lit(parser *p, const char *w)
{
	size_t n = strlen(w);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
		return perr(p, "unexpected token");
	p->pos += n;
	return 0;
}

static void
put_utf8(eb_buf *b, unsigned cp)
{
	char o[4];
	if (cp < 0x80) {
		o[0] = (char)cp;
		eb_buf_add(b, o, 1);
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		eb_buf_add(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		eb_buf_add(b, o, 3);
	} else {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		eb_buf_add(b, o, 4);
	}
}

static int
hex4(parser *p, unsigned *out)
{
	unsigned v = 0;
	if (p->len - p->pos < 4)
		return perr(p, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
		else return perr(p, "bad \\u escape");
	}
	*out = v;
	return 0;
}

static int
pstring(parser *p, char **out)
{
	eb_buf b;
	eb_buf_init(&b);
	p->pos++; /* opening quote */
	while (p->pos < p->len) {
		char c = p->s[p->pos++];
		if (c == '"') {
			if (!b.p)
				eb_buf_add(&b, "", 0);
			if (b.oom || !b.p) {
				eb_buf_dispose(&b);
				return eb_err_set(p->err, EB_ENOMEM, "out of memory");
			}
			*out = b.p;
			return 0;
		}
		if ((unsigned char)c < 0x20)
			break;
		if (c != '\\') {
			eb_buf_add(&b, &c, 1);
			continue;
		}
		if (p->pos >= p->len)
			break;
		c = p->s[p->pos++];
		switch (c) {
		case '"': case '\\': case '/': eb_buf_add(&b, &c, 1); break;
		case 'b': eb_buf_add(&b, "\b", 1); break;
		case 'f': eb_buf_add(&b, "\f", 1); break;
		case 'n': eb_buf_add(&b, "\n", 1); break;
		case 'r': eb_buf_add(&b, "\r", 1); break;
		case 't': eb_buf_add(&b, "\t", 1); break;
		case 'u': {
			unsigned cp, lo;
			int hrc = hex4(p, &cp);
			if (hrc < 0) {
				eb_buf_dispose(&b);
				return hrc;
			}
			if (cp >= 0xd800 && cp < 0xdc00 && p->len - p->pos >= 6 &&
			    p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
				p->pos += 2;
				hrc = hex4(p, &lo);
				if (hrc < 0) {
					eb_buf_dispose(&b);
					return hrc;
				}
				if (lo >= 0xdc00 && lo < 0xe000)
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			put_utf8(&b, cp);
			break;
		}
		default:
			eb_buf_dispose(&b);
			return perr(p, "bad escape");
		}
	}
	eb_buf_dispose(&b);
	return perr(p, "unterminated string");
}

static int pvalue(parser *p, eb_json **out, int depth);

static int
pcontainer(parser *p, eb_json *j, int depth)
{
	char close = j->type == EB_JSON_OBJ ? '}' : ']';
	eb_json **tail = &j->child;
	p->pos++;
	ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		eb_json *v = NULL;
		int rc;
		ws(p);
		if (j->type == EB_JSON_OBJ) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return perr(p, "expected a member name");
			if ((rc = pstring(p, &key)) < 0)
				return rc;
			ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				return perr(p, "expected ':'");
			}
			p->pos++;
		}
		rc = pvalue(p, &v, depth + 1);
		if (rc < 0) {
			free(key);
			return rc;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		ws(p);
		if (p->pos >= p->len)
			return perr(p, "unterminated container");
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return perr(p, "expected ',' or end of container");
	}
}

static int
pvalue(parser *p, eb_json **out, int depth)
{
	eb_json *j;
	int rc = 0;
	char c;
	if (depth > MAX_DEPTH)
		return perr(p, "nested too deep");
	ws(p);
	if (p->pos >= p->len)
		return perr(p, "unexpected end");
	j = calloc(1, sizeof *j);
	if (!j)
		return eb_err_set(p->err, EB_ENOMEM, "out of memory");
	*out = j;
	c = p->s[p->pos];
	if (c == '{' || c == '[') {
		j->type = c == '{' ? EB_JSON_OBJ : EB_JSON_ARR;
		rc = pcontainer(p, j, depth);
	} else if (c == '"') {
		j->type = EB_JSON_STR;
		rc = pstring(p, &j->str);
	} else if (c == 't') {
		j->type = EB_JSON_BOOL;
		j->boolean = 1;
		rc = lit(p, "true");
	} else if (c == 'f') {
		j->type = EB_JSON_BOOL;
		rc = lit(p, "false");
	} else if (c == 'n') {
		rc = lit(p, "null");
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		size_t st = p->pos;
		while (p->pos < p->len && strchr("+-0123456789.eE", p->s[p->pos]))
			p->pos++;
		j->type = EB_JSON_NUM;
		j->str = strndup(p->s + st, p->pos - st);
		if (!j->str)
			rc = eb_err_set(p->err, EB_ENOMEM, "out of memory");
	} else {
		rc = perr(p, "unexpected character");
	}
	if (rc < 0) {
		eb_json_free(j); /* with whatever children it got */
		*out = NULL;
	}
	return rc;
}

int
eb_json_parse(eb_json **out, const char *text, size_t len, eb_err *err)
{
	parser p = {text, len, 0, err};
	eb_json *j = NULL;
	int rc = pvalue(&p, &j, 0);
	if (rc == 0) {
		ws(&p);
		if (p.pos != p.len)
			rc = perr(&p, "trailing data");
	}
	if (rc < 0) {
		eb_json_free(j);
		return rc;
	}
	*out = j;
	return 0;
}

void
eb_json_free(eb_json *j)
{
	while (j) {
		eb_json *n = j->next;
		eb_json_free(j->child);
		free(j->key);
		free(j->str);
		free(j);
		j = n;
	}
}

const eb_json *
eb_json_get(const eb_json *obj, const char *key)
{
	if (!obj || obj->type != EB_JSON_OBJ)
		return NULL;
	for (const eb_json *c = obj->child; c; c = c->next)
		if (c->key && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

int
eb_json_get_str(const eb_json *obj, const char *key, const char **out,
                eb_err *err)
{
	const eb_json *j = eb_json_get(obj, key);
	if (!j || j->type != EB_JSON_STR)
		return eb_err_set(err, EB_ECORRUPT, "field \"%s\" is missing or not a string", key);
	*out = j->str;
	return 0;
}

int
eb_json_get_strcpy(const eb_json *obj, const char *key, char *dst, size_t cap, eb_err *err)
{
	const char *v = NULL;
	int rc = eb_json_get_str(obj, key, &v, err);
	if (rc < 0)
		return rc;
	if (strlen(v) >= cap)
		return eb_err_set(err, EB_ECORRUPT, "field \"%s\" is too long", key);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int
eb_json_get_i64(const eb_json *obj, const char *key, int64_t *out, eb_err *err)
{
	const eb_json *j = eb_json_get(obj, key);
	char *end;
	long long v;
	if (!j || j->type != EB_JSON_NUM)
		return eb_err_set(err, EB_ECORRUPT, "field \"%s\" is missing or not a number", key);
	errno = 0;
	v = strtoll(j->str, &end, 10);
	if (errno || *end)
		return eb_err_set(err, EB_ECORRUPT, "field \"%s\" is not an integer", key);
	*out = v;
	return 0;
}

int
eb_json_get_u64(const eb_json *obj, const char *key, uint64_t *out, eb_err *err)
{
	const eb_json *j = eb_json_get(obj, key);
	char *end;
	unsigned long long v;
	if (!j || j->type != EB_JSON_NUM || j->str[0] == '-')
		return eb_err_set(err, EB_ECORRUPT, "field \"%s\" is missing or not a non-negative number", key);
	errno = 0;
	v = strtoull(j->str, &end, 10);
	if (errno || *end)
		return eb_err_set(err, EB_ECORRUPT, "field \"%s\" is not an integer", key);
	*out = v;
	return 0;
}
