/* agent/replicate.h - continuous backup: a full backup, then every change
 * etcd makes, as segments (storage/chain.h, docs/continuous-backup.md).
 *
 *   Watch (all keys, from the chain's next revision)
 *     --> segment writer (events in revision order, leases' granted TTLs)
 *     --> every --segment-interval or --segment-max-bytes:
 *         zstd --> (age) --> sha256 --> store object, then its manifest
 *
 * Resume: the chain that reaches furthest (eb_chain_live, the rule prune
 * keeps too) says where the watch starts.  History etcd compacted before it was read ends the
 * chain (a gap, logged and counted) and a new full backup starts the next.
 * A new full every --full-interval: the old chain is continued up to the
 * new full's revision, so the two overlap and no revision is uncovered.
 * SIGTERM/SIGINT: the open segment is committed, then exit 0. */
#ifndef EB_AGENT_REPLICATE_H
#define EB_AGENT_REPLICATE_H

#include <stddef.h>

#include "agent/backup.h"
#include "agent/cluster.h"
#include "storage/store.h"

typedef struct eb_replicate_opts {
	const char *const *endpoints;
	size_t nendpoints;
	const eb_etcd_opts *etcd;
	const char *member;           /* --member */
	eb_backup_opts full;          /* how full backups are taken */
	long long segment_interval_ms;
	size_t segment_max_bytes;
	long long full_interval_ms;
	long long reconnect_ms;       /* wait before reconnecting (1000) */
	const char *metrics_file;     /* Prometheus textfile, rewritten every few seconds */
	const struct eb_ssh_keys *trusted; /* resume only chains whose full these signed; NULL: any */
	const char *control_plane;    /* --control-plane DIR: read again for each full backup */
} eb_replicate_opts;

typedef struct eb_replicate_stats {
	uint64_t segments, events, fulls, gaps, reconnects;
	int64_t last_rev;        /* the last revision committed */
	int64_t etcd_rev;        /* the newest revision etcd reported */
	int64_t last_segment_ms; /* wall time of the last segment commit */
} eb_replicate_stats;

/* Runs until SIGTERM/SIGINT (then 0) or a failure that retrying cannot
 * mend (bad store, no member of the cluster reachable at the start). */
int eb_replicate_run(eb_store *st, const eb_replicate_opts *o, eb_replicate_stats *stats,
                     eb_err *err);

#endif
