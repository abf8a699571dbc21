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
#include "storage/catalog.h"
#include "storage/file_sink.h"

static const char get_usage[] =
"Usage: etcd-backup get --from STORE --backup ID|latest --output FILE\n"
"\n"
"Fetches a backup, decompresses it and checks it against its manifest and\n"
"etcd's sha256 trailer, then writes a plain snapshot file, byte-identical\n"
"to what 'etcdctl snapshot save' wrote, which 'etcdctl snapshot restore'\n"
"and 'etcd-restore --from FILE' accept.  The file appears only when every\n"
"check passed; an existing file is not overwritten.  An age-encrypted\n"
"backup needs --age-identity; with --trusted-keys an unsigned backup, or one\n"
"signed by another key, is refused.\n"
"\n"
"Flags:\n"
"  --from STORE                 the store (default /var/backups/etcd)\n"
"  --backup ID|latest           which backup (see 'etcd-backup list')\n"
"  --output FILE                where to write the snapshot\n"
READ_KEYS_HELP
CLUSTER_ID_HELP
STORE_FLAGS_HELP
COMMON_FLAGS_HELP;

int
cmd_get(int argc, char **argv)
{
	cli c;
	eb_store *st = NULL;
	eb_stream *sink = NULL;
	eb_manifest m;
	eb_err err;
	eb_read_keys k;
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_BACKUP | CLI_OUTFILE | CLI_READKEYS,
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
	rc = eb_file_sink_new(&sink, c.output, EB_FILE_NO_REPLACE, &err);
	if (rc == 0)
		rc = eb_catalog_fetch(st, &m, &k, sink, &err);
	eb_stream_free_chain(sink); /* unfinished = temp file removed */
	if (rc == 0)
		EB_LOG(EB_LOG_INFO, "get", "backup %s (revision %" PRId64 ") verified and written to %s",
		       m.id, m.revision, c.output);
	eb_manifest_dispose(&m);
	return cli_finish(&c, st, rc, &err);
}

