/* agent/deep.h - a backup proven equal to the cluster it came from.
 *
 * Right after the stream, snapshot asks the member it streamed from, and
 * every other reachable member, for HashKV at the revision the snapshot was
 * taken at, and records the member's answer in the manifest (a member that
 * answers differently is named there).  verify --deep recomputes HashKV
 * offline from the stored object, with the rules of the etcd version that
 * wrote it, and compares.  That catches a keyspace that differs from the
 * cluster's even when every sha256 matches: a member that re-hashed its own
 * damaged data streams a self-consistent but wrong snapshot. */
#ifndef EB_AGENT_DEEP_H
#define EB_AGENT_DEEP_H

#include "agent/cluster.h"
#include "storage/catalog.h"
#include "storage/manifest.h"
#include "storage/store.h"

/* Fills man's hashkv fields from member m (at man->revision) and compares
 * every other reachable member of cl; a member that differs is named in
 * man->hashkv_disagreement.  Never fails: a member that cannot answer is
 * logged and left out (a backup is never lost to this check). */
void eb_deep_record(eb_cluster *cl, eb_member *m, eb_manifest *man);

/* Fetches the backup into a temp dir under tmpdir and recomputes HashKV at
 * the manifest's revision.  EB_ECORRUPT when it differs from the recorded
 * one, or when the manifest records none. */
int eb_deep_verify(eb_store *st, const eb_manifest *man, const eb_read_keys *keys,
                   const char *tmpdir, eb_err *err);

#endif
