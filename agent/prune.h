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

/* Non-zero when any --keep-* flag was given. */
int eb_prune_wanted(const cli_keep *keep);

#endif
