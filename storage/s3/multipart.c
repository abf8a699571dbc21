/* storage/s3/multipart.c - see multipart.h. */
#include "storage/s3/multipart.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "common/crypto.h"
#include "storage/s3/xml.h"

#define MAX_PARTS 10000
#define MAX_PART_SIZE ((size_t)5 << 30) /* S3's limit for one part */
#define MAX_BUFS 8
#define NWORKERS_MAX 4

typedef struct part {
	uint8_t *buf;
	size_t len, cap;
	int num;
} part;

typedef struct up {
	eb_stream base;
	eb_s3 *s;
	char *key;
	eb_http *h;              /* the producer's connection */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	part bufs[MAX_BUFS];
	part *freel[MAX_BUFS];   /* free buffers */
	int nfree;
	part *queue[MAX_BUFS];   /* full parts waiting for a thread, FIFO */
	int qhead, qlen;
	part *cur;               /* filling */
	int nbufs, nworkers, started;
	pthread_t th[NWORKERS_MAX];
	eb_http *wh[NWORKERS_MAX];
	int inflight, stop, cancel;
	int wfail;               /* first worker error code */
	eb_err werr;
	char *upload_id;
	char **etags;            /* [part number - 1] */
	int nparts;              /* parts handed to workers so far */
	uint64_t total;
} up;

static int
set_worker_error(up *u, int rc, const eb_err *e)
{
	/* caller holds mu */
	if (!u->wfail) {
		u->wfail = rc;
		u->werr = *e;
		__atomic_store_n(&u->cancel, 1, __ATOMIC_RELEASE);
	}
	return rc;
}

static int
upload_part(up *u, eb_http *h, part *p, char **etag, eb_err *err)
{
	char hex[65];
	uint8_t d[EB_SHA256_LEN];
	eb_s3_query qq = {0};
	char *qs = NULL, num[16];
	eb_s3_call c = {0};
	eb_http_resp r;
	int rc;

	snprintf(num, sizeof num, "%d", p->num);
	if (eb_s3_query_add(&qq, "partNumber", num) ||
	    eb_s3_query_add(&qq, "uploadId", u->upload_id) ||
	    eb_s3_query_build(&qq, &qs)) {
		eb_s3_query_dispose(&qq);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	eb_s3_query_dispose(&qq);
	eb_sha256_buf(p->buf, p->len, d);
	eb_hex(d, sizeof d, hex);
	c.op = "UploadPart";
	c.method = "PUT";
	c.key = u->key;
	c.query = qs;
	c.body = p->buf;
	c.body_len = p->len;
	c.payload_sha256 = hex;
	c.cancel = &u->cancel;
	rc = eb_s3_call_do(u->s, h, &c, &r, err);
	if (rc == 0) {
		if (!r.etag[0])
			rc = eb_err_set(err, EB_EREMOTE,
			                "S3 UploadPart s3://%s/%s part %d: no ETag in the answer",
			                u->s->bucket, u->key, p->num);
		else if (!(*etag = strdup(r.etag)))
			rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	eb_http_resp_dispose(&r);
	free(qs);
	return rc;
}

static void *
worker(void *arg)
{
	up *u = ((void **)arg)[0];
	eb_http *h = ((void **)arg)[1];
	free(arg);
	pthread_mutex_lock(&u->mu);
	for (;;) {
		part *p;
		char *etag = NULL;
		eb_err e;
		int rc;
		while (!u->qlen && !u->stop)
			pthread_cond_wait(&u->cv, &u->mu);
		if (!u->qlen)
			break;
		p = u->queue[u->qhead];
		u->qhead = (u->qhead + 1) % MAX_BUFS;
		u->qlen--;
		if (u->wfail) { /* drain without uploading */
			u->freel[u->nfree++] = p;
			pthread_cond_broadcast(&u->cv);
			continue;
		}
		u->inflight++;
		pthread_mutex_unlock(&u->mu);
		eb_err_init(&e);
		rc = upload_part(u, h, p, &etag, &e);
		pthread_mutex_lock(&u->mu);
		u->inflight--;
		if (rc)
			set_worker_error(u, rc, &e);
		else
			u->etags[p->num - 1] = etag;
		p->len = 0;
		u->freel[u->nfree++] = p;
		pthread_cond_broadcast(&u->cv);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

static int
create_upload(up *u, eb_err *err)
{
	eb_s3_call c = {0};
	eb_http_resp r;
	eb_xml_span d, id;
	int rc;
	c.op = "CreateMultipartUpload";
	c.method = "POST";
	c.new_object = 1;
	c.key = u->key;
	c.query = "uploads=";
	c.content_type = "application/octet-stream";
	rc = eb_s3_call_do(u->s, u->h, &c, &r, err);
	if (rc == 0) {
		d.p = r.body ? r.body : "";
		d.len = r.len;
		if (eb_xml_find(d, "UploadId", &id) != 1 || !(u->upload_id = eb_xml_text(id)) ||
		    !u->upload_id[0])
			rc = eb_err_set(err, EB_EREMOTE,
			                "S3 CreateMultipartUpload s3://%s/%s: no UploadId in the answer",
			                u->s->bucket, u->key);
	}
	eb_http_resp_dispose(&r);
	return rc;
}

static int
start_workers(up *u, eb_err *err)
{
	int rc;
	if ((rc = create_upload(u, err)))
		return rc;
	u->etags = calloc(MAX_PARTS, sizeof *u->etags);
	if (!u->etags)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	for (int i = 0; i < u->nworkers; i++) {
		void **arg = malloc(2 * sizeof *arg);
		if (!arg)
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		if ((rc = eb_http_new(&u->wh[i], u->s->ca_file, err))) {
			free(arg);
			return rc;
		}
		arg[0] = u;
		arg[1] = u->wh[i];
		if (pthread_create(&u->th[i], NULL, worker, arg) != 0) {
			free(arg);
			return eb_err_set(err, EB_ENOMEM, "cannot start an upload thread");
		}
		u->started++;
	}
	return 0;
}

/* Hands the current buffer to the workers and takes a free one.  Blocks
 * while every buffer is full or in flight (backpressure on the producer). */
static int
push_part(up *u, eb_err *err)
{
	int rc = 0;
	if (u->nparts >= MAX_PARTS)
		return eb_err_set(err, EB_EINVAL,
		                  "S3 upload s3://%s/%s: more than %d parts (%llu bytes); "
		                  "raise EB_S3_PART_SIZE", u->s->bucket, u->key,
		                  MAX_PARTS, (unsigned long long)u->total);
	pthread_mutex_lock(&u->mu);
	u->cur->num = ++u->nparts;
	u->queue[(u->qhead + u->qlen) % MAX_BUFS] = u->cur;
	u->qlen++;
	u->cur = NULL;
	pthread_cond_broadcast(&u->cv);
	while (!u->nfree && !u->wfail)
		pthread_cond_wait(&u->cv, &u->mu);
	if (u->wfail)
		rc = eb_err_set(err, u->wfail, "%s", u->werr.msg);
	else {
		u->cur = u->freel[--u->nfree];
		u->cur->len = 0;
	}
	pthread_mutex_unlock(&u->mu);
	return rc;
}

/* Size of part n (1-based): the base size for the first 2000 parts
 * (s->part_double_every), then doubling every 2000 parts, at most S3's
 * 5 GiB.  With the default 8 MiB base, objects up to ~15.6 GiB (compressed,
 * beyond etcd's 8 GiB quota limit) use 8 MiB parts, so memory stays flat;
 * 10,000 parts still cover ~484 GiB. */
static size_t
part_size_for(const up *u, int n)
{
	size_t ps = u->s->part_size;
	for (int k = (n - 1) / u->s->part_double_every; k > 0 && ps <= MAX_PART_SIZE / 2; k--)
		ps *= 2;
	return ps;
}

static int
ensure_buffer(up *u, eb_err *err)
{
	size_t want = part_size_for(u, u->nparts + 1);
	if (!u->cur) {
		u->cur = u->freel[--u->nfree];
		u->cur->len = 0;
	}
	if (u->cur->cap < want) {
		uint8_t *b = realloc(u->cur->buf, want);
		if (!b)
			return eb_err_set(err, EB_ENOMEM, "out of memory for a %zu MiB S3 part buffer",
			                  want >> 20);
		u->cur->buf = b;
		u->cur->cap = want;
	}
	return 0;
}

static int
up_write(eb_stream *st, const uint8_t *buf, size_t len, eb_err *err)
{
	up *u = (up *)st;
	int rc;
	while (len) {
		size_t n, ps = part_size_for(u, u->nparts + 1);
		if ((rc = ensure_buffer(u, err)))
			return rc;
		n = ps - u->cur->len;
		if (n > len)
			n = len;
		memcpy(u->cur->buf + u->cur->len, buf, n);
		u->cur->len += n;
		u->total += n;
		buf += n;
		len -= n;
		if (u->cur->len == ps) {
			if (!u->upload_id && (rc = start_workers(u, err)))
				return rc;
			if ((rc = push_part(u, err)))
				return rc;
		}
	}
	return 0;
}

static void
stop_workers(up *u)
{
	pthread_mutex_lock(&u->mu);
	u->stop = 1;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	for (int i = 0; i < u->started; i++)
		pthread_join(u->th[i], NULL);
	u->started = 0;
}

/* HEAD of our key: its ETag (quotes stripped) and size; "" and -1 when
 * there is no object (or no answer). */
static void
head_object(up *u, char *etag, size_t len, int64_t *size)
{
	eb_s3_call c = {0};
	eb_http_resp r;
	eb_err e;
	eb_err_init(&e);
	etag[0] = '\0';
	*size = -1;
	c.op = "HeadObject";
	c.method = "HEAD";
	c.key = u->key;
	if (eb_s3_call_do(u->s, u->h, &c, &r, &e) == 0) {
		const char *p = r.etag[0] == '"' ? r.etag + 1 : r.etag;
		snprintf(etag, len, "%.*s", (int)strcspn(p, "\""), p);
		*size = r.content_length;
	}
	eb_http_resp_dispose(&r);
}

/* Objects are created with If-None-Match: * (a backup never replaces
 * another).  When a retry of our own request is what finds the key taken
 * (the first answer was lost), the object is ours if its ETag is the one
 * our bytes give: the MD5 of a single PUT's body, or for a multipart
 * upload the MD5 of the parts' MD5s followed by "-N". */
static int
exists_is_ours(up *u, const uint8_t *body, size_t body_len)
{
	char got[80], want[80];
	uint8_t md5[EB_MD5_LEN];
	int64_t size;
	head_object(u, got, sizeof got, &size);
	if (!u->upload_id) {
		eb_md5_buf(body, body_len, md5);
		eb_hex(md5, sizeof md5, want);
	} else {
		uint8_t *cat = malloc((size_t)u->nparts * EB_MD5_LEN + 1);
		if (!cat)
			return 0;
		for (int i = 0; i < u->nparts; i++) {
			const char *e = u->etags[i][0] == '"' ? u->etags[i] + 1 : u->etags[i];
			char hex[2 * EB_MD5_LEN + 1];
			snprintf(hex, sizeof hex, "%.*s", (int)strcspn(e, "\""), e);
			if (eb_unhex(hex, cat + (size_t)i * EB_MD5_LEN, EB_MD5_LEN) < 0) {
				free(cat); /* not an MD5 (SSE-KMS): cannot tell */
				return 0;
			}
		}
		eb_md5_buf(cat, (size_t)u->nparts * EB_MD5_LEN, md5);
		free(cat);
		eb_hex(md5, sizeof md5, want);
		snprintf(want + 2 * EB_MD5_LEN, sizeof want - 2 * EB_MD5_LEN, "-%d", u->nparts);
	}
	return got[0] && strcasecmp(got, want) == 0;
}

static int
put_single(up *u, eb_err *err)
{
	eb_s3_call c = {0};
	eb_http_resp r;
	eb_err e;
	int rc;
	c.op = "PutObject";
	c.method = "PUT";
	c.key = u->key;
	c.body = u->cur && u->cur->buf ? u->cur->buf : (const uint8_t *)"";
	c.body_len = u->cur ? u->cur->len : 0;
	c.content_type = "application/octet-stream";
	c.if_none_match = 1;
	c.new_object = 1;
	eb_err_init(&e);
	rc = eb_s3_call_do(u->s, u->h, &c, &r, &e);
	eb_http_resp_dispose(&r);
	if (rc == EB_EEXIST && exists_is_ours(u, c.body, c.body_len))
		rc = 0;
	else if (rc)
		eb_err_set(err, rc, "%s", e.msg);
	return rc;
}

/* After a lost answer to Complete, a retry finds the upload gone: the object
 * is there if HEAD shows our size. */
static int
object_has_size(up *u, uint64_t size)
{
	char etag[80];
	int64_t have;
	head_object(u, etag, sizeof etag, &have);
	return have == (int64_t)size;
}

static int
complete(up *u, eb_err *err)
{
	eb_buf x = {0};
	eb_s3_query qq = {0};
	char *qs = NULL;
	eb_s3_call c = {0};
	eb_http_resp r;
	int rc = 0;
	rc |= eb_buf_puts(&x, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (int i = 0; i < u->nparts && !rc; i++)
		rc |= eb_buf_printf(&x, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
		                  i + 1, u->etags[i]);
	rc |= eb_buf_puts(&x, "</CompleteMultipartUpload>");
	if (rc || eb_s3_query_add(&qq, "uploadId", u->upload_id) || eb_s3_query_build(&qq, &qs)) {
		eb_buf_dispose(&x);
		eb_s3_query_dispose(&qq);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	/* Complete carries If-None-Match: *, but not every server honours it
	 * there (Ceph RGW 16 ignores it): look first, so that an existing
	 * object is never replaced (only a writer completing in the same
	 * instant could slip between the two on such a server) */
	{
		char have[80];
		int64_t size;
		head_object(u, have, sizeof have, &size);
		if (size >= 0 || have[0]) {
			eb_buf_dispose(&x);
			eb_s3_query_dispose(&qq);
			free(qs);
			return eb_err_set(err, EB_EEXIST, "S3 CompleteMultipartUpload s3://%s/%s: the object "
			                  "already exists; not overwritten", u->s->bucket, u->key);
		}
	}
	c.op = "CompleteMultipartUpload";
	c.method = "POST";
	c.key = u->key;
	c.query = qs;
	c.body = (const uint8_t *)x.p;
	c.body_len = x.len;
	c.content_type = "application/xml";
	c.error_in_200 = 1; /* S3 may answer 200 and put the error in the body */
	c.if_none_match = 1;
	{
		eb_err e;
		eb_err_init(&e);
		rc = eb_s3_call_do(u->s, u->h, &c, &r, &e);
		if (rc == EB_ENOTFOUND && object_has_size(u, u->total))
			rc = 0;
		else if (rc == EB_EEXIST && exists_is_ours(u, NULL, 0))
			rc = 0;
		else if (rc)
			eb_err_set(err, rc, "%s", e.msg);
	}
	eb_http_resp_dispose(&r);
	eb_buf_dispose(&x);
	eb_s3_query_dispose(&qq);
	free(qs);
	return rc;
}

/* PutObjectRetention after CompleteMultipartUpload: the lock headers of
 * CreateMultipartUpload are not applied by every server (Ceph RGW 16
 * drops them: measured), so the retention is set once more on the
 * completed object.  No backup exists yet (its manifest comes later). */
static int
put_retention(up *u, eb_err *err)
{
	eb_s3_call c = {0};
	eb_http_resp r;
	char body[256], until[32];
	time_t t = time(NULL) + (time_t)u->s->lock_days * 86400;
	struct tm tm;
	int rc;
	gmtime_r(&t, &tm);
	strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(body, sizeof body,
	         "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>%s</Mode>"
	         "<RetainUntilDate>%s</RetainUntilDate></Retention>", u->s->lock_mode, until);
	c.op = "PutObjectRetention";
	c.method = "PUT";
	c.key = u->key;
	c.query = "retention=";
	c.body = (const uint8_t *)body;
	c.body_len = strlen(body);
	c.content_type = "application/xml";
	rc = eb_s3_call_do(u->s, u->h, &c, &r, err);
	eb_http_resp_dispose(&r);
	return rc;
}

static int
up_finish(eb_stream *st, eb_err *err)
{
	up *u = (up *)st;
	int rc = 0;
	if (!u->upload_id)
		return put_single(u, err);
	if (u->cur && u->cur->len) {
		if ((rc = push_part(u, err)))
			return rc;
	}
	pthread_mutex_lock(&u->mu);
	while ((u->qlen || u->inflight) && !u->wfail)
		pthread_cond_wait(&u->cv, &u->mu);
	if (u->wfail)
		rc = eb_err_set(err, u->wfail, "%s", u->werr.msg);
	pthread_mutex_unlock(&u->mu);
	stop_workers(u);
	if (rc)
		return rc;
	if ((rc = complete(u, err)))
		return rc;
	free(u->upload_id); /* committed: nothing to abort any more */
	u->upload_id = NULL;
	if (u->s->lock_mode && (rc = put_retention(u, err)) < 0) {
		eb_err e;
		eb_err_init(&e);
		eb_s3_delete_key(u->s, u->h, u->key, &e); /* no unlocked object is left */
	}
	return rc;
}

static void
abort_upload(up *u)
{
	eb_s3_query qq = {0};
	char *qs = NULL;
	eb_s3_call c = {0};
	eb_http_resp r;
	eb_err e;
	eb_err_init(&e);
	if (eb_s3_query_add(&qq, "uploadId", u->upload_id) || eb_s3_query_build(&qq, &qs)) {
		eb_s3_query_dispose(&qq);
		return;
	}
	c.op = "AbortMultipartUpload";
	c.method = "DELETE";
	c.key = u->key;
	c.query = qs;
	c.cleanup = 1; /* runs after SIGTERM too: that is often why */
	/* best effort: a lost abort leaves an invisible upload that
	 * eb_s3_abort_incomplete removes later */
	eb_s3_call_do(u->s, u->h, &c, &r, &e);
	eb_http_resp_dispose(&r);
	eb_s3_query_dispose(&qq);
	free(qs);
}

static void
up_free(eb_stream *st)
{
	up *u = (up *)st;
	pthread_mutex_lock(&u->mu);
	if (!st->finished)
		__atomic_store_n(&u->cancel, 1, __ATOMIC_RELEASE);
	/* queued parts are dropped, not uploaded */
	if (!st->finished && !u->wfail) {
		eb_err e;
		eb_err_init(&e);
		eb_err_set(&e, EB_EIO, "upload abandoned");
		set_worker_error(u, EB_EIO, &e);
	}
	pthread_mutex_unlock(&u->mu);
	stop_workers(u);
	if (u->upload_id)
		abort_upload(u);
	for (int i = 0; i < u->nbufs; i++)
		free(u->bufs[i].buf);
	for (int i = 0; u->etags && i < MAX_PARTS; i++)
		free(u->etags[i]);
	free(u->etags);
	for (int i = 0; i < NWORKERS_MAX; i++)
		eb_http_free(u->wh[i]);
	eb_http_free(u->h);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	free(u->upload_id);
	free(u->key);
	free(u);
}

static const eb_stream_ops up_ops = {"s3", up_write, up_finish, up_free};

int
eb_s3_upload_parts(const eb_stream *st)
{
	return st->ops == &up_ops ? ((const up *)st)->nparts : -1;
}

int
eb_s3_upload_new(eb_s3 *s, const char *key, eb_stream **out, eb_err *err)
{
	up *u = calloc(1, sizeof *u);
	int rc;
	if (!u)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&u->base, &up_ops, NULL);
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	u->s = s;
	u->nbufs = s->nbufs < 2 ? 2 : s->nbufs > MAX_BUFS ? MAX_BUFS : s->nbufs;
	u->nworkers = u->nbufs - 1 > NWORKERS_MAX ? NWORKERS_MAX : u->nbufs - 1;
	for (int i = 0; i < u->nbufs; i++)
		u->freel[u->nfree++] = &u->bufs[i];
	u->key = strdup(key);
	if (!u->key) {
		up_free(&u->base);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if ((rc = eb_http_new(&u->h, s->ca_file, err))) {
		u->base.finished = 1;
		up_free(&u->base);
		return rc;
	}
	*out = &u->base;
	return 0;
}
