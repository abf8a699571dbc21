/* storage/parts.c - see parts.h. */
#include "storage/parts.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUFS 8
#define MAX_WORKERS 4

typedef struct {
	uint8_t *buf;
	size_t len;
	int num;
} part;

struct eb_parts {
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* a part queued, a buffer freed, a send ended */
	size_t part_size;
	eb_parts_send send;
	void *ctx;
	part bufs[MAX_BUFS];
	part *freel[MAX_BUFS];
	int nfree, nbufs;
	part *queue[MAX_BUFS];      /* full parts, FIFO */
	int qhead, qlen;
	part *cur;                  /* the producer's, filling */
	int next_num, inflight, stop;
	int cancel;                 /* read by in-flight sends (atomically) */
	int fail;                   /* first send error */
	eb_err ferr;
	pthread_t th[MAX_WORKERS];
	int nworkers;
};

typedef struct {
	eb_parts *p;
	int w;
} worker_arg;

/* One worker: takes the oldest queued part, sends it, frees its buffer. */
static void *
worker(void *arg)
{
	eb_parts *p = ((worker_arg *)arg)->p;
	int w = ((worker_arg *)arg)->w;
	free(arg);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		part *pt;
		eb_err e;
		int rc;
		while (!p->qlen && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->qlen || p->fail)
			break; /* stopping, or a send failed: take no more */
		pt = p->queue[p->qhead];
		p->qhead = (p->qhead + 1) % MAX_BUFS;
		p->qlen--;
		p->inflight++;
		pthread_mutex_unlock(&p->mu);
		eb_err_init(&e);
		rc = p->send(p->ctx, w, pt->num, pt->buf, pt->len, &e);
		pthread_mutex_lock(&p->mu);
		p->inflight--;
		if (rc && !p->fail) {
			p->fail = rc;
			p->ferr = e;
			__atomic_store_n(&p->cancel, 1, __ATOMIC_RELEASE);
		}
		pt->len = 0;
		p->freel[p->nfree++] = pt;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

void
eb_parts_free(eb_parts *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	__atomic_store_n(&p->cancel, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nworkers; i++)
		pthread_join(p->th[i], NULL);
	for (int i = 0; i < p->nbufs; i++)
		free(p->bufs[i].buf);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int
eb_parts_new(eb_parts **out, size_t part_size, int nbufs, int nworkers, eb_parts_send send,
             void *ctx, eb_err *err)
{
	eb_parts *p = calloc(1, sizeof *p);
	*out = NULL;
	if (!p)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->part_size = part_size;
	p->send = send;
	p->ctx = ctx;
	p->nbufs = nbufs < 2 ? 2 : nbufs > MAX_BUFS ? MAX_BUFS : nbufs;
	nworkers = nworkers < 1 ? 1 : nworkers > MAX_WORKERS ? MAX_WORKERS : nworkers;
	if (nworkers >= p->nbufs)
		nworkers = p->nbufs - 1; /* one buffer stays the producer's */
	for (int i = 0; i < p->nbufs; i++) {
		if (!(p->bufs[i].buf = malloc(part_size))) {
			eb_parts_free(p);
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		}
		p->freel[p->nfree++] = &p->bufs[i];
	}
	for (int i = 0; i < nworkers; i++) {
		worker_arg *a = malloc(sizeof *a);
		if (!a || (*a = (worker_arg){p, i}, pthread_create(&p->th[i], NULL, worker, a)) != 0) {
			free(a);
			eb_parts_free(p);
			return eb_err_set(err, EB_ENOMEM, "cannot start an upload thread");
		}
		p->nworkers++;
	}
	*out = p;
	return 0;
}

/* The first send error, into err (caller holds mu). */
static int
failed(eb_parts *p, eb_err *err)
{
	return eb_err_set(err, p->fail, "%s", p->ferr.msg);
}

/* Queues the producer's buffer (caller holds mu). */
static void
enqueue_cur(eb_parts *p)
{
	p->cur->num = p->next_num++;
	p->queue[(p->qhead + p->qlen) % MAX_BUFS] = p->cur;
	p->qlen++;
	p->cur = NULL;
	pthread_cond_broadcast(&p->cv);
}

int
eb_parts_write(eb_parts *p, const uint8_t *buf, size_t len, eb_err *err)
{
	while (len > 0) {
		size_t n;
		if (!p->cur) {
			pthread_mutex_lock(&p->mu);
			while (!p->nfree && !p->fail)
				pthread_cond_wait(&p->cv, &p->mu);
			if (p->fail) {
				int rc = failed(p, err);
				pthread_mutex_unlock(&p->mu);
				return rc;
			}
			p->cur = p->freel[--p->nfree];
			pthread_mutex_unlock(&p->mu);
		}
		n = p->part_size - p->cur->len < len ? p->part_size - p->cur->len : len;
		memcpy(p->cur->buf + p->cur->len, buf, n);
		p->cur->len += n;
		buf += n;
		len -= n;
		if (p->cur->len == p->part_size) {
			int rc = 0;
			pthread_mutex_lock(&p->mu);
			enqueue_cur(p);
			if (p->fail)
				rc = failed(p, err);
			pthread_mutex_unlock(&p->mu);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int
eb_parts_flush(eb_parts *p, int *nparts, eb_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	if (p->cur && p->cur->len)
		enqueue_cur(p);
	else if (p->cur)
		p->freel[p->nfree++] = p->cur, p->cur = NULL;
	while ((p->qlen || p->inflight) && !p->fail)
		pthread_cond_wait(&p->cv, &p->mu);
	while (p->inflight) /* a failure: let the others end */
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->fail)
		rc = failed(p, err);
	*nparts = p->next_num;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

const int *
eb_parts_cancel_flag(const eb_parts *p)
{
	return &p->cancel;
}
