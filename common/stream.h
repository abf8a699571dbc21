/* common/stream.h - the stage interface: a push-model byte pipeline.
 *
 *   source --write--> stage --write--> stage --write--> sink
 *
 * A stage transforms what it is given and writes the result to `next`.
 *
 * Lifecycle and contract:
 *   - write(s, buf, len) may be called any number of times with any split of
 *     the data; a stage must not assume message boundaries.
 *   - finish(s) flushes and checks what the stage checks (a hash trailer...),
 *     then finishes `next`.  For a sink, finish COMMITS: the data becomes
 *     visible (rename into place, CompleteMultipartUpload).
 *   - eb_stream_free_chain(s) releases the stage and everything after it,
 *     calling each stage's ops->free, which releases that stage alone (never
 *     s->next).  Freeing a chain that was not finished successfully ABORTS
 *     it: a sink removes its temp file or aborts its multipart upload, so
 *     nothing half-written is ever visible.
 *   - The first error is sticky: after a failed write or finish, every later
 *     write/finish fails with the same code without touching the data.
 *   - Memory is bounded by the stage, never by the stream length.
 */
#ifndef EB_STREAM_H
#define EB_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct eb_stream eb_stream;

typedef struct eb_stream_ops {
	const char *name; /* "zstd", "sha256", "file", "s3"... for messages */
	int (*write)(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err);
	int (*finish)(eb_stream *s, eb_err *err); /* must finish s->next */
	void (*free)(eb_stream *s);               /* this stage only, never s->next */
} eb_stream_ops;

struct eb_stream {
	const eb_stream_ops *ops;
	eb_stream *next;     /* downstream; NULL for a sink */
	uint64_t nbytes_in;  /* bytes given to write(), kept by eb_stream_write */
	int failed;          /* sticky first error code, 0 while healthy */
	int finished;        /* finish succeeded: free no longer aborts */
};

/* Called by constructors on their embedded base. */
void eb_stream_init(eb_stream *s, const eb_stream_ops *ops, eb_stream *next);

int eb_stream_write(eb_stream *s, const void *buf, size_t len, eb_err *err);
int eb_stream_finish(eb_stream *s, eb_err *err);

/* Frees s and every stage after it (abort for any that did not finish). */
void eb_stream_free_chain(eb_stream *s);

/* Feeds a byte callback's data (an HTTP body) into a stage: give
 * eb_stream_feed_cb as the callback and an eb_stream_feed as its context;
 * the stage's error lands in *err. */
typedef struct eb_stream_feed {
	eb_stream *sink;
	eb_err *err;
} eb_stream_feed;
int eb_stream_feed_cb(void *feed, const uint8_t *buf, size_t len);

/* A sink that counts and discards; handy in tests and for `verify`. */
int eb_null_sink_new(eb_stream **out, eb_err *err);

/* A sink that appends to *dst (which the caller owns and frees), failing
 * with EB_ECORRUPT past max bytes: small objects read whole (segments). */
struct eb_wbuf;
int eb_mem_sink_new(eb_stream **out, struct eb_wbuf *dst, size_t max, eb_err *err);

/* A pass-through stage that fails the write that would carry it past
 * fail_after_bytes.  Tests use it to prove that failures abort cleanly. */
int eb_fault_stage_new(eb_stream **out, uint64_t fail_after_bytes,
                       eb_stream *next, eb_err *err);

#endif
