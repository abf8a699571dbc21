/* storage/segment.h - a segment: the etcd changes of a run of consecutive
 * revisions, as `etcd-backup replicate` records them after a full backup
 * (docs/formats/segment.md).
 *
 *   +----------------------------------------------------------------+
 *   | magic "EBSEG\0v1" (8) | prev_rev be64: the revision before      |
 *   +----------------------------------------------------------------+
 *   | records, in revision order:                                    |
 *   |   'P' put / 'D' delete: rev be64, unix_ms be64, kv_len be32,   |
 *   |        kv (mvccpb.KeyValue, the bytes etcd stores at rev)      |
 *   |   'L' lease: id be64, granted_ttl be64                         |
 *   +----------------------------------------------------------------+
 *   | 'E' end: first_rev, last_rev, events, leases (be64 each)       |
 *   +----------------------------------------------------------------+
 *
 * Revisions are contiguous: the first event is at prev_rev + 1, and each
 * event's revision is the previous one's or the next (every etcd revision
 * has at least one event).  The events of one revision keep the order etcd
 * applied them in, which is their sub-revision.  The end record must be
 * last and agree with what came before it: a cut or padded segment is
 * refused. */
#ifndef EB_STORAGE_SEGMENT_H
#define EB_STORAGE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"

#define EB_SEG_MAGIC "EBSEG\0v1"
#define EB_SEG_MAX_KV (64u << 20) /* one key-value: etcd's limit is far below */

typedef struct eb_seg_writer {
	eb_wbuf b;
	int64_t prev_rev, first_rev, last_rev;
	uint64_t events, leases;
	int64_t first_ms, last_ms;
	eb_wbuf kv; /* scratch: the KeyValue being encoded */
} eb_seg_writer;

void eb_seg_writer_init(eb_seg_writer *w, int64_t prev_rev);
void eb_seg_writer_dispose(eb_seg_writer *w);
/* One event at rev (prev_rev + 1 for the first, then the same or +1).  A
 * delete's kv carries the key only. */
int eb_seg_event(eb_seg_writer *w, int is_delete, int64_t rev, int64_t unix_ms,
                 const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                 int64_t create_rev, int64_t version, int64_t lease, eb_err *err);
int eb_seg_lease(eb_seg_writer *w, int64_t id, int64_t granted_ttl, eb_err *err);
/* Appends the end record; w->b then holds the whole segment. */
int eb_seg_finish(eb_seg_writer *w, eb_err *err);

typedef struct eb_seg_visitor {
	/* sub: the event's place among the events of its revision (0, 1...) */
	int (*event)(void *arg, int is_delete, int64_t rev, int64_t sub, int64_t unix_ms,
	             const uint8_t *kv, size_t kv_len, eb_err *err);
	int (*lease)(void *arg, int64_t id, int64_t granted_ttl, eb_err *err);
	void *arg;
} eb_seg_visitor;

typedef struct eb_seg_info {
	int64_t prev_rev, first_rev, last_rev;
	uint64_t events, leases;
} eb_seg_info;

/* Checks the whole segment and visits its records (v may be NULL: check
 * only).  EB_ECORRUPT naming the offset for anything out of place. */
int eb_seg_read(const uint8_t *p, size_t len, const eb_seg_visitor *v, eb_seg_info *info,
                eb_err *err);

#endif
