#include "common/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#define DEFAULT_MAX (16u << 20)

void
eb_buf_init(eb_buf *b)
{
	memset(b, 0, sizeof *b);
}

void
eb_buf_dispose(eb_buf *b)
{
	free(b->p);
	eb_buf_init(b);
}

int
eb_buf_grow(void **p, size_t *cap, size_t need, size_t max)
{
	size_t ncap;
	void *np;
	if (need <= *cap)
		return 0;
	if ((max && need > max) || need > SIZE_MAX / 2)
		return -1;
	ncap = *cap ? *cap : 256;
	while (ncap < need)
		ncap *= 2;
	if (max && ncap > max)
		ncap = max;
	np = realloc(*p, ncap);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int
reserve(eb_buf *b, size_t more)
{
	void *p = b->p;
	if (b->oom)
		return -1;
	if (more > SIZE_MAX / 2 - b->len ||
	    eb_buf_grow(&p, &b->cap, b->len + more + 1, b->max ? b->max : DEFAULT_MAX) < 0) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	return 0;
}

int
eb_buf_add(eb_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return EB_ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
eb_buf_puts(eb_buf *b, const char *s)
{
	return eb_buf_add(b, s, strlen(s));
}

int
eb_buf_printf(eb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n) < 0) {
		b->oom = 1;
		return EB_ENOMEM;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

size_t
eb_utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
	else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
	else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
	else return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
eb_buf_json(eb_buf *b, const char *str, int flags)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s), i = 0, k;
	int go = flags & EB_JSON_GO, utf8 = flags & (EB_JSON_GO | EB_JSON_UTF8);
	eb_buf_add(b, "\"", 1);
	while (i < n) {
		unsigned c = s[i];
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
		                : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
		if (esc) {
			eb_buf_add(b, esc, 2);
			i++;
		} else if (c < 0x20 || (go && (c == '<' || c == '>' || c == '&')) || (flags & EB_JSON_UTF8 && c == 0x7f)) {
			eb_buf_printf(b, "\\u%04x", c);
			i++;
		} else if (c < 0x80 || !utf8) { /* bytes as they are: what was read is written back */
			eb_buf_add(b, (const char *)s + i++, 1);
		} else if ((k = eb_utf8_len(s + i, n - i)) == 0) {
			eb_buf_add(b, "\\ufffd", 6); /* invalid UTF-8: the replacement character */
			i++;
		} else if (go && k == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			eb_buf_add(b, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
			i += 3;
		} else {
			eb_buf_add(b, (const char *)s + i, k);
			i += k;
		}
	}
	eb_buf_add(b, "\"", 1);
}

void
eb_buf_json_str(eb_buf *b, const char *s)
{
	eb_buf_json(b, s, 0);
}

int
eb_array_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t bytes = *cap * size;
	if (need <= *cap)
		return 0;
	if (!size || need > SIZE_MAX / 2 / size || eb_buf_grow(p, &bytes, need * size, 0) < 0)
		return -1;
	*cap = bytes / size;
	return 0;
}

int
eb_buf_status(const eb_buf *b)
{
	return b->oom ? EB_ENOMEM : 0;
}
