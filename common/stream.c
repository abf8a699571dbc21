#include "common/stream.h"

#include "common/bytes.h"

#include <stdlib.h>

#include "common/interrupt.h"

void
eb_stream_init(eb_stream *s, const eb_stream_ops *ops, eb_stream *next)
{
	s->ops = ops;
	s->next = next;
	s->nbytes_in = 0;
	s->failed = 0;
	s->finished = 0;
}

int
eb_stream_write(eb_stream *s, const void *buf, size_t len, eb_err *err)
{
	int rc;
	if (s->failed)
		return eb_err_set(err, s->failed, "%s stage already failed",
		                  s->ops->name);
	if (s->finished)
		return eb_err_set(err, EB_EINVAL, "%s stage written after finish",
		                  s->ops->name);
	if (len == 0)
		return 0;
	/* SIGINT/SIGTERM stop the data wherever it is (common/interrupt.h) */
	if ((rc = eb_interrupt_check(err, "moving data")) < 0) {
		s->failed = rc;
		return rc;
	}
	rc = s->ops->write(s, buf, len, err);
	if (rc < 0) {
		s->failed = rc;
		return rc;
	}
	s->nbytes_in += len;
	return 0;
}

int
eb_stream_finish(eb_stream *s, eb_err *err)
{
	int rc;
	if (s->failed)
		return eb_err_set(err, s->failed, "%s stage already failed",
		                  s->ops->name);
	if (s->finished)
		return 0;
	if ((rc = eb_interrupt_check(err, "committing")) < 0) {
		s->failed = rc;
		return rc;
	}
	rc = s->ops->finish(s, err);
	if (rc < 0) {
		s->failed = rc;
		return rc;
	}
	s->finished = 1;
	return 0;
}

void
eb_stream_free_chain(eb_stream *s)
{
	while (s) {
		eb_stream *next = s->next;
		s->ops->free(s);
		s = next;
	}
}

/* ---- null sink ---- */

static int
null_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	(void)s; (void)buf; (void)len; (void)err;
	return 0;
}

static int
null_finish(eb_stream *s, eb_err *err)
{
	(void)s; (void)err;
	return 0;
}

static void
plain_free(eb_stream *s)
{
	free(s);
}

static const eb_stream_ops null_ops = {"null", null_write, null_finish,
                                       plain_free};

int
eb_null_sink_new(eb_stream **out, eb_err *err)
{
	eb_stream *s = malloc(sizeof *s);
	if (!s)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(s, &null_ops, NULL);
	*out = s;
	return 0;
}

/* ---- memory sink ---- */

typedef struct {
	eb_stream base;
	eb_wbuf *dst;
	size_t max;
} mem_sink;

static int
mem_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	mem_sink *m = (mem_sink *)s;
	if (len > m->max - m->dst->len)
		return eb_err_set(err, EB_ECORRUPT, "object larger than the %zu bytes expected", m->max);
	eb_wbuf_put(m->dst, buf, len);
	return eb_wbuf_check(m->dst, err);
}

static int mem_finish(eb_stream *s, eb_err *err) { (void)s; (void)err; return 0; }
static void mem_free(eb_stream *s) { free(s); }
static const eb_stream_ops mem_ops = {"memory", mem_write, mem_finish, mem_free};

int
eb_mem_sink_new(eb_stream **out, eb_wbuf *dst, size_t max, eb_err *err)
{
	mem_sink *m = malloc(sizeof *m);
	if (!m)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&m->base, &mem_ops, NULL);
	m->dst = dst;
	m->max = max;
	*out = &m->base;
	return 0;
}

/* ---- fault stage ---- */

typedef struct {
	eb_stream base;
	uint64_t budget;
} fault_stage;

static int
fault_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	fault_stage *f = (fault_stage *)s;
	if (len > f->budget)
		return eb_err_set(err, EB_EIO, "injected fault after %llu bytes",
		                  (unsigned long long)s->nbytes_in + f->budget);
	f->budget -= len;
	return eb_stream_write(s->next, buf, len, err);
}

static int
fault_finish(eb_stream *s, eb_err *err)
{
	return eb_stream_finish(s->next, err);
}

static const eb_stream_ops fault_ops = {"fault", fault_write, fault_finish,
                                        plain_free};

int
eb_fault_stage_new(eb_stream **out, uint64_t fail_after_bytes,
                   eb_stream *next, eb_err *err)
{
	fault_stage *f = malloc(sizeof *f);
	if (!f)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&f->base, &fault_ops, next);
	f->budget = fail_after_bytes;
	*out = &f->base;
	return 0;
}

int
eb_stream_feed_cb(void *feed, const uint8_t *buf, size_t len)
{
	eb_stream_feed *f = feed;
	return eb_stream_write(f->sink, buf, len, f->err);
}
