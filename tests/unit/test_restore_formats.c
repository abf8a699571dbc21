/* tests/unit/test_restore_formats.c - spec test vectors for the restore
 * formats: CRC-32C, member/cluster IDs (docs/formats/ids.md), the WAL bytes of the
 * default restore (docs/formats/wal.md), the bbolt meta vector (docs/formats/bbolt.md), and a
 * write-then-read round trip of the bbolt writer through the validating
 * reader with overflow values and multi-level trees. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "restore/bbolt_read.h"
#include "restore/bbolt_write.h"
#include "common/bytes.h"
#include "restore/crc32c.h"
#include "restore/members.h"
#include "restore/snapfile.h"
#include "restore/wal.h"
#include "tests/unit/harness.h"


static void
ids(const char *name, const char *ic, const char *tok, const char *want_ids, const char *want_cid)
{
	eb_membership c;
	eb_err err;
	eb_err_init(&err);
	char got[512] = "", cid[32], tn[128];
	if (eb_membership_parse(&c, ic, tok, &err)) {
		printf("FAIL ids_%s: %s\n", name, err.msg);
		t_nfail++;
		return;
	}
	/* in --initial-cluster order of names for comparison: print by name */
	char *p = got;
	const char *s = ic;
	while (*s) { /* names in the order they first appear */
		const char *eq = strchr(s, '=');
		char nm[64];
		snprintf(nm, sizeof nm, "%.*s", (int)(eq - s), s);
		int i = eb_membership_find(&c, nm);
		if (!strstr(got, c.m[i].hexid))
			p += sprintf(p, "%s%s", got[0] ? "," : "", c.m[i].hexid);
		s = strchr(s, ',');
		if (!s) break;
		s++;
	}
	snprintf(cid, sizeof cid, "%llx", (unsigned long long)c.cluster_id);
	snprintf(tn, sizeof tn, "member_ids_%s", name);
	CHECK(tn, !strcmp(got, want_ids));
	snprintf(tn, sizeof tn, "cluster_id_%s", name);
	CHECK(tn, !strcmp(cid, want_cid));
	eb_membership_dispose(&c);
}

static void
test_wal_default(void)
{
	static const char *hex =
	    "0400000000000084080410000000000020000000000000000801" "10bb81c7fc05"
	    "1a1608cdd2918bd2b881cf8e0110b298eaf1948386fccd010e0000000000008208051094bbc7ed0e1a04080010000000";
	eb_membership c;
	eb_err err;
	eb_wbuf w = {0};
	eb_err_init(&err);
	ASSERT_OK(eb_membership_parse(&c, "default=http://localhost:2380", "etcd-cluster", &err), &err);
	eb_raft_form f34, f35;
	eb_raft_form_for(4, &f34);
	eb_raft_form_for(5, &f35);
	ASSERT_OK(eb_wal_build(&w, &c, 0, &f34, &err), &err);
	size_t n = strlen(hex) / 2;
	uint8_t *want = malloc(n);
	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &want[i]);
	CHECK("wal_default_prefix_bytes", w.len == 272 && !memcmp(w.p, want, n));
	/* 3.4-exact: 272 bytes; with ConfState (L=29, P=3): 288 */
	eb_wal_info in;
	CHECK("wal_reader_accepts_own_wal", eb_wal_read(w.p, w.len, &in, &err) == 0 &&
	      in.hs_commit == 1 && in.snap_index == 1 && in.entries == 1 && in.node_id == 0x8e9e05c52164694dull);
	eb_wbuf_reset(&w);
	ASSERT_OK(eb_wal_build(&w, &c, 0, &f35, &err), &err);
	CHECK("wal_confstate_length", w.len == 288 && eb_wal_read(w.p, w.len, &in, &err) == 0 && in.snap_voters == 1);
	w.p[100] ^= 1;
	CHECK("wal_reader_detects_flip", eb_wal_read(w.p, w.len, &in, &err) != 0);
	eb_wbuf snap = {0};
	ASSERT_OK(eb_snapfile_build(&snap, &c, &f35, &err), &err);
	eb_snapfile_info si;
	CHECK("snap_default_size_and_crc", snap.len == 6490 && eb_snapfile_read(snap.p, snap.len, &si, &err) == 0 &&
	      si.index == 1 && si.term == 1 && si.voters == 1);
	free(want);
	eb_wbuf_dispose(&w);
	eb_wbuf_dispose(&snap);
	eb_membership_dispose(&c);
}

/* Visitor that checks the round trip. */
struct rt { uint64_t keys, bytes; int buckets; };
static int rt_begin(void *c, const uint8_t *n, size_t l, uint64_t s, eb_err *e) { (void)n; (void)l; (void)s; (void)e; ((struct rt *)c)->buckets++; return 0; }
static int rt_kv(void *c, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, eb_err *e)
{ (void)k; (void)v; (void)e; ((struct rt *)c)->keys++; ((struct rt *)c)->bytes += kl + vl; return 0; }

static void
test_bolt_roundtrip(void)
{
	eb_err err;
	eb_err_init(&err);
	int fd = memfd_create("db", 0);
	eb_bw *w;
	int rc = eb_bw_new(&w, &fd, 1, 4096, &err);
	uint8_t *val = calloc(1, 200000);
	uint64_t want_keys = 0, want_bytes = 0;
	const char *names[] = {"a", "big", "empty", "key"};
	for (int b = 0; !rc && b < 4; b++) {
		rc = eb_bw_bucket_begin(w, (const uint8_t *)names[b], strlen(names[b]), 0, &err);
		int n = b == 0 ? 3 : b == 1 ? 40 : b == 2 ? 0 : 60000;
		for (int i = 0; !rc && i < n; i++) {
			uint8_t k[17];
			eb_st_be64(k, (uint64_t)i + 1);
			k[8] = '_';
			eb_st_be64(k + 9, 0);
			size_t vl = b == 1 ? (size_t)(i * 4999) % 200000 : (size_t)(i % 50);
			rc = eb_bw_put(w, k, 17, val, vl, &err);
			want_keys++;
			want_bytes += 17 + vl;
		}
		if (!rc)
			rc = eb_bw_bucket_end(w, &err);
	}
	uint64_t size = 0;
	if (!rc)
		rc = eb_bw_finish(w, &size, &err);
	eb_bw_free(w);
	CHECK("bolt_write_ok", rc == 0);
	eb_bolt *b;
	struct rt r = {0};
	eb_bolt_visitor v = {.ctx = &r, .bucket_begin = rt_begin, .kv = rt_kv};
	eb_bolt_stats st;
	rc = eb_bolt_open(&b, fd, size, &err);
	if (!rc)
		rc = eb_bolt_walk(b, &v, &st, &err);
	if (rc)
		printf("  %s\n", err.msg);
	CHECK("bolt_roundtrip_valid", rc == 0);
	CHECK("bolt_roundtrip_content", r.keys == want_keys && r.bytes == want_bytes && r.buckets == 4);
	CHECK("bolt_roundtrip_compact", rc == 0 && st.free_pages == 0 && st.max_depth >= 3 && st.overflow_pages > 0);
	eb_bolt_close(b);
	/* The meta vector of docs/formats/bbolt.md */
	uint8_t m[56];
	const char *mh = "edda0ced020000000010000000000000030000000000000000000000000000000200000000000000"
	                 "04000000000000000200000000000000";
	for (int i = 0; i < 56; i++)
		sscanf(mh + 2 * i, "%2hhx", &m[i]);
	CHECK("bolt_meta_checksum_vector", eb_fnv1a64(m, 56) == 0xc95bdfff30ab69acull);
	free(val);
	close(fd);
}

int
main(void)
{
	CHECK("crc32c_check_value", eb_crc32c_update(0, "123456789", 9) == 0xE3069283u);
	CHECK("crc32c_continues", eb_crc32c_update(eb_crc32c_update(0, "1234", 4), "56789", 5) == 0xE3069283u);
	ids("default", "default=http://localhost:2380", "etcd-cluster", "8e9e05c52164694d", "cdf818194e3a8c32");
	ids("m1", "m1=http://127.0.0.1:24011", "tok-r1", "d126a6df7b302012", "c031f7c38060af2d");
	ids("three", "n1=http://127.0.0.1:24021,n2=http://127.0.0.1:24023,n3=http://127.0.0.1:24025", "tok3",
	    "2fbf05e60583ea8b,3dd30a9315f34988,f1a868607d158765", "2d459f61e3e06819");
	ids("two_urls", "n1=http://127.0.0.1:24041,n1=http://10.0.0.1:2380", "t", "aca7ce011f120b75", "9a4b6669992a252f");
	ids("empty_token", "x=https://node-a.example:2380", "", "69137048683b7b51", "9da56bc5791e4700");
	RUN(test_wal_default);
	RUN(test_bolt_roundtrip);
	return t_nfail ? 1 : 0;
}
