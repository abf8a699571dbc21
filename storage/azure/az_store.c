/* storage/azure/az_store.c - the azblob:// store (storage/store.h) over
 * the Blob REST API (azblob.h).
 *
 * Upload (put_stream): the stream is cut into 8 MiB blocks (storage/parts.h),
 * three sent at once with Put Block under IDs that carry a random nonce of
 * this upload (two writers of one name never mix their blocks); finish waits
 * for every block, then commits the list with Put Block List and
 * If-None-Match: * (an existing blob is never replaced).  Before that commit
 * nothing is visible: a run killed or refused leaves only uncommitted
 * blocks, which Azure discards after 7 days.  Memory: four blocks.
 *
 *   block ID = base64("<16 hex nonce>-<6 digit index>")  (same length for all)
 *   body of the commit = <?xml ...?><BlockList><Latest>ID</Latest>...</BlockList>
 *
 * Small objects (manifests) are one Put Blob with If-None-Match: *.  Reads
 * are one GET that resumes at the first byte not yet delivered (x-ms-range,
 * If-Match the first answer's ETag).  A list is List Blobs with delimiter
 * "/" (the prefix's own level, as a folder), page after page (NextMarker). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/interrupt.h"
#include "storage/azure/azblob.h"
#include "storage/parts.h"
#include "storage/s3/xml.h"

#define BLOCK (8u << 20)
#define MAX_BLOCKS 50000

typedef struct {
	eb_store base;
	eb_az *a;
	eb_http *h;
} az_store;

static char *
blob_of(az_store *z, const char *name)
{
	eb_az_info i;
	char *b;
	eb_az_info_of(z->a, &i);
	return asprintf(&b, "%s%s", i.prefix, name) < 0 ? NULL : b;
}

/* ---- upload ---- */

#define NBUFS 4   /* 32 MiB in memory */
#define NSEND 3   /* blocks in flight while the next one fills */

typedef struct {
	eb_stream base;
	az_store *z;
	char *blob;
	char nonce[17];
	eb_parts *parts;
	eb_http *wh[NSEND]; /* one connection per sending thread */
	eb_http *h;         /* the commit's */
} az_up;

static void
block_id(const az_up *u, int num, char id[48])
{
	char raw[32];
	snprintf(raw, sizeof raw, "%s-%06d", u->nonce, num);
	eb_base64((const uint8_t *)raw, strlen(raw), id);
}

/* A worker thread's Put Block. */
static int
put_block(void *ctx, int w, int num, const uint8_t *buf, size_t len, eb_err *err)
{
	az_up *u = ctx;
	char id[48];
	eb_az_call c = {0};
	eb_http_resp r;
	int rc;
	if (num >= MAX_BLOCKS)
		return eb_err_set(err, EB_EINVAL, "Azure upload of %s: more than %d blocks of 8 MiB",
		                  u->blob, MAX_BLOCKS);
	block_id(u, num, id);
	c.op = "PutBlock";
	c.method = "PUT";
	c.blob = u->blob;
	c.qn[0] = "comp", c.qv[0] = "block";
	c.qn[1] = "blockid", c.qv[1] = id;
	c.body = buf;
	c.body_len = len;
	c.content_type = "application/octet-stream";
	c.cancel = eb_parts_cancel_flag(u->parts);
	rc = eb_az_call_do(u->z->a, u->wh[w], &c, &r, err);
	eb_http_resp_dispose(&r);
	return rc;
}

static int
up_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	return eb_parts_write(((az_up *)s)->parts, buf, len, err);
}

/* The block list of n blocks, in order. */
static int
block_list(const az_up *u, int n, eb_buf *b, eb_err *err)
{
	char id[48];
	eb_buf_puts(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (int i = 0; i < n; i++) {
		block_id(u, i, id);
		eb_buf_printf(b, "<Latest>%s</Latest>", id);
	}
	eb_buf_puts(b, "</BlockList>");
	return eb_buf_status(b) ? eb_err_set(err, EB_ENOMEM, "out of memory") : 0;
}

/* The commit point: every block sent, then the block list (or, for
 * nothing at all, an empty blob), only if no blob has the name. */
static int
up_finish(eb_stream *s, eb_err *err)
{
	az_up *u = (az_up *)s;
	eb_az_call c = {0};
	eb_http_resp r;
	eb_buf list;
	int n = 0, rc = eb_parts_flush(u->parts, &n, err);
	if (rc < 0)
		return rc;
	if (eb_interrupted())
		return eb_interrupt_check(err, "Azure upload");
	eb_buf_init(&list);
	c.method = "PUT";
	c.blob = u->blob;
	c.if_none_match = 1;
	if (n == 0) {
		c.op = "PutBlob";
		c.block_blob = 1;
		c.body = (const uint8_t *)"";
		c.content_type = "application/octet-stream";
	} else if ((rc = block_list(u, n, &list, err)) == 0) {
		c.op = "PutBlockList";
		c.qn[0] = "comp", c.qv[0] = "blocklist";
		c.body = (const uint8_t *)list.p;
		c.body_len = list.len;
		c.content_type = "application/xml";
	}
	if (rc == 0) {
		rc = eb_az_call_do(u->z->a, u->h, &c, &r, err);
		eb_http_resp_dispose(&r);
	}
	eb_buf_dispose(&list);
	return rc;
}

/* Abort: the senders stop; the uncommitted blocks stay until Azure drops
 * them (7 days). */
static void
up_free(eb_stream *s)
{
	az_up *u = (az_up *)s;
	eb_parts_free(u->parts);
	for (int i = 0; i < NSEND; i++)
		eb_http_free(u->wh[i]);
	eb_http_free(u->h);
	free(u->blob);
	free(u);
}

static const eb_stream_ops up_ops = {"azblob", up_write, up_finish, up_free};

static int
az_put_stream(eb_store *st, const char *name, eb_stream **out, eb_err *err)
{
	az_store *z = (az_store *)st;
	az_up *u = calloc(1, sizeof *u);
	eb_az_info i;
	uint8_t rnd[8];
	int rc = 0;
	*out = NULL;
	if (!u)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&u->base, &up_ops, NULL);
	u->z = z;
	eb_az_info_of(z->a, &i);
	if (!(u->blob = blob_of(z, name)))
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	if (rc == 0)
		rc = eb_random(rnd, sizeof rnd, err);
	for (int k = 0; rc == 0 && k < NSEND; k++)
		rc = eb_http_new(&u->wh[k], i.ca_file, err);
	if (rc == 0)
		rc = eb_http_new(&u->h, i.ca_file, err);
	if (rc == 0)
		rc = eb_parts_new(&u->parts, BLOCK, NBUFS, NSEND, put_block, u, err);
	if (rc < 0) {
		up_free(&u->base);
		return rc;
	}
	eb_hex(rnd, sizeof rnd, u->nonce);
	*out = &u->base;
	return 0;
}

/* ---- small objects, reads, deletes ---- */

static int
az_put_bytes(eb_store *st, const char *name, const void *buf, size_t len, eb_err *err)
{
	az_store *z = (az_store *)st;
	eb_az_call c = {0};
	eb_http_resp r;
	eb_err e;
	char *blob = blob_of(z, name);
	int rc;
	if (!blob)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c.op = "PutBlob";
	c.method = "PUT";
	c.blob = blob;
	c.block_blob = 1;
	c.if_none_match = 1; /* manifests are never replaced */
	c.body = len ? buf : (const void *)"";
	c.body_len = len;
	c.content_type = "application/octet-stream";
	eb_err_init(&e);
	rc = eb_az_call_do(z->a, z->h, &c, &r, &e);
	eb_http_resp_dispose(&r);
	if (rc == EB_EEXIST && eb_store_holds(st, name, buf, len))
		rc = 0; /* a retry of ours found what its lost first answer wrote */
	else if (rc)
		eb_err_set(err, rc, "%s", e.msg);
	free(blob);
	return rc;
}

static int
az_get(eb_store *st, const char *name, eb_stream *sink, eb_err *err)
{
	az_store *z = (az_store *)st;
	eb_az_call c = {0};
	eb_http_resp r;
	eb_stream_feed g = {sink, err};
	char *blob = blob_of(z, name);
	int rc;
	if (!blob)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c.op = "GetBlob";
	c.method = "GET";
	c.blob = blob;
	c.on_data = eb_stream_feed_cb;
	c.ctx = &g;
	rc = eb_az_call_do(z->a, z->h, &c, &r, err);
	eb_http_resp_dispose(&r);
	free(blob);
	return rc;
}

static int
az_del(eb_store *st, const char *name, eb_err *err)
{
	az_store *z = (az_store *)st;
	eb_az_call c = {0};
	eb_http_resp r;
	char *blob = blob_of(z, name);
	int rc;
	if (!blob)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c.op = "DeleteBlob";
	c.method = "DELETE";
	c.blob = blob;
	rc = eb_az_call_do(z->a, z->h, &c, &r, err);
	eb_http_resp_dispose(&r);
	free(blob);
	return rc;
}

/* ---- list ---- */

/* "Tue, 08 Dec 2026 01:09:30 GMT" -> unix seconds, 0 when unreadable. */
static int64_t
rfc1123(const char *s)
{
	struct tm tm;
	const char *end;
	memset(&tm, 0, sizeof tm);
	end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
	return end && !*end ? (int64_t)timegm(&tm) : 0;
}

/* One <Blob> entry: added when it is at the prefix's own level. */
static int
list_entry(az_store *z, eb_xml_span b, size_t plen, eb_store_list *out, eb_err *err)
{
	eb_xml_span sn, sp;
	char *name, len[32] = "", mt[64] = "", *end;
	unsigned long long sz;
	int rc = 0;
	if (eb_xml_find(b, "Name", &sn) != 1 || eb_xml_find(b, "Properties", &sp) != 1 ||
	    !(name = eb_xml_text(sn)))
		return eb_err_set(err, EB_EREMOTE, "Azure List Blobs %s: malformed Blob entry", z->base.url);
	eb_xml_get(sp, "Content-Length", len, sizeof len);
	eb_xml_get(sp, "Last-Modified", mt, sizeof mt);
	sz = strtoull(len, &end, 10);
	if (!len[0] || *end)
		rc = eb_err_set(err, EB_EREMOTE, "Azure List Blobs %s: bad Content-Length for %s",
		                z->base.url, name);
	else if (strlen(name) > plen && !strchr(name + plen, '/'))
		rc = eb_store_list_add(out, name + plen, sz, rfc1123(mt), err);
	free(name);
	return rc;
}

/* One page from marker on; *next gets the next marker (NULL: last page). */
static int
list_page(az_store *z, const char *marker, eb_store_list *out, char **next, eb_err *err)
{
	eb_az_info i;
	eb_az_call c = {0};
	eb_http_resp r;
	eb_xml_span doc, blobs, b, nm;
	char max[16];
	size_t pos = 0;
	int n = 0, rc, f;
	*next = NULL;
	eb_az_info_of(z->a, &i);
	c.op = "ListBlobs";
	c.method = "GET";
	c.qn[n] = "restype", c.qv[n++] = "container";
	c.qn[n] = "comp", c.qv[n++] = "list";
	c.qn[n] = "delimiter", c.qv[n++] = "/";
	if (i.prefix[0])
		c.qn[n] = "prefix", c.qv[n++] = i.prefix;
	if (marker)
		c.qn[n] = "marker", c.qv[n++] = marker;
	if (i.list_max > 0) {
		snprintf(max, sizeof max, "%d", i.list_max);
		c.qn[n] = "maxresults", c.qv[n++] = max;
	}
	if ((rc = eb_az_call_do(z->a, z->h, &c, &r, err)) != 0) {
		eb_http_resp_dispose(&r);
		return rc;
	}
	doc = (eb_xml_span){r.body ? r.body : "", r.len};
	if (eb_xml_find(doc, "EnumerationResults", &doc) != 1)
		rc = eb_err_set(err, EB_EREMOTE, "Azure List Blobs %s: the answer is not a list", z->base.url);
	if (rc == 0 && eb_xml_find(doc, "Blobs", &blobs) == 1)
		while (rc == 0 && (f = eb_xml_next(blobs, &pos, "Blob", &b)) != 0)
			rc = f < 0 ? eb_err_set(err, EB_EREMOTE, "Azure List Blobs %s: malformed answer",
			                        z->base.url)
			           : list_entry(z, b, strlen(i.prefix), out, err);
	if (rc == 0 && eb_xml_find(doc, "NextMarker", &nm) == 1 && nm.len) {
		if (!(*next = eb_xml_text(nm)))
			rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	eb_http_resp_dispose(&r);
	return rc;
}

static int
az_list(eb_store *st, eb_store_list *out, eb_err *err)
{
	az_store *z = (az_store *)st;
	char *marker = NULL, *next = NULL;
	int rc = 0;
	for (int page = 0; page < 100000; page++) {
		rc = list_page(z, marker, out, &next, err);
		free(marker);
		marker = next;
		if (rc || !marker || !marker[0])
			break;
	}
	free(marker);
	return rc;
}

/* Nothing to clean: uncommitted blocks are not listed as blobs, and Azure
 * discards them 7 days after their upload stopped. */
static int
az_clean_incomplete(eb_store *st, int64_t older_than_s, int dry_run, int *n, eb_err *err)
{
	(void)st; (void)older_than_s; (void)dry_run; (void)err;
	*n = 0;
	return 0;
}

static int
az_identity(eb_store *st, char *out, size_t cap, eb_err *err)
{
	az_store *z = (az_store *)st;
	eb_az_info i;
	eb_az_info_of(z->a, &i);
	if (snprintf(out, cap, "azblob:%s/%s/%s@%s", i.account, i.container, i.prefix, i.endpoint) >= (int)cap)
		return eb_err_set(err, EB_EINVAL, "store name too long: %s", st->url);
	return 0;
}

static void
az_free(eb_store *st)
{
	az_store *z = (az_store *)st;
	eb_http_free(z->h);
	eb_az_free(z->a);
	free(st->url);
	free(z);
}

static const eb_store_ops az_ops = {"azblob", az_put_stream, az_put_bytes, az_get, az_list,
                                    az_del, az_clean_incomplete, NULL, NULL, az_identity, az_free};

int
eb_az_store_open(eb_store **out, const char *url, const eb_store_opts *opts, eb_err *err)
{
	az_store *z = calloc(1, sizeof *z);
	eb_az_info i;
	int rc;
	*out = NULL;
	if (!z)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	z->base.ops = &az_ops;
	if (!(z->base.url = strdup(url))) {
		free(z);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if ((rc = eb_az_new(&z->a, url, opts, err)) == 0) {
		eb_az_info_of(z->a, &i);
		rc = eb_http_new(&z->h, i.ca_file, err);
	}
	if (rc) {
		az_free(&z->base);
		return rc;
	}
	*out = &z->base;
	return 0;
}
