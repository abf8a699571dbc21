/* restore/replay.h - the events of a point-in-time restore written into
 * the new database: after the full backup's `key` bucket, every event of
 * the plan's segments above the snapshot's last revision and up to the
 * target revision, as etcd stores them (key `rev_sub`, `rev_sub` + "t"
 * for a delete); then, in the `lease` bucket, the leases the segments
 * recorded that the snapshot does not hold (leasepb.Lease{ID, TTL}), so
 * keys attached to them still expire.  One segment in memory at a time. */
#ifndef EB_RESTORE_REPLAY_H
#define EB_RESTORE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "restore/pitr.h"

typedef int (*eb_replay_put)(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                             eb_err *err);

typedef struct eb_replay {
	const eb_pitr_plan *plan;
	const eb_read_keys *keys;
	eb_replay_put put;
	void *ctx;
	uint64_t events;        /* written to the key bucket */
	struct { int64_t id, ttl; } *leases; /* sorted by id once replayed */
	size_t nleases, cap, next;
	int leases_open;        /* still collecting: no event past the target yet */
	int64_t upto;
} eb_replay;

/* The key bucket's tail: events in (after, plan->rev]. */
int eb_replay_keys(eb_replay *r, int64_t after, eb_err *err);
/* Lease bucket merge: writes the recorded leases that sort before the
 * snapshot's lease key k (all that are left when k is NULL); one with
 * exactly key k is dropped (the snapshot's own record is kept). */
int eb_replay_leases(eb_replay *r, const uint8_t *k, size_t kl, eb_err *err);
void eb_replay_dispose(eb_replay *r);

#endif
