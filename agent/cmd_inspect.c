/* agent/cmd_inspect.c - `etcd-backup inspect`: what a snapshot or a stored
 * backup holds (restore/inspect.h does the work). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cmds.h"
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
"                      file:///path, s3://bucket/prefix)\n"
"  --backup ID|latest  backup to fetch from the store (verified on the fly;\n"
"                      staged in --tmp-dir, removed afterwards)\n"
"  --tmp-dir DIR       where a fetched backup is staged (default $TMPDIR or /tmp)\n"
"  --s3-endpoint URL, --s3-region R, --s3-path-style, --s3-ca-file F,\n"
"  --s3-compat LIST    S3 settings, as for 'etcd-backup snapshot'\n"
"  -w, --write-out F   table (default) or json\n"
"Exit status: 0 snapshot sound, 5 hash mismatch or structure problem,\n"
"8 no such backup, 2 bad flags.\n";

static void
human(uint64_t n, char *out, size_t len)
{
	/* etcdctl's humanize.Bytes: SI units, 1 significant decimal */
	const char *u[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)n;
	int i = 0;
	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(out, len, "%llu B", (unsigned long long)n);
	else
		snprintf(out, len, v < 10 ? "%.1f %s" : "%.0f %s", v, u[i]);
}

int
cmd_inspect(int argc, char **argv)
{
	static const struct option lo[] = {
		{"from", required_argument, 0, 'f'},
		{"backup", required_argument, 0, 'b'},
		{"tmp-dir", required_argument, 0, 't'},
		{"write-out", required_argument, 0, 'w'},
		{"s3-endpoint", required_argument, 0, 1001},
		{"s3-region", required_argument, 0, 1002},
		{"s3-path-style", optional_argument, 0, 1003},
		{"s3-ca-file", required_argument, 0, 1004},
		{"s3-compat", required_argument, 0, 1005},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	eb_store_opts so;
	const char *from = NULL, *backup = NULL, *fmt = "table";
	const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int c;
	eb_store_opts_init(&so);
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:h", lo, NULL)) != -1) {
		switch (c) {
		case 1001: so.s3_endpoint = optarg; break;
		case 1002: so.s3_region = optarg; break;
		case 1003: so.s3_path_style = !optarg || strcmp(optarg, "false") != 0; break;
		case 1004: so.s3_ca_file = optarg; break;
		case 1005: so.s3_compat = optarg; break;
		case 'f': from = optarg; break;
		case 'b': backup = optarg; break;
		case 't': tmpdir = optarg; break;
		case 'w': fmt = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return EB_EXIT_USAGE;
		}
	}
	if (optind < argc && !from)
		from = argv[optind++];
	if (!from || optind < argc || (strcmp(fmt, "table") && strcmp(fmt, "json"))) {
		fputs(usage, stderr);
		return EB_EXIT_USAGE;
	}
	eb_err err;
	eb_err_init(&err);
	char tmp[4096] = "", path[4200], id[64] = "";
	int rc = 0;
	const char *file = from;
	if (backup) {
		snprintf(tmp, sizeof tmp, "%s/etcd-backup-inspect.XXXXXX", tmpdir);
		if (!mkdtemp(tmp)) {
			fprintf(stderr, "etcd-backup inspect: cannot create a temp dir in %s (set --tmp-dir)\n", tmpdir);
			return EB_EXIT_STORAGE;
		}
		snprintf(path, sizeof path, "%s/snapshot.db", tmp);
		rc = eb_fetch_backup(from, &so, backup, path, id, sizeof id, &err);
		file = path;
	}
	eb_inspect_result r;
	if (!rc)
		rc = eb_inspect_file(file, &r, &err);
	if (tmp[0])
		eb_dir_remove(tmp);
	if (rc) {
		fprintf(stderr, "etcd-backup inspect: %s\n", err.msg);
		return eb_exit_code(rc);
	}
	const char *sha = r.sha_status == EB_SHA_OK ? "ok" : r.sha_status == EB_SHA_MISMATCH ? "MISMATCH" : "absent";
	if (!strcmp(fmt, "json")) {
		printf("{\"hash\":%u,\"revision\":%llu,\"totalKey\":%llu,\"totalSize\":%llu,",
		       r.hash, (unsigned long long)r.revision, (unsigned long long)r.total_keys,
		       (unsigned long long)r.total_size);
		if (id[0])
			printf("\"backup\":\"%s\",", id);
		printf("\"sha256\":\"%s\",\"structure\":\"%s\",", sha, r.structure_ok ? "ok" : "corrupt");
		if (!r.structure_ok) {
			eb_buf b;
			eb_buf_init(&b);
			eb_buf_json_str(&b, r.structure_msg);
			printf("\"structureError\":%s,", b.p ? b.p : "\"\"");
			eb_buf_dispose(&b);
		}
		if (r.hashkv_ok)
			printf("\"hashKV\":%u,\"hashKVRevision\":%lld,\"compactRevision\":%lld,",
			       r.hashkv, (long long)r.hashkv_rev, (long long)r.compact_rev);
		printf("\"pageSize\":%u,\"pages\":%llu,\"freePages\":%llu,\"buckets\":%llu}\n", r.meta.page_size,
		       (unsigned long long)r.meta.pgid, (unsigned long long)r.stats.free_pages,
		       (unsigned long long)r.stats.buckets);
	} else {
		char hs[32];
		human(r.total_size, hs, sizeof hs);
		printf("+----------+----------+------------+------------+\n");
		printf("|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |\n");
		printf("+----------+----------+------------+------------+\n");
		printf("| %08x | %8llu | %10llu | %10s |\n", r.hash, (unsigned long long)r.revision,
		       (unsigned long long)r.total_keys, hs);
		printf("+----------+----------+------------+------------+\n");
		if (id[0])
			printf("backup:       %s\n", id);
		printf("sha256:       %s%s%s\n", sha, r.sha_status == EB_SHA_ABSENT ? " (no trailer: a db file, not a saved snapshot)" : "",
		       r.sha_status == EB_SHA_ABSENT ? "" : "");
		if (r.structure_ok)
			printf("structure:    ok (%llu pages of %u bytes, %llu free, %llu buckets, %llu keys, depth %d)\n",
			       (unsigned long long)r.meta.pgid, r.meta.page_size, (unsigned long long)r.stats.free_pages,
			       (unsigned long long)r.stats.buckets, (unsigned long long)r.stats.keys, r.stats.max_depth);
		else
			printf("structure:    CORRUPT: %s\n", r.structure_msg);
		if (r.hashkv_ok)
			printf("hashkv:       %u at revision %lld (compact revision %lld%s)\n", r.hashkv,
			       (long long)r.hashkv_rev, (long long)r.compact_rev,
			       r.compaction_pending ? ", compaction pending: approximate" : "");
	}
	if (r.sha_status == EB_SHA_MISMATCH || !r.structure_ok)
		return EB_EXIT_INTEGRITY;
	return 0;
}
