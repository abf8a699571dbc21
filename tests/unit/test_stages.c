/* tests/unit/test_stages.c - stages and the local store, without etcd:
 * random-split round trips, the trailer check, abort leaves nothing. */
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/crypto.h"
#include "common/buf.h"
#include "storage/async_stage.h"
#include "storage/catalog.h"
#include "storage/digest.h"
#include "storage/file_sink.h"
#include "storage/parts.h"
#include "storage/retention.h"
#include "storage/pipeline.h"
#include "storage/zstd_stage.h"
#include "common/cipher.h"
#include "crypt/age_stage.h"
#include "tests/unit/harness.h"

static char tmpdir[256];

/* A capture sink: keeps a sha256 and a byte count of what reaches it. */
typedef struct {
	eb_stream base;
	eb_sha256 *h;
	uint64_t n;
	int finished;
} cap_sink;

static int
cap_write(eb_stream *s, const uint8_t *b, size_t l, eb_err *e)
{
	(void)e;
	eb_sha256_update(((cap_sink *)s)->h, b, l);
	((cap_sink *)s)->n += l;
	return 0;
}
static int
cap_finish(eb_stream *s, eb_err *e)
{
	(void)e;
	((cap_sink *)s)->finished = 1;
	return 0;
}
static void
cap_free(eb_stream *s)
{
	(void)s;
}
static const eb_stream_ops cap_ops = {"capture", cap_write, cap_finish, cap_free};

static void
cap_init(cap_sink *c)
{
	memset(c, 0, sizeof *c);
	eb_stream_init(&c->base, &cap_ops, NULL);
	eb_sha256_new(&c->h, NULL);
}

/* Writes buf into s in random-sized pieces (1 byte .. 100 KiB). */
static int
write_split(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	while (len) {
		size_t n = 1 + t_rand() % (t_rand() % 4 == 0 ? 64 : 100000);
		int rc;
		if (n > len)
			n = len;
		if ((rc = eb_stream_write(s, buf, n, err)) < 0)
			return rc;
		buf += n;
		len -= n;
	}
	return 0;
}

/* db bytes followed by their sha256: what etcd streams */
static uint8_t *
fake_snapshot(size_t dblen, size_t *out_len)
{
	uint8_t *p = malloc(dblen + 32);
	for (size_t i = 0; i < dblen; i++)
		p[i] = (uint8_t)(i % 251 < 200 ? i / 4096 : t_rand());
	eb_sha256_buf(p, dblen, p + dblen);
	*out_len = dblen + 32;
	return p;
}

static int
dir_entries(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	int n = 0;
	if (!dd)
		return -1;
	while ((e = readdir(dd)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dd);
	return n;
}

static void
test_trailer__good_any_split(void)
{
	for (int round = 0; round < 20; round++) {
		size_t len, dblen = 1 + t_rand() % 300000;
		uint8_t *snap = fake_snapshot(dblen, &len), want[32], got[32];
		cap_sink c;
		eb_stream *t = NULL;
		eb_err err;
		eb_err_init(&err);
		cap_init(&c);
		ASSERT_OK(eb_trailer_stage_new(&t, &c.base, &err), &err);
		ASSERT_OK(write_split(t, snap, len, &err), &err);
		ASSERT_OK(eb_stream_finish(t, &err), &err);
		ASSERT(c.finished);
		ASSERT_EQ(c.n, len); /* trailer is forwarded too */
		ASSERT_EQ(eb_trailer_stage_db_size(t), dblen);
		eb_trailer_stage_db_digest(t, got);
		ASSERT(memcmp(got, snap + dblen, 32) == 0);
		eb_sha256_final(c.h, got);
		eb_sha256_buf(snap, len, want);
		ASSERT(memcmp(got, want, 32) == 0);
		eb_trailer_stage_file_digest(t, got); /* the etcdctl file's digest */
		ASSERT(memcmp(got, want, 32) == 0);
		t->ops->free(t);
		eb_sha256_free(c.h);
		free(snap);
	}
}

static void
test_trailer__bitflip_short_and_missing_fail(void)
{
	size_t len;
	uint8_t *snap = fake_snapshot(70000, &len);
	for (int kind = 0; kind < 4; kind++) {
		cap_sink c;
		eb_stream *t = NULL;
		eb_err err;
		size_t n = len;
		eb_err_init(&err);
		cap_init(&c);
		if (kind == 0)
			snap[t_rand() % (len - 32)] ^= 0x10; /* database bit flip */
		if (kind == 1)
			n = len - 32;                       /* trailer missing */
		if (kind == 2)
			n = 20;                             /* too short */
		if (kind == 3)
			n = len - 1 - t_rand() % 1000;      /* truncated */
		ASSERT_OK(eb_trailer_stage_new(&t, &c.base, &err), &err);
		ASSERT_OK(write_split(t, snap, n, &err), &err);
		ASSERT_EQ(eb_stream_finish(t, &err), EB_ECORRUPT);
		ASSERT(!c.finished); /* the sink never commits */
		ASSERT(err.msg[0]);
		t->ops->free(t);
		eb_sha256_free(c.h);
		if (kind == 0) {
			free(snap);
			snap = fake_snapshot(70000, &len);
		}
	}
	free(snap);
}

static void
test_zstd__roundtrip_random_splits(void)
{
	for (int round = 0; round < 8; round++) {
		size_t len = t_rand() % 3000000;
		uint8_t *data = malloc(len + 1), want[32], got[32];
		cap_sink c;
		eb_stream *d = NULL, *z = NULL;
		eb_err err;
		eb_err_init(&err);
		for (size_t i = 0; i < len; i++)
			data[i] = (uint8_t)(i % 7 == 0 ? t_rand() : i / 100);
		cap_init(&c);
		ASSERT_OK(eb_zstd_decompress_new(&d, &c.base, &err), &err);
		ASSERT_OK(eb_zstd_compress_new(&z, 1 + (int)(t_rand() % 5), d, &err), &err);
		ASSERT_OK(write_split(z, data, len, &err), &err);
		ASSERT_OK(eb_stream_finish(z, &err), &err);
		ASSERT(c.finished);
		ASSERT_EQ(c.n, len);
		eb_sha256_final(c.h, got);
		eb_sha256_buf(data, len, want);
		ASSERT(memcmp(got, want, 32) == 0);
		z->ops->free(z);
		d->ops->free(d);
		eb_sha256_free(c.h);
		free(data);
	}
}

/* compress into memory (eb_mem_sink_new), then feed a truncated or damaged copy */

/* A fresh X25519 key: its recipient into r (may be NULL), its identity
 * into ids.  0 or a negative code. */
static int
age_key(eb_age_recipients *r, eb_age_identities *ids, eb_err *err)
{
	uint8_t sk[32], pk[32];
	char text[EB_AGE_RECIPIENT_MAX];
	int rc = eb_random(sk, 32, err);
	if (rc == 0)
		rc = eb_x25519(pk, sk, NULL, err);
	eb_age_recipient_text(pk, text);
	if (rc == 0 && r)
		rc = eb_age_recipients_add(r, text, err);
	eb_age_identity_text(sk, text);
	if (rc == 0)
		rc = eb_age_identities_add(ids, text, err);
	return rc;
}

/* age: encrypt and decrypt back to back, any split, sizes around the
 * 64 KiB chunk boundaries; an identity that does not match fails. */
static void
test_age__roundtrip_random_splits(void)
{
	static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 131072, 300001};
	eb_age_recipients r = {0};
	eb_age_identities ids = {0}, wrong = {0};
	eb_err err;
	eb_err_init(&err);
	ASSERT_OK(age_key(&r, &ids, &err), &err);
	ASSERT_OK(age_key(NULL, &wrong, &err), &err);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t len = sizes[i];
		uint8_t *data = malloc(len + 1), want[32], got[32];
		cap_sink c;
		eb_stream *d = NULL, *e = NULL;
		for (size_t j = 0; j < len; j++)
			data[j] = (uint8_t)t_rand();
		cap_init(&c);
		ASSERT_OK(eb_age_decrypt_new(&d, &ids, &c.base, &err), &err);
		ASSERT_OK(eb_age_encrypt_new(&e, &r, d, &err), &err);
		ASSERT_OK(write_split(e, data, len, &err), &err);
		ASSERT_OK(eb_stream_finish(e, &err), &err);
		ASSERT(c.finished);
		ASSERT_EQ(c.n, len);
		eb_sha256_final(c.h, got);
		eb_sha256_buf(data, len, want);
		ASSERT(memcmp(got, want, 32) == 0);
		e->ops->free(e);
		d->ops->free(d);
		eb_sha256_free(c.h);
		/* the wrong identity: the header is refused, nothing reaches the sink */
		cap_init(&c);
		ASSERT_OK(eb_age_decrypt_new(&d, &wrong, &c.base, &err), &err);
		ASSERT_OK(eb_age_encrypt_new(&e, &r, d, &err), &err);
		eb_err_init(&err);
		int rc = write_split(e, data, len, &err);
		if (rc == 0)
			rc = eb_stream_finish(e, &err);
		ASSERT_EQ(rc, EB_ECORRUPT);
		ASSERT_EQ(c.n, 0);
		ASSERT(!c.finished);
		eb_err_init(&err);
		e->ops->free(e);
		d->ops->free(d);
		eb_sha256_free(c.h);
		free(data);
	}
	eb_age_recipients_dispose(&r);
	eb_age_identities_dispose(&ids);
	eb_age_identities_dispose(&wrong);
}

/* The pipeline builder: every combination encodes into memory and decodes
 * back to the same bytes; the stored digest is the same on both sides; a
 * decode with a wrong stored digest fails; an unfinished pipe frees clean
 * (ASan: no leak) and the decode of a plain object through ZSTD_AUTO works. */
static void
test_pipe__encode_decode_every_combination(void)
{
	eb_age_recipients r = {0};
	eb_age_identities ids = {0};
	eb_err err;
	size_t len = 200001;
	uint8_t *data = malloc(len), d1[32], d2[32];
	eb_err_init(&err);
	ASSERT_OK(age_key(&r, &ids, &err), &err);
	for (size_t j = 0; j < len; j++)
		data[j] = (uint8_t)(t_rand() % 7); /* compressible */
	for (int mode = 0; mode < 8; mode++) {
		int zstd = mode & 1, age = (mode >> 1) & 1, async = (mode >> 2) & 1;
		eb_pipe_opts eo = {.zstd = zstd, .level = 3, .rcpt = age ? &r : NULL, .async = async, .own_tail = 1};
		eb_pipe_opts dopt = {.zstd = zstd ? EB_PIPE_ZSTD : EB_PIPE_PLAIN, .ids = age ? &ids : NULL, .own_tail = 1};
		eb_wbuf stored = {0}, plain = {0};
		eb_stream *ms = NULL;
		eb_pipe p;
		ASSERT_OK(eb_mem_sink_new(&ms, &stored, SIZE_MAX, &err), &err);
		ASSERT_OK(eb_pipe_encode(&p, &eo, ms, &err), &err);
		ASSERT_OK(write_split(p.head, data, len, &err), &err);
		ASSERT_OK(eb_stream_finish(p.head, &err), &err);
		ASSERT_EQ(p.stored->nbytes_in, stored.len);
		eb_sha256_stage_digest(p.stored, d1);
		eb_pipe_dispose(&p);
		ASSERT(zstd ? stored.len < len / 2 : stored.len >= len);
		ASSERT_OK(eb_mem_sink_new(&ms, &plain, SIZE_MAX, &err), &err);
		ASSERT_OK(eb_pipe_decode(&p, &dopt, ms, &err), &err);
		eb_sha256_stage_expect(p.stored, d1, stored.len, "the stored object");
		ASSERT_OK(eb_stream_write(p.head, stored.p, stored.len, &err), &err);
		ASSERT_OK(eb_stream_finish(p.head, &err), &err);
		eb_sha256_stage_digest(p.stored, d2);
		eb_pipe_dispose(&p);
		ASSERT(memcmp(d1, d2, 32) == 0);
		ASSERT_EQ(plain.len, len);
		ASSERT(memcmp(plain.p, data, len) == 0);
		/* a digest the bytes do not have: the decode fails at finish */
		plain.len = 0;
		d1[0] ^= 1;
		ASSERT_OK(eb_mem_sink_new(&ms, &plain, SIZE_MAX, &err), &err);
		ASSERT_OK(eb_pipe_decode(&p, &dopt, ms, &err), &err);
		eb_sha256_stage_expect(p.stored, d1, stored.len, "the stored object");
		int rc = eb_stream_write(p.head, stored.p, stored.len, &err);
		if (rc == 0)
			rc = eb_stream_finish(p.head, &err);
		ASSERT_EQ(rc, EB_ECORRUPT);
		eb_err_init(&err);
		eb_pipe_dispose(&p);
		/* an encode abandoned half way frees clean */
		ASSERT_OK(eb_mem_sink_new(&ms, &plain, SIZE_MAX, &err), &err);
		ASSERT_OK(eb_pipe_encode(&p, &eo, ms, &err), &err);
		ASSERT_OK(eb_stream_write(p.head, data, len / 2, &err), &err);
		eb_pipe_dispose(&p);
		if (!zstd && !age) { /* ZSTD_AUTO passes plain bytes through */
			eb_pipe_opts ao = {.zstd = EB_PIPE_ZSTD_AUTO, .no_digest = 1, .own_tail = 1};
			plain.len = 0;
			ASSERT_OK(eb_mem_sink_new(&ms, &plain, SIZE_MAX, &err), &err);
			ASSERT_OK(eb_pipe_decode(&p, &ao, ms, &err), &err);
			ASSERT(p.stored == NULL);
			ASSERT_OK(eb_stream_write(p.head, stored.p, stored.len, &err), &err);
			ASSERT_OK(eb_stream_finish(p.head, &err), &err);
			eb_pipe_dispose(&p);
			ASSERT_EQ(plain.len, len);
		}
		eb_wbuf_dispose(&stored);
		eb_wbuf_dispose(&plain);
	}
	free(data);
	eb_age_recipients_dispose(&r);
	eb_age_identities_dispose(&ids);
}

/* One escaper, three forms: manifests keep bytes as read (a manifest with
 * invalid UTF-8 in a field written back byte for byte: fuzz_manifest found
 * a field that grew past its cap when written as U+FFFD), logs write valid
 * UTF-8, the v2 store JSON escapes as Go does. */
static void
test_json__escaper_forms(void)
{
	const char in[] = "a\xc4\xd2" "\x7f<&\xe2\x80\xa8\"\n";
	eb_buf b;
	eb_buf_init(&b);
	eb_buf_json_str(&b, in);
	ASSERT_STR(b.p, "\"a\xc4\xd2\x7f<&\xe2\x80\xa8\\\"\\n\"");
	eb_buf_dispose(&b);
	eb_buf_json(&b, in, EB_JSON_UTF8);
	ASSERT_STR(b.p, "\"a\\ufffd\\ufffd\\u007f<&\xe2\x80\xa8\\\"\\n\"");
	eb_buf_dispose(&b);
	eb_buf_json(&b, in, EB_JSON_GO);
	ASSERT_STR(b.p, "\"a\\ufffd\\ufffd\x7f\\u003c\\u0026\\u2028\\\"\\n\"");
	eb_buf_dispose(&b);
}

/* The first message wins; eb_err_context puts context before it. */
static void
test_err__context_reaches_the_message(void)
{
	eb_err err;
	eb_err_init(&err);
	eb_err_set(&err, EB_ECORRUPT, "sha256 mismatch");
	eb_err_set(&err, EB_EIO, "ignored");
	ASSERT_EQ(eb_err_context(&err, "segment %d-%d not stored", 5, 9), EB_ECORRUPT);
	ASSERT_STR(err.msg, "segment 5-9 not stored: sha256 mismatch");
	eb_err_init(&err);
	ASSERT_EQ(eb_err_context(&err, "nothing below"), EB_EIO);
	ASSERT_STR(err.msg, "nothing below");
}

/* A damaged chunk: only the chunks before it reach the next stage, and
 * finish is never reached (a sink after it would abort). */
static void
test_age__damaged_chunk_never_released(void)
{
	eb_age_recipients r = {0};
	eb_age_identities ids = {0};
	eb_wbuf m = {0};
	eb_stream *ms = NULL;
	cap_sink c;
	eb_stream *e = NULL, *d = NULL;
	size_t len = 3 * 65536 + 100, hdr;
	uint8_t *data = calloc(1, len);
	eb_err err;
	eb_err_init(&err);
	ASSERT_OK(age_key(&r, &ids, &err), &err);
	ASSERT_OK(eb_mem_sink_new(&ms, &m, SIZE_MAX, &err), &err);
	ASSERT_OK(eb_age_encrypt_new(&e, &r, ms, &err), &err);
	ASSERT_OK(eb_stream_write(e, data, len, &err), &err);
	ASSERT_OK(eb_stream_finish(e, &err), &err);
	e->ops->free(e);
	ms->ops->free(ms);
	hdr = (size_t)((uint8_t *)memmem(m.p, m.len, "\n--- ", 5) - m.p) + 5 + 43 + 1 + 16;
	m.p[hdr + EB_AGE_CHUNK_CT + 10] ^= 1; /* inside the second chunk */
	cap_init(&c);
	ASSERT_OK(eb_age_decrypt_new(&d, &ids, &c.base, &err), &err);
	int rc = eb_stream_write(d, m.p, m.len, &err);
	if (rc == 0)
		rc = eb_stream_finish(d, &err);
	ASSERT_EQ(rc, EB_ECORRUPT);
	ASSERT_EQ(c.n, 65536); /* the first chunk only */
	ASSERT(!c.finished);
	ASSERT(strstr(err.msg, "chunk 1 does not authenticate"));
	d->ops->free(d);
	eb_sha256_free(c.h);
	eb_wbuf_dispose(&m);
	free(data);
	eb_age_recipients_dispose(&r);
	eb_age_identities_dispose(&ids);
}

static void
test_zstd__truncated_or_damaged_fails(void)
{
	size_t len = 500000;
	uint8_t *data = malloc(len);
	eb_wbuf m = {0};
	eb_stream *z = NULL, *ms = NULL;
	eb_err err;
	eb_err_init(&err);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i / 3);
	ASSERT_OK(eb_mem_sink_new(&ms, &m, SIZE_MAX, &err), &err);
	ASSERT_OK(eb_zstd_compress_new(&z, 3, ms, &err), &err);
	ASSERT_OK(eb_stream_write(z, data, len, &err), &err);
	ASSERT_OK(eb_stream_finish(z, &err), &err);
	z->ops->free(z);
	ms->ops->free(ms);
	for (int kind = 0; kind < 2; kind++) {
		cap_sink c;
		eb_stream *d = NULL;
		int rc;
		eb_err_init(&err);
		cap_init(&c);
		ASSERT_OK(eb_zstd_decompress_new(&d, &c.base, &err), &err);
		if (kind == 0) {
			rc = eb_stream_write(d, m.p, m.len - 1 - t_rand() % (m.len - 1), &err);
		} else {
			m.p[m.len / 2] ^= 0xff;
			rc = eb_stream_write(d, m.p, m.len, &err);
		}
		if (rc == 0)
			rc = eb_stream_finish(d, &err);
		ASSERT_EQ(rc, EB_ECORRUPT);
		ASSERT(!c.finished);
		d->ops->free(d);
		eb_sha256_free(c.h);
	}
	eb_wbuf_dispose(&m);
	free(data);
}

static void
test_async__roundtrip_and_order(void)
{
	for (int round = 0; round < 5; round++) {
		size_t len = t_rand() % 9000000;
		uint8_t *data = malloc(len + 1), want[32], got[32];
		cap_sink c;
		eb_stream *a = NULL, *z = NULL, *d = NULL;
		eb_err err;
		eb_err_init(&err);
		for (size_t i = 0; i < len; i++)
			data[i] = (uint8_t)t_rand();
		cap_init(&c);
		/* async in front of a compress/decompress pair: data crosses threads */
		ASSERT_OK(eb_zstd_decompress_new(&d, &c.base, &err), &err);
		ASSERT_OK(eb_zstd_compress_new(&z, 1, d, &err), &err);
		ASSERT_OK(eb_async_stage_new(&a, z, &err), &err);
		ASSERT_OK(write_split(a, data, len, &err), &err);
		ASSERT_OK(eb_stream_finish(a, &err), &err);
		ASSERT(c.finished);
		ASSERT_EQ(c.n, len);
		eb_sha256_final(c.h, got);
		eb_sha256_buf(data, len, want);
		ASSERT(memcmp(got, want, 32) == 0);
		eb_stream_free_chain(a);
		eb_sha256_free(c.h);
		free(data);
	}
}

static void
test_async__worker_error_surfaces_and_abort_is_clean(void)
{
	uint8_t *data = calloc(1, 8u << 20);
	cap_sink c;
	eb_stream *a = NULL, *f = NULL;
	eb_err err;
	int rc = 0;
	eb_err_init(&err);
	cap_init(&c);
	/* the sink side fails after 3 MiB: the producer must see that error */
	ASSERT_OK(eb_fault_stage_new(&f, 3u << 20, &c.base, &err), &err);
	ASSERT_OK(eb_async_stage_new(&a, f, &err), &err);
	for (int i = 0; i < 64 && rc == 0; i++)
		rc = eb_stream_write(a, data, 128u << 10, &err);
	if (rc == 0)
		rc = eb_stream_finish(a, &err);
	ASSERT_EQ(rc, EB_EIO);
	ASSERT(strstr(err.msg, "injected fault") != NULL);
	ASSERT(!c.finished);
	a->ops->free(a);
	f->ops->free(f);
	eb_sha256_free(c.h);
	/* abort with data queued and no finish: joins and frees (ASan/LSan) */
	cap_init(&c);
	ASSERT_OK(eb_async_stage_new(&a, &c.base, &err), &err);
	ASSERT_OK(eb_stream_write(a, data, 5u << 20, &err), &err);
	a->ops->free(a);
	ASSERT(!c.finished);
	eb_sha256_free(c.h);
	free(data);
}

static void
test_file_sink__abort_leaves_nothing_commit_is_atomic(void)
{
	char dir[300], path[400];
	eb_stream *s = NULL;
	eb_err err;
	eb_err_init(&err);
	snprintf(dir, sizeof dir, "%s/fs", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/out.db", dir);
	ASSERT_OK(eb_file_sink_new(&s, path, EB_FILE_NO_REPLACE, &err), &err);
	ASSERT_OK(eb_stream_write(s, "hello", 5, &err), &err);
	ASSERT_EQ(access(path, F_OK), -1); /* not visible before finish */
	eb_stream_free_chain(s);           /* abort */
	ASSERT_EQ(dir_entries(dir), 0);
	ASSERT_OK(eb_file_sink_new(&s, path, EB_FILE_NO_REPLACE, &err), &err);
	ASSERT_OK(eb_stream_write(s, "hello", 5, &err), &err);
	ASSERT_OK(eb_stream_finish(s, &err), &err);
	eb_stream_free_chain(s);
	ASSERT_EQ(dir_entries(dir), 1);
	ASSERT_EQ(access(path, F_OK), 0);
	/* no overwrite of an existing file */
	ASSERT_EQ(eb_file_sink_new(&s, path, EB_FILE_NO_REPLACE, &err), EB_EEXIST);
}

/* Stores a fake backup as the agent does (object, then manifest). */
static int
put_backup(eb_store *st, const char *id, int64_t created, uint64_t cid, int64_t rev,
           eb_manifest *m, eb_err *err)
{
	size_t len;
	uint8_t *snap = fake_snapshot(5000 + t_rand() % 50000, &len), d[32];
	eb_stream *sink = NULL, *stored = NULL, *z = NULL;
	char name[128], *json = NULL;
	int rc;
	eb_manifest_init(m);
	snprintf(m->id, sizeof m->id, "%s", id);
	snprintf(m->created, sizeof m->created, "2026-01-01T00:00:00Z");
	m->created_unix = created;
	m->cluster_id = cid;
	m->member_id = 7;
	m->revision = rev;
	m->db_size = len - 32;
	m->snapshot_size = len;
	snprintf(m->object, sizeof m->object, "%s.snapshot.db.zst", id);
	snprintf(m->compression, sizeof m->compression, "zstd");
	snprintf(m->etcd_version, sizeof m->etcd_version, "3.4.23");
	eb_sha256_buf(snap, len, d);
	eb_hex(d, 32, m->snapshot_sha256);
	eb_hex(snap + len - 32, 32, m->db_sha256);
	rc = eb_store_put_stream(st, m->object, &sink, err);
	if (rc == 0) rc = eb_sha256_stage_new(&stored, sink, err);
	if (rc == 0) rc = eb_zstd_compress_new(&z, 1, stored, err);
	if (rc == 0) rc = eb_stream_write(z, snap, len, err);
	if (rc == 0) rc = eb_stream_finish(z, err);
	if (rc == 0) {
		eb_sha256_stage_digest(stored, d);
		eb_hex(d, 32, m->stored_sha256);
		m->stored_size = stored->nbytes_in;
		rc = eb_manifest_to_json(m, &json, err);
	}
	eb_manifest_name(id, name, sizeof name);
	if (rc == 0) rc = eb_store_put_bytes(st, name, json, strlen(json), err);
	eb_stream_free_chain(z ? z : stored ? stored : sink);
	free(json);
	free(snap);
	return rc;
}

static void
test_catalog__list_find_fetch_delete(void)
{
	char dir[300], obj[700];
	eb_store *st = NULL;
	eb_catalog cat;
	eb_manifest m, f;
	cap_sink c;
	eb_err err;
	FILE *fp;
	eb_err_init(&err);
	snprintf(dir, sizeof dir, "%s/store", tmpdir);
	ASSERT_OK(eb_store_open(&st, dir, NULL, &err), &err);
	ASSERT_OK(put_backup(st, "20260101T000000Z-r10", 1767225600, 0xabc, 10, &m, &err), &err);
	eb_manifest_dispose(&m);
	ASSERT_OK(put_backup(st, "20260101T010000Z-r20", 1767229200, 0xabc, 20, &m, &err), &err);
	eb_manifest_dispose(&m);
	/* debris: an object without a manifest is not a backup */
	fp = fopen(strcat(strcpy(obj, dir), "/20260102T000000Z-r30.snapshot.db.zst"), "w");
	fputs("partial", fp);
	fclose(fp);
	ASSERT_OK(eb_catalog_load(&cat, st, &err), &err);
	ASSERT_EQ(cat.n, 2);
	ASSERT_STR(cat.v[0].id, "20260101T010000Z-r20"); /* newest first */
	eb_catalog_dispose(&cat);
	ASSERT_OK(eb_catalog_find(st, "latest", NULL, &f, &err), &err);
	ASSERT_STR(f.id, "20260101T010000Z-r20");
	cap_init(&c);
	ASSERT_OK(eb_catalog_fetch(st, &f, NULL, &c.base, &err), &err);
	ASSERT(c.finished);
	ASSERT_EQ(c.n, f.snapshot_size);
	eb_sha256_free(c.h);
	/* an intact object whose snapshot digest or size disagrees with the
	 * manifest is refused too (checked in the trailer stage's pass) */
	for (int kind = 0; kind < 2; kind++) {
		eb_manifest bad = f;
		if (kind == 0)
			bad.snapshot_sha256[0] = bad.snapshot_sha256[0] == '0' ? '1' : '0';
		else
			bad.snapshot_size++;
		cap_init(&c);
		eb_err_init(&err);
		ASSERT_EQ(eb_catalog_fetch(st, &bad, NULL, &c.base, &err), EB_ECORRUPT);
		ASSERT(strstr(err.msg, "snapshot of backup") != NULL);
		ASSERT(!c.finished);
		eb_sha256_free(c.h);
	}
	eb_err_init(&err);
	/* a damaged object is refused and the sink is not committed */
	snprintf(obj, sizeof obj, "%s/%s", dir, f.object);
	fp = fopen(obj, "r+b");
	fseek(fp, 20, SEEK_SET);
	fputc('X', fp);
	fclose(fp);
	cap_init(&c);
	eb_err_init(&err);
	ASSERT_EQ(eb_catalog_fetch(st, &f, NULL, &c.base, &err), EB_ECORRUPT);
	ASSERT(!c.finished);
	eb_sha256_free(c.h);
	eb_err_init(&err);
	ASSERT_EQ(eb_catalog_find(st, "20990101T000000Z-r1", NULL, &m, &err), EB_ENOTFOUND);
	eb_err_init(&err);
	ASSERT_OK(eb_catalog_delete(st, &f, &err), &err);
	ASSERT_OK(eb_catalog_load(&cat, st, &err), &err);
	ASSERT_EQ(cat.n, 1);
	eb_catalog_dispose(&cat);
	eb_manifest_dispose(&f);
	eb_store_free(st);
}

/* A manifest of backup 20260101T000000Z-r5 naming `object`, made-up digests. */
static void
small_manifest(eb_manifest *m, const char *object)
{
	eb_manifest_init(m);
	snprintf(m->id, sizeof m->id, "20260101T000000Z-r5");
	snprintf(m->object, sizeof m->object, "%s", object);
	snprintf(m->compression, sizeof m->compression, "zstd");
	memset(m->snapshot_sha256, 'a', 64);
	memset(m->db_sha256, 'b', 64);
	memset(m->stored_sha256, 'c', 64);
	m->db_size = 100;
	m->snapshot_size = 132;
}

static void
test_manifest__rejects_damage_without_crash(void)
{
	eb_manifest m, back;
	char *json = NULL;
	eb_err err;
	eb_err_init(&err);
	small_manifest(&m, "20260101T000000Z-r5.snapshot.db.zst");
	m.cluster_id = 0xfedcba9876543210ULL;
	eb_manifest_add_tag(&m, "pre-upgrade \"1.29\"", &err);
	ASSERT_OK(eb_manifest_to_json(&m, &json, &err), &err);
	ASSERT_OK(eb_manifest_from_json(&back, json, strlen(json), &err), &err);
	ASSERT_EQ(back.cluster_id == 0xfedcba9876543210ULL, 1);
	ASSERT_EQ(back.ntags, 1);
	ASSERT_STR(back.tags[0], "pre-upgrade \"1.29\"");
	eb_manifest_dispose(&back);
	/* every truncation and many single-byte changes are rejected or parse
	 * to a consistent manifest; none crashes (ASan run) */
	for (size_t n = 0; n + 1 < strlen(json); n++) { /* all but the final newline */
		eb_err_init(&err);
		if (eb_manifest_from_json(&back, json, n, &err) == 0) {
			eb_manifest_dispose(&back);
			T_FAIL("truncated manifest of %zu bytes accepted", n);
		}
	}
	for (int i = 0; i < 2000; i++) {
		char *c = strdup(json);
		c[t_rand() % strlen(c)] = (char)(t_rand() % 256);
		eb_err_init(&err);
		if (eb_manifest_from_json(&back, c, strlen(c), &err) == 0)
			eb_manifest_dispose(&back);
		free(c);
	}
	free(json);
	eb_manifest_dispose(&m);
}

static void
test_retention__keep_rules(void)
{
	/* 48 hourly backups over two days, newest first, plus one of another
	 * cluster in the middle */
	eb_manifest v[49];
	int del[49];
	eb_keep k = {0};
	int64_t t0 = 1767225600 + 2 * 86400; /* 2026-01-03T00:00Z */
	size_t n = 0, kept;
	memset(v, 0, sizeof v);
	for (int i = 0; i < 48; i++) {
		if (i == 10) {
			v[n].cluster_id = 2;
			v[n++].created_unix = t0 - 3600 * i - 1;
		}
		v[n].cluster_id = 1;
		v[n++].created_unix = t0 - 3600 * i - 60;
	}
	k.last = 3;
	ASSERT_EQ(eb_retention_plan(v, n, 1, &k, del), 45);
	ASSERT(!del[0] && !del[1] && !del[2] && del[3]);
	ASSERT(!del[10]); /* other cluster untouched */
	memset(&k, 0, sizeof k);
	k.daily = 2;      /* newest of 2026-01-02 and of 2026-01-01 */
	kept = n - eb_retention_plan(v, n, 1, &k, del) - 1;
	ASSERT_EQ(kept, 2);
	ASSERT(!del[0]);  /* 2026-01-02T23:59 */
	ASSERT(!del[25]); /* 2026-01-01T23:59 (index shifted by the other cluster) */
	memset(&k, 0, sizeof k);
	k.hourly = 5;
	ASSERT_EQ(n - eb_retention_plan(v, n, 1, &k, del) - 1, 5);
	memset(&k, 0, sizeof k); /* no rule: only the newest stays */
	ASSERT_EQ(eb_retention_plan(v, n, 1, &k, del), 47);
	ASSERT(!del[0]);
}

/* Revision, not the wall clock, orders a cluster's backups: a backup taken
 * while the clock was 30 days ahead is neither "latest" nor what
 * --keep-last 1 keeps, and it is flagged. */
static void
test_catalog__revision_order_beats_clock(void)
{
	eb_store *st = NULL;
	eb_catalog cat;
	eb_manifest m;
	eb_keep k = {0};
	int del[4];
	char dir[300];
	int64_t t0 = 1767225600;
	eb_err err;
	eb_err_init(&err);
	snprintf(dir, sizeof dir, "%s/clock", tmpdir);
	ASSERT_OK(eb_store_open(&st, dir, NULL, &err), &err);
	ASSERT_OK(put_backup(st, "a-r10", t0, 0xabc, 10, &m, &err), &err);
	eb_manifest_dispose(&m);
	ASSERT_OK(put_backup(st, "b-r20", t0 + 30 * 86400, 0xabc, 20, &m, &err), &err);
	eb_manifest_dispose(&m);
	ASSERT_OK(put_backup(st, "c-r30", t0 + 3600, 0xabc, 30, &m, &err), &err);
	eb_manifest_dispose(&m);
	ASSERT_OK(put_backup(st, "d-other", t0 + 99 * 86400, 0xdef, 5, &m, &err), &err);
	eb_manifest_dispose(&m);
	ASSERT_OK(eb_catalog_load(&cat, st, &err), &err);
	ASSERT_EQ(cat.n, 4);
	/* the other cluster's newest backup is the most recent: it comes first */
	ASSERT_STR(cat.v[0].id, "d-other");
	ASSERT_STR(cat.v[1].id, "c-r30");
	ASSERT_STR(cat.v[2].id, "b-r20");
	ASSERT_STR(cat.v[3].id, "a-r10");
	CHECK("catalog__clock_jump_flagged", cat.clock_odd[2], "b-r20 not flagged");
	CHECK("catalog__consistent_not_flagged", !cat.clock_odd[3] && !cat.clock_odd[0],
	      "a-r10 or d-other flagged");
	k.last = 1;
	ASSERT_EQ(eb_retention_plan(cat.v, cat.n, 0xabc, &k, del), 2);
	CHECK("retention__keeps_highest_revision", !del[1] && del[2] && del[3] && !del[0],
	      "plan %d %d %d %d", del[0], del[1], del[2], del[3]);
	eb_catalog_dispose(&cat);
	eb_store_free(st);
}

/* An unreadable manifest is reported, and "latest" refuses to guess. */
static void
test_catalog__unreadable_manifest_is_not_skipped(void)
{
	eb_store *st = NULL;
	eb_catalog cat;
	eb_manifest m;
	char dir[300];
	eb_err err;
	eb_err_init(&err);
	snprintf(dir, sizeof dir, "%s/badman", tmpdir);
	ASSERT_OK(eb_store_open(&st, dir, NULL, &err), &err);
	ASSERT_OK(put_backup(st, "a-r10", 1767225600, 0xabc, 10, &m, &err), &err);
	eb_manifest_dispose(&m);
	ASSERT_OK(eb_store_put_bytes(st, "z-r99.manifest.json", "{\"format\":1,", 12, &err), &err);
	ASSERT_OK(eb_catalog_load(&cat, st, &err), &err);
	ASSERT_EQ(cat.n, 1);
	ASSERT_EQ(cat.nbad, 1);
	ASSERT_STR(cat.bad[0].name, "z-r99.manifest.json");
	eb_catalog_dispose(&cat);
	eb_err_init(&err);
	ASSERT_EQ(eb_catalog_find(st, "latest", NULL, &m, &err), EB_ECORRUPT);
	CHECK("catalog__latest_names_unreadable", strstr(err.msg, "z-r99.manifest.json") != NULL,
	      "message: %s", err.msg);
	/* an explicit id still works */
	eb_err_init(&err);
	ASSERT_OK(eb_catalog_find(st, "a-r10", NULL, &m, &err), &err);
	eb_manifest_dispose(&m);
	eb_store_free(st);
}

/* A manifest's db_sha256 is checked, and output stops at snapshot_size
 * even when the object inflates further (a decompression bomb). */
static void
test_catalog__db_digest_checked_and_output_capped(void)
{
	eb_store *st = NULL;
	eb_manifest f, bad;
	cap_sink c;
	char dir[300];
	eb_err err;
	eb_err_init(&err);
	snprintf(dir, sizeof dir, "%s/digests", tmpdir);
	ASSERT_OK(eb_store_open(&st, dir, NULL, &err), &err);
	ASSERT_OK(put_backup(st, "a-r10", 1767225600, 0xabc, 10, &f, &err), &err);
	bad = f;
	bad.db_sha256[5] = bad.db_sha256[5] == 'a' ? 'b' : 'a';
	cap_init(&c);
	ASSERT_EQ(eb_catalog_fetch(st, &bad, NULL, &c.base, &err), EB_ECORRUPT);
	CHECK("catalog__db_sha256_checked", strstr(err.msg, "db_sha256") != NULL && !c.finished,
	      "message: %s", err.msg);
	eb_sha256_free(c.h);
	bad = f;
	bad.snapshot_size = 1000; /* the real one inflates to more */
	bad.db_size = 968;
	cap_init(&c);
	eb_err_init(&err);
	ASSERT_EQ(eb_catalog_fetch(st, &bad, NULL, &c.base, &err), EB_ECORRUPT);
	CHECK("catalog__output_capped_at_snapshot_size", c.n <= 1000 && !c.finished,
	      "%llu bytes reached the sink: %s", (unsigned long long)c.n, err.msg);
	eb_sha256_free(c.h);
	eb_manifest_dispose(&f);
	eb_store_free(st);
}

/* A manifest that names another object than its id's is refused. */
static void
test_manifest__object_must_match_id(void)
{
	eb_manifest m, back;
	char *json = NULL;
	eb_err err;
	eb_err_init(&err);
	small_manifest(&m, "20260101T000000Z-r4.snapshot.db.zst");
	ASSERT_OK(eb_manifest_to_json(&m, &json, &err), &err);
	CHECK("manifest__foreign_object_refused",
	      eb_manifest_from_json(&back, json, strlen(json), &err) == EB_ECORRUPT &&
	          strstr(err.msg, "can only be 20260101T000000Z-r5.snapshot.db.zst"),
	      "message: %s", err.msg);
	free(json);
	eb_manifest_dispose(&m);
}

/* Two writers of one name: the loser fails with EB_EEXIST, the winner's
 * bytes stay, and the loser leaves no temp file.  Old temp files of a
 * killed run are removed by clean_incomplete, fresh ones are not. */
static void
test_local_store__no_overwrite_no_debris(void)
{
	eb_store *st = NULL;
	eb_stream *a = NULL, *b = NULL;
	char dir[300], path[400], *got = NULL;
	size_t len = 0;
	int n = -1;
	eb_err err;
	eb_err_init(&err);
	snprintf(dir, sizeof dir, "%s/race", tmpdir);
	ASSERT_OK(eb_store_open(&st, dir, NULL, &err), &err);
	ASSERT_OK(eb_store_put_stream(st, "x.snapshot.db", &a, &err), &err);
	ASSERT_OK(eb_store_put_stream(st, "x.snapshot.db", &b, &err), &err);
	ASSERT_OK(eb_stream_write(a, "first", 5, &err), &err);
	ASSERT_OK(eb_stream_write(b, "second", 6, &err), &err);
	ASSERT_OK(eb_stream_finish(a, &err), &err);
	CHECK("local_store__loser_fails_exists", eb_stream_finish(b, &err) == EB_EEXIST,
	      "second commit: %s", err.msg);
	eb_stream_free_chain(a);
	eb_stream_free_chain(b);
	ASSERT_OK(eb_store_get_bytes(st, "x.snapshot.db", 100, &got, &len, &err), &err);
	CHECK("local_store__winner_kept", len == 5 && memcmp(got, "first", 5) == 0, "got %zu bytes", len);
	free(got);
	eb_err_init(&err);
	CHECK("local_store__manifest_never_replaced",
	      eb_store_put_bytes(st, "m.manifest.json", "1", 1, &err) == 0 &&
	          eb_store_put_bytes(st, "m.manifest.json", "2", 1, &err) == EB_EEXIST, "%s", err.msg);
	{
		char cmd[800];
		snprintf(cmd, sizeof cmd, "test $(ls -A %s | grep -c part) = 0", dir);
		CHECK("local_store__loser_leaves_no_temp_file", system(cmd) == 0, "temp files left in %s", dir);
		snprintf(cmd, sizeof cmd, "touch -d '3 days ago' %s/.old.snapshot.db.part.AbC123 && "
		         "touch %s/.new.snapshot.db.part.XyZ789", dir, dir);
		ASSERT_EQ(system(cmd), 0);
	}
	ASSERT_OK(eb_store_clean_incomplete(st, 86400, 1, &n, &err), &err);
	CHECK("local_store__dry_run_counts_old_debris", n == 1, "counted %d", n);
	ASSERT_OK(eb_store_clean_incomplete(st, 86400, 0, &n, &err), &err);
	snprintf(path, sizeof path, "%s/.old.snapshot.db.part.AbC123", dir);
	CHECK("local_store__old_debris_removed", n == 1 && access(path, F_OK) != 0, "n=%d", n);
	snprintf(path, sizeof path, "%s/.new.snapshot.db.part.XyZ789", dir);
	CHECK("local_store__fresh_temp_kept", access(path, F_OK) == 0, "a live run's temp file was removed");
	eb_store_free(st);
}

/* ---- storage/parts.c ---- */

typedef struct {
	pthread_mutex_t mu;
	uint8_t *got;      /* part num's bytes land at num * part size */
	size_t psize;
	int nsent, fail_at;
} parts_rec;

static int
parts_send(void *ctx, int w, int num, const uint8_t *buf, size_t len, eb_err *err)
{
	parts_rec *r = ctx;
	(void)w;
	if (num == r->fail_at)
		return eb_err_set(err, EB_EUNAVAIL, "part %d refused", num);
	memcpy(r->got + (size_t)num * r->psize, buf, len);
	pthread_mutex_lock(&r->mu);
	r->nsent++;
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void
test_parts__in_order_and_first_error_sticky(void)
{
	enum { PS = 1000, N = 25 * PS + 123 };
	static uint8_t src[N], got[N + PS];
	parts_rec r = {PTHREAD_MUTEX_INITIALIZER, got, PS, 0, -1};
	eb_parts *p;
	eb_err e;
	int n = 0;
	eb_err_init(&e);
	for (size_t i = 0; i < N; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	ASSERT_EQ(eb_parts_new(&p, PS, 4, 3, parts_send, &r, &e), 0);
	for (size_t off = 0; off < N; off += 777) /* splits across part boundaries */
		ASSERT_EQ(eb_parts_write(p, src + off, N - off < 777 ? N - off : 777, &e), 0);
	ASSERT_EQ(eb_parts_flush(p, &n, &e), 0);
	ASSERT_EQ(n, 26);
	ASSERT_EQ(r.nsent, 26);
	ASSERT(memcmp(src, got, N) == 0);
	eb_parts_free(p);

	r.fail_at = 5;
	r.nsent = 0;
	ASSERT_EQ(eb_parts_new(&p, PS, 4, 3, parts_send, &r, &e), 0);
	int rc = 0;
	for (size_t off = 0; off < N && rc == 0; off += PS)
		rc = eb_parts_write(p, src + off, N - off < PS ? N - off : PS, &e);
	if (rc == 0)
		rc = eb_parts_flush(p, &n, &e);
	ASSERT_EQ(rc, EB_EUNAVAIL);
	ASSERT(strstr(e.msg, "part 5 refused") != NULL);
	ASSERT(*eb_parts_cancel_flag(p));
	eb_err_init(&e);
	ASSERT_EQ(eb_parts_write(p, src, PS, &e), EB_EUNAVAIL); /* sticky */
	eb_parts_free(p);
	/* freed with parts still queued: no hang, no leak */
	ASSERT_EQ(eb_parts_new(&p, PS, 4, 3, parts_send, &r, &e), 0);
	r.fail_at = -1;
	ASSERT_EQ(eb_parts_write(p, src, 3 * PS + 5, &e), 0);
	eb_parts_free(p);
}

int
main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/eb-unit-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	t_seed();
	RUN(test_trailer__good_any_split);
	RUN(test_trailer__bitflip_short_and_missing_fail);
	RUN(test_zstd__roundtrip_random_splits);
	RUN(test_age__roundtrip_random_splits);
	RUN(test_pipe__encode_decode_every_combination);
	RUN(test_err__context_reaches_the_message);
	RUN(test_json__escaper_forms);
	RUN(test_age__damaged_chunk_never_released);
	RUN(test_zstd__truncated_or_damaged_fails);
	RUN(test_async__roundtrip_and_order);
	RUN(test_async__worker_error_surfaces_and_abort_is_clean);
	RUN(test_file_sink__abort_leaves_nothing_commit_is_atomic);
	RUN(test_catalog__list_find_fetch_delete);
	RUN(test_manifest__rejects_damage_without_crash);
	RUN(test_retention__keep_rules);
	RUN(test_catalog__revision_order_beats_clock);
	RUN(test_catalog__unreadable_manifest_is_not_skipped);
	RUN(test_catalog__db_digest_checked_and_output_capped);
	RUN(test_manifest__object_must_match_id);
	RUN(test_local_store__no_overwrite_no_debris);
	RUN(test_parts__in_order_and_first_error_sticky);
	{
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			return 1;
	}
	return t_nfail ? 1 : 0;
}
