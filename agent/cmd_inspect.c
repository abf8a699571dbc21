/* agent/cmd_inspect.c - `etcd-backup inspect`: what a snapshot or a stored
 * backup holds (restore/inspect.h does the work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli.h"
#include "agent/cmds.h"
#include "agent/util.h"
#include "common/err.h"
#include "common/exitcodes.h"
#include "common/json.h"
#include "restore/datadir.h"
#include "restore/fetch.h"
#include "restore/inspect.h"

static const char usage[] =
"Usage: etcd-backup inspect FILE [-w table|json]\n"
"       etcd-backup inspect --from STORE --backup ID|latest [-w table|json]\n"
"\n"
"Prints what `etcdutl snapshot status` prints (hash, revision, total keys,\n"
"total size: the same numbers), plus the sha256 trailer check, a full bbolt\n"
"structure check (what `bbolt check` checks) and the HashKV of the keyspace\n"
"at the snapshot's revision, to compare with a live member's\n"
"`etcdctl endpoint hashkv --rev REV` (etcd 3.4 HashKV rules).\n"
"\n"
"  --from FILE|STORE   a snapshot file, or with --backup a store (folder,\n"
"                      file:///path, s3://bucket/prefix; default with\n"
"                      --backup: ETCD_BACKUP_STORE or /var/backups/etcd)\n"
"  --backup ID|latest  backup to fetch from the store (verified on the fly;\n"
"                      staged in --tmp-dir, removed afterwards)\n"
"  --tmp-dir DIR       where a fetched backup is staged (default $TMPDIR or /tmp)\n"
"  FILE may also be age-encrypted and/or zstd-compressed (a stored object\n"
"  copied out of the store): it is decoded into --tmp-dir first.\n"
READ_KEYS_HELP
CLUSTER_ID_HELP
"  --s3-endpoint URL, --s3-region R, --s3-path-style, --s3-ca-file F,\n"
"  --s3-compat LIST    S3 settings, as for 'etcd-backup snapshot'\n"
"  -o, -w, --write-out F   table (default) or json\n"
COMMON_FLAGS_HELP
"Exit status: 0 snapshot sound, 5 hash mismatch or structure problem,\n"
"8 no such backup, 2 bad flags.\n";

/* Step 1: what to inspect: FILE (positional or --from), or --backup from
 * a store (--from, ETCD_BACKUP_STORE or the default store).  NULL after
 * saying why (a usage error). */
static const char *
pick_source(const cli *c, const eb_read_keys *keys)
{
	const char *from = c->file ? c->file : c->store_given || c->backup ? c->store : NULL;
	if (c->file && c->store_given) {
		fprintf(stderr, "etcd-backup inspect: give the snapshot once (FILE or --from)\n");
		return NULL;
	}
	if (!from) {
		fputs(usage, stderr);
		return NULL;
	}
	if (!c->backup && keys->trusted) {
		fprintf(stderr, "etcd-backup inspect: --trusted-keys checks a backup's signed manifest: use "
		        "--from STORE --backup ID (a snapshot file has none)\n");
		return NULL;
	}
	return from;
}

/* Step 2: a plain snapshot file to read: the file itself, or a backup
 * fetched (verified on the fly) or an age/zstd file decoded into a temp
 * dir under --tmp-dir (tmp, removed by the caller).  An exit status. */
static int
stage_snapshot(cli *c, const char *from, const eb_read_keys *keys, char *tmp, size_t tcap, char *path,
               size_t pcap, char *id, size_t idcap, eb_err *err)
{
	int decode = c->backup ? 0 : eb_local_needs_decoding(from, err), rc;
	snprintf(path, pcap, "%s", from);
	if (decode < 0)
		return decode;
	if (!c->backup && !decode)
		return 0;
	snprintf(tmp, tcap, "%s/etcd-backup-inspect.XXXXXX", c->tmp_dir);
	if (!mkdtemp(tmp)) {
		tmp[0] = '\0';
		return eb_err_set(err, EB_EIO, "cannot create a temp dir in %s (set --tmp-dir)", c->tmp_dir);
	}
	snprintf(path, pcap, "%s/snapshot.db", tmp);
	rc = c->backup ? eb_fetch_backup(from, &c->store_opts, keys, c->backup, path, id, idcap, NULL, NULL, err)
	               : eb_decode_local(from, keys, path, NULL, err); /* age and/or zstd file */
	return rc;
}

/* -w json */
static void
print_json(const eb_inspect_result *r, const char *id, const char *sha, unsigned long long nkeys)
{
	printf("{\"hash\":%u,\"revision\":%llu,\"totalKey\":%llu,\"totalSize\":%llu,",
	       r->hash, (unsigned long long)r->revision, nkeys, (unsigned long long)r->total_size);
	if (r->storage_version[0])
		printf("\"version\":\"%s\",", r->storage_version);
	if (id[0])
		printf("\"backup\":\"%s\",", id);
	printf("\"sha256\":\"%s\",\"structure\":\"%s\",", sha, r->structure_ok ? "ok" : "corrupt");
	if (!r->structure_ok) {
		eb_buf b;
		eb_buf_init(&b);
		eb_buf_json_str(&b, r->structure_msg);
		printf("\"structureError\":%s,", b.p ? b.p : "\"\"");
		eb_buf_dispose(&b);
	}
	if (r->hashkv_ok)
		printf("\"hashKV\":%u,\"hashKVRevision\":%lld,\"compactRevision\":%lld,",
		       r->hashkv, (long long)r->hashkv_rev, (long long)r->compact_rev);
	printf("\"pageSize\":%u,\"pages\":%llu,\"freePages\":%llu,\"buckets\":%llu}\n", r->meta.page_size,
	       (unsigned long long)r->meta.pgid, (unsigned long long)r->stats.free_pages,
	       (unsigned long long)r->stats.buckets);
}

/* the table (etcdutl's), then our checks */
static void
print_table(const eb_inspect_result *r, const char *id, const char *sha, unsigned long long nkeys)
{
	char hs[32];
	eb_fmt_bytes_si(r->total_size, hs, sizeof hs);
	printf("+----------+----------+------------+------------+\n");
	printf("|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |\n");
	printf("+----------+----------+------------+------------+\n");
	printf("| %08x | %8llu | %10llu | %10s |\n", r->hash, (unsigned long long)r->revision, nkeys, hs);
	printf("+----------+----------+------------+------------+\n");
	if (id[0])
		printf("backup:       %s\n", id);
	if (r->storage_version[0])
		printf("storage:      etcd %s\n", r->storage_version);
	printf("sha256:       %s%s\n", sha,
	       r->sha_status == EB_SHA_ABSENT ? " (no trailer: a db file, not a saved snapshot)" : "");
	if (r->structure_ok)
		printf("structure:    ok (%llu pages of %u bytes, %llu free, %llu buckets, %llu keys, depth %d)\n",
		       (unsigned long long)r->meta.pgid, r->meta.page_size, (unsigned long long)r->stats.free_pages,
		       (unsigned long long)r->stats.buckets, (unsigned long long)r->stats.keys, r->stats.max_depth);
	else
		printf("structure:    CORRUPT: %s\n", r->structure_msg);
	if (r->hashkv_ok)
		printf("hashkv:       %u at revision %lld (compact revision %lld%s)\n", r->hashkv,
		       (long long)r->hashkv_rev, (long long)r->compact_rev,
		       r->compaction_pending ? ", compaction pending: approximate" : "");
}

int
cmd_inspect(int argc, char **argv)
{
	cli c;
	const char *from, *sha;
	char tmp[4096] = "", path[4200], id[96] = "";
	eb_inspect_result r;
	eb_read_keys keys;
	unsigned long long nkeys;
	eb_err err;
	int rc = cli_parse(&c, argc, argv,
	                   CLI_STORE | CLI_BACKUP | CLI_FORMAT | CLI_FILEARG | CLI_TMPDIR | CLI_READKEYS, usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	keys = cli_read_keys(&c);
	if (!(from = pick_source(&c, &keys))) {
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	eb_err_init(&err);
	rc = stage_snapshot(&c, from, &keys, tmp, sizeof tmp, path, sizeof path, id, sizeof id, &err);
	if (rc == 0)
		rc = eb_inspect_file(path, NULL, &r, &err);
	if (tmp[0])
		eb_dir_remove(tmp);
	cli_dispose(&c);
	if (rc) {
		fprintf(stderr, "etcd-backup inspect: %s\n", err.msg);
		return eb_exit_code(rc);
	}
	sha = r.sha_status == EB_SHA_OK ? "ok" : r.sha_status == EB_SHA_MISMATCH ? "MISMATCH" : "absent";
	/* etcdutl's "total keys": key/value pairs of every bucket up to 3.5,
	 * live user keys from 3.6 (a snapshot with a storage version) */
	nkeys = r.storage_version[0] ? r.live_keys : r.total_keys;
	if (c.json)
		print_json(&r, id, sha, nkeys);
	else
		print_table(&r, id, sha, nkeys);
	return r.sha_status == EB_SHA_MISMATCH || !r.structure_ok ? EB_EXIT_INTEGRITY : 0;
}
