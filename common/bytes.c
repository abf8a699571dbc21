/* common/bytes.c - see bytes.h. */
#include "common/bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

void
eb_wbuf_dispose(eb_wbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

void
eb_wbuf_reset(eb_wbuf *b)
{
	b->len = 0;
}

int
eb_wbuf_reserve(eb_wbuf *b, size_t extra)
{
	void *p = b->p;
	if (b->oom)
		return -1;
	/* the growth rule of common/buf.h, without its text cap */
	if (extra > SIZE_MAX / 2 - b->len || eb_buf_grow(&p, &b->cap, b->len + extra, 0) < 0) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	return 0;
}

void
eb_wbuf_put(eb_wbuf *b, const void *src, size_t n)
{
	if (n == 0 || eb_wbuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

void
eb_wbuf_zero(eb_wbuf *b, size_t n)
{
	if (n == 0 || eb_wbuf_reserve(b, n))
		return;
	memset(b->p + b->len, 0, n);
	b->len += n;
}

void
eb_wbuf_str(eb_wbuf *b, const char *s)
{
	eb_wbuf_put(b, s, strlen(s));
}

void
eb_wbuf_fmt(eb_wbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		b->oom = 1; /* only used for short numeric formats */
		return;
	}
	eb_wbuf_put(b, tmp, (size_t)n);
}

void eb_wbuf_u8(eb_wbuf *b, uint8_t v) { eb_wbuf_put(b, &v, 1); }
void eb_wbuf_le16(eb_wbuf *b, uint16_t v) { uint8_t t[2]; eb_st_le16(t, v); eb_wbuf_put(b, t, 2); }
void eb_wbuf_le32(eb_wbuf *b, uint32_t v) { uint8_t t[4]; eb_st_le32(t, v); eb_wbuf_put(b, t, 4); }
void eb_wbuf_le64(eb_wbuf *b, uint64_t v) { uint8_t t[8]; eb_st_le64(t, v); eb_wbuf_put(b, t, 8); }
void eb_wbuf_be64(eb_wbuf *b, uint64_t v) { uint8_t t[8]; eb_st_be64(t, v); eb_wbuf_put(b, t, 8); }

void
eb_wbuf_varint(eb_wbuf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	while (v >= 0x80) {
		t[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (uint8_t)v;
	eb_wbuf_put(b, t, n);
}

void
eb_pb_uint(eb_wbuf *b, unsigned field, uint64_t v)
{
	eb_wbuf_varint(b, (uint64_t)field << 3);
	eb_wbuf_varint(b, v);
}

void
eb_pb_bytes(eb_wbuf *b, unsigned field, const void *p, size_t n)
{
	eb_wbuf_varint(b, (uint64_t)field << 3 | 2);
	eb_wbuf_varint(b, n);
	eb_wbuf_put(b, p, n);
}

void
eb_wbuf_json_str(eb_wbuf *b, const char *str)
{
	eb_buf t;
	eb_buf_init(&t);
	eb_buf_json(&t, str, EB_JSON_GO);
	if (eb_buf_status(&t) < 0)
		b->oom = 1;
	else
		eb_wbuf_put(b, t.p, t.len);
	eb_buf_dispose(&t);
}

int
eb_wbuf_check(const eb_wbuf *b, eb_err *err)
{
	if (b->oom)
		return eb_err_set(err, EB_ENOMEM, "out of memory building a buffer");
	return 0;
}

uint64_t
eb_rd_varint(eb_rd *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->bad || r->off >= r->len) {
			r->bad = 1;
			return 0;
		}
		uint8_t c = r->p[r->off++];
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

int
eb_pb_next(eb_rd *r, unsigned *field, unsigned *wt, uint64_t *val,
           const uint8_t **data, size_t *dlen)
{
	if (r->bad || r->off >= r->len)
		return 0;
	uint64_t tag = eb_rd_varint(r);
	if (r->bad || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) {
		r->bad = 1;
		return 0;
	}
	*field = (unsigned)(tag >> 3);
	*wt = (unsigned)(tag & 7);
	*val = 0;
	*data = NULL;
	*dlen = 0;
	switch (*wt) {
	case 0:
		*val = eb_rd_varint(r);
		break;
	case 2: {
		uint64_t n = eb_rd_varint(r);
		if (r->bad || n > r->len - r->off) {
			r->bad = 1;
			return 0;
		}
		*data = r->p + r->off;
		*dlen = (size_t)n;
		r->off += (size_t)n;
		break;
	}
	case 1:
		if (r->len - r->off < 8) { r->bad = 1; return 0; }
		*val = eb_le64(r->p + r->off);
		r->off += 8;
		break;
	case 5:
		if (r->len - r->off < 4) { r->bad = 1; return 0; }
		*val = eb_le32(r->p + r->off);
		r->off += 4;
		break;
	default:
		r->bad = 1;
		return 0;
	}
	return r->bad ? 0 : 1;
}

int
eb_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int
eb_keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return al < bl ? -1 : al > bl ? 1 : 0;
}

const uint8_t *
eb_rd_take(eb_rd *r, size_t n)
{
	const uint8_t *p;
	if (r->bad || r->len - r->off < n) {
		r->bad = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint32_t
eb_rd_be32(eb_rd *r)
{
	const uint8_t *p = eb_rd_take(r, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

const uint8_t *
eb_rd_sshstr(eb_rd *r, size_t *len)
{
	uint32_t n = eb_rd_be32(r);
	const uint8_t *p = eb_rd_take(r, n);
	*len = p ? n : 0;
	return p;
}

void
eb_wbuf_be32(eb_wbuf *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	eb_wbuf_put(b, p, 4);
}

void
eb_wbuf_sshstr(eb_wbuf *b, const void *p, size_t n)
{
	eb_wbuf_be32(b, (uint32_t)n);
	eb_wbuf_put(b, p, n);
}

uint64_t
eb_hash64(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	if (n)
		memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

int
eb_key_wanted(const uint8_t *k, size_t kl, const uint8_t *want, size_t want_len, int prefix)
{
	if (!want)
		return 1;
	if (prefix)
		return kl >= want_len && !memcmp(k, want, want_len);
	return kl == want_len && !memcmp(k, want, kl);
}
