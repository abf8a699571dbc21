/* tests/fuzz/mkseed.c - writes valid seed inputs for the fuzz targets into
 * DIR/<target>/ so the fuzzers start from real structure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cipher.h"
#include "common/crypto.h"
#include "crypt/age.h"
#include "crypt/age_stage.h"
#include "crypt/sshsig.h"
#include "restore/bbolt_write.h"
#include "common/bytes.h"
#include "common/tar.h"
#include "restore/members.h"
#include "restore/snapfile.h"
#include "restore/wal.h"
#include "storage/segment.h"

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

/* collects a stream's output */
typedef struct {
	eb_stream base;
	eb_wbuf *out;
} collect;
static int col_write(eb_stream *s, const uint8_t *p, size_t n, eb_err *e)
{ (void)e; eb_wbuf_put(((collect *)s)->out, p, n); return 0; }
static int col_finish(eb_stream *s, eb_err *e) { (void)s; (void)e; return 0; }
static void col_free(eb_stream *s) { (void)s; }
static const eb_stream_ops col_ops = {"collect", col_write, col_finish, col_free};

/* age files to the fuzzers' fixed identity (0x42 x 32): empty, short,
 * exactly one chunk, two chunks; an SSHSIG and a private key of the fixed
 * signing key */
static int
seed_crypt(const char *dir)
{
	static const size_t sizes[] = {0, 100, 65536, 70000};
	uint8_t sk[32], pk[32];
	eb_age_recipients r = {0};
	eb_ssh_signer s = {{0}};
	char text[EB_AGE_RECIPIENT_MAX], name[32], *sig = NULL;
	eb_err err;
	eb_err_init(&err);
	memset(sk, 0x42, sizeof sk);
	if (eb_x25519(pk, sk, NULL, &err) < 0)
		return 1;
	eb_age_recipient_text(pk, text);
	if (eb_age_recipients_add(&r, text, &err) < 0)
		return 1;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		eb_wbuf out = {0};
		collect c = {{0}, &out};
		eb_stream *enc = NULL;
		uint8_t *plain = calloc(1, sizes[i] + 1);
		eb_stream_init(&c.base, &col_ops, NULL);
		if (!plain || eb_age_encrypt_new(&enc, &r, &c.base, &err) < 0 ||
		    eb_stream_write(enc, plain, sizes[i], &err) < 0 || eb_stream_finish(enc, &err) < 0)
			return 1;
		enc->ops->free(enc);
		snprintf(name, sizeof name, "seed-%zu", sizes[i]);
		put(dir, "fuzz_age", name, out.p, out.len);
		eb_wbuf_dispose(&out);
		free(plain);
	}
	eb_age_recipients_dispose(&r);
	memset(s.seed, 0x42, sizeof s.seed);
	if (eb_ed25519_public(s.seed, s.pub, &err) < 0 ||
	    eb_sshsig_sign(&s, EB_SSHSIG_NAMESPACE, "etcd-backup fuzz", 16, &sig, &err) < 0)
		return 1;
	put(dir, "fuzz_sshsig", "seed-sig", sig, strlen(sig));
	free(sig);
	{
		/* an openssh-key-v1 private key of the same key, armoured */
		eb_wbuf k = {0}, blob = {0}, priv = {0};
		uint8_t sp[64];
		char *b64;
		memcpy(sp, s.seed, 32);
		memcpy(sp + 32, s.pub, 32);
		eb_wbuf_sshstr(&blob, "ssh-ed25519", 11);
		eb_wbuf_sshstr(&blob, s.pub, 32);
		eb_wbuf_be32(&priv, 7);
		eb_wbuf_be32(&priv, 7);
		eb_wbuf_sshstr(&priv, "ssh-ed25519", 11);
		eb_wbuf_sshstr(&priv, s.pub, 32);
		eb_wbuf_sshstr(&priv, sp, 64);
		eb_wbuf_sshstr(&priv, "fuzz", 4);
		for (uint8_t pad = 1; priv.len % 8; pad++)
			eb_wbuf_u8(&priv, pad);
		eb_wbuf_put(&k, "openssh-key-v1", 15);
		eb_wbuf_sshstr(&k, "none", 4);
		eb_wbuf_sshstr(&k, "none", 4);
		eb_wbuf_sshstr(&k, "", 0);
		eb_wbuf_be32(&k, 1);
		eb_wbuf_sshstr(&k, blob.p, blob.len);
		eb_wbuf_sshstr(&k, priv.p, priv.len);
		b64 = malloc(4 * (k.len / 3 + 2) + 128);
		if (!b64)
			return 1;
		strcpy(b64, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
		eb_base64_enc(k.p, k.len, b64 + strlen(b64), 1);
		strcat(b64, "\n-----END OPENSSH PRIVATE KEY-----\n");
		put(dir, "fuzz_sshsig", "seed-key", b64, strlen(b64));
		free(b64);
		eb_wbuf_dispose(&k);
		eb_wbuf_dispose(&blob);
		eb_wbuf_dispose(&priv);
	}
	{
		static const char line[] = "etcd-backup ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHK+WQQtyAop"
		                           "228aSaol9G9gI1TtvBXdmPl/xX8CU1Ff backup@test";
		put(dir, "fuzz_sshsig", "seed-line", line, sizeof line - 1);
	}
	return 0;
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
	/* the same with a control-plane bundle (storage/cpman.h) before "tags" */
	const char *cp =
		"  \"control_plane\": {\n    \"object\": \"20261121T044315Z-r12.control-plane.tar.zst\",\n"
		"    \"root\": \"/etc/kubernetes\",\n    \"tar_size\": 10240,\n"
		"    \"tar_sha256\": \"b2ab69ccba4096d7c2a0fb9060d7803910d15d0b03ace653411e8c1664060e0c\",\n"
		"    \"stored_size\": 3000,\n"
		"    \"stored_sha256\": \"b2ab69ccba4096d7c2a0fb9060d7803910d15d0b03ace653411e8c1664060e0c\",\n"
		"    \"files\": [\n      {\"path\": \"/etc/kubernetes/pki/ca.crt\", \"mode\": \"0644\", \"uid\": 0, "
		"\"gid\": 0, \"size\": 1107, "
		"\"sha256\": \"b2ab69ccba4096d7c2a0fb9060d7803910d15d0b03ace653411e8c1664060e0c\"},\n"
		"      {\"path\": \"/srv/kubernetes/enc.yaml\", \"mode\": \"0600\", \"uid\": 0, \"gid\": 0, "
		"\"size\": 200, \"sha256\": \"b2ab69ccba4096d7c2a0fb9060d7803910d15d0b03ace653411e8c1664060e0c\"}\n"
		"    ],\n    \"certs\": [\n      {\"path\": \"/etc/kubernetes/pki/ca.crt\", \"subject\": "
		"\"CN = kubernetes\", \"issuer\": \"CN = kubernetes\", \"not_before\": 1, \"not_after\": 2}\n"
		"    ]\n  },\n";
	const char *tags = strstr(man, "  \"tags\"");
	char cpman[4096];
	int n = snprintf(cpman, sizeof cpman, "%.*s%s%s", (int)(tags - man), man, cp, tags);
	put(argv[1], "fuzz_manifest", "seed-control-plane", cpman, (size_t)n);
	const char *ms = "a=http://127.0.0.1:1,b=https://[::1]:2\ntok\nhttp://127.0.0.1:1";
	put(argv[1], "fuzz_members", "seed", ms, strlen(ms));
	{
		static const char conn[] = "DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=a2V5;"
		                           "BlobEndpoint=http://127.0.0.1:10000/dev;EndpointSuffix=core.windows.net;"
		                           "SharedAccessSignature=sv=2021-12-02&sig=abc%3D;";
		static const char xml[] = "<?xml version=\"1.0\"?><EnumerationResults><Blobs><Blob><Name>p/a.json</Name>"
		                          "<Properties><Last-Modified>Tue, 08 Dec 2026 01:09:30 GMT</Last-Modified>"
		                          "<Content-Length>952</Content-Length></Properties></Blob></Blobs>"
		                          "<NextMarker>m1</NextMarker></EnumerationResults>";
		put(argv[1], "fuzz_azconn", "seed", conn, sizeof conn - 1);
		put(argv[1], "fuzz_s3xml", "seed-azure-list", xml, sizeof xml - 1);
	}
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

	/* a segment: puts (one with a lease), a two-event txn, a delete, a lease */
	{
		eb_seg_writer sw;
		eb_seg_writer_init(&sw, 41);
		eb_seg_event(&sw, 0, 42, 1000, (const uint8_t *)"a", 1, (const uint8_t *)"1", 1, 42, 1, 0, &err);
		eb_seg_event(&sw, 0, 43, 1001, (const uint8_t *)"b", 1, (const uint8_t *)"2", 1, 43, 1, 7, &err);
		eb_seg_lease(&sw, 7, 60, &err);
		eb_seg_event(&sw, 0, 44, 1002, (const uint8_t *)"a", 1, (const uint8_t *)"3", 1, 42, 2, 0, &err);
		eb_seg_event(&sw, 0, 44, 1002, (const uint8_t *)"c", 1, (const uint8_t *)"", 0, 44, 1, 0, &err);
		eb_seg_event(&sw, 1, 45, 1003, (const uint8_t *)"b", 1, NULL, 0, 0, 0, 0, &err);
		eb_seg_finish(&sw, &err);
		put(argv[1], "fuzz_segment", "seed", sw.b.p, sw.b.len);
		eb_seg_writer_dispose(&sw);
	}

	/* fuzz_k8s: KeyValues of a ConfigMap (protobuf envelope), a custom
	 * resource (JSON), two Secrets encrypted at rest (cut short), and an
	 * encryption config */
	{
#define V(s) {s, sizeof s - 1}
		static const struct { const char *p; size_t n; } vals[] = {
		    V("k8s\0\x0a\x0c\x0a\x02v1\x12\x06Secret\x12\x03" "abc\x1a\x00\x22\x00"),
		    V("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Thing\"}"),
		    V("k8s:enc:aescbc:v1:key1:0123456789abcdef0123456789abcdef"),
		    V("k8s:enc:aesgcm:v1:key1:0123456789ab0123456789abcdef0123")};
#undef V
		static const char *keys[] = {"/registry/secrets/ns/a", "/registry/example.com/things/ns/t",
		                             "/registry/secrets/ns/b", "/registry/secrets/ns/c"};
		for (int i = 0; i < 4; i++) {
			eb_wbuf kv = {0};
			char name[16];
			eb_pb_bytes(&kv, 1, keys[i], strlen(keys[i]));
			eb_pb_uint(&kv, 2, 5);
			eb_pb_uint(&kv, 3, 9);
			eb_pb_uint(&kv, 4, 2);
			eb_pb_bytes(&kv, 5, vals[i].p, vals[i].n);
			snprintf(name, sizeof name, "kv%d", i);
			put(argv[1], "fuzz_k8s", name, kv.p, kv.len);
			eb_wbuf_dispose(&kv);
		}
		static const char cfg[] = "Cresources:\n  - resources: [secrets]\n    providers:\n"
		                          "      - aescbc:\n          keys:\n            - name: key1\n"
		                          "              secret: \"QkJCQkJCQkJCQkJCQkJCQg==\"\n      - identity: {}\n";
		put(argv[1], "fuzz_k8s", "config", cfg, sizeof cfg - 1);
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
	{ /* the same db streamed: an option byte first (values, whole pages) */
		uint8_t *sb = malloc(size + 1);
		sb[0] = 0x31;
		memcpy(sb + 1, db, size);
		put(argv[1], "fuzz_bstream", "seed", sb, size + 1);
		free(sb);
	}
	eb_sha256_buf(db, size, db + size);
	/* trailer rule is size % 512 == 32: true for 1024-byte pages too */
	put(argv[1], "fuzz_snapshot", "seed", db, size + 32);
	free(db);
	eb_wbuf_dispose(&b);
	{ /* a control-plane-like archive: a folder, a key, an empty file */
		eb_wbuf t = {0};
		collect co = {.out = &t};
		eb_err e;
		eb_tar_entry es[] = {{.name = "pki/", .type = '5', .mode = 0755},
		                     {.name = "pki/ca.key", .type = '0', .mode = 0600, .size = 9},
		                     {.name = "admin.conf", .type = '0', .mode = 0600}};
		eb_err_init(&e);
		eb_stream_init(&co.base, &col_ops, NULL);
		if (eb_tar_write(&co.base, &es[0], NULL, &e) || eb_tar_write(&co.base, &es[1], "-----KEY-", &e) ||
		    eb_tar_write(&co.base, &es[2], "", &e) || eb_tar_end(&co.base, &e))
			return 1;
		put(argv[1], "fuzz_tar", "seed", t.p, t.len);
		eb_wbuf_dispose(&t);
	}
	return seed_crypt(argv[1]);
}
