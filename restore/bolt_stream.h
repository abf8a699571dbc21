/* restore/bolt_stream.h - etcd's `key` bucket read from a bbolt file as it
 * streams in: a sink of the stage interface (common/stream.h), so that a
 * backup can be looked inside as it is fetched and decoded, with no staged
 * copy and no random access.
 *
 * A bbolt file's pages come in file order, not tree order, and the file
 * holds stale pages (freed, or written by a transaction that never
 * committed) that look like live ones.  So the sink keeps what may matter
 * (branch pages' children, the records of every leaf that holds revision
 * keys, spilled to an unlinked temp file tagged with the page, and the few
 * leaves holding bucket headers or etcd's compaction revisions), and only
 * after the pipeline's checks passed (finish) does eb_bstream_emit tell the
 * live leaves from the tree and hand their records on, in file order.
 *
 * Memory: the branch pages' children (8 bytes a leaf), bitmaps over the
 * pages, and one candidate page (up to 16 MiB, a huge value).  A live page
 * the sink could not hold makes emit return 1: the caller then stages the
 * snapshot and reads it with the random-access reader (bbolt_read.h),
 * which also names any damage. */
#ifndef EB_RESTORE_BOLT_STREAM_H
#define EB_RESTORE_BOLT_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/stream.h"
#include "restore/records.h"

typedef struct eb_bstream_opts {
	int values;               /* keep values (else value_dropped, value_len) */
	int hash_values;          /* value_hash of dropped values */
	const uint8_t *key;       /* records of this key (prefix: keys starting */
	size_t key_len;           /* with it) only; NULL: all */
	int prefix;
	int64_t upto;             /* records above this revision are not kept (0: all) */
	const char *spill_dir;    /* where the spill file goes (NULL: /tmp) */
} eb_bstream_opts;

typedef struct eb_bstream_info {
	int64_t last_rev;         /* the highest revision in the live key bucket */
	int64_t compact_rev;      /* etcd's compaction (scheduled or finished), -1 none */
	uint64_t records;         /* live records handed on */
} eb_bstream_info;

/* f: the decoded KeyValue (a delete: the key only), valid during the call. */
typedef int (*eb_bstream_fn)(void *ctx, int64_t rev, int64_t sub, int tomb, const eb_kv_fields *f,
                             eb_err *err);

int eb_bstream_new(eb_stream **out, const eb_bstream_opts *o, eb_err *err);
/* After a successful eb_stream_finish: the live records, then info.
 * 0, 1 (the stream cannot be read this way: stage it), or an error
 * (fn's, or reading the spill). */
int eb_bstream_emit(eb_stream *s, eb_bstream_fn fn, void *ctx, eb_bstream_info *info, eb_err *err);

#endif
