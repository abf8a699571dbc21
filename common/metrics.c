/* common/metrics.c - exposition text, carry-over, atomic textfile write.
 * The Pushgateway client (libcurl) is in common/metrics_push.c. */
#include "common/metrics.h"

#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"

#define PREFIX "etcd_backup_"
#define PREV_MAX (1024 * 1024) /* a previous file larger than this is ignored */

/* Index 0 is the catch-all "error"; the others follow eb_err_name. */
static const int reason_codes[EB_METRICS_NREASONS] = {
	1, EB_EINVAL, EB_EIO, EB_ENOMEM, EB_ECORRUPT, EB_ENOTFOUND, EB_EAUTH,
	EB_ETIMEOUT, EB_EUNAVAIL, EB_EEXIST, EB_EREMOTE, EB_EUNHEALTHY, EB_EINTR,
};

const char *
eb_metrics_reason_name(size_t index)
{
	if (index >= EB_METRICS_NREASONS)
		return "error";
	return eb_err_name(reason_codes[index]);
}

size_t
eb_metrics_reason_index(int err_code)
{
	size_t i;
	for (i = 1; i < EB_METRICS_NREASONS; i++)
		if (reason_codes[i] == err_code)
			return i;
	return 0;
}

static double
now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
eb_metrics_init(eb_metrics *m)
{
	memset(m, 0, sizeof *m);
	m->start_time = now_real();
	m->snapshot_bytes = -1;
	m->stored_bytes = -1;
	m->revision = -1;
	m->db_size_bytes = -1;
	m->drill_restore_s = m->drill_boot_s = -1;
	m->drill_keys = -1;
}

void
eb_metrics_finish(eb_metrics *m, int err_code)
{
	m->end_time = now_real();
	m->finished = 1;
	m->err_code = err_code;
	m->ok = err_code == 0;
	if (m->ok)
		m->last_success_time = m->end_time;
	else
		m->failures[eb_metrics_reason_index(err_code)]++;
}

int
eb_metrics_add_cert(eb_metrics *m, const char *cert, const char *endpoint,
                    int64_t not_after)
{
	eb_metrics_cert *c;
	if (m->ncerts >= EB_METRICS_MAX_CERTS || !cert)
		return EB_EINVAL;
	c = &m->certs[m->ncerts++];
	snprintf(c->cert, sizeof c->cert, "%s", cert);
	snprintf(c->endpoint, sizeof c->endpoint, "%s", endpoint ? endpoint : "");
	c->not_after = not_after;
	c->file[0] = '\0';
	return 0;
}

int
eb_metrics_add_cert_file(eb_metrics *m, const char *file, int64_t not_after)
{
	int rc = eb_metrics_add_cert(m, "control-plane", "", not_after);
	if (rc == 0)
		snprintf(m->certs[m->ncerts - 1].file, sizeof m->certs[0].file, "%s", file);
	return rc;
}

/* ---- rendering ------------------------------------------------------------ */

/* Label values: backslash, double quote and line feed are escaped
 * (exposition format 0.0.4). */
static void
sb_label_value(eb_buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			eb_buf_add(b, "\\\\", 2);
		else if (*v == '"')
			eb_buf_add(b, "\\\"", 2);
		else if (*v == '\n')
			eb_buf_add(b, "\\n", 2);
		else
			eb_buf_add(b, v, 1);
	}
}

/* The series' full name: etcd_backup_ or, for a drill, etcd_backup_drill_
 * (valid until the next call). */
static const char *
nm(const eb_metrics *m, const char *base)
{
	static __thread char n[128];
	snprintf(n, sizeof n, PREFIX "%s%s", m->kind ? m->kind : "", base);
	return n;
}

static void
header(eb_buf *b, const char *name, const char *type, const char *help)
{
	eb_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name,
	          help, name, type);
}

/* Doubles are printed so that integers stay exact and fractions keep ms. */
static void
sample_d(eb_buf *b, const char *name, double v)
{
	eb_buf_printf(b, "%s %.3f\n", name, v);
}

static void
sample_i(eb_buf *b, const char *name, int64_t v)
{
	eb_buf_printf(b, "%s %" PRId64 "\n", name, v);
}

static void
gauge_i(eb_buf *b, const char *name, const char *help, int64_t v)
{
	if (v < 0)
		return;
	header(b, name, "gauge", help);
	sample_i(b, name, v);
}

static void
gauge_d(eb_buf *b, const char *name, const char *help, double v)
{
	if (v < 0)
		return;
	header(b, name, "gauge", help);
	sample_d(b, name, v);
}

static void
cert_series(eb_buf *b, const eb_metrics *m, const char *name, const char *help,
            int64_t now, int remaining)
{
	size_t i;
	if (m->ncerts == 0)
		return;
	header(b, name, "gauge", help);
	for (i = 0; i < m->ncerts; i++) {
		const eb_metrics_cert *c = &m->certs[i];
		eb_buf_printf(b, "%s{cert=\"", name);
		sb_label_value(b, c->cert);
		eb_buf_add(b, "\",endpoint=\"", 12);
		sb_label_value(b, c->endpoint);
		if (c->file[0]) {
			eb_buf_puts(b, "\",file=\"");
			sb_label_value(b, c->file);
		}
		eb_buf_printf(b, "\"} %" PRId64 "\n",
		          remaining ? c->not_after - now : c->not_after);
	}
}

int
eb_metrics_render(const eb_metrics *m, int64_t now, char **out,
                  size_t *out_len, eb_err *err)
{
	eb_buf b = { 0 };
	size_t i;
	double end = m->finished ? m->end_time : now_real();

	if (now == 0)
		now = (int64_t)time(NULL);
	header(&b, nm(m, "last_run_timestamp_seconds"), "gauge",
	       "End time of the last backup run, success or failure (unix seconds).");
	sample_d(&b, nm(m, "last_run_timestamp_seconds"), end);
	header(&b, nm(m, "last_run_success"), "gauge",
	       "1 if the last backup run succeeded, 0 if it failed.");
	sample_i(&b, nm(m, "last_run_success"), m->ok ? 1 : 0);
	header(&b, nm(m, "last_run_duration_seconds"), "gauge",
	       "Wall time of the last backup run in seconds.");
	sample_d(&b, nm(m, "last_run_duration_seconds"),
	         end > m->start_time ? end - m->start_time : 0.0);
	if (m->last_success_time > 0) {
		header(&b, nm(m, "last_success_timestamp_seconds"), "gauge",
		       "End time of the last successful backup (unix seconds).");
		sample_d(&b, nm(m, "last_success_timestamp_seconds"), m->last_success_time);
	}
	gauge_i(&b, nm(m, "snapshot_size_bytes"),
	        "Size of the last snapshot as received from etcd, in bytes.",
	        m->snapshot_bytes);
	gauge_i(&b, nm(m, "stored_size_bytes"),
	        "Bytes the last backup occupies in the store (after compression).",
	        m->stored_bytes);
	gauge_i(&b, nm(m, "snapshot_revision"),
	        "etcd revision of the last snapshot.", m->revision);
	gauge_i(&b, nm(m, "db_size_bytes"),
	        "Size of the etcd backend database reported by the endpoint.",
	        m->db_size_bytes);
	if (m->kind) {
		gauge_d(&b, nm(m, "restore_seconds"), "Time the last drill's restore took, in seconds.",
		        m->drill_restore_s);
		gauge_d(&b, nm(m, "boot_seconds"), "Time etcd took to serve the last drill's restored data, in seconds.",
		        m->drill_boot_s);
		gauge_i(&b, nm(m, "keys"), "Keys the last drill's etcd served.", m->drill_keys);
	}
	header(&b, nm(m, "failures_total"), "counter",
	       "Failed backup runs by reason (kept across runs in the textfile).");
	for (i = 0; i < EB_METRICS_NREASONS; i++)
		eb_buf_printf(&b, "%s{reason=\"%s\"} %" PRIu64 "\n", nm(m, "failures_total"),
		          eb_metrics_reason_name(i), m->failures[i]);
	cert_series(&b, m, nm(m, "certificate_expiry_timestamp_seconds"),
	            "notAfter of the etcd server (TLS handshake) and client certificates (unix seconds).",
	            now, 0);
	cert_series(&b, m, nm(m, "certificate_remaining_seconds"),
	            "Seconds until the etcd server or client certificate expires (negative: expired).",
	            now, 1);
	if (b.oom) {
		free(b.p);
		return eb_err_set(err, EB_ENOMEM, "metrics: out of memory rendering");
	}
	*out = b.p;
	if (out_len)
		*out_len = b.len;
	return 0;
}

/* ---- carry-over ----------------------------------------------------------- */

/* Splits "name{labels} value" (labels optional).  Returns 0 and pointers
 * into line (NUL-terminated in place), or -1. */
static int
split_sample(char *line, char **name, char **labels, char **value)
{
	char *p = line, *brace;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '#' || *p == '\0')
		return -1;
	*name = p;
	*labels = NULL;
	brace = strchr(p, '{');
	if (brace) {
		char *close = strrchr(brace, '}');
		if (!close)
			return -1;
		*brace = '\0';
		*close = '\0';
		*labels = brace + 1;
		p = close + 1;
	} else {
		p += strcspn(p, " \t");
		if (*p == '\0')
			return -1;
		*p++ = '\0';
	}
	while (*p == ' ' || *p == '\t')
		p++;
	*value = p;
	p += strcspn(p, " \t\r");
	*p = '\0'; /* drops an optional timestamp */
	return **value ? 0 : -1;
}

static int
parse_num(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return (errno || end == s || *end) ? -1 : 0;
}

/* Value of label `key` in a label list like a="x",b="y" (no escapes
 * expected in the labels we read back: reason names). */
static int
label_value(const char *labels, const char *key, char *out, size_t out_len)
{
	size_t kl = strlen(key);
	const char *p = labels;
	while (p && *p) {
		while (*p == ',' || *p == ' ')
			p++;
		if (strncmp(p, key, kl) == 0 && p[kl] == '=' && p[kl + 1] == '"') {
			const char *v = p + kl + 2, *e = strchr(v, '"');
			if (!e || (size_t)(e - v) >= out_len)
				return -1;
			memcpy(out, v, (size_t)(e - v));
			out[e - v] = '\0';
			return 0;
		}
		p = strchr(p, ',');
	}
	return -1;
}

int
eb_metrics_merge_previous(eb_metrics *m, const char *text, eb_err *err)
{
	eb_metrics prev = *m; /* work on a copy: all or nothing */
	char *copy = strdup(text), *save = NULL, *line;
	uint64_t add[EB_METRICS_NREASONS] = { 0 };
	double last_success = 0;
	int64_t snap = -1, stored = -1, rev = -1, db = -1;
	int rc = 0;
	size_t i;

	if (!copy)
		return eb_err_set(err, EB_ENOMEM, "metrics: out of memory");
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *name, *labels, *value, reason[64];
		double v;
		if (split_sample(line, &name, &labels, &value) != 0)
			continue;
		if (strncmp(name, PREFIX, strlen(PREFIX)) != 0)
			continue;
		name += strlen(PREFIX);
		if (m->kind) {
			if (strncmp(name, m->kind, strlen(m->kind)) != 0)
				continue;
			name += strlen(m->kind);
		}
		if (strcmp(name, "failures_total") != 0 &&
		    strcmp(name, "last_success_timestamp_seconds") != 0 &&
		    strcmp(name, "snapshot_size_bytes") != 0 &&
		    strcmp(name, "stored_size_bytes") != 0 &&
		    strcmp(name, "snapshot_revision") != 0 &&
		    strcmp(name, "db_size_bytes") != 0)
			continue;
		if (parse_num(value, &v) != 0 || v < 0 || v > 9.0e18) {
			rc = eb_err_set(err, EB_ECORRUPT,
			                "metrics: previous file: bad value '%.40s' for %s",
			                value, name);
			goto out;
		}
		if (strcmp(name, "failures_total") == 0) {
			if (!labels || label_value(labels, "reason", reason, sizeof reason) != 0)
				continue;
			for (i = 0; i < EB_METRICS_NREASONS; i++)
				if (strcmp(reason, eb_metrics_reason_name(i)) == 0)
					add[i] = (uint64_t)v;
		} else if (strcmp(name, "last_success_timestamp_seconds") == 0) {
			last_success = v;
		} else if (strcmp(name, "snapshot_size_bytes") == 0) {
			snap = (int64_t)v;
		} else if (strcmp(name, "stored_size_bytes") == 0) {
			stored = (int64_t)v;
		} else if (strcmp(name, "snapshot_revision") == 0) {
			rev = (int64_t)v;
		} else {
			db = (int64_t)v;
		}
	}
	for (i = 0; i < EB_METRICS_NREASONS; i++)
		prev.failures[i] += add[i];
	if (!prev.ok && prev.last_success_time <= 0)
		prev.last_success_time = last_success;
	if (prev.snapshot_bytes < 0)
		prev.snapshot_bytes = snap;
	if (prev.stored_bytes < 0)
		prev.stored_bytes = stored;
	if (prev.revision < 0)
		prev.revision = rev;
	if (prev.db_size_bytes < 0)
		prev.db_size_bytes = db;
	*m = prev;
out:
	free(copy);
	return rc;
}

/* ---- atomic textfile ------------------------------------------------------ */

static char *
read_prev(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > PREV_MAX)
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
out:
	close(fd);
	return buf;
}

int
eb_metrics_write_file(eb_metrics *m, const char *path, eb_err *err)
{
	char *prev, *text = NULL;
	size_t len = 0;
	eb_err e1;
	int rc;

	if (!path || !*path)
		return eb_err_set(err, EB_EINVAL, "metrics: empty --metrics-file path");
	prev = read_prev(path);
	if (prev) {
		eb_err ignore;
		eb_err_init(&ignore);
		(void)eb_metrics_merge_previous(m, prev, &ignore); /* corrupt: start over */
		free(prev);
	}
	rc = eb_metrics_render(m, 0, &text, &len, err);
	/* 0644 whatever the umask: node_exporter usually runs as another user */
	eb_err_init(&e1);
	if (rc == 0 && (rc = eb_write_file_atomic(path, text, len, EB_WRITE_PUBLIC, &e1)) < 0)
		eb_err_set(err, rc, "metrics: %s", e1.msg);
	free(text);
	return rc;
}
