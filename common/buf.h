/* common/buf.h - the project's growable text buffer.
 *
 * Appends never fail loudly: an allocation failure or the hard cap sets the
 * sticky `oom` flag and later appends do nothing, so a writer appends freely
 * and checks once at the end (eb_buf_status).  The text is NUL-terminated
 * whenever anything was appended.  Zero-initialised ({0}) is a valid empty
 * buffer with the default 16 MiB cap. */
#ifndef EB_BUF_H
#define EB_BUF_H

#include <stddef.h>

typedef struct eb_buf {
	char *p;      /* NUL-terminated while len < cap */
	size_t len, cap;
	size_t max;   /* hard cap, 0 = 16 MiB */
	int oom;      /* sticky: an append failed */
} eb_buf;

/* The one growth rule of the project's buffers (this text buffer and the
 * byte buffer of the restore formats, common/bytes.h): makes *p hold at
 * least need bytes, doubling from 256, never past max (0 = no cap).  0, or
 * -1 with *p and *cap unchanged. */
int eb_buf_grow(void **p, size_t *cap, size_t need, size_t max);

void eb_buf_init(eb_buf *b);
void eb_buf_dispose(eb_buf *b);
/* Each returns 0, or EB_ENOMEM once any append failed (sticky): check each
 * (rc |= ...) or only eb_buf_status at the end. */
int eb_buf_add(eb_buf *b, const char *s, size_t n);
int eb_buf_puts(eb_buf *b, const char *s);
int eb_buf_printf(eb_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* 0, or EB_ENOMEM once any append failed (checked once, at the end). */
int eb_buf_status(const eb_buf *b);
/* Appends s as a JSON string literal (quotes and escapes included): " \
 * and control characters escaped, every other byte as it is, so a value
 * read from a manifest is written back byte for byte.  The project's one
 * JSON string escaper is eb_buf_json; this is its flags-0 form. */
void eb_buf_json_str(eb_buf *b, const char *s);
/* Same, with flags: EB_JSON_UTF8 (logs) also escapes DEL and writes invalid
 * UTF-8 as U+FFFD, so every line is valid JSON; EB_JSON_GO escapes as Go's
 * encoding/json does (invalid UTF-8 as U+FFFD, < > & U+2028 U+2029, DEL as
 * it is), for bytes etcd must read back equal. */
enum { EB_JSON_GO = 1, EB_JSON_UTF8 = 2 };
void eb_buf_json(eb_buf *b, const char *s, int flags);

/* Length of the valid UTF-8 sequence at s (1..4; n bytes are readable),
 * 0 when it is not one (overlong, surrogate, past U+10FFFF, cut short). */
size_t eb_utf8_len(const unsigned char *s, size_t n);

/* eb_buf_grow for arrays: *p holds at least need items of size bytes
 * (*cap counts items).  0, or -1 with *p and *cap unchanged. */
int eb_array_grow(void **p, size_t *cap, size_t need, size_t size);

#endif
