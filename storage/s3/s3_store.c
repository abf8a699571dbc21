/* storage/s3/s3_store.c - the eb_store backend for s3://bucket/prefix.
 * Objects are prefix + name; see store.h for the commit rules and
 * multipart.h for how uploads keep them. */
#include "storage/s3/s3_store.h"

#include "common/clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/env.h"
#include "storage/s3/multipart.h"
#include "storage/s3/s3.h"
#include "storage/s3/xml.h"

typedef struct s3_store {
	eb_store base;
	eb_s3 *s;
	eb_http *h; /* for list/get/del/put_bytes, one at a time */
} s3_store;

static const eb_store_ops s3_ops;

typedef struct {
	int64_t cutoff;
	int n;
} abort_ctx;

static int
s3_put_stream(eb_store *st, const char *name, eb_stream **out, eb_err *err)
{
	s3_store *ss = (s3_store *)st;
	char *key = eb_s3_key(ss->s, name);
	int rc;
	if (!key)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	rc = eb_s3_upload_new(ss->s, key, out, err);
	free(key);
	return rc;
}

static int
s3_put_bytes(eb_store *st, const char *name, const void *buf, size_t len,
             eb_err *err)
{
	s3_store *ss = (s3_store *)st;
	eb_s3_call c = {0};
	eb_http_resp r;
	char *key = eb_s3_key(ss->s, name);
	int rc;
	if (!key)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c.op = "PutObject";
	c.method = "PUT";
	c.key = key;
	c.body = len ? buf : (const void *)"";
	c.body_len = len;
	c.content_type = "application/octet-stream";
	c.if_none_match = 1; /* manifests are never replaced */
	c.new_object = 1;
	{
		eb_err e;
		eb_err_init(&e);
		rc = eb_s3_call_do(ss->s, ss->h, &c, &r, &e);
		if (rc == EB_EEXIST && eb_store_holds(st, name, buf, len))
			rc = 0; /* a retry of ours found what its lost first answer wrote */
		else if (rc)
			eb_err_set(err, rc, "%s", e.msg);
	}
	eb_http_resp_dispose(&r);
	free(key);
	return rc;
}

static int
s3_get(eb_store *st, const char *name, eb_stream *sink, eb_err *err)
{
	s3_store *ss = (s3_store *)st;
	eb_s3_call c = {0};
	eb_http_resp r;
	eb_stream_feed g = {sink, err};
	char *key = eb_s3_key(ss->s, name);
	int rc;
	if (!key)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c.op = "GetObject";
	c.method = "GET";
	c.key = key;
	c.on_data = eb_stream_feed_cb;
	c.ctx = &g;
	rc = eb_s3_call_do(ss->s, ss->h, &c, &r, err);
	eb_http_resp_dispose(&r);
	free(key);
	return rc;
}

static int
s3_del(eb_store *st, const char *name, eb_err *err)
{
	s3_store *ss = (s3_store *)st;
	char *key = eb_s3_key(ss->s, name);
	int rc;
	if (!key)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	rc = eb_s3_delete_key(ss->s, ss->h, key, err);
	free(key);
	return rc;
}

/* One page of a paginated GET list call: builds the query (consuming q;
 * qrc is the result of filling it), sends the signed request and finds the
 * result element `root` in the answer.  On success the caller disposes r;
 * doc spans `root`. */
static int
list_page(s3_store *ss, const char *op, eb_s3_query *q, int qrc, const char *root,
          eb_http_resp *r, eb_xml_span *doc, eb_err *err)
{
	eb_s3_call c = {0};
	char *qs = NULL;
	int rc;
	if (!qrc)
		qrc = eb_s3_query_build(q, &qs);
	eb_s3_query_dispose(q);
	if (qrc)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c.op = op;
	c.method = "GET";
	c.query = qs;
	rc = eb_s3_call_do(ss->s, ss->h, &c, r, err);
	free(qs);
	if (rc) {
		eb_http_resp_dispose(r);
		return rc;
	}
	doc->p = r->body ? r->body : "";
	doc->len = r->len;
	if (eb_xml_find(*doc, root, doc) != 1) {
		eb_http_resp_dispose(r);
		return eb_err_set(err, EB_EREMOTE, "S3 %s %s: the answer is not a %s", op,
		                  ss->base.url, root);
	}
	return 0;
}

/* ListObjectsV2 pages under the prefix; names relative to it.  Only the
 * prefix's own level, as in a folder. */
static int
s3_list(eb_store *st, eb_store_list *out, eb_err *err)
{
	s3_store *ss = (s3_store *)st;
	char *token = NULL;
	size_t plen = strlen(ss->s->prefix);
	int rc = 0;
	for (int page = 0; page < 100000; page++) {
		eb_s3_query q = {0};
		eb_http_resp r;
		char trunc[16];
		eb_xml_span doc, ct;
		size_t pos = 0;
		/* delimiter "/": like a folder, a store does not see the stores
		 * nested under it (s3://b/prod vs s3://b/prod/eu) */
		int qrc = eb_s3_query_add(&q, "list-type", "2");
		if (!qrc)
			qrc = eb_s3_query_add(&q, "delimiter", "/");
		if (!qrc && plen)
			qrc = eb_s3_query_add(&q, "prefix", ss->s->prefix);
		if (!qrc && token)
			qrc = eb_s3_query_add(&q, "continuation-token", token);
		/* tests force small pages to exercise continuation */
		if (!qrc && ss->s->list_max_keys > 0) {
			char mk[16];
			snprintf(mk, sizeof mk, "%d", ss->s->list_max_keys);
			qrc = eb_s3_query_add(&q, "max-keys", mk);
		}
		free(token);
		token = NULL;
		rc = list_page(ss, "ListObjectsV2", &q, qrc, "ListBucketResult", &r, &doc, err);
		if (rc)
			return rc;
		for (;;) {
			eb_xml_span sk, ss2, sm;
			char *key, *size, *mt;
			int f = eb_xml_next(doc, &pos, "Contents", &ct);
			if (f == 0)
				break;
			if (f < 0 || eb_xml_find(ct, "Key", &sk) != 1 ||
			    eb_xml_find(ct, "Size", &ss2) != 1) {
				rc = eb_err_set(err, EB_EREMOTE,
				                "S3 ListObjectsV2 %s: malformed Contents entry", st->url);
				break;
			}
			key = eb_xml_text(sk);
			size = eb_xml_text(ss2);
			mt = eb_xml_find(ct, "LastModified", &sm) == 1 ? eb_xml_text(sm) : NULL;
			if (!key || !size) {
				rc = eb_err_set(err, EB_EREMOTE,
				                "S3 ListObjectsV2 %s: malformed Contents entry", st->url);
			} else if (strncmp(key, ss->s->prefix, plen) == 0 && key[plen]) {
				char *end;
				unsigned long long sz = strtoull(size, &end, 10);
				int64_t m = mt ? eb_s3_parse_iso8601(mt) : 0;
				if (*end || !size[0])
					rc = eb_err_set(err, EB_EREMOTE,
					                "S3 ListObjectsV2 %s: bad Size for %s", st->url, key);
				else
					rc = eb_store_list_add(out, key + plen, sz, m < 0 ? 0 : m, err);
			}
			free(key);
			free(size);
			free(mt);
			if (rc)
				break;
		}
		if (!rc) {
			eb_xml_get(doc, "IsTruncated", trunc, sizeof trunc);
			if (!strcmp(trunc, "true")) {
				eb_xml_span nt;
				if (eb_xml_find(doc, "NextContinuationToken", &nt) != 1 ||
				    !(token = eb_xml_text(nt)) || !token[0])
					rc = eb_err_set(err, EB_EREMOTE,
					                "S3 ListObjectsV2 %s: truncated page without a continuation token",
					                st->url);
			}
		}
		eb_http_resp_dispose(&r);
		if (rc || !token)
			break;
	}
	free(token);
	return rc;
}

static void
s3_free(eb_store *st)
{
	s3_store *ss = (s3_store *)st;
	eb_http_free(ss->h);
	eb_s3_free(ss->s);
	free(st->url);
	free(ss);
}


int
eb_s3_store_open(eb_store **out, const char *url, const eb_store_opts *opts,
                 eb_err *err)
{
	s3_store *ss = calloc(1, sizeof *ss);
	int rc;
	*out = NULL;
	if (!ss)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	ss->base.ops = &s3_ops;
	if (!(ss->base.url = strdup(url))) {
		free(ss);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if ((rc = eb_s3_new(&ss->s, url, opts, err)) ||
	    (rc = eb_http_new(&ss->h, ss->s->ca_file, err))) {
		s3_free(&ss->base);
		return rc;
	}
	*out = &ss->base;
	return 0;
}

/* ---- incomplete multipart uploads ---- */

typedef int (*upload_fn)(s3_store *ss, const char *key, const char *id,
                         int64_t initiated, void *ud, eb_err *err);

/* A listing that goes on by two markers (ListMultipartUploads: key and
 * upload id; ListObjectVersions: key and version id), under the prefix at
 * its own level (delimiter "/"); fn gets each page's result element. */
typedef struct marked_list {
	const char *op, *kind, *root;     /* "ListObjectVersions", "versions", "ListVersionsResult" */
	const char *second, *next_second; /* "version-id-marker", "NextVersionIdMarker" */
} marked_list;
typedef int (*page_fn)(s3_store *ss, eb_xml_span doc, void *ud, eb_err *err);

static int
each_marked_page(s3_store *ss, const marked_list *ml, page_fn fn, void *ud, eb_err *err)
{
	char *km = NULL, *m2 = NULL;
	int rc = 0;
	for (int page = 0; page < 100000 && rc == 0; page++) {
		eb_s3_query q = {0};
		eb_http_resp r;
		char trunc[16];
		eb_xml_span doc;
		int qrc = eb_s3_query_add(&q, ml->kind, "");
		if (!qrc)
			qrc = eb_s3_query_add(&q, "delimiter", "/");
		if (!qrc && ss->s->prefix[0])
			qrc = eb_s3_query_add(&q, "prefix", ss->s->prefix);
		if (!qrc && km)
			qrc = eb_s3_query_add(&q, "key-marker", km);
		if (!qrc && m2)
			qrc = eb_s3_query_add(&q, ml->second, m2);
		free(km);
		free(m2);
		km = m2 = NULL;
		if ((rc = list_page(ss, ml->op, &q, qrc, ml->root, &r, &doc, err)))
			break;
		rc = fn(ss, doc, ud, err);
		if (!rc) {
			eb_xml_get(doc, "IsTruncated", trunc, sizeof trunc);
			if (!strcmp(trunc, "true")) {
				eb_xml_span a, b;
				if (eb_xml_find(doc, "NextKeyMarker", &a) == 1)
					km = eb_xml_text(a);
				if (eb_xml_find(doc, ml->next_second, &b) == 1)
					m2 = eb_xml_text(b);
				if (!km || !km[0])
					rc = eb_err_set(err, EB_EREMOTE, "S3 %s %s: truncated without a marker", ml->op,
					                ss->base.url);
			}
		}
		eb_http_resp_dispose(&r);
		if (!km)
			break;
	}
	free(km);
	free(m2);
	return rc;
}

typedef struct {
	upload_fn fn;
	void *ud;
} uploads_ctx;

/* one page of ListMultipartUploads: each <Upload> to the caller's fn */
static int
uploads_page(s3_store *ss, eb_xml_span doc, void *ud, eb_err *err)
{
	uploads_ctx *u = ud;
	eb_xml_span up;
	size_t pos = 0;
	int rc = 0;
	for (;;) {
		eb_xml_span sk, si, st;
		char *key = NULL, *id = NULL, *ini = NULL;
		int f = eb_xml_next(doc, &pos, "Upload", &up);
		if (f == 0)
			break;
		if (f < 0 || eb_xml_find(up, "Key", &sk) != 1 || eb_xml_find(up, "UploadId", &si) != 1 ||
		    eb_xml_find(up, "Initiated", &st) != 1 || !(key = eb_xml_text(sk)) ||
		    !(id = eb_xml_text(si)) || !(ini = eb_xml_text(st))) {
			rc = eb_err_set(err, EB_EREMOTE,
			                "S3 ListMultipartUploads %s: malformed Upload entry", ss->base.url);
		} else {
			rc = u->fn(ss, key, id, eb_s3_parse_iso8601(ini), u->ud, err);
		}
		free(key);
		free(id);
		free(ini);
		if (rc)
			break;
	}
	return rc;
}

static int
each_upload(s3_store *ss, upload_fn fn, void *ud, eb_err *err)
{
	static const marked_list ml = {"ListMultipartUploads", "uploads", "ListMultipartUploadsResult",
	                               "upload-id-marker", "NextUploadIdMarker"};
	uploads_ctx u = {fn, ud};
	return each_marked_page(ss, &ml, uploads_page, &u, err);
}


static int
abort_one(s3_store *ss, const char *key, const char *id, int64_t initiated,
          void *ud, eb_err *err)
{
	abort_ctx *a = ud;
	eb_s3_query q = {0};
	eb_s3_call c = {0};
	eb_http_resp r;
	char *qs = NULL;
	int rc;
	if (initiated < 0 || initiated > a->cutoff)
		return 0;
	if (eb_s3_query_add(&q, "uploadId", id) || eb_s3_query_build(&q, &qs)) {
		eb_s3_query_dispose(&q);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	eb_s3_query_dispose(&q);
	c.op = "AbortMultipartUpload";
	c.method = "DELETE";
	c.key = key;
	c.query = qs;
	{
		eb_err e;
		eb_err_init(&e);
		rc = eb_s3_call_do(ss->s, ss->h, &c, &r, &e);
		if (rc == EB_ENOTFOUND) /* gone meanwhile: fine */
			rc = 0;
		else if (rc == 0)
			a->n++;
		else
			eb_err_set(err, rc, "%s", e.msg);
	}
	eb_http_resp_dispose(&r);
	free(qs);
	return rc;
}

int
eb_s3_abort_incomplete(eb_store *st, int64_t older_than_s, int *n_aborted,
                       eb_err *err)
{
	abort_ctx a;
	int rc;
	if (!st || st->ops != &s3_ops)
		return eb_err_set(err, EB_EINVAL,
		                  "--abort-incomplete-after only applies to s3:// stores");
	a.cutoff = (int64_t)time(NULL) - older_than_s;
	a.n = 0;
	rc = each_upload((s3_store *)st, abort_one, &a, err);
	if (n_aborted)
		*n_aborted = a.n;
	return rc;
}

static int
count_one(s3_store *ss, const char *key, const char *id, int64_t initiated,
          void *ud, eb_err *err)
{
	(void)ss; (void)key; (void)id; (void)initiated; (void)err;
	(*(int *)ud)++;
	return 0;
}

int
eb_s3_count_incomplete(eb_store *st, int *n, eb_err *err)
{
	if (!st || st->ops != &s3_ops)
		return eb_err_set(err, EB_EINVAL, "not an s3:// store");
	*n = 0;
	return each_upload((s3_store *)st, count_one, n, err);
}

static int
count_old(s3_store *ss, const char *key, const char *id, int64_t initiated, void *ud,
          eb_err *err)
{
	abort_ctx *a = ud;
	(void)ss; (void)key; (void)id; (void)err;
	if (initiated >= 0 && initiated <= a->cutoff)
		a->n++;
	return 0;
}

static int
s3_clean_incomplete(eb_store *st, int64_t older_than_s, int dry_run, int *n, eb_err *err)
{
	abort_ctx a = {(int64_t)time(NULL) - older_than_s, 0};
	int rc;
	if (!dry_run)
		return eb_s3_abort_incomplete(st, older_than_s, n, err);
	rc = each_upload((s3_store *)st, count_old, &a, err);
	*n = a.n;
	return rc;
}

/* GetObjectRetention: <Retention><Mode>..</Mode><RetainUntilDate>..</...> */
static int
s3_retained_until(eb_store *st, const char *name, int64_t *until, eb_err *err)
{
	s3_store *ss = (s3_store *)st;
	eb_s3_call c = {0};
	eb_http_resp r;
	eb_xml_span d, v;
	eb_err e;
	char *key = eb_s3_key(ss->s, name), *t = NULL;
	int rc;
	*until = 0;
	if (!key)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c.op = "GetObjectRetention";
	c.method = "GET";
	c.key = key;
	c.query = "retention=";
	eb_err_init(&e);
	rc = eb_s3_call_do(ss->s, ss->h, &c, &r, &e);
	if (rc == 0) {
		d.p = r.body ? r.body : "";
		d.len = r.len;
		if (eb_xml_find(d, "RetainUntilDate", &v) == 1 && (t = eb_xml_text(v))) {
			int64_t ms;
			if (eb_rfc3339_ms(t, &ms) < 0)
				rc = eb_err_set(err, EB_EREMOTE, "S3 GetObjectRetention %s: bad date '%.40s'",
				                name, t);
			else
				*until = ms / 1000;
		}
		free(t);
	} else if (rc == EB_ENOTFOUND || strstr(e.msg, "ObjectLockConfiguration") ||
	           strstr(e.msg, "InvalidRequest") || strstr(e.msg, "NoSuchObjectLockConfiguration")) {
		rc = 0; /* no lock on the bucket, or none on this object */
	} else {
		eb_err_set(err, rc, "%s", e.msg);
	}
	eb_http_resp_dispose(&r);
	free(key);
	return rc;
}

/* ListObjectVersions under the prefix (its own level): the names whose
 * current version is a delete marker while an older version of the object
 * is still there (a plain DELETE in a versioned bucket hides an object but
 * keeps it; Object Lock keeps it retained).  Entries come sorted by key,
 * each key's newest first. */
typedef struct hid {
	char *key;          /* the key being looked at */
	int latest_marker;  /* its newest entry is a delete marker */
	int has_version;    /* an object version of it exists */
} hid;

static int
hid_flush(s3_store *ss, hid *h, eb_store_list *out, eb_err *err)
{
	size_t plen = strlen(ss->s->prefix);
	int rc = 0;
	if (h->key && h->latest_marker && h->has_version && !strncmp(h->key, ss->s->prefix, plen) && h->key[plen])
		rc = eb_store_list_add(out, h->key + plen, 0, 0, err);
	free(h->key);
	memset(h, 0, sizeof *h);
	return rc;
}

typedef struct {
	hid h;
	eb_store_list *out;
} hidden_ctx;

/* one page of ListObjectVersions: <Version> and <DeleteMarker> entries in
 * the order they come */
static int
versions_page(s3_store *ss, eb_xml_span doc, void *ud, eb_err *err)
{
	hidden_ctx *x = ud;
	size_t pos = 0;
	int rc = 0;
	for (;;) {
		eb_xml_span sk, e, ev, ed;
		char latest[8], *key;
		const char *tag;
		size_t pv = pos, pd = pos; /* the next <Version> or <DeleteMarker>, whichever comes first */
		int fv = eb_xml_next(doc, &pv, "Version", &ev), fd = eb_xml_next(doc, &pd, "DeleteMarker", &ed);
		if (fv <= 0 && fd <= 0)
			break;
		if (fv > 0 && (fd <= 0 || ev.p < ed.p)) {
			e = ev; pos = pv; tag = "Version";
		} else {
			e = ed; pos = pd; tag = "DeleteMarker";
		}
		if (eb_xml_find(e, "Key", &sk) != 1 || !(key = eb_xml_text(sk)))
			return eb_err_set(err, EB_EREMOTE, "S3 ListObjectVersions %s: malformed %s entry", ss->base.url,
			                  tag);
		if (!x->h.key || strcmp(x->h.key, key)) { /* a new key: its newest entry first */
			if ((rc = hid_flush(ss, &x->h, x->out, err))) {
				free(key);
				break;
			}
			x->h.key = key;
			eb_xml_get(e, "IsLatest", latest, sizeof latest);
			x->h.latest_marker = tag[0] == 'D' && !strcmp(latest, "true");
		} else {
			free(key);
		}
		if (tag[0] == 'V')
			x->h.has_version = 1;
	}
	return rc;
}

static int
s3_list_hidden(eb_store *st, eb_store_list *out, eb_err *err)
{
	static const marked_list ml = {"ListObjectVersions", "versions", "ListVersionsResult",
	                               "version-id-marker", "NextVersionIdMarker"};
	s3_store *ss = (s3_store *)st;
	hidden_ctx x = {{0}, out};
	int rc = each_marked_page(ss, &ml, versions_page, &x, err);
	if (rc == 0)
		rc = hid_flush(ss, &x.h, out, err);
	free(x.h.key);
	return rc;
}

/* bucket, prefix (eb_s3_new normalised it: "" or ending in "/") and the
 * endpoint's host without the bucket a virtual-hosted name puts in front */
static int
s3_identity(eb_store *st, char *out, size_t cap, eb_err *err)
{
	s3_store *ss = (s3_store *)st;
	const char *host = ss->s->host;
	size_t bl = strlen(ss->s->bucket);
	if (!strncasecmp(host, ss->s->bucket, bl) && host[bl] == '.')
		host += bl + 1;
	if (snprintf(out, cap, "s3:%s/%s@%s", ss->s->bucket, ss->s->prefix, host) >= (int)cap)
		return eb_err_set(err, EB_EINVAL, "store name too long: %s", st->url);
	for (char *p = out + 3 + bl + 1 + strlen(ss->s->prefix) + 1; *p; p++)
		*p = (char)tolower((unsigned char)*p); /* host names have no case */
	return 0;
}

static const eb_store_ops s3_ops = {"s3", s3_put_stream, s3_put_bytes, s3_get,
                                    s3_list, s3_del, s3_clean_incomplete,
                                    s3_retained_until, s3_list_hidden, s3_identity, s3_free};
