/* tests/unit/test_metrics.c - exposition format, textfile carry-over and
 * atomic replace, Pushgateway push to a listener this test runs. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/metrics.h"
#include "tests/unit/harness.h"


static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = '\0';
	fclose(f);
	return s;
}

/* Every non-comment line is `name{labels} value`, every series has HELP
 * and TYPE before its first sample, and names carry the prefix. */
static int
well_formed(const char *text, char *why, size_t why_len)
{
	char *copy = strdup(text), *save = NULL, *l;
	char typed[64][96];
	int ntyped = 0, ok = 1, i;
	for (l = strtok_r(copy, "\n", &save); l && ok; l = strtok_r(NULL, "\n", &save)) {
		char name[96];
		if (strncmp(l, "# TYPE ", 7) == 0) {
			sscanf(l + 7, "%95s", typed[ntyped < 63 ? ntyped++ : 63]);
			continue;
		}
		if (strncmp(l, "# HELP ", 7) == 0)
			continue;
		if (l[0] == '#') {
			snprintf(why, why_len, "stray comment: %s", l);
			ok = 0;
			break;
		}
		sscanf(l, "%95[a-z_]", name);
		if (strncmp(name, "etcd_backup_", 12) != 0) {
			snprintf(why, why_len, "bad name: %s", l);
			ok = 0;
			break;
		}
		for (i = 0; i < ntyped; i++)
			if (strcmp(typed[i], name) == 0)
				break;
		if (i == ntyped) {
			snprintf(why, why_len, "no TYPE before: %s", l);
			ok = 0;
		}
		if (!strchr(l, ' ')) {
			snprintf(why, why_len, "no value: %s", l);
			ok = 0;
		}
	}
	free(copy);
	return ok;
}

/* ---- a Pushgateway-compatible listener -------------------------------- */

typedef struct {
	int lfd;
	int status;          /* to answer */
	char req[65536];     /* the request as received */
	size_t req_len;
} listener;

static void *
serve_one(void *arg)
{
	listener *L = arg;
	int fd = accept(L->lfd, NULL, NULL);
	char resp[128];
	size_t body_want = (size_t)-1;
	if (fd < 0)
		return NULL;
	L->req_len = 0;
	for (;;) {
		ssize_t n = read(fd, L->req + L->req_len, sizeof L->req - 1 - L->req_len);
		char *hend, *cl;
		if (n <= 0)
			break;
		L->req_len += (size_t)n;
		L->req[L->req_len] = '\0';
		hend = strstr(L->req, "\r\n\r\n");
		if (hend && body_want == (size_t)-1) {
			cl = strcasestr(L->req, "\r\nContent-Length:");
			body_want = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
			body_want += (size_t)(hend + 4 - L->req);
		}
		if (body_want != (size_t)-1 && L->req_len >= body_want)
			break;
	}
	snprintf(resp, sizeof resp,
	         "HTTP/1.1 %d X\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops\n",
	         L->status);
	if (write(fd, resp, strlen(resp)) < 0)
		perror("write");
	close(fd);
	return NULL;
}

static int
listen_local(listener *L)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	L->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(L->lfd, (struct sockaddr *)&a, sizeof a);
	listen(L->lfd, 4);
	getsockname(L->lfd, (struct sockaddr *)&a, &al);
	return ntohs(a.sin_port);
}

static int
push_to(listener *L, int status, const eb_metrics *m, const char *pre, int port, const char *post,
        const char *job, const char *inst, eb_err *err)
{
	pthread_t th;
	char url[256];
	int rc;
	L->status = status;
	snprintf(url, sizeof url, "%s%d%s", pre, port, post);
	pthread_create(&th, NULL, serve_one, L);
	eb_err_init(err);
	rc = eb_metrics_push(m, url, job, inst, err);
	pthread_join(th, NULL);
	return rc;
}

int
main(void)
{
	eb_metrics m;
	eb_err err;
	char *text = NULL, why[256] = "", dir[] = "/tmp/ebmetXXXXXX", path[300];
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	/* ---- exposition of a successful run, fixed figures ---- */
	eb_metrics_init(&m);
	m.start_time = 1763700000.0;
	m.snapshot_bytes = 20480032;
	m.stored_bytes = 3141592;
	m.revision = 123456;
	m.db_size_bytes = 20480000;
	eb_metrics_add_cert(&m, "server", "10.0.0.1:2379", 1800000000LL);
	eb_metrics_add_cert(&m, "client", "", 1790000000LL);
	eb_metrics_add_cert_file(&m, "/etc/kubernetes/pki/ca.crt", 2080000000LL);
	eb_metrics_finish(&m, 0);
	m.end_time = 1763700012.5;
	m.last_success_time = m.end_time;
	eb_err_init(&err);
	rc = eb_metrics_render(&m, 1763700013LL, &text, NULL, &err);
	CHECK("metrics__render_ok", rc == 0 && text, "rc=%d %s", rc, err.msg);
	CHECK("metrics__well_formed", well_formed(text, why, sizeof why), "%s\n%s", why, text);
	{
		static const char *want[] = {
			"# HELP etcd_backup_last_success_timestamp_seconds ",
			"# TYPE etcd_backup_last_success_timestamp_seconds gauge\n",
			"\netcd_backup_last_success_timestamp_seconds 1763700012.500\n",
			"\netcd_backup_last_run_timestamp_seconds 1763700012.500\n",
			"\netcd_backup_last_run_success 1\n",
			"\netcd_backup_last_run_duration_seconds 12.500\n",
			"\netcd_backup_snapshot_size_bytes 20480032\n",
			"\netcd_backup_stored_size_bytes 3141592\n",
			"\netcd_backup_snapshot_revision 123456\n",
			"\netcd_backup_db_size_bytes 20480000\n",
			"# TYPE etcd_backup_failures_total counter\n",
			"\netcd_backup_failures_total{reason=\"timeout\"} 0\n",
			"\netcd_backup_failures_total{reason=\"error\"} 0\n",
			"\netcd_backup_certificate_expiry_timestamp_seconds{cert=\"server\",endpoint=\"10.0.0.1:2379\"} 1800000000\n",
			"\netcd_backup_certificate_remaining_seconds{cert=\"server\",endpoint=\"10.0.0.1:2379\"} 36299987\n",
			"\netcd_backup_certificate_remaining_seconds{cert=\"client\",endpoint=\"\"} 26299987\n",
			"\netcd_backup_certificate_expiry_timestamp_seconds{cert=\"control-plane\",endpoint=\"\","
			"file=\"/etc/kubernetes/pki/ca.crt\"} 2080000000\n",
		};
		size_t i;
		for (i = 0; i < sizeof want / sizeof want[0]; i++)
			if (!strstr(text, want[i]))
				break;
		CHECK("metrics__series_values", i == sizeof want / sizeof want[0],
		      "missing '%s' in\n%s", i < sizeof want / sizeof want[0] ? want[i] : "", text);
	}
	{
		/* All 12 reasons are there, each once. */
		int n = 0;
		const char *p = text;
		while ((p = strstr(p, "\netcd_backup_failures_total{")) != NULL) {
			n++;
			p++;
		}
		CHECK("metrics__all_reasons", n == EB_METRICS_NREASONS, "got %d", n);
	}
	free(text);

	/* ---- label escaping ---- */
	eb_metrics_init(&m);
	eb_metrics_add_cert(&m, "server", "we\"ird\\host\nx:1", 1);
	eb_metrics_finish(&m, 0);
	rc = eb_metrics_render(&m, 1, &text, NULL, &err);
	CHECK("metrics__label_escape",
	      strstr(text, "{cert=\"server\",endpoint=\"we\\\"ird\\\\host\\nx:1\"} 1\n") != NULL,
	      "%s", text);
	free(text);

	/* ---- unknown figures are left out, failure counted ---- */
	eb_metrics_init(&m);
	eb_metrics_finish(&m, EB_ETIMEOUT);
	rc = eb_metrics_render(&m, 0, &text, NULL, &err);
	CHECK("metrics__failure_run",
	      strstr(text, "\netcd_backup_last_run_success 0\n") &&
	      strstr(text, "\netcd_backup_failures_total{reason=\"timeout\"} 1\n") &&
	      !strstr(text, "snapshot_size_bytes") && !strstr(text, "last_success_timestamp") &&
	      !strstr(text, "certificate_"), "%s", text);
	free(text);
	CHECK("metrics__reason_index",
	      strcmp(eb_metrics_reason_name(eb_metrics_reason_index(EB_EAUTH)), "auth") == 0 &&
	      strcmp(eb_metrics_reason_name(eb_metrics_reason_index(-99)), "error") == 0,
	      "reason names");

	/* ---- textfile: atomic write and carry-over across runs ---- */
	if (!mkdtemp(dir)) {
		printf("FAIL metrics__setup: mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/etcd_backup.prom", dir);

	eb_metrics_init(&m);
	m.snapshot_bytes = 1000;
	m.stored_bytes = 400;
	m.revision = 77;
	m.db_size_bytes = 2000;
	eb_metrics_finish(&m, 0);
	eb_err_init(&err);
	rc = eb_metrics_write_file(&m, path, &err);
	{
		struct stat st;
		CHECK("metrics__file_written", rc == 0 && stat(path, &st) == 0 &&
		      (st.st_mode & 0777) == 0644, "rc=%d %s", rc, err.msg);
	}
	{
		double good = m.last_success_time;
		char want[128], *f;
		int i;
		for (i = 0; i < 2; i++) {
			eb_metrics_init(&m);
			eb_metrics_finish(&m, EB_ETIMEOUT);
			eb_err_init(&err);
			rc = eb_metrics_write_file(&m, path, &err);
		}
		eb_metrics_init(&m);
		m.db_size_bytes = 2500; /* learnt before the failure: wins */
		eb_metrics_finish(&m, EB_EAUTH);
		rc |= eb_metrics_write_file(&m, path, &err);
		f = slurp(path);
		snprintf(want, sizeof want, "\netcd_backup_last_success_timestamp_seconds %.3f\n", good);
		CHECK("metrics__carry_counter",
		      rc == 0 && f && strstr(f, "\netcd_backup_failures_total{reason=\"timeout\"} 2\n") &&
		      strstr(f, "\netcd_backup_failures_total{reason=\"auth\"} 1\n") &&
		      strstr(f, "\netcd_backup_last_run_success 0\n"), "rc=%d %s\n%s", rc, err.msg, f);
		CHECK("metrics__carry_last_success",
		      f && strstr(f, want) && strstr(f, "\netcd_backup_snapshot_size_bytes 1000\n") &&
		      strstr(f, "\netcd_backup_snapshot_revision 77\n") &&
		      strstr(f, "\netcd_backup_db_size_bytes 2500\n"), "want %s in\n%s", want, f);
		free(f);

		/* Success again: counters stay, last success moves on. */
		eb_metrics_init(&m);
		m.snapshot_bytes = 5000;
		m.revision = 90;
		eb_metrics_finish(&m, 0);
		rc = eb_metrics_write_file(&m, path, &err);
		f = slurp(path);
		CHECK("metrics__success_after_failures",
		      rc == 0 && strstr(f, "{reason=\"timeout\"} 2\n") &&
		      strstr(f, "\netcd_backup_last_run_success 1\n") &&
		      strstr(f, "\netcd_backup_snapshot_size_bytes 5000\n") &&
		      strstr(f, "\netcd_backup_snapshot_revision 90\n") && !strstr(f, want),
		      "%s", f);
		free(f);
	}
	{
		/* Only the .prom file is left in the folder: no temp files. */
		DIR *d = opendir(dir);
		struct dirent *e;
		int n = 0;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		CHECK("metrics__no_temp_left", n == 1, "%d entries", n);
	}
	{
		/* A corrupt previous file is ignored (the counter restarts). */
		FILE *f = fopen(path, "w");
		char *s;
		fputs("etcd_backup_failures_total{reason=\"timeout\"} banana\n", f);
		fclose(f);
		eb_metrics_init(&m);
		eb_metrics_finish(&m, EB_ETIMEOUT);
		eb_err_init(&err);
		rc = eb_metrics_write_file(&m, path, &err);
		s = slurp(path);
		CHECK("metrics__corrupt_previous", rc == 0 && strstr(s, "{reason=\"timeout\"} 1\n"),
		      "rc=%d %s", rc, s);
		free(s);
		eb_err_init(&err);
		rc = eb_metrics_merge_previous(&m, "etcd_backup_snapshot_revision -3\n", &err);
		CHECK("metrics__merge_rejects", rc == EB_ECORRUPT, "rc=%d", rc);
	}
	{
		/* Unwritable folder: EB_EIO, message names the path. */
		eb_metrics_init(&m);
		eb_metrics_finish(&m, 0);
		eb_err_init(&err);
		rc = eb_metrics_write_file(&m, "/nonexistent-dir/x.prom", &err);
		CHECK("metrics__write_error", rc == EB_EIO && strstr(err.msg, "/nonexistent-dir/"),
		      "rc=%d %s", rc, err.msg);
	}

	/* ---- Pushgateway ---- */
	{
		listener *L = calloc(1, sizeof *L);
		int port = listen_local(L);
		char *body, *expect = NULL;
		size_t elen = 0;

		eb_metrics_init(&m);
		m.revision = 5;
		eb_metrics_finish(&m, 0);
		rc = push_to(L, 200, &m, "http://127.0.0.1:", port, "/", "etcd-backup", "cp-1", &err);
		body = strstr(L->req, "\r\n\r\n");
		eb_metrics_render(&m, 0, &expect, &elen, &err);
		CHECK("metrics__push_put",
		      rc == 0 && strncmp(L->req, "PUT /metrics/job/etcd-backup/instance/cp-1 HTTP/1.1\r\n", 53) == 0 &&
		      strcasestr(L->req, "\r\nContent-Type: text/plain; version=0.0.4") &&
		      body && strcmp(body + 4, expect) == 0,
		      "rc=%d %s\n%.300s", rc, err.msg, L->req);
		free(expect);

		eb_metrics_init(&m);
		eb_metrics_finish(&m, EB_EUNAVAIL);
		rc = push_to(L, 202, &m, "http://127.0.0.1:", port, "", "etcd/backup", "", &err);
		CHECK("metrics__push_failure_post_base64",
		      rc == 0 && strncmp(L->req, "POST /metrics/job@base64/ZXRjZC9iYWNrdXA= HTTP/1.1\r\n", 52) == 0 &&
		      strstr(L->req, "etcd_backup_failures_total{reason=\"unavailable\"} 1\n"),
		      "rc=%d %s\n%.200s", rc, err.msg, L->req);

		rc = push_to(L, 500, &m, "http://user:s3cret@127.0.0.1:", port, "", "j", NULL, &err);
		CHECK("metrics__push_http_error",
		      rc == EB_EREMOTE && strstr(err.msg, "HTTP 500") && !strstr(err.msg, "s3cret") &&
		      strcasestr(L->req, "\r\nAuthorization: Basic "),
		      "rc=%d %s", rc, err.msg);
		close(L->lfd);

		/* Nothing listens any more. */
		eb_err_init(&err);
		{
			char url[64];
			snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
			rc = eb_metrics_push(&m, url, "j", NULL, &err);
		}
		CHECK("metrics__push_refused", rc == EB_EUNAVAIL, "rc=%d %s", rc, err.msg);
		eb_err_init(&err);
		rc = eb_metrics_push(&m, "ftp://x", "j", NULL, &err);
		CHECK("metrics__push_bad_url", rc == EB_EINVAL, "rc=%d %s", rc, err.msg);
		free(L);
	}

	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup failed\n");
	}
	return t_nfail ? 1 : 0;
}
