/* tests/tools/s3tool.c - drives the S3 store (and the SigV4 signer) from
 * tests without the agent.
 *
 *   s3tool [store flags] put URL NAME [--fail-after N] [--no-finish] < data
 *   s3tool [store flags] putbytes URL NAME < data
 *   s3tool [store flags] get URL NAME > data
 *   s3tool [store flags] list URL            name size mtime, one a line
 *   s3tool [store flags] del URL NAME
 *   s3tool [store flags] abort-incomplete URL OLDER_THAN_S
 *   s3tool [store flags] count-incomplete URL
 *   s3tool sign METHOD RAWPATH AMZDATE REGION AK SK PAYLOADHASH [q:N=V]... [h:N:V]...
 *        prints the canonical request, a blank line, the Authorization value
 * store flags: --endpoint E --region R --path-style 0|1 --ca-file F --compat C
 * Errors go to stderr as "s3tool: <code name>: <message>", exit 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/s3/multipart.h"
#include "storage/s3/s3_store.h"
#include "storage/s3/sigv4.h"
#include "storage/store.h"

static int
fail(const eb_err *e)
{
	fprintf(stderr, "s3tool: %s: %s\n", eb_err_name(e->code), e->msg);
	return 1;
}

typedef struct {
	eb_stream base;
	FILE *f;
} file_sink;

static int
fs_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	if (fwrite(buf, 1, len, ((file_sink *)s)->f) != len)
		return eb_err_set(err, EB_EIO, "stdout write failed");
	return 0;
}
static int fs_finish(eb_stream *s, eb_err *err) { (void)s; (void)err; return 0; }
static void fs_free(eb_stream *s) { (void)s; }
static const eb_stream_ops fs_ops = {"stdout", fs_write, fs_finish, fs_free};

/* sign METHOD RAWPATH AMZDATE REGION AK SK PAYLOADHASH [q:NAME=VALUE]...
 * [h:NAME:VALUE]...: RAWPATH and query pairs are NOT encoded; the signer's
 * own encoders do it, which is what the botocore comparison checks. */
static int
cmd_sign(int argc, char **argv)
{
	eb_s3_hdr h[16];
	eb_s3_query q = {0};
	eb_buf path = {0};
	char auth[1024], *creq = NULL, *qs = NULL;
	eb_err e;
	int n = 0, rc;
	if (argc < 8)
		return 2;
	for (int i = 8; i < argc; i++) {
		char *c;
		if (!strncmp(argv[i], "q:", 2) && (c = strchr(argv[i] + 2, '='))) {
			*c = '\0';
			if (eb_s3_query_add(&q, argv[i] + 2, c + 1))
				return 3;
		} else if (!strncmp(argv[i], "h:", 2) && n < 16 && (c = strchr(argv[i] + 2, ':'))) {
			*c = '\0';
			h[n].name = argv[i] + 2;
			h[n].value = c + 1;
			n++;
		} else {
			return 2;
		}
	}
	if (eb_s3_uri_encode(&path, argv[2], strlen(argv[2]), 1) || eb_s3_query_build(&q, &qs))
		return 3;
	eb_err_init(&e);
	rc = eb_sigv4_sign(argv[1], path.p, qs, h, n, argv[7], argv[3], argv[4],
	                   "s3", argv[5], argv[6], auth, sizeof auth, &creq, &e);
	if (!rc)
		printf("%s\n\n%s\n", creq, auth);
	free(creq);
	free(qs);
	eb_buf_dispose(&path);
	eb_s3_query_dispose(&q);
	return rc ? fail(&e) : 0;
}

int
main(int argc, char **argv)
{
	eb_store_opts o;
	eb_store *st = NULL;
	eb_err e;
	int i = 1, rc = 0;
	const char *cmd;

	eb_store_opts_init(&o);
	eb_err_init(&e);
	if (eb_store_opts_tuning_from_env(&o, &e) < 0)
		return fail(&e);
	if (argc > 1 && !strcmp(argv[1], "sign"))
		return cmd_sign(argc - 1, argv + 1);
	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--endpoint")) o.s3_endpoint = argv[i + 1];
		else if (!strcmp(argv[i], "--region")) o.s3_region = argv[i + 1];
		else if (!strcmp(argv[i], "--path-style")) o.s3_path_style = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--ca-file")) o.s3_ca_file = argv[i + 1];
		else if (!strcmp(argv[i], "--compat")) o.s3_compat = argv[i + 1];
		else { fprintf(stderr, "s3tool: unknown flag %s\n", argv[i]); return 2; }
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: see tests/tools/s3tool.c\n");
		return 2;
	}
	cmd = argv[i];
	if (eb_store_open(&st, argv[i + 1], &o, &e))
		return fail(&e);
	i += 2;
	if (!strcmp(cmd, "put") && i < argc) {
		eb_stream *sink = NULL, *head;
		const char *name = argv[i++];
		unsigned long long fail_after = 0;
		int no_finish = 0;
		static uint8_t buf[1 << 16];
		size_t n;
		for (; i < argc; i++) {
			if (!strcmp(argv[i], "--fail-after") && i + 1 < argc)
				fail_after = strtoull(argv[++i], NULL, 10);
			else if (!strcmp(argv[i], "--no-finish"))
				no_finish = 1;
		}
		rc = eb_store_put_stream(st, name, &sink, &e);
		head = sink;
		if (!rc && fail_after)
			rc = eb_fault_stage_new(&head, fail_after, sink, &e);
		while (!rc && (n = fread(buf, 1, sizeof buf, stdin)) > 0)
			rc = eb_stream_write(head, buf, n, &e);
		if (!rc && !no_finish)
			rc = eb_stream_finish(head, &e);
		if (!rc && sink)
			fprintf(stderr, "parts %d\n", eb_s3_upload_parts(sink));
		eb_stream_free_chain(head);
	} else if (!strcmp(cmd, "putbytes") && i < argc) {
		char *b = NULL;
		size_t len = 0, cap = 0, n;
		do {
			if (len + 65536 > cap) {
				cap = cap ? cap * 2 : 1 << 17;
				b = realloc(b, cap);
				if (!b) return 3;
			}
			n = fread(b + len, 1, 65536, stdin);
			len += n;
		} while (n > 0);
		rc = eb_store_put_bytes(st, argv[i], b, len, &e);
		free(b);
	} else if (!strcmp(cmd, "get") && i < argc) {
		file_sink fs;
		eb_stream_init(&fs.base, &fs_ops, NULL);
		fs.f = stdout;
		rc = eb_store_get(st, argv[i], &fs.base, &e);
		fflush(stdout);
	} else if (!strcmp(cmd, "list")) {
		eb_store_list l = {0};
		rc = eb_store_list_all(st, &l, &e);
		for (size_t k = 0; !rc && k < l.n; k++)
			printf("%s %llu %lld\n", l.v[k].name, (unsigned long long)l.v[k].size,
			       (long long)l.v[k].mtime);
		eb_store_list_dispose(&l);
	} else if (!strcmp(cmd, "del") && i < argc) {
		rc = eb_store_delete(st, argv[i], &e);
	} else if (!strcmp(cmd, "abort-incomplete") && i < argc) {
		int n = 0;
		rc = eb_s3_abort_incomplete(st, atoll(argv[i]), &n, &e);
		if (!rc)
			printf("%d\n", n);
	} else if (!strcmp(cmd, "count-incomplete")) {
		int n = 0;
		rc = eb_s3_count_incomplete(st, &n, &e);
		if (!rc)
			printf("%d\n", n);
	} else {
		fprintf(stderr, "s3tool: bad command\n");
		eb_store_free(st);
		return 2;
	}
	eb_store_free(st);
	return rc ? fail(&e) : 0;
}
