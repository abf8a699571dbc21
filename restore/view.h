/* restore/view.h - the history a backup holds, without restoring it.
 *
 * A view is a point of a backup: a snapshot (a file, or a backup fetched
 * from a store) at its own revision or at an earlier one it still holds,
 * or a point of a continuous backup (a full backup plus the segments of
 * its chain up to the point, restore/pitr.h).  Walking a view hands every
 * record of etcd's `key` bucket that is at or below the point to a
 * callback, in revision order: first the snapshot's, then the segments'
 * events.  A record is what etcd stores: revision, sub-revision, put or
 * delete (tombstone), and the mvccpb.KeyValue bytes.
 *
 * The snapshot is read as it streams in (restore/bolt_stream.h), or staged
 * once in a temp dir for the random-access reader (history, drills, and
 * when the stream cannot be read that way); the segments are fetched one
 * at a time.  Memory: the readers' page buffers and one segment. */
#ifndef EB_RESTORE_VIEW_H
#define EB_RESTORE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypt/keys.h"
#include "restore/bolt_stream.h"
#include "restore/records.h"
#include "restore/pitr.h"
#include "storage/store.h"

/* Where the view comes from.  Exactly one of: file; store + backup (the
 * backup, at at_rev or its own revision); store + want (a point in time
 * of a continuous backup). */
typedef struct eb_view_src {
	const char *file;               /* a snapshot file (age/zstd decoded first) */
	const char *store;
	const eb_store_opts *store_opts;
	const char *backup;             /* ID or "latest" */
	eb_pitr_want want;              /* rev or time_ms: a point of a chain */
	int64_t at_rev;                 /* file/backup: an earlier revision (0 = its own) */
	const eb_read_keys *keys;       /* identities, trusted signers (may be NULL) */
	const char *tmp_dir;            /* where the snapshot is staged */
	/* non-NULL: the snapshot is read as it is fetched or decoded, with no
	 * staged copy (restore/bolt_stream.h; what to keep: values, keys),
	 * its records in file order (a plain file is read in place either
	 * way); NULL: staged, records in revision order (history; a drill
	 * restores from the staged copy) */
	const eb_bstream_opts *stream;
} eb_view_src;

typedef struct eb_view_rec {
	int64_t rev, sub;
	int tomb;                       /* a delete */
	int64_t unix_ms;                /* arrival time (segments); 0 unknown */
	const uint8_t *kv;              /* mvccpb.KeyValue */
	size_t kv_len;
	const eb_kv_fields *f;          /* instead of kv: decoded already (a streamed
	                                 * snapshot's, maybe without the value) */
} eb_view_rec;

typedef int (*eb_view_fn)(void *ctx, const eb_view_rec *r, eb_err *err);

typedef struct eb_view {
	char tmp[4096];                 /* temp dir ("" when none) */
	char path[4200];                /* the plain snapshot */
	char id[96];                    /* the backup's id ("" for a file) */
	uint64_t cluster_id;            /* from the manifest (0 for a file) */
	int64_t rev;                    /* the point: the last revision walked */
	int64_t snap_rev;               /* the snapshot's revision (after a walk) */
	int64_t compact_rev;            /* the snapshot's compaction (-1: none) */
	int64_t first_ms, last_ms;      /* segments walked: times of the first/last event */
	int has_hashkv;                 /* a backup's manifest recorded etcd's HashKV */
	uint32_t hashkv;
	int64_t hashkv_rev;
	int have_plan;
	eb_pitr_plan plan;
	const eb_read_keys *keys;
	eb_store *st;                   /* a backup's store, and its manifest */
	eb_manifest m;
	int have_m;
	const char *file;               /* a file to decode as it streams */
	const char *tmp_dir;
	const eb_bstream_opts *stream;
	int streamed;                   /* the walk read the snapshot as it streamed in */
} eb_view;

/* Finds the backup (or plans the point's chain) and, unless streamed,
 * fetches and checks the snapshot into a temp dir under src->tmp_dir.
 * eb_view_close always. */
int eb_view_open(eb_view *v, const eb_view_src *src, eb_err *err);
/* One pass over the records at or below the point.  EB_EINVAL when the
 * point is below what the snapshot still holds (compacted away) or above
 * its revision without a chain. */
int eb_view_walk(eb_view *v, eb_view_fn fn, void *ctx, eb_err *err);
void eb_view_close(eb_view *v);

#endif
