/* common/bytes.h - bounds-checked byte helpers of the binary formats (the restore
 * formats, age, SSH keys and signatures).
 *
 * eb_wbuf is a growable output buffer; every append either succeeds or sets
 * buf->oom (checked once by the caller through eb_wbuf_check), so encoders
 * stay linear.  Readers use the eb_rd cursor: every get checks the remaining
 * length and sets rd->bad instead of reading past the end. */
#ifndef EB_BYTES_H
#define EB_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct eb_wbuf {
	uint8_t *p;
	size_t len, cap;
	int oom;
} eb_wbuf;

void eb_wbuf_dispose(eb_wbuf *b);
void eb_wbuf_reset(eb_wbuf *b);
int eb_wbuf_reserve(eb_wbuf *b, size_t extra);
void eb_wbuf_put(eb_wbuf *b, const void *src, size_t n);
void eb_wbuf_zero(eb_wbuf *b, size_t n);
void eb_wbuf_str(eb_wbuf *b, const char *s);
void eb_wbuf_fmt(eb_wbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void eb_wbuf_u8(eb_wbuf *b, uint8_t v);
void eb_wbuf_le16(eb_wbuf *b, uint16_t v);
void eb_wbuf_le32(eb_wbuf *b, uint32_t v);
void eb_wbuf_le64(eb_wbuf *b, uint64_t v);
void eb_wbuf_be64(eb_wbuf *b, uint64_t v);
void eb_wbuf_be32(eb_wbuf *b, uint32_t v);
/* SSH wire "string": big-endian uint32 length, then the bytes. */
void eb_wbuf_sshstr(eb_wbuf *b, const void *p, size_t n);
/* protobuf: varint, tag+varint field, tag+bytes field */
void eb_wbuf_varint(eb_wbuf *b, uint64_t v);
void eb_pb_uint(eb_wbuf *b, unsigned field, uint64_t v);
void eb_pb_bytes(eb_wbuf *b, unsigned field, const void *p, size_t n);
/* Go encoding/json string literal (quotes included, <>& escaped as Go does). */
void eb_wbuf_json_str(eb_wbuf *b, const char *s);
/* EB_ENOMEM into err when an append failed. */
int eb_wbuf_check(const eb_wbuf *b, eb_err *err);

/* Fixed-width little/big endian loads from memory the caller bounds-checked. */
static inline uint16_t eb_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t eb_le32(const uint8_t *p)
{ return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t eb_le64(const uint8_t *p) { return eb_le32(p) | (uint64_t)eb_le32(p + 4) << 32; }
static inline uint64_t eb_be64(const uint8_t *p)
{ uint64_t v = 0; for (int i = 0; i < 8; i++) v = v << 8 | p[i]; return v; }
static inline void eb_st_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void eb_st_le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static inline void eb_st_le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> 8 * i); }
static inline void eb_st_be64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i)); }

/* Read cursor over [p, p+len). */
typedef struct eb_rd {
	const uint8_t *p;
	size_t len, off;
	int bad; /* set by any read past the end or malformed varint */
} eb_rd;

static inline void eb_rd_init(eb_rd *r, const void *p, size_t len)
{ r->p = p; r->len = len; r->off = 0; r->bad = 0; }
static inline size_t eb_rd_left(const eb_rd *r) { return r->bad ? 0 : r->len - r->off; }
uint64_t eb_rd_varint(eb_rd *r);
/* n bytes at the cursor (NULL and r->bad when fewer are left). */
const uint8_t *eb_rd_take(eb_rd *r, size_t n);
uint32_t eb_rd_be32(eb_rd *r);
/* SSH wire "string": a big-endian uint32 length and that many bytes. */
const uint8_t *eb_rd_sshstr(eb_rd *r, size_t *len);
/* Next protobuf field: returns 0 at end, 1 with field and wt set and either
 * val (varint) or data/dlen (length-delimited); sets r->bad on garbage
 * or unsupported wire types. */
int eb_pb_next(eb_rd *r, unsigned *field, unsigned *wt, uint64_t *val,
               const uint8_t **data, size_t *dlen);

/* A fast 64-bit digest (8 bytes a step): a change test, not a security
 * check. */
uint64_t eb_hash64(const uint8_t *p, size_t n);

/* qsort/bsearch order of int64_t values. */
int eb_cmp_i64(const void *a, const void *b);

/* 1 when key k is want (prefix: starts with want); want NULL matches all. */
int eb_key_wanted(const uint8_t *k, size_t kl, const uint8_t *want, size_t want_len, int prefix);

/* Byte-wise key comparison (shorter prefix first), as bbolt orders keys. */
int eb_keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

#endif
