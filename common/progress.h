/* common/progress.h - how far a long copy has got, for a person waiting.
 *
 * Libraries report bytes through an eb_progress_cb (a counting stage
 * passes what flows through it); the programs hand in eb_progress_report
 * with an eb_progress that shows it:
 *   - on a terminal (stderr), a line redrawn 4 times a second:
 *       restore  512.0 MiB / 1.1 GiB  45%  98 MiB/s  ETA 0:07
 *   - with --log-format json, a "progress" event every 5 s (and one at the
 *     end): bytes, total, percent, rate_bytes_per_second, eta_seconds;
 *   - otherwise nothing (a CronJob's log stays quiet). */
#ifndef EB_PROGRESS_H
#define EB_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/stream.h"

typedef struct eb_progress_cb {
	void (*fn)(void *arg, uint64_t done, uint64_t total);
	void *arg;
} eb_progress_cb;

enum { EB_PROGRESS_OFF = 0, EB_PROGRESS_TTY = 1, EB_PROGRESS_JSON = 2 };

typedef struct eb_progress {
	char what[32];       /* "snapshot", "restore", "get"... */
	int mode;            /* EB_PROGRESS_* */
	double t0, last;
	uint64_t done, total;
	int drawn;           /* a terminal line is showing */
} eb_progress;

/* want: 1 show, 0 never, -1 on a terminal or with JSON logs. */
void eb_progress_init(eb_progress *p, const char *what, int want);
/* An eb_progress_cb's fn: arg is the eb_progress; total 0 = unknown. */
void eb_progress_report(void *arg, uint64_t done, uint64_t total);
/* The last line (the terminal's ends with a newline) or event. */
void eb_progress_end(eb_progress *p);
static inline eb_progress_cb eb_progress_cb_of(eb_progress *p)
{ eb_progress_cb cb = {eb_progress_report, p}; return cb; }

/* A pass-through stage reporting the bytes written through it so far
 * (cb copied; cb->fn NULL: none) against total. */
int eb_progress_stage_new(eb_stream **out, const eb_progress_cb *cb, uint64_t total, eb_stream *next,
                          eb_err *err);

/* "1.5 MiB" style, into out. */
void eb_fmt_bytes(uint64_t n, char *out, size_t out_len);
/* "1.2 GB" style (SI, etcdctl's humanize.Bytes), for output that mirrors
 * etcdctl's. */
void eb_fmt_bytes_si(uint64_t n, char *out, size_t out_len);

#endif
