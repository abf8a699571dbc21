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

void
eb_buf_add(eb_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
eb_buf_puts(eb_buf *b, const char *s)
{
	eb_buf_add(b, s, strlen(s));
}

void
eb_buf_printf(eb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
eb_buf_json_str(eb_buf *b, const char *s)
{
	eb_buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"': eb_buf_add(b, "\\\"", 2); break;
		case '\\': eb_buf_add(b, "\\\\", 2); break;
		case '\n': eb_buf_add(b, "\\n", 2); break;
		case '\r': eb_buf_add(b, "\\r", 2); break;
		case '\t': eb_buf_add(b, "\\t", 2); break;
		default:
			if (c < 0x20)
				eb_buf_printf(b, "\\u%04x", c);
			else
				eb_buf_add(b, (const char *)&c, 1);
		}
	}
	eb_buf_add(b, "\"", 1);
}

int
eb_buf_status(const eb_buf *b)
{
	return b->oom ? EB_ENOMEM : 0;
}
