/* agent/etcd.h - the etcd v3 API the agent uses, over a connection to one
 * member (agent/etcd_conn.h).
 *
 * Only agent/etcd.c, etcd_watch.c and etcd_call.c (the call layer, with its
 * internal header etcd_call.h) include gRPC headers.  One eb_etcd is
 * one channel to one endpoint, made fresh for each run (a long-lived gRPC
 * channel fails fast with stale errors for ~10 s after a member restarts).
 * Every unary call carries a deadline; the snapshot stream has an
 * inactivity timeout and keepalive, so a dead or frozen member never hangs
 * the agent. */
#ifndef EB_ETCD_H
#define EB_ETCD_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "common/err.h"
#include "common/stream.h"
#include "agent/etcd_conn.h"

typedef struct eb_etcd_status {
	uint64_t cluster_id, member_id, leader;
	int64_t revision;
	uint64_t raft_term, raft_index, raft_applied_index;
	int64_t db_size, db_size_in_use;
	int is_learner;
	char version[32];
	char storage_version[16];  /* 3.6+, "" before */
	int64_t db_size_quota;     /* 3.6+, 0 before */
	int downgrade_enabled;     /* 3.6+ */
	char downgrade_target[16];
	char errors[256]; /* StatusResponse.errors joined, "" when none */
} eb_etcd_status;

int eb_etcd_status_get(eb_etcd *c, eb_etcd_status *out, eb_err *err);

typedef struct eb_etcd_alarm {
	uint64_t member_id;
	int alarm; /* 1 NOSPACE, 2 CORRUPT */
} eb_etcd_alarm;

/* Alarms raised anywhere in the cluster (as this member knows them). */
int eb_etcd_alarms(eb_etcd *c, eb_etcd_alarm *out, size_t cap, size_t *n,
                   eb_err *err);
const char *eb_etcd_alarm_name(int alarm);

/* HashKV at rev (0 = current): hash, compact revision and the header's
 * revision. */
int eb_etcd_hashkv(eb_etcd *c, int64_t rev, uint32_t *hash,
                   int64_t *compact_rev, int64_t *header_rev, eb_err *err);

int eb_etcd_put(eb_etcd *c, const void *key, size_t klen, const void *val,
                size_t vlen, eb_err *err);

/* One key-value as Range returns it (pointers valid during the call). */
typedef struct eb_etcd_kv {
	const uint8_t *key, *value;
	size_t key_len, value_len;
	int64_t create_rev, mod_rev, version, lease;
} eb_etcd_kv;
typedef int (*eb_etcd_kv_fn)(void *ctx, const eb_etcd_kv *kv, eb_err *err);
/* Every key from key on (prefix: those starting with key; key_len 0: all),
 * in key order, in pages of 1000 read at one revision: *rev (0 = the
 * current one, set from the first page's header). */
int eb_etcd_range_all(eb_etcd *c, const uint8_t *key, size_t key_len, int prefix, int64_t *rev,
                      eb_etcd_kv_fn fn, void *ctx, eb_err *err);

/* How many keys etcd holds (a count-only Range over every key), and the
 * revision it answered at. */
int eb_etcd_count(eb_etcd *c, int64_t *count, int64_t *rev, eb_err *err);

/* Progress callback for the snapshot: bytes so far and total expected
 * (0 until known). */
typedef void (*eb_etcd_progress_fn)(uint64_t done, uint64_t total, void *arg);

/* Streams Maintenance.Snapshot into sink (db followed by etcd's 32-byte
 * sha256 trailer, exactly what etcdctl saves).  Does not finish the sink.
 * Fails unless the stream ended with status OK and carried exactly the
 * announced number of bytes plus the trailer.  *out_db_size gets the
 * announced database size. */
/* The storage version the last snapshot stream named (3.6+ send it in
 * every message), "" when none did. */
const char *eb_etcd_snapshot_storage_version(const eb_etcd *c);

int eb_etcd_snapshot(eb_etcd *c, eb_stream *sink, eb_etcd_progress_fn fn,
                     void *arg, uint64_t *out_db_size, eb_err *err);

/* The granted TTL and the remaining TTL (-1: expired or revoked) of a
 * lease, in seconds. */
int eb_etcd_lease_ttl(eb_etcd *c, int64_t id, int64_t *granted_ttl, int64_t *ttl,
                      eb_err *err);

/* A lease of ttl seconds; a one-shot keep-alive (*ttl <= 0: the lease is
 * gone); revoke (its keys are deleted). */
int eb_etcd_lease_grant(eb_etcd *c, int64_t ttl, int64_t *id, eb_err *err);
int eb_etcd_lease_keepalive(eb_etcd *c, int64_t id, int64_t *ttl, eb_err *err);
int eb_etcd_lease_revoke(eb_etcd *c, int64_t id, eb_err *err);

/* Txn: creates key = val under lease only when key does not exist
 * (*created = 1); otherwise *created = 0 and holder gets its value. */
int eb_etcd_create_key(eb_etcd *c, const char *key, const char *val, int64_t lease, int *created,
                       char *holder, size_t cap, eb_err *err);

/* One event of a watch: the key-value as etcd stores it at mod_revision
 * (a delete carries the key and mod_revision only). */
typedef struct eb_watch_event {
	int is_delete;
	const uint8_t *key, *value;
	size_t key_len, value_len;
	int64_t create_revision, mod_revision, version, lease;
} eb_watch_event;

/* One WatchResponse; events are valid during the callback only.  Events
 * come in revision order, the events of one revision in the order etcd
 * applied them (their sub-revision).  fragment: more of this response
 * follows in the next message, and its last revision may go on there. */
typedef struct eb_watch_resp {
	int64_t header_revision;
	int created, canceled, fragment;
	int64_t compact_revision; /* set with canceled: history before it is gone */
	const char *cancel_reason;
	size_t n;
	const eb_watch_event *events;
} eb_watch_resp;

/* resp NULL: a tick, about every 200 ms while no message comes (timers,
 * SIGTERM).  Return 0 to go on, > 0 to stop, < 0 (with err) to fail. */
typedef int (*eb_watch_fn)(void *arg, const eb_watch_resp *resp, eb_err *err);

/* Watches every key from start_rev (progress notifications on) until fn
 * stops it (returns 0) or fails (its code).  A stream the member ends is an
 * error (EB_EREMOTE or the status's code): reconnect and resume. */
int eb_etcd_watch(eb_etcd *c, int64_t start_rev, eb_watch_fn fn, void *arg, eb_err *err);

#endif
