/* storage/s3/xml.c - see xml.h. */
#include "storage/s3/xml.h"

#include <stdlib.h>
#include <string.h>

/* Name of the tag starting at p (after '<'), local part only. */
static int
name_matches(const char *p, const char *end, const char *tag)
{
	const char *s = p, *colon = NULL;
	size_t tl = strlen(tag);
	while (s < end && *s != '>' && *s != '/' && *s != ' ' && *s != '\t' &&
	       *s != '\r' && *s != '\n') {
		if (*s == ':')
			colon = s;
		s++;
	}
	if (colon)
		p = colon + 1;
	return (size_t)(s - p) == tl && memcmp(p, tag, tl) == 0;
}

int
eb_xml_next(eb_xml_span in, size_t *pos, const char *tag, eb_xml_span *out)
{
	const char *end = in.p + in.len, *p = in.p + *pos;
	int depth;
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt;
		if (!lt)
			return 0;
		gt = memchr(lt, '>', (size_t)(end - lt));
		if (!gt)
			return -1;
		if (lt + 1 < end && lt[1] != '/' && lt[1] != '?' && lt[1] != '!' &&
		    name_matches(lt + 1, gt, tag)) {
			const char *c = gt + 1;
			if (gt[-1] == '/') { /* <tag/> */
				out->p = c;
				out->len = 0;
				*pos = (size_t)(c - in.p);
				return 1;
			}
			/* find the matching close tag, counting nested same names */
			depth = 1;
			p = c;
			while (p < end) {
				const char *l = memchr(p, '<', (size_t)(end - p)), *g;
				if (!l)
					return -1;
				g = memchr(l, '>', (size_t)(end - l));
				if (!g)
					return -1;
				if (l[1] == '/' && name_matches(l + 2, g, tag)) {
					if (--depth == 0) {
						out->p = c;
						out->len = (size_t)(l - c);
						*pos = (size_t)(g + 1 - in.p);
						return 1;
					}
				} else if (l[1] != '/' && l[1] != '?' && l[1] != '!' &&
				           g[-1] != '/' && name_matches(l + 1, g, tag)) {
					depth++;
				}
				p = g + 1;
			}
			return -1;
		}
		p = gt + 1;
	}
	return 0;
}

int
eb_xml_find(eb_xml_span in, const char *tag, eb_xml_span *out)
{
	size_t pos = 0;
	return eb_xml_next(in, &pos, tag, out);
}

static int
put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

char *
eb_xml_text(eb_xml_span s)
{
	char *o = malloc(s.len + 1), *w = o;
	const char *p = s.p, *end = s.p + s.len;
	if (!o)
		return NULL;
	while (p < end) {
		if (*p == '<')
			goto bad;
		if (*p != '&') {
			*w++ = *p++;
			continue;
		}
		const char *semi = memchr(p, ';', (size_t)(end - p) < 12 ? (size_t)(end - p) : 12);
		if (!semi)
			goto bad;
		size_t n = (size_t)(semi - p - 1);
		const char *e = p + 1;
		if (n == 3 && !memcmp(e, "amp", 3)) *w++ = '&';
		else if (n == 2 && !memcmp(e, "lt", 2)) *w++ = '<';
		else if (n == 2 && !memcmp(e, "gt", 2)) *w++ = '>';
		else if (n == 4 && !memcmp(e, "quot", 4)) *w++ = '"';
		else if (n == 4 && !memcmp(e, "apos", 4)) *w++ = '\'';
		else if (n >= 2 && e[0] == '#') {
			unsigned long cp = 0;
			int hexd = (e[1] == 'x' || e[1] == 'X');
			const char *d = e + 1 + hexd;
			if (d >= semi)
				goto bad;
			for (; d < semi; d++) {
				int v;
				if (*d >= '0' && *d <= '9') v = *d - '0';
				else if (hexd && *d >= 'a' && *d <= 'f') v = *d - 'a' + 10;
				else if (hexd && *d >= 'A' && *d <= 'F') v = *d - 'A' + 10;
				else goto bad;
				cp = cp * (hexd ? 16 : 10) + (unsigned long)v;
				if (cp > 0x10FFFF)
					goto bad;
			}
			if (cp == 0)
				goto bad;
			/* an encoded char never takes more bytes than its entity */
			w += put_utf8(w, cp);
		} else
			goto bad;
		p = semi + 1;
	}
	*w = '\0';
	return o;
bad:
	free(o);
	return NULL;
}

void
eb_xml_get(eb_xml_span in, const char *tag, char *buf, size_t size)
{
	eb_xml_span s;
	char *t;
	buf[0] = '\0';
	if (eb_xml_find(in, tag, &s) != 1 || !(t = eb_xml_text(s)))
		return;
	strncpy(buf, t, size - 1);
	buf[size - 1] = '\0';
	free(t);
}
