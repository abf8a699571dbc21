/* restore/bbolt_write.h - writes a compact bbolt database from scratch.
 *
 * Buckets and their keys are given in ascending byte order (the order a
 * bbolt walk yields them); the writer bulk-loads each bucket's B+tree
 * bottom-up while streaming: leaves are packed full and written as soon as
 * they are complete, branch pages are built level by level with one
 * pending page per level, so memory is O(tree depth x page size) plus the
 * list of bucket names, whatever the database size.
 *
 * Layout produced (docs/formats/bbolt.md): pages 0 and 1 meta (txid 2 and 1), no
 * persisted freelist (freelist = 0xFFFF..FF, as etcd's NoFreelistSync
 * files), then every bucket's pages, then the root bucket's pages; every
 * page below the high-water mark is reachable.  Branch keys equal their
 * child's first key.  eb_bw_finish writes and fsyncs all data pages before
 * it writes the meta pages, then fsyncs again: a crash leaves either no
 * valid meta or a complete database.
 *
 * The same bytes can go to several files at once (one per restored
 * member), so a whole cluster is written from one read of the snapshot. */
#ifndef EB_RESTORE_BBOLT_WRITE_H
#define EB_RESTORE_BBOLT_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct eb_bw eb_bw;

/* fds are borrowed (the caller closes them); nfds >= 1. */
int eb_bw_new(eb_bw **out, const int *fds, int nfds, uint32_t page_size,
              eb_err *err);
int eb_bw_bucket_begin(eb_bw *w, const uint8_t *name, size_t len,
                       uint64_t sequence, eb_err *err);
/* Keys must be strictly ascending within the bucket (EB_EINVAL if not). */
int eb_bw_put(eb_bw *w, const uint8_t *k, size_t kl, const uint8_t *v,
              size_t vl, eb_err *err);
int eb_bw_bucket_end(eb_bw *w, eb_err *err);
/* Writes the root bucket and the metas; durable on success.  Returns the
 * database size in bytes through *size when size is not NULL. */
int eb_bw_finish(eb_bw *w, uint64_t *size, eb_err *err);
void eb_bw_free(eb_bw *w);

#endif
