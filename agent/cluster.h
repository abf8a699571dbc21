/* agent/cluster.h - what the agent knows about the members it was given:
 * one probe per endpoint (Status, alarms), the choice of the member to
 * stream a snapshot from, and the HashKV consistency check. */
#ifndef EB_CLUSTER_H
#define EB_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "agent/etcd.h"

#define EB_MAX_ALARMS 64

typedef struct eb_member {
	const char *endpoint;
	eb_etcd *conn;          /* NULL when it could not be opened */
	int ok;                 /* Status answered */
	eb_etcd_status st;
	eb_err err;             /* why it is not ok */
	/* HashKV at the common revision */
	int hash_ok;
	uint32_t hash;
	int64_t compact_rev;
	eb_err hash_err;
} eb_member;

typedef struct eb_cluster {
	eb_member *m;
	size_t n;
	size_t nok;
	eb_etcd_alarm alarms[EB_MAX_ALARMS];
	size_t nalarms;
	int alarms_known;       /* at least one member answered Alarm */
	int64_t hash_rev;       /* revision HashKV was asked at, 0 = not run */
	int hashes_agree;
} eb_cluster;

/* Opens and probes every endpoint (Status, then Alarm from the first that
 * answers).  Never fails for an unreachable member: that is recorded in
 * its eb_member.  Fails only for bad options (EB_EINVAL) or OOM; c is
 * then already disposed. */
int eb_cluster_probe(eb_cluster *c, const char *const *endpoints, size_t n,
                     const eb_etcd_opts *o, eb_err *err);
void eb_cluster_dispose(eb_cluster *c);

/* HashKV on every reachable member at the lowest current revision among
 * them; sets hash_rev and hashes_agree. */
void eb_cluster_hashkv(eb_cluster *c);

/* Picks the member to snapshot: "auto" = reachable, no alarm on it, up to
 * date (applied index within 1000 entries of the highest), a follower
 * preferred over the leader, then the highest applied index; "leader"; "follower"; or an endpoint from the list.  A member
 * with a NOSPACE alarm is used only when no other qualifies (its data is
 * intact and a backup is most wanted then); CORRUPT never.  Fails with
 * a message naming why no member qualifies. */
int eb_cluster_pick(eb_cluster *c, const char *how, eb_member **out,
                    eb_err *err);

/* EB_EINVAL when reachable members report different cluster IDs (the
 * operator mixed endpoints of two clusters). */
int eb_cluster_mixed(const eb_cluster *c, eb_err *err);

/* Alarm raised on this member id, 0 when none. */
int eb_cluster_alarm_of(const eb_cluster *c, uint64_t member_id);

#endif
