/* agent/prune.h - apply a retention policy to a store (prune command and
 * snapshot --keep-*).  Deletes manifest first, then object.
 *
 * What counts: only "proven" backups (eb_catalog_prove) are ranked,
 * counted toward --keep-* and taken as newest: their object is there with
 * the size the manifest says and, with trusted keys, their manifest is
 * signed by one of them.  Anything else is reported and left alone (never
 * the reason a proven backup goes), or with delete_untrusted removed. */
#ifndef EB_PRUNE_H
#define EB_PRUNE_H

#include <stdint.h>

#include "agent/cli.h"
#include "crypt/sshsig.h"
#include "storage/store.h"

typedef struct eb_prune_opts {
	cli_keep keep;
	uint64_t cluster_id;        /* 0: the one cluster the store holds (refused when several) */
	int dry_run, json;          /* json: a report on stdout */
	const eb_ssh_keys *trusted; /* NULL: no trust configured */
	const char *protect_id;     /* the backup this run wrote: never deleted */
	int delete_untrusted;       /* also remove what is not proven */
} eb_prune_opts;

/* Returns 0 or the first deletion error; logs each decision. */
int eb_prune_run(eb_store *st, const eb_prune_opts *o, eb_err *err);

/* Removes what killed runs left behind and is older than older_than_s
 * (default 24 h when < 0): temp files in a local store, multipart uploads
 * under an S3 prefix.  With dry_run only counts.  Logs what it did; never
 * fails the run. */
void eb_prune_clean_incomplete(eb_store *st, long older_than_s, int dry_run);

/* Non-zero when any --keep-* flag was given. */
int eb_prune_wanted(const cli_keep *keep);

#endif
