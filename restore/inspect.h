/* restore/inspect.h - what a snapshot holds, offline: the numbers of
 * `etcdutl snapshot status` (hash, revision, total keys, total size), the
 * sha256 trailer check, the full bbolt structure check, and the HashKV of
 * the keyspace at the snapshot's revision (docs/formats/hashkv.md, etcd 3.4 rules), so
 * a backup can be compared with a live member's `etcdctl endpoint hashkv`.
 *
 * Memory: page buffers for the walk, plus 32 bytes per distinct user key
 * for HashKV (a key index is unavoidable: HashKV depends on which revision
 * of each key is its latest). */
#ifndef EB_RESTORE_INSPECT_H
#define EB_RESTORE_INSPECT_H

#include <stdint.h>

#include "common/err.h"
#include "restore/bbolt_read.h"

enum { EB_SHA_OK = 0, EB_SHA_MISMATCH = 1, EB_SHA_ABSENT = 2 };

typedef struct eb_inspect_result {
	uint64_t file_size, db_size;
	int sha_status;            /* EB_SHA_* */
	char sha256[65];           /* of the db bytes (hex) */
	/* etcdutl snapshot status */
	uint32_t hash;             /* CRC-32C of every bucket name, key, value */
	uint64_t revision;         /* main revision of the last `key` entry */
	uint64_t total_keys;       /* key/value pairs in all buckets (etcdutl <= 3.5) */
	uint64_t live_keys;        /* user keys whose latest record is a put (3.6+) */
	char storage_version[16];  /* meta/storageVersion (3.6+ snapshots), "" if none */
	uint64_t total_size;       /* high-water mark x page size */
	/* structure check */
	int structure_ok;
	char structure_msg[1024];  /* the first problem when not ok */
	eb_bolt_meta meta;
	eb_bolt_stats stats;
	/* HashKV at revision hashkv_rev (= current revision) */
	int hashkv_ok;
	uint32_t hashkv;
	int64_t hashkv_rev, compact_rev; /* compact_rev -1 when none */
	int compaction_pending;          /* scheduled > finished and every key deleted:
	                                  * the value is approximate */
} eb_inspect_result;

/* How HashKV is computed: at which revision (0 = the snapshot's), and
 * whether a tombstone exactly at the compaction revision is left out (the
 * rule of etcd 3.4.34+, 3.5.16+, 3.6+; -1 = choose by the snapshot: on
 * when it carries a storage version, i.e. comes from 3.6+). */
typedef struct eb_inspect_opts {
	int64_t hashkv_rev;
	int new_rules;
	/* compact_rev_set: take compact_rev (-1: none) as the compaction
	 * revision instead of the database's meta (a restore marked compacted
	 * at its bumped revision, hashed at the revision before the bump) */
	int compact_rev_set;
	int64_t compact_rev;
} eb_inspect_opts;

/* Fails (with err) only when the file cannot be read at all; a hash
 * mismatch or structure problem is reported in r (the caller decides the
 * exit code).  opts may be NULL (current revision, rules by snapshot). */
int eb_inspect_file(const char *path, const eb_inspect_opts *opts, eb_inspect_result *r,
                    eb_err *err);

/* The rule for an etcd version string ("3.5.35"): 1 for 3.4.34+, 3.5.16+
 * and 3.6+, 0 before, -1 when it cannot tell. */
int eb_hashkv_new_rules_for(const char *etcd_version);

#endif
