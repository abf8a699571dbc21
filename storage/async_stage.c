#include "storage/async_stage.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUF 4
#define BUF_SIZE (1u << 20)

typedef struct {
	uint8_t *p;
	size_t len;
} abuf;

typedef struct {
	eb_stream base;
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	abuf bufs[NBUF];
	size_t head, count; /* ring of full buffers: [head, head+count) */
	abuf fill;          /* being filled by the producer */
	int closing;        /* producer is done (finish) */
	int stop;           /* abort: worker quits at once */
	int werr;           /* worker's error code, 0 while healthy */
	eb_err wmsg;        /* worker's error message */
	abuf spare[NBUF + 1];
	size_t nspare;
} async_stage;

static void *
worker(void *arg)
{
	async_stage *a = arg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		abuf b;
		int rc;
		while (!a->count && !a->closing && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop || (!a->count && a->closing))
			break;
		b = a->bufs[a->head];
		a->head = (a->head + 1) % NBUF;
		a->count--;
		pthread_mutex_unlock(&a->mu);
		rc = eb_stream_write(a->base.next, b.p, b.len, &a->wmsg);
		pthread_mutex_lock(&a->mu);
		if (rc < 0) {
			a->werr = rc;
			a->stop = 1; /* nothing after a failed write is worth writing */
		}
		b.len = 0;
		a->spare[a->nspare++] = b; /* the buffer goes back to the producer */
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static int
worker_error(async_stage *a, eb_err *err)
{
	return eb_err_set(err, a->werr, "%s", a->wmsg.msg);
}

/* Queues the fill buffer; waits for a spare one.  Called with mu held.
 * The queued buffer belongs to the ring from then on, even on error. */
static int
push_fill(async_stage *a, eb_err *err)
{
	if (a->werr)
		return worker_error(a, err);
	a->bufs[(a->head + a->count) % NBUF] = a->fill;
	a->count++;
	a->fill.p = NULL;
	a->fill.len = 0;
	pthread_cond_broadcast(&a->cv);
	while (!a->nspare && !a->werr)
		pthread_cond_wait(&a->cv, &a->mu);
	if (!a->nspare)
		return worker_error(a, err);
	a->fill = a->spare[--a->nspare];
	return 0;
}

static int
as_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	async_stage *a = (async_stage *)s;
	int rc = 0;
	/* a worker error surfaces at the next hand-over (push_fill) */
	while (len > 0 && rc == 0) {
		size_t n = BUF_SIZE - a->fill.len < len ? BUF_SIZE - a->fill.len : len;
		memcpy(a->fill.p + a->fill.len, buf, n);
		a->fill.len += n;
		buf += n;
		len -= n;
		if (a->fill.len == BUF_SIZE) {
			pthread_mutex_lock(&a->mu);
			rc = push_fill(a, err);
			pthread_mutex_unlock(&a->mu);
		}
	}
	return rc;
}

static int
as_finish(eb_stream *s, eb_err *err)
{
	async_stage *a = (async_stage *)s;
	int rc = 0;
	pthread_mutex_lock(&a->mu);
	if (a->fill.len)
		rc = push_fill(a, err);
	a->closing = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	a->started = 0;
	if (rc == 0 && a->werr)
		rc = worker_error(a, err);
	return rc < 0 ? rc : eb_stream_finish(s->next, err);
}

static void
as_free(eb_stream *s)
{
	async_stage *a = (async_stage *)s;
	if (a->started) {
		pthread_mutex_lock(&a->mu);
		a->stop = 1;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->th, NULL);
	}
	for (size_t i = 0; i < a->count; i++)
		free(a->bufs[(a->head + i) % NBUF].p);
	for (size_t i = 0; i < a->nspare; i++)
		free(a->spare[i].p);
	free(a->fill.p);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}

static const eb_stream_ops async_ops = {"async", as_write, as_finish, as_free};

int
eb_async_stage_new(eb_stream **out, eb_stream *next, eb_err *err)
{
	async_stage *a = calloc(1, sizeof *a);
	if (!a)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&a->base, &async_ops, next);
	eb_err_init(&a->wmsg);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	/* NBUF queued + 1 being filled; the worker holds one outside the ring */
	for (size_t i = 0; i < NBUF; i++) {
		if (!(a->spare[a->nspare].p = malloc(BUF_SIZE))) {
			as_free(&a->base);
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		}
		a->nspare++;
	}
	a->fill = a->spare[--a->nspare];
	if (pthread_create(&a->th, NULL, worker, a) != 0) {
		as_free(&a->base);
		return eb_err_set(err, EB_ENOMEM, "cannot start a worker thread");
	}
	a->started = 1;
	*out = &a->base;
	return 0;
}
