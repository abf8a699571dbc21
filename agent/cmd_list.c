/* etcd-backup list / get / verify / prune: operator commands on a store. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli.h"
#include "agent/cmds.h"
#include "agent/prune.h"
#include "agent/util.h"
#include "common/exitcodes.h"
#include "common/json.h"
#include "common/log.h"
#include "storage/catalog.h"
#include "storage/file_sink.h"

static const char list_usage[] =
"Usage: etcd-backup list [--from STORE] [flags]\n"
"\n"
"Lists the backups in a store, newest first.  Only complete backups (with a\n"
"manifest) are listed.\n"
"\n"
"Flags:\n"
"  --from STORE                 the store (default /var/backups/etcd)\n"
STORE_FLAGS_HELP
"  -o, -w, --write-out FMT      table (default) or json (an array of\n"
"                               manifests)\n"
COMMON_FLAGS_HELP;

static const char get_usage[] =
"Usage: etcd-backup get --from STORE --backup ID|latest --output FILE\n"
"\n"
"Fetches a backup, decompresses it and checks it against its manifest and\n"
"etcd's sha256 trailer, then writes a plain snapshot file, byte-identical\n"
"to what 'etcdctl snapshot save' wrote, which 'etcdctl snapshot restore'\n"
"and 'etcd-restore --from FILE' accept.  The file appears only when every\n"
"check passed; an existing file is not overwritten.\n"
"\n"
"Flags:\n"
"  --from STORE                 the store (default /var/backups/etcd)\n"
"  --backup ID|latest           which backup (see 'etcd-backup list')\n"
"  --output FILE                where to write the snapshot\n"
STORE_FLAGS_HELP
COMMON_FLAGS_HELP;

static const char verify_usage[] =
"Usage: etcd-backup verify --from STORE [--backup ID|latest|all]\n"
"\n"
"Reads a backup back from the store and checks the stored object's sha256\n"
"and size, the zstd frames, etcd's sha256 trailer and the snapshot's sha256\n"
"against the manifest.  Writes nothing.  --backup all checks every backup.\n"
"\n"
"Flags:\n"
"  --from STORE                 the store (default /var/backups/etcd)\n"
"  --backup ID|latest|all       which backup (default latest)\n"
STORE_FLAGS_HELP
"  -o, -w, --write-out FMT      table (default) or json\n"
COMMON_FLAGS_HELP;

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
"  --abort-incomplete-after DUR S3: abort multipart uploads older than\n"
"                               this (default 24h)\n"
STORE_FLAGS_HELP
"  -o, -w, --write-out FMT      table (default) or json\n"
COMMON_FLAGS_HELP;

static int
open_store(cli *c, eb_store **st, eb_err *err)
{
	return eb_store_open(st, c->store, &c->store_opts, err);
}

static int
finish(cli *c, eb_store *st, int rc, eb_err *err)
{
	if (rc < 0 && err->msg[0])
		EB_LOG(EB_LOG_ERROR, c->cmd, "%s", err->msg);
	eb_store_free(st);
	cli_dispose(c);
	return eb_exit_code(rc);
}

int
cmd_list(int argc, char **argv)
{
	cli c;
	eb_store *st = NULL;
	eb_catalog cat;
	eb_err err;
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_FORMAT, list_usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(&err);
	rc = open_store(&c, &st, &err);
	if (rc == 0)
		rc = eb_catalog_load(&cat, st, &err);
	if (rc < 0)
		return finish(&c, st, rc, &err);
	if (cat.nbad)
		EB_LOG(EB_LOG_WARN, "list", "%zu manifest(s) could not be read and are not listed, e.g. %s",
		       cat.nbad, cat.bad_example);
	if (c.json) {
		fputs("[", stdout);
		for (size_t i = 0; i < cat.n; i++) {
			char *j = NULL;
			if (eb_manifest_to_json(&cat.v[i], &j, &err) == 0) {
				fputs(i ? ",\n" : "\n", stdout);
				fputs(j, stdout);
				free(j);
			}
		}
		fputs("]\n", stdout);
	} else {
		printf("%-28s %-20s %-16s %10s %10s %10s %-8s %s\n", "ID", "CREATED", "CLUSTER",
		       "REVISION", "SNAPSHOT", "STORED", "ETCD", "TAGS");
		for (size_t i = 0; i < cat.n; i++) {
			const eb_manifest *m = &cat.v[i];
			char a[32], b[32], tags[512] = "";
			eb_fmt_bytes(m->snapshot_size, a, sizeof a);
			eb_fmt_bytes(m->stored_size, b, sizeof b);
			for (size_t t = 0; t < m->ntags; t++) {
				size_t l = strlen(tags);
				snprintf(tags + l, sizeof tags - l, "%s%s", t ? "," : "", m->tags[t]);
			}
			printf("%-28s %-20s %016" PRIx64 " %10" PRId64 " %10s %10s %-8s %s\n", m->id,
			       m->created, m->cluster_id, m->revision, a, b, m->etcd_version, tags);
		}
		if (cat.n == 0)
			fprintf(stderr, "no backups in %s\n", st->url);
	}
	eb_catalog_dispose(&cat);
	return finish(&c, st, 0, &err);
}

int
cmd_get(int argc, char **argv)
{
	cli c;
	eb_store *st = NULL;
	eb_stream *sink = NULL;
	eb_manifest m;
	eb_err err;
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_BACKUP | CLI_OUTFILE, get_usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(&err);
	if (!c.backup || !c.output) {
		fprintf(stderr, "etcd-backup get: --backup ID|latest and --output FILE are required\n");
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	rc = open_store(&c, &st, &err);
	if (rc == 0)
		rc = eb_catalog_find(st, c.backup, &m, &err);
	if (rc < 0)
		return finish(&c, st, rc, &err);
	rc = eb_file_sink_new(&sink, c.output, EB_FILE_NO_REPLACE, &err);
	if (rc == 0)
		rc = eb_catalog_fetch(st, &m, sink, &err);
	eb_stream_free_chain(sink); /* unfinished = temp file removed */
	if (rc == 0)
		EB_LOG(EB_LOG_INFO, "get", "backup %s (revision %" PRId64 ") verified and written to %s",
		       m.id, m.revision, c.output);
	eb_manifest_dispose(&m);
	return finish(&c, st, rc, &err);
}

static int
verify_one(eb_store *st, const eb_manifest *m, int json, int first, eb_err *err)
{
	eb_stream *sink = NULL;
	int rc = eb_null_sink_new(&sink, err);
	if (rc == 0)
		rc = eb_catalog_fetch(st, m, sink, err);
	eb_stream_free_chain(sink);
	if (json) {
		eb_buf b;
		eb_buf_init(&b);
		eb_buf_puts(&b, first ? "{\"id\":" : ",{\"id\":");
		eb_buf_json_str(&b, m->id);
		eb_buf_printf(&b, ",\"ok\":%s,\"error\":", rc == 0 ? "true" : "false");
		if (rc == 0)
			eb_buf_puts(&b, "null");
		else
			eb_buf_json_str(&b, err->msg);
		eb_buf_puts(&b, "}");
		if (b.p)
			fputs(b.p, stdout);
		eb_buf_dispose(&b);
	} else {
		printf("%-28s %s%s\n", m->id, rc == 0 ? "OK" : "FAILED: ", rc == 0 ? "" : err->msg);
	}
	return rc;
}

int
cmd_verify(int argc, char **argv)
{
	cli c;
	eb_store *st = NULL;
	eb_err err;
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_BACKUP | CLI_FORMAT, verify_usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(&err);
	rc = open_store(&c, &st, &err);
	if (rc < 0)
		return finish(&c, st, rc, &err);
	if (c.json)
		fputs("[", stdout);
	if (c.backup && strcmp(c.backup, "all") == 0) {
		eb_catalog cat;
		int worst = 0;
		rc = eb_catalog_load(&cat, st, &err);
		for (size_t i = 0; rc == 0 && i < cat.n; i++) {
			eb_err e1;
			eb_err_init(&e1);
			if (verify_one(st, &cat.v[i], c.json, i == 0, &e1) < 0 && !worst) {
				worst = e1.code;
				eb_err_set(&err, e1.code, "%s", e1.msg);
			}
		}
		if (rc == 0) {
			if (cat.n == 0)
				rc = eb_err_set(&err, EB_ENOTFOUND, "store %s holds no backups", st->url);
			else
				rc = worst;
			eb_catalog_dispose(&cat);
		}
	} else {
		eb_manifest m;
		rc = eb_catalog_find(st, c.backup ? c.backup : "latest", &m, &err);
		if (rc == 0) {
			rc = verify_one(st, &m, c.json, 1, &err);
			eb_manifest_dispose(&m);
		}
	}
	if (c.json)
		fputs("]\n", stdout);
	return finish(&c, st, rc, &err);
}

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
	rc = open_store(&c, &st, &err);
	if (rc == 0)
		rc = eb_prune_run(st, &c.keep, cid, c.dry_run, c.json, &err);
	if (rc == 0)
		eb_prune_abort_incomplete(st, c.abort_incomplete_s, c.dry_run);
	return finish(&c, st, rc, &err);
}
