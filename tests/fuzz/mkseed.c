/* tests/fuzz/mkseed.c - writes valid seed inputs for the fuzz targets into
 * DIR/<target>/ so the fuzzers start from real structure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/crypto.h"
#include "restore/bbolt_write.h"
#include "restore/bytes.h"
#include "restore/members.h"
#include "restore/snapfile.h"
#include "restore/wal.h"

static void
put(const char *dir, const char *target, const char *name, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	eb_err err;
	eb_err_init(&err);
	eb_membership c;
	eb_membership_parse(&c, "a=http://127.0.0.1:1,b=http://127.0.0.1:2", "t", &err);
	eb_wbuf b = {0};
	eb_raft_form form;
	eb_raft_form_for(0, &form);
	eb_wal_build(&b, &c, 0, &form, &err);
	put(argv[1], "fuzz_wal", "seed", b.p, b.len);
	eb_wbuf_reset(&b);
	eb_snapfile_build(&b, &c, &form, &err);
	put(argv[1], "fuzz_snapfile", "seed", b.p, b.len);
	const char *man = "{\n  \"format\": 1,\n  \"id\": \"20261121T044315Z-r12\",\n"
		"  \"created\": \"2026-11-21T04:43:15Z\",\n  \"created_unix\": 1795236195,\n"
		"  \"cluster_id\": \"cdf818194e3a8c32\",\n  \"member_id\": \"8e9e05c52164694d\",\n"
		"  \"endpoint\": \"https://127.0.0.1:2379\",\n  \"etcd_version\": \"3.4.23\",\n"
		"  \"revision\": 12,\n  \"raft_term\": 2,\n  \"raft_index\": 20,\n  \"db_size\": 20480,\n"
		"  \"snapshot_size\": 20512,\n"
		"  \"snapshot_sha256\": \"b2ab69ccba4096d7c2a0fb9060d7803910d15d0b03ace653411e8c1664060e0c\",\n"
		"  \"db_sha256\": \"b2ab69ccba4096d7c2a0fb9060d7803910d15d0b03ace653411e8c1664060e0c\",\n"
		"  \"object\": \"20261121T044315Z-r12.snapshot.db.zst\",\n  \"stored_size\": 953,\n"
		"  \"stored_sha256\": \"b2ab69ccba4096d7c2a0fb9060d7803910d15d0b03ace653411e8c1664060e0c\",\n"
		"  \"compression\": \"zstd\",\n  \"compression_level\": 1,\n  \"tool_version\": \"0.1.0\",\n"
		"  \"tags\": [\"pre-upgrade-1.29\", \"caf\\u00e9 \\\"q\\\"\"]\n}\n";
	put(argv[1], "fuzz_manifest", "seed", man, strlen(man));
	const char *ms = "a=http://127.0.0.1:1,b=https://[::1]:2\ntok\nhttp://127.0.0.1:1";
	put(argv[1], "fuzz_members", "seed", ms, strlen(ms));
	eb_membership_dispose(&c);
	/* boot-time records: a put (KeyValue at revision 5), a lease, a user */
	{
		static const uint8_t kv[] = {0, 17, 0, 0, 0, 0, 0, 0, 0, 5, '_', 0, 0, 0, 0, 0, 0, 0, 0,
		                             0x0a, 1, 'k', 0x10, 5, 0x18, 5, 0x20, 1, 0x2a, 1, 'v'};
		static const uint8_t lease[] = {2, 8, 0, 0, 0, 0, 0, 0, 0, 7, 0x08, 7, 0x10, 60};
		static const uint8_t user[] = {5, 4, 'r', 'o', 'o', 't', 0x0a, 4, 'r', 'o', 'o', 't',
		                               0x1a, 4, 'r', 'o', 'o', 't', 0x22, 2, 0x08, 1};
		put(argv[1], "fuzz_records", "kv", kv, sizeof kv);
		put(argv[1], "fuzz_records", "lease", lease, sizeof lease);
		put(argv[1], "fuzz_records", "user", user, sizeof user);
	}

	/* a small etcd-like db with 1024-byte pages: multi-level key bucket,
	 * an overflow value, meta */
	int fd = memfd_create("db", 0);
	eb_bw *w;
	uint64_t size;
	eb_bw_new(&w, &fd, 1, 1024, &err);
	eb_bw_bucket_begin(w, (const uint8_t *)"key", 3, 0, &err);
	for (int i = 1; i <= 60; i++) {
		uint8_t k[17], v[64];
		eb_st_be64(k, (uint64_t)i);
		k[8] = '_';
		eb_st_be64(k + 9, 0);
		size_t vl = (size_t)snprintf((char *)v + 2, sizeof v - 2, "key%d", i % 7);
		v[0] = 0x0a;
		v[1] = (uint8_t)vl;
		eb_bw_put(w, k, 17, v, vl + 2, &err);
	}
	static uint8_t big[3000];
	uint8_t k[18];
	eb_st_be64(k, 61);
	k[8] = '_';
	eb_st_be64(k + 9, 0);
	eb_bw_put(w, k, 17, big, sizeof big, &err);
	eb_bw_bucket_end(w, &err);
	eb_bw_bucket_begin(w, (const uint8_t *)"meta", 4, 0, &err);
	uint8_t rev[17];
	eb_st_be64(rev, 5);
	rev[8] = '_';
	eb_st_be64(rev + 9, 0);
	eb_bw_put(w, (const uint8_t *)"finishedCompactRev", 18, rev, 17, &err);
	eb_bw_bucket_end(w, &err);
	eb_bw_finish(w, &size, &err);
	eb_bw_free(w);
	uint8_t *db = malloc(size + 32);
	if (pread(fd, db, size, 0) != (ssize_t)size)
		return 1;
	put(argv[1], "fuzz_bbolt", "seed", db, size);
	eb_sha256_buf(db, size, db + size);
	/* trailer rule is size % 512 == 32: true for 1024-byte pages too */
	put(argv[1], "fuzz_snapshot", "seed", db, size + 32);
	free(db);
	eb_wbuf_free(&b);
	return 0;
}
