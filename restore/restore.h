/* restore/restore.h - snapshot -> data directory (or one per member).
 *
 * The result is the 3.5-style restore of docs/formats/restore.md, booted by etcd
 * 3.4, 3.5 and 3.6: the backend is rewritten from scratch (members and
 * members_removed replaced by the new membership, meta/consistent_index =
 * N, meta/term = 1, optional revision bump / compaction mark / alarm
 * clearing), the WAL carries the ConfChange entries, HardState and a
 * snapshot record with ConfState, and the .snap holds the v2 membership.
 *
 * Safety: every output is built under a temp dir beside its target and
 * renamed into place only when complete and fsynced; on any error the temp
 * dirs are removed and the targets are untouched. */
#ifndef EB_RESTORE_RESTORE_H
#define EB_RESTORE_RESTORE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/progress.h"
#include "storage/catalog.h"
#include "storage/store.h"
#include "restore/pitr.h"
#include "restore/snapshot.h"

/* The newest etcd minor (3.x) whose data dirs this tool writes. */
#define EB_RESTORE_MAX_MINOR 7

typedef struct eb_restore_opts {
	const char *from;            /* snapshot file, or a store with backup */
	const char *backup;          /* backup id or "latest": from is a store */
	const char *name;            /* --name (single member) */
	const char *initial_cluster;
	const char *token;
	const char *adv_urls;        /* --initial-advertise-peer-urls */
	const char *data_dir;        /* single member */
	const char *wal_dir;         /* optional, single member */
	const char *all_members_dir; /* whole cluster: <dir>/<name>/ */
	int skip_hash_check;
	uint64_t bump_revision;
	int mark_compacted;
	int clear_alarms;
	/* The etcd minor the data dir is for: "3.4" ... "3.7" (a patch part
	 * is allowed); NULL = the snapshot's own storage version (3.6+
	 * snapshots carry one), else the form every supported version boots.
	 * It picks the byte form of the raft records (the one that version's
	 * etcdutl writes) and refuses a version older than the snapshot's
	 * storage version, which etcd would refuse to start on. */
	const char *target_version;
	const eb_store_opts *store_opts; /* S3 settings for a store; NULL = env */
	eb_read_keys keys;           /* age identities; trusted signers (store only) */
	/* point in time (restore/pitr.h): from a store, instead of backup */
	int pitr;
	eb_pitr_want want;
	/* the bytes so far: of the backup fetched (or the file decoded), then
	 * of the records rewritten (fn NULL: none) */
	eb_progress_cb progress;
} eb_restore_opts;

typedef struct eb_restore_result {
	uint64_t cluster_id;
	size_t members;
	uint64_t member_ids[100];
	char member_names[100][64];
	uint64_t revision;     /* latest revision in the restored keyspace */
	uint64_t keys_copied;  /* key/value pairs written to the backend */
	uint64_t db_size;
	int hash_checked;
	char backup_id[96];
	uint64_t backup_cluster;  /* the cluster the backup is of (from a store) */
	char storage_version[16]; /* meta/storageVersion of the snapshot, "" if none */
	int target_minor;         /* the etcd 3.x the output is for, 0 = any */
	/* point in time */
	int64_t pitr_rev;         /* the revision restored */
	size_t segments;          /* segments replayed */
	uint64_t events;          /* their events written */
	uint64_t leases_dropped;  /* leases no key names at the point (revoked or expired before it) */
	int hashkv_checked;       /* the result's HashKV equals the live one recorded */
	uint32_t hashkv;
	char hashkv_note[256];    /* why it was not compared, "" when it was */
} eb_restore_result;

/* SIGINT/SIGTERM (common/interrupt.h) stop a run at the next key or chunk through the normal error path. */
int eb_restore_run(const eb_restore_opts *o, eb_restore_result *res,
                   eb_err *err);

#endif
