/* storage/azure/az_store.c - the azblob:// store (storage/store.h) over
 * the Blob REST API (azblob.h).
 *
 * Upload (put_stream): the stream is cut into 8 MiB blocks, each sent with
 * Put Block under an ID that carries a random nonce of this upload (two
 * writers of one name never mix their blocks); finish commits the list with
 * Put Block List and If-None-Match: * (an existing blob is never replaced).
 * Before that commit nothing is visible: a run killed or refused leaves only
 * uncommitted blocks, which Azure discards after 7 days.  Memory: one block.
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

typedef struct {
	eb_stream base;
	az_store *z;
	eb_http *h;    /* its own connection: the store's may serve others meanwhile */
	char *blob;
	uint8_t *buf;
	size_t len;
	char nonce[17];
	int nblocks;
	eb_buf list;   /* the commit's body */
} az_up;

static int
put_block(az_up *u, eb_err *err)
{
	char raw[32], id[48];
	eb_az_call c = {0};
	eb_http_resp r;
	int rc;
	if (u->nblocks >= MAX_BLOCKS)
		return eb_err_set(err, EB_EINVAL, "Azure upload of %s: more than %d blocks of 8 MiB",
		                  u->blob, MAX_BLOCKS);
	snprintf(raw, sizeof raw, "%s-%06d", u->nonce, u->nblocks);
	eb_base64((const uint8_t *)raw, strlen(raw), id);
	c.op = "PutBlock";
	c.method = "PUT";
	c.blob = u->blob;
	c.qn[0] = "comp", c.qv[0] = "block";
	c.qn[1] = "blockid", c.qv[1] = id;
	c.body = u->buf;
	c.body_len = u->len;
	c.content_type = "application/octet-stream";
	rc = eb_az_call_do(u->z->a, u->h, &c, &r, err);
	eb_http_resp_dispose(&r);
	if (rc)
		return rc;
	eb_buf_printf(&u->list, "<Latest>%s</Latest>", id);
	u->nblocks++;
	u->len = 0;
	return eb_buf_status(&u->list) ? eb_err_set(err, EB_ENOMEM, "out of memory") : 0;
}

static int
up_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	az_up *u = (az_up *)s;
	int rc;
	while (len > 0) {
		size_t n = BLOCK - u->len < len ? BLOCK - u->len : len;
		memcpy(u->buf + u->len, buf, n);
		u->len += n;
		buf += n;
		len -= n;
		if (u->len == BLOCK && (rc = put_block(u, err)) < 0)
			return rc;
	}
	return 0;
}

/* The commit point: the block list (or, for nothing at all, an empty
 * blob), only if no blob has the name. */
static int
up_finish(eb_stream *s, eb_err *err)
{
	az_up *u = (az_up *)s;
	eb_az_call c = {0};
	eb_http_resp r;
	int rc = 0;
	if (u->len && (rc = put_block(u, err)) < 0)
		return rc;
	if (eb_interrupted())
		return eb_interrupt_check(err, "Azure upload");
	c.method = "PUT";
	c.blob = u->blob;
	c.if_none_match = 1;
	if (u->nblocks == 0) {
		c.op = "PutBlob";
		c.block_blob = 1;
		c.body = (const uint8_t *)"";
		c.content_type = "application/octet-stream";
	} else {
		c.op = "PutBlockList";
		c.qn[0] = "comp", c.qv[0] = "blocklist";
		eb_buf_puts(&u->list, "</BlockList>");
		if (eb_buf_status(&u->list))
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		c.body = (const uint8_t *)u->list.p;
		c.body_len = u->list.len;
		c.content_type = "application/xml";
	}
	rc = eb_az_call_do(u->z->a, u->h, &c, &r, err);
	eb_http_resp_dispose(&r);
	return rc;
}

/* Abort: the uncommitted blocks stay until Azure drops them (7 days). */
static void
up_free(eb_stream *s)
{
	az_up *u = (az_up *)s;
	eb_http_free(u->h);
	eb_buf_dispose(&u->list);
	free(u->buf);
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
	int rc;
	*out = NULL;
	if (!u)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&u->base, &up_ops, NULL);
	u->z = z;
	eb_buf_init(&u->list);
	eb_az_info_of(z->a, &i);
	if (!(u->blob = blob_of(z, name)) || !(u->buf = malloc(BLOCK)) ||
	    eb_buf_puts(&u->list, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>")) {
		up_free(&u->base);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if ((rc = eb_random(rnd, sizeof rnd, err)) < 0 || (rc = eb_http_new(&u->h, i.ca_file, err)) < 0) {
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
