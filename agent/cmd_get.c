/* etcd-backup get: a backup back as a plain snapshot file, verified. */
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
#include "restore/cplay.h"
#include "storage/catalog.h"
#include "storage/file_sink.h"

static const char get_usage[] =
"Usage: etcd-backup get --from STORE --backup ID|latest --output FILE\n"
"       etcd-backup get --control-plane --from STORE --backup ID|latest --output DIR\n"
"\n"
"Fetches a backup, decompresses it and checks it against its manifest and\n"
"etcd's sha256 trailer, then writes a plain snapshot file, byte-identical\n"
"to what 'etcdctl snapshot save' wrote, which 'etcdctl snapshot restore'\n"
"and 'etcd-restore --from FILE' accept.  The file appears only when every\n"
"check passed; an existing file is not overwritten.  An age-encrypted\n"
"backup needs --age-identity; with --trusted-keys an unsigned backup, or one\n"
"signed by another key, is refused.\n"
"\n"
"With --control-plane: the backup's control-plane bundle (etcd-backup\n"
"snapshot --control-plane) instead, checked against the manifest and laid\n"
"down under DIR by absolute path (DIR/etc/kubernetes/pki/ca.crt ...) with\n"
"the modes (and, as root, the owners) recorded, for inspection.  Existing\n"
"files that differ are refused.  To put the files in place on a node, use\n"
"etcd-restore --control-plane.\n"
"\n"
"Flags:\n"
"  --from STORE                 the store (default /var/backups/etcd)\n"
"  --backup ID|latest           which backup (see 'etcd-backup list')\n"
"  --output FILE                where to write the snapshot (the folder, with\n"
"                               --control-plane)\n"
"  --control-plane              the control-plane bundle, not the snapshot\n"
"  --progress, --no-progress    progress on stderr: bytes, percent, rate, ETA\n"
"                               (default: on a terminal; with --log-format\n"
"                               json, a \"progress\" event every 5 s)\n"
READ_KEYS_HELP
CLUSTER_ID_HELP
STORE_FLAGS_HELP
COMMON_FLAGS_HELP;

/* get --control-plane: the bundle under DIR, by absolute path. */
static int
get_control_plane(eb_store *st, const eb_manifest *m, const eb_read_keys *k, const char *out,
                  eb_err *err)
{
	eb_cp_data d;
	eb_cp_lay_result r;
	char dir[4096];
	eb_cp_lay_opts lo = {.dir = dir, .rootfs = out};
	int rc = eb_cp_fetch(st, m, k, &d, err);
	if (rc < 0)
		return rc;
	snprintf(dir, sizeof dir, "%s%s", out, m->cp->root);
	rc = eb_cp_lay_down(m->cp, d.data, &lo, &r, err);
	eb_cp_data_dispose(&d, m);
	if (rc == 0)
		EB_LOG(EB_LOG_INFO, "get", "control-plane bundle of backup %s verified: %zu files of %s "
		       "written under %s", m->id, m->cp->nfiles, m->cp->root, out);
	return rc;
}

int
cmd_get(int argc, char **argv)
{
	cli c;
	eb_store *st = NULL;
	eb_stream *sink = NULL, *head = NULL;
	eb_manifest m;
	eb_err err;
	eb_read_keys k;
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_BACKUP | CLI_OUTFILE | CLI_READKEYS | CLI_CPGET,
	                   get_usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(&err);
	if (!c.backup || !c.output) {
		fprintf(stderr, "etcd-backup get: --backup ID|latest and --output FILE are required\n");
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	k = cli_read_keys(&c);
	rc = cli_open_store(&c, &st, &err);
	if (rc == 0)
		rc = eb_catalog_find(st, c.backup, &k, &m, &err);
	if (rc < 0)
		return cli_finish(&c, st, rc, &err);
	if (c.control_plane) {
		rc = get_control_plane(st, &m, &k, c.output, &err);
		eb_manifest_dispose(&m);
		return cli_finish(&c, st, rc, &err);
	}
	eb_progress pr;
	eb_progress_cb cb = eb_progress_cb_of(&pr);
	eb_progress_init(&pr, "get", c.progress);
	rc = eb_file_sink_new(&sink, c.output, EB_FILE_NO_REPLACE, &err);
	if (rc == 0 && (rc = eb_progress_stage_new(&head, &cb, m.snapshot_size, sink, &err)) == 0)
		sink = NULL; /* the chain's now */
	if (rc == 0)
		rc = eb_catalog_fetch(st, &m, &k, head, &err);
	eb_progress_end(&pr);
	eb_stream_free_chain(head ? head : sink); /* unfinished = temp file removed */
	if (rc == 0)
		EB_LOG(EB_LOG_INFO, "get", "backup %s (revision %" PRId64 ") verified and written to %s",
		       m.id, m.revision, c.output);
	eb_manifest_dispose(&m);
	return cli_finish(&c, st, rc, &err);
}

