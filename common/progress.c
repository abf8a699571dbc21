/* common/progress.c - see progress.h. */
#include "common/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define TTY_EVERY_S 0.25
#define JSON_EVERY_S 5.0

/* n in units of base (1000 or 1024), "%.1f" or, si over 10, "%.0f" */
static void
fmt_units(uint64_t n, double base, const char *const *units, int si, char *out, size_t out_len)
{
	double v = (double)n;
	int u = 0;
	while (v >= base && u < 4) {
		v /= base;
		u++;
	}
	if (u == 0)
		snprintf(out, out_len, "%llu B", (unsigned long long)n);
	else
		snprintf(out, out_len, si && v >= 10 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

void
eb_fmt_bytes_si(uint64_t n, char *out, size_t out_len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	fmt_units(n, 1000, units, 1, out, out_len);
}

void
eb_fmt_bytes(uint64_t n, char *out, size_t out_len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	fmt_units(n, 1024, units, 0, out, out_len);
}

void
eb_progress_init(eb_progress *p, const char *what, int want)
{
	memset(p, 0, sizeof *p);
	snprintf(p->what, sizeof p->what, "%s", what);
	if (want == 0)
		p->mode = EB_PROGRESS_OFF;
	else if (eb_log_format() == EB_LOG_JSON)
		p->mode = EB_PROGRESS_JSON;
	else if (want > 0 || isatty(2))
		p->mode = EB_PROGRESS_TTY;
	p->t0 = eb_mono_s();
}

/* rate (bytes/s) and ETA (s, -1 unknown) so far */
static void
rates(const eb_progress *p, double now, double *rate, double *eta)
{
	double t = now - p->t0 > 0.001 ? now - p->t0 : 0.001;
	*rate = (double)p->done / t;
	*eta = p->total && p->done <= p->total && *rate > 0 ? (double)(p->total - p->done) / *rate : -1;
}

static void
draw(eb_progress *p, double now, int final)
{
	char a[32], b[32], r[32], line[200];
	double rate, eta;
	int n;
	rates(p, now, &rate, &eta);
	eb_fmt_bytes(p->done, a, sizeof a);
	eb_fmt_bytes((uint64_t)rate, r, sizeof r);
	if (p->total) {
		eb_fmt_bytes(p->total, b, sizeof b);
		n = snprintf(line, sizeof line, "\r%s  %s / %s  %3.0f%%  %s/s", p->what, a, b,
		             100.0 * (double)(p->done < p->total ? p->done : p->total) / (double)p->total, r);
	} else {
		n = snprintf(line, sizeof line, "\r%s  %s  %s/s", p->what, a, r);
	}
	if (n > 0 && (size_t)n < sizeof line && eta >= 0 && !final)
		n += snprintf(line + n, sizeof line - (size_t)n, "  ETA %d:%02d", (int)eta / 60, (int)eta % 60);
	if (n > 0 && (size_t)n < sizeof line - 8)
		n += snprintf(line + n, sizeof line - (size_t)n, final ? "      \n" : "      ");
	if (n > 0 && write(2, line, (size_t)n) < 0)
		p->mode = EB_PROGRESS_OFF;
	p->drawn = !final;
}

static void
event(eb_progress *p, double now, int final)
{
	char d[24], t[24], pc[16], rt[24], et[24];
	double rate, eta;
	rates(p, now, &rate, &eta);
	snprintf(d, sizeof d, "%llu", (unsigned long long)p->done);
	snprintf(t, sizeof t, "%llu", (unsigned long long)p->total);
	snprintf(pc, sizeof pc, "%.1f", p->total ? 100.0 * (double)p->done / (double)p->total : 0.0);
	snprintf(rt, sizeof rt, "%.0f", rate);
	snprintf(et, sizeof et, "%.0f", eta < 0 ? 0 : eta);
	EB_LOGKV(EB_LOG_INFO, "progress", final ? "done" : p->what, "what", p->what, "bytes", d, "total",
	         p->total ? t : "", "percent", p->total ? pc : "", "rate_bytes_per_second", rt, "eta_seconds",
	         eta >= 0 && !final ? et : "", NULL);
}

void
eb_progress_report(void *arg, uint64_t done, uint64_t total)
{
	eb_progress *p = arg;
	double now = eb_mono_s();
	if (p->mode != EB_PROGRESS_OFF && p->total && total != p->total) {
		/* the next phase (a restore's fetch, then its rewrite): the
		 * last one's line stays, the clock starts again */
		if (p->mode == EB_PROGRESS_TTY && p->drawn)
			draw(p, now, 1);
		p->t0 = now;
		p->last = 0;
	}
	p->done = done;
	p->total = total;
	if (p->mode == EB_PROGRESS_OFF)
		return;
	if (now - p->last < (p->mode == EB_PROGRESS_TTY ? TTY_EVERY_S : JSON_EVERY_S))
		return;
	p->last = now;
	if (p->mode == EB_PROGRESS_TTY)
		draw(p, now, 0);
	else
		event(p, now, 0);
}

void
eb_progress_end(eb_progress *p)
{
	double now = eb_mono_s();
	if (p->mode == EB_PROGRESS_TTY && (p->drawn || p->done))
		draw(p, now, 1);
	else if (p->mode == EB_PROGRESS_JSON && p->last > 0)
		event(p, now, 1);
	p->mode = EB_PROGRESS_OFF;
}

/* ---- the counting stage ---- */

typedef struct pstage {
	eb_stream base;
	eb_progress_cb cb;
	uint64_t total, n;
} pstage;

static int
ps_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	pstage *p = (pstage *)s;
	int rc = eb_stream_write(s->next, buf, len, err);
	p->n += len;
	if (rc == 0 && p->cb.fn)
		p->cb.fn(p->cb.arg, p->n, p->total);
	return rc;
}

static int
ps_finish(eb_stream *s, eb_err *err)
{
	return eb_stream_finish(s->next, err);
}

static void
ps_free(eb_stream *s)
{
	free(s);
}

static const eb_stream_ops ps_ops = {"progress", ps_write, ps_finish, ps_free};

int
eb_progress_stage_new(eb_stream **out, const eb_progress_cb *cb, uint64_t total, eb_stream *next, eb_err *err)
{
	pstage *p = calloc(1, sizeof *p);
	*out = NULL;
	if (!p)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&p->base, &ps_ops, next);
	if (cb)
		p->cb = *cb;
	p->total = total;
	*out = &p->base;
	return 0;
}
