/* storage/pipeline.h - the stage chains every backup and segment goes
 * through, built in one place from options and freed with one call.
 *
 *   encode:  head -> [async] -> [zstd] -> [age encrypt] -> sha256 -> tail
 *   decode:  head = sha256 -> [age decrypt] -> [zstd] -> tail
 *
 * The sha256 stage sees the stored bytes (what the store holds): its digest
 * and size go into the manifest when writing, and are checked against the
 * manifest when reading (eb_sha256_stage_expect on p->stored).  The tail is
 * the store's sink (encode) or whatever takes the plain bytes (decode).
 */
#ifndef EB_STORAGE_PIPELINE_H
#define EB_STORAGE_PIPELINE_H

#include "common/err.h"
#include "common/stream.h"
#include "crypt/age.h"

enum { EB_PIPE_PLAIN = 0, EB_PIPE_ZSTD = 1, EB_PIPE_ZSTD_AUTO = 2 /* decode: zstd if it is */ };

typedef struct eb_pipe_opts {
	int zstd;                          /* EB_PIPE_* */
	int level;                         /* encode: zstd's level */
	const eb_age_recipients *rcpt;     /* encode: encrypt to these (NULL or none: plain) */
	const eb_age_identities *ids;      /* decode: decrypt with these (NULL: not encrypted);
	                                    * must outlive the pipe */
	int no_digest;                     /* decode: no sha256 (nothing to check it against) */
	int async;                         /* encode: the stages after head on a worker thread;
	                                    * decode: those after the stored bytes' sha256 */
	int own_tail;                      /* free the tail with the pipe (from the call on,
	                                    * even when building fails) */
} eb_pipe_opts;

typedef struct eb_pipe {
	eb_stream *head;   /* write here, finish here: finish commits the tail */
	eb_stream *stored; /* the sha256 of the stored bytes */
	eb_stream *tail;
	int own_tail;
} eb_pipe;

/* 0, or a negative code with p freed (the tail too when owned). */
int eb_pipe_encode(eb_pipe *p, const eb_pipe_opts *o, eb_stream *tail, eb_err *err);
int eb_pipe_decode(eb_pipe *p, const eb_pipe_opts *o, eb_stream *tail, eb_err *err);

/* Frees every stage the pipe built, head first, aborting what did not
 * finish; the tail only when the pipe owns it.  Safe on a zeroed pipe. */
void eb_pipe_dispose(eb_pipe *p);

#endif
