/* restore/pitr.h - point-in-time restore: which full backup and which
 * segments of its chain (storage/chain.h) rebuild revision R, and the
 * segments themselves, fetched and checked.
 *
 *   --to-revision R   the chain whose full backup has the highest revision
 *                     <= R among those whose chain reaches R
 *   --to-time T       the newest revision etcd-backup received at or
 *                     before T (wall time recorded per revision)
 *   --to-latest       the chain that reaches furthest
 * A point no chain covers (before every full, inside a gap, after the last
 * segment) is an error naming the covered ranges; nothing is written. */
#ifndef EB_RESTORE_PITR_H
#define EB_RESTORE_PITR_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"
#include "storage/catalog.h"
#include "storage/chain.h"
#include "storage/manifest.h"
#include "storage/store.h"

typedef struct eb_pitr_want {
	int64_t rev;     /* > 0: --to-revision */
	int64_t time_ms; /* > 0: --to-time (Unix ms) */
	int latest;      /* --to-latest */
} eb_pitr_want;

typedef struct eb_pitr_plan {
	eb_store *st;
	eb_manifest full;
	eb_chain chain;  /* the segments needed, in order (may be none) */
	int64_t rev;     /* the revision restored */
} eb_pitr_plan;

int eb_pitr_plan_make(const char *url, const eb_store_opts *so, const eb_read_keys *k,
                      const eb_pitr_want *w, eb_pitr_plan *p, eb_err *err);
void eb_pitr_plan_dispose(eb_pitr_plan *p);

/* Segment i of the plan, decrypted and decompressed into out (reset
 * first), after its stored and plain sha256 and sizes equal its manifest. */
int eb_pitr_fetch(const eb_pitr_plan *p, size_t i, const eb_read_keys *k, eb_wbuf *out,
                  eb_err *err);

#endif
