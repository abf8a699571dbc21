/* tests/unit/test_tar.c - common/tar.c against GNU tar, both ways: what we
 * write, tar lists and extracts byte for byte; what tar writes
 * (--format=ustar), we read back; and the reader refuses what must not be
 * laid down (unsafe names, links, damage, a cut archive). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/tar.h"
#include "harness.h"

static char tmpdir[64];

typedef struct {
	eb_tar_entry e[16];
	eb_wbuf data[16];
	size_t n;
} got;

static int
on_entry(void *arg, const eb_tar_entry *e, eb_err *err)
{
	got *g = arg;
	(void)err;
	if (g->n == 16)
		return -1;
	g->e[g->n++] = *e;
	return 0;
}

static int
on_data(void *arg, const uint8_t *p, size_t n, eb_err *err)
{
	got *g = arg;
	eb_wbuf_put(&g->data[g->n - 1], p, n);
	return eb_wbuf_check(&g->data[g->n - 1], err);
}

static void
got_dispose(got *g)
{
	for (size_t i = 0; i < 16; i++)
		eb_wbuf_dispose(&g->data[i]);
	memset(g, 0, sizeof *g);
}

/* reads bytes through the sink in random pieces */
static int
read_back(const uint8_t *p, size_t len, got *g, eb_err *err)
{
	eb_tar_visitor v = {on_entry, on_data, NULL, g};
	eb_stream *s = NULL;
	int rc = eb_tar_sink_new(&s, &v, 1 << 20, 100, err);
	while (rc == 0 && len) {
		size_t k = 1 + t_rand() % 700;
		if (k > len)
			k = len;
		rc = eb_stream_write(s, p, k, err);
		p += k;
		len -= k;
	}
	if (rc == 0)
		rc = eb_stream_finish(s, err);
	if (s)
		s->ops->free(s);
	return rc;
}

static const char long_name[] = "pki/etcd/a-folder-with-a-rather-long-name-that-goes-on-and-on/"
                                "and-another-one-to-pass-the-hundred-bytes/healthcheck-client.key";

static void
test_tar__ours_read_by_gnu_tar(void)
{
	eb_wbuf out = {0};
	eb_stream *ms = NULL;
	eb_err err;
	char path[512], cmd[1024];
	uint8_t big[1300];
	FILE *f;
	eb_tar_entry es[] = {
		{.name = "pki/", .type = '5', .mode = 0755},
		{.name = "pki/ca.key", .type = '0', .mode = 0600, .uid = 0, .gid = 0, .size = 5, .mtime = 1700000000},
		{.name = "empty", .type = '0', .mode = 0644, .size = 0},
		{.name = "", .type = '0', .mode = 0640, .uid = 1000, .gid = 1001, .size = sizeof big},
	};
	const void *data[] = {NULL, "hello", "", big};
	got g = {0};
	eb_err_init(&err);
	memcpy(es[3].name, long_name, sizeof long_name);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)t_rand();
	ASSERT_OK(eb_mem_sink_new(&ms, &out, SIZE_MAX, &err), &err);
	for (size_t i = 0; i < 4; i++)
		ASSERT_OK(eb_tar_write(ms, &es[i], data[i], &err), &err);
	ASSERT_OK(eb_tar_end(ms, &err), &err);
	ms->ops->free(ms);
	ASSERT_EQ(out.len % 512, 0);
	snprintf(path, sizeof path, "%s/ours.tar", tmpdir);
	f = fopen(path, "wb");
	ASSERT(f && fwrite(out.p, 1, out.len, f) == out.len);
	fclose(f);
	/* GNU tar lists the members with their modes and owners, and extracts
	 * the long-named one byte for byte */
	snprintf(cmd, sizeof cmd, "tar -tvf %s --numeric-owner > %s/list.txt 2>&1", path, tmpdir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "grep -c '' %s/list.txt | grep -qx 4 && grep -q '^-rw------- 0/0 .* pki/ca.key$' %s/list.txt "
	         "&& grep -q '^-rw-r----- 1000/1001 .* %s$' %s/list.txt", tmpdir, tmpdir, long_name, tmpdir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "mkdir -p %s/x && tar -xf %s -C %s/x", tmpdir, path, tmpdir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(path, sizeof path, "%s/x/%s", tmpdir, long_name);
	{
		uint8_t back[sizeof big + 1];
		struct stat sb;
		f = fopen(path, "rb");
		ASSERT(f);
		ASSERT_EQ(fread(back, 1, sizeof back, f), sizeof big);
		fclose(f);
		ASSERT(memcmp(back, big, sizeof big) == 0);
		ASSERT_EQ(stat(path, &sb), 0);
		ASSERT_EQ(sb.st_mode & 07777, 0640);
	}
	/* and we read our own back, in any split */
	ASSERT_OK(read_back(out.p, out.len, &g, &err), &err);
	ASSERT_EQ(g.n, 4);
	ASSERT_STR(g.e[3].name, long_name);
	ASSERT_EQ(g.e[3].uid, 1000);
	ASSERT_EQ(g.data[3].len, sizeof big);
	ASSERT(memcmp(g.data[3].p, big, sizeof big) == 0);
	ASSERT_EQ(g.e[1].mtime, 1700000000);
	ASSERT_EQ(g.e[0].type, '5');
	got_dispose(&g);
	eb_wbuf_dispose(&out);
}

static void
test_tar__gnu_tar_read_by_us(void)
{
	char cmd[512], path[256];
	uint8_t *buf;
	long len;
	FILE *f;
	got g = {0};
	eb_err err;
	eb_err_init(&err);
	snprintf(cmd, sizeof cmd, "cd %s && rm -rf g && mkdir -p g/pki/etcd && printf abc > g/pki/etcd/ca.crt && "
	         "chmod 600 g/pki/etcd/ca.crt && tar --format=ustar --numeric-owner -cf gnu.tar -C g pki", tmpdir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(path, sizeof path, "%s/gnu.tar", tmpdir);
	f = fopen(path, "rb");
	ASSERT(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	ASSERT(buf && fread(buf, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
	/* GNU tar pads to 10240-byte records with zeros: read as the end */
	ASSERT_OK(read_back(buf, (size_t)len, &g, &err), &err);
	ASSERT_EQ(g.n, 3);
	ASSERT_STR(g.e[0].name, "pki/");
	ASSERT_STR(g.e[2].name, "pki/etcd/ca.crt");
	ASSERT_EQ(g.e[2].mode, 0600);
	ASSERT_EQ(g.data[2].len, 3);
	ASSERT(memcmp(g.data[2].p, "abc", 3) == 0);
	got_dispose(&g);
	/* a byte changed in a header: refused (checksum) */
	buf[600] ^= 1;
	ASSERT_EQ(read_back(buf, (size_t)len, &g, &err), EB_ECORRUPT);
	got_dispose(&g);
	free(buf);
}

static void
test_tar__refuses_unsafe_and_cut(void)
{
	static const char *bad[] = {"/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/.", "a\nb", ""};
	eb_tar_entry e = {.type = '0', .mode = 0600, .size = 1};
	uint8_t h[512];
	eb_wbuf out = {0};
	eb_stream *ms = NULL;
	got g = {0};
	eb_err err;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[64];
		eb_err_init(&err);
		snprintf(e.name, sizeof e.name, "%s", bad[i]);
		snprintf(name, sizeof name, "test_tar__unsafe_name_%zu_refused", i);
		CHECK(name, eb_tar_header(&e, h, &err) == EB_EINVAL, "'%s' was accepted", bad[i]);
	}
	/* a header a hostile writer made: a link, and a name with ".." */
	eb_err_init(&err);
	snprintf(e.name, sizeof e.name, "ok");
	ASSERT_OK(eb_tar_header(&e, h, &err), &err);
	h[156] = '2';
	{
		unsigned sum = 0;
		memset(h + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
	}
	ASSERT_EQ(eb_tar_parse_header(h, &e, &err), EB_ECORRUPT);
	/* an archive cut short: finish fails */
	eb_err_init(&err);
	ASSERT_OK(eb_mem_sink_new(&ms, &out, SIZE_MAX, &err), &err);
	e = (eb_tar_entry){.name = "f", .type = '0', .mode = 0600, .size = 1};
	ASSERT_OK(eb_tar_write(ms, &e, "x", &err), &err);
	ms->ops->free(ms);
	ASSERT_EQ(read_back(out.p, out.len, &g, &err), EB_ECORRUPT);
	ASSERT(strstr(err.msg, "cut short"));
	got_dispose(&g);
	eb_wbuf_dispose(&out);
}

int
main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/eb-tar-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	t_seed();
	RUN(test_tar__ours_read_by_gnu_tar);
	RUN(test_tar__gnu_tar_read_by_us);
	RUN(test_tar__refuses_unsafe_and_cut);
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			return 1;
	}
	return t_nfail != 0;
}
