/* agent/drill.h - a restore drill: proves a backup restores and boots.
 *
 *   expect    read the backup (restore/view.h): the revision and the keys
 *             of the point; the HashKV to demand (the cluster's, recorded
 *             in the manifest at backup time; else computed from the
 *             snapshot)
 *   restore   a one-member data dir in a temp dir (etcd-restore's code)
 *   boot      a real etcd (--etcd-binary) on 127.0.0.1, ports of its own
 *   check     it serves that revision, that many keys and that HashKV
 *   clean     etcd stopped (SIGTERM, then SIGKILL), the temp dir removed:
 *             always, success or not
 *
 * Without a recorded HashKV, both of etcd's HashKV rules are computed from
 * the restored db before etcd starts on it; the check takes the one of the
 * version that answers (restore/inspect.h).
 */
#ifndef EB_AGENT_DRILL_H
#define EB_AGENT_DRILL_H

#include <stdint.h>

#include "common/err.h"
#include "restore/view.h"

/* The whole drill in one process (etcd its child), or its two halves for
 * a pod whose etcd is a container of its own (the chart: an init container
 * restores, etcd runs as a sidecar, the main container checks):
 *   EB_DRILL_RESTORE  expect + restore into work/data (etcd's peer URL
 *                     http://127.0.0.1:2380), the expectation in
 *                     work/drill.json
 *   EB_DRILL_CHECK    check the etcd at `endpoint` against work/drill.json */
enum { EB_DRILL_ALL = 0, EB_DRILL_RESTORE, EB_DRILL_CHECK };

typedef struct eb_drill_opts {
	eb_view_src src;                /* the point (tmp_dir: where the drill works) */
	const char *etcd_binary;        /* EB_DRILL_ALL */
	int boot_timeout_ms;            /* etcd must answer within this */
	int phase;
	const char *work;               /* the phases' shared folder */
	const char *endpoint;           /* EB_DRILL_CHECK: etcd's client URL */
} eb_drill_opts;

typedef struct eb_drill_result {
	char what[4400];                /* "backup X at revision R" */
	char etcd_version[32];
	int64_t revision;
	int64_t keys;
	uint32_t hashkv;
	char hashkv_source[96];         /* what the HashKV was compared with */
	double restore_s, boot_s, total_s;
} eb_drill_result;

/* 0 when the restored etcd served exactly what the backup holds; else the
 * error says which step failed and what differed (EB_EUNHEALTHY: etcd ran
 * but served something else; EB_EUNAVAIL: etcd did not start). */
int eb_drill_run(const eb_drill_opts *o, eb_drill_result *r, eb_err *err);

#endif
