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
 */
#ifndef EB_AGENT_DRILL_H
#define EB_AGENT_DRILL_H

#include <stdint.h>

#include "common/err.h"
#include "restore/view.h"

typedef struct eb_drill_opts {
	eb_view_src src;                /* the point (tmp_dir: where the drill works) */
	const char *etcd_binary;
	int boot_timeout_ms;            /* etcd must answer within this */
} eb_drill_opts;

typedef struct eb_drill_result {
	char what[4400];                /* "backup X at revision R" */
	char etcd_version[32];
	int64_t revision;
	int64_t keys;
	uint32_t hashkv;
	const char *hashkv_source;      /* what the HashKV was compared with */
	double restore_s, boot_s, total_s;
} eb_drill_result;

/* 0 when the restored etcd served exactly what the backup holds; else the
 * error says which step failed and what differed (EB_EUNHEALTHY: etcd ran
 * but served something else; EB_EUNAVAIL: etcd did not start). */
int eb_drill_run(const eb_drill_opts *o, eb_drill_result *r, eb_err *err);

#endif
