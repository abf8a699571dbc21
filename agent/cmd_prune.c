/* etcd-backup prune: retention (agent/prune.c does the work). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "agent/cmds.h"
#include "agent/util.h"
#include "common/exitcodes.h"
#include "common/json.h"
#include "common/log.h"
#include "storage/catalog.h"
#include "agent/prune.h"

static const char prune_usage[] =
"Usage: etcd-backup prune --from STORE --keep-... N [flags]\n"
"\n"
"Deletes backups that no --keep-* rule keeps.  --keep-last N keeps the N\n"
"newest; --keep-hourly/--keep-daily/--keep-weekly/--keep-monthly N keep the\n"
"newest backup of each of the N most recent UTC hours/days/ISO weeks/months\n"
"that have one.  A backup kept by any rule stays.  The newest backup is\n"
"never deleted.  Only backups of one cluster are touched: --cluster-id, or\n"
"by default the cluster of the newest backup.  Each backup goes manifest\n"
"first, then object, so a half-deleted backup is never listed.\n"
"\n"
"Flags:\n"
"  --from STORE                 the store (default /var/backups/etcd)\n"
"  --keep-last N  --keep-hourly N  --keep-daily N  --keep-weekly N\n"
"  --keep-monthly N\n"
"  --dry-run                    say what would be deleted, delete nothing\n"
"  --cluster-id HEX             only backups of this cluster\n"
"  --abort-incomplete-after DUR remove what killed runs left and is older\n"
"                               than this (default 24h): temp files of a\n"
"                               local store, S3 multipart uploads\n"
STORE_FLAGS_HELP
"  -o, -w, --write-out FMT      table (default) or json\n"
COMMON_FLAGS_HELP;

int
cmd_prune(int argc, char **argv)
{
	cli c;
	eb_store *st = NULL;
	eb_err err;
	uint64_t cid = 0;
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_KEEP | CLI_PRUNE | CLI_FORMAT, prune_usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(&err);
	if (!eb_prune_wanted(&c.keep)) {
		fprintf(stderr, "etcd-backup prune: give at least one --keep-last/--keep-hourly/--keep-daily/--keep-weekly/--keep-monthly rule\n");
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	if (c.cluster_id) {
		char *end;
		cid = strtoull(c.cluster_id, &end, 16);
		if (!*c.cluster_id || *end || cid == 0) {
			fprintf(stderr, "etcd-backup prune: --cluster-id '%s' is not a hex cluster id (see 'list')\n",
			        c.cluster_id);
			cli_dispose(&c);
			return EB_EXIT_USAGE;
		}
	}
	rc = cli_open_store(&c, &st, &err);
	if (rc == 0)
		rc = eb_prune_run(st, &c.keep, cid, c.dry_run, c.json, &err);
	if (rc == 0)
		eb_prune_clean_incomplete(st, c.abort_incomplete_s, c.dry_run);
	return cli_finish(&c, st, rc, &err);
}
