/* agent/prune.h - apply a retention policy to a store (prune command and
 * snapshot --keep-*).  Deletes manifest first, then object. */
#ifndef EB_PRUNE_H
#define EB_PRUNE_H

#include <stdint.h>

#include "agent/cli.h"
#include "storage/store.h"

/* Returns 0 or the first deletion error; logs each decision.  With
 * cluster_id == 0 the newest backup's cluster is used.  When json is set,
 * prints a JSON report on stdout. */
int eb_prune_run(eb_store *st, const cli_keep *keep, uint64_t cluster_id, int dry_run,
                 int json, eb_err *err);

/* Removes what killed runs left behind and is older than older_than_s
 * (default 24 h when < 0): temp files in a local store, multipart uploads
 * under an S3 prefix.  With dry_run only counts.  Logs what it did; never
 * fails the run. */
void eb_prune_clean_incomplete(eb_store *st, long older_than_s, int dry_run);

/* Non-zero when any --keep-* flag was given. */
int eb_prune_wanted(const cli_keep *keep);

#endif
