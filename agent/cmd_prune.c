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
"never deleted, nor the full backup whose chain 'replicate' continues.  Only\n"
"backups of one cluster are touched: --cluster-id, or the one cluster the\n"
"store holds (a store of several clusters needs --cluster-id).  Each backup\n"
"goes manifest first, then object, so a half-deleted backup is never listed.\n"
"\n"
"Only proven backups are counted, ranked and deleted: their object is in\n"
"the store with the size the manifest says, and with --trusted-keys their\n"
"manifest is signed by one of those keys.  Anything else (a manifest planted\n"
"by someone who can write to the bucket but cannot sign, a backup whose\n"
"object is gone) is reported and left alone: it never keeps a slot, is\n"
"never the newest, and never makes a proven backup go.\n"
"\n"
"Flags:\n"
"  --from STORE                 the store (default /var/backups/etcd)\n"
"  --keep-last N  --keep-hourly N  --keep-daily N  --keep-weekly N\n"
"  --keep-monthly N\n"
"  --dry-run                    say what would be deleted, delete nothing\n"
"  --cluster-id HEX             only backups of this cluster\n"
"  --trusted-keys FILE          count only backups signed by these keys (env\n"
"                               ETCD_BACKUP_TRUSTED_KEYS; ssh-ed25519 public\n"
"                               keys or allowed_signers lines)\n"
"  --delete-untrusted           also delete what is not proven (reported\n"
"                               otherwise); Object Lock still applies\n"
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
	eb_prune_opts po;
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_KEEP | CLI_PRUNE | CLI_FORMAT | CLI_TRUST, prune_usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(&err);
	if (!eb_prune_wanted(&c.keep)) {
		fprintf(stderr, "etcd-backup prune: give at least one --keep-last/--keep-hourly/--keep-daily/--keep-weekly/--keep-monthly rule\n");
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	memset(&po, 0, sizeof po);
	po.keep = c.keep;
	po.cluster_id = c.cluster_id;
	po.dry_run = c.dry_run;
	po.json = c.json;
	po.trusted = c.keys.have_trusted ? &c.keys.trusted : NULL;
	po.delete_untrusted = c.delete_untrusted;
	rc = cli_open_store(&c, &st, &err);
	if (rc == 0)
		rc = eb_prune_run(st, &po, &err);
	if (rc == 0)
		eb_prune_clean_incomplete(st, c.abort_incomplete_s, c.dry_run);
	return cli_finish(&c, st, rc, &err);
}
