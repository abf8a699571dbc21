/* storage/s3/http.c - see http.h. */
#include "storage/s3/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/crypto.h"
#include "common/interrupt.h"

#define MAX_CAPTURE (1u << 20)

struct eb_http {
	CURL *c;
	char *ca_file;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void g_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int
eb_http_new(eb_http **out, const char *ca_file, eb_err *err)
{
	eb_http *h;
	pthread_once(&g_once, g_init);
	h = calloc(1, sizeof *h);
	if (!h || !(h->c = curl_easy_init()) ||
	    (ca_file && !(h->ca_file = strdup(ca_file)))) {
		eb_http_free(h);
		return eb_err_set(err, EB_ENOMEM, "cannot set up an HTTP client");
	}
	*out = h;
	return 0;
}

void
eb_http_free(eb_http *h)
{
	if (!h)
		return;
	if (h->c)
		curl_easy_cleanup(h->c);
	free(h->ca_file);
	free(h);
}

void
eb_http_resp_dispose(eb_http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

typedef struct {
	const eb_http_req *req;
	eb_http_resp *resp;
	eb_http *h;
	size_t up_off;
} xfer;

static size_t
read_cb(char *buf, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	size_t want = size * n, left = x->req->body_len - x->up_off;
	if (want > left)
		want = left;
	if (want)
		memcpy(buf, x->req->body + x->up_off, want);
	x->up_off += want;
	return want;
}

static int
seek_cb(void *ud, curl_off_t off, int origin)
{
	xfer *x = ud;
	if (origin != SEEK_SET || off < 0 || (size_t)off > x->req->body_len)
		return CURL_SEEKFUNC_FAIL;
	x->up_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t
write_cb(char *buf, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = size * n;
	long st = 0;
	curl_easy_getinfo(x->h->c, CURLINFO_RESPONSE_CODE, &st);
	if (x->req->on_data && st >= 200 && st < 300) {
		int rc;
		x->resp->status = st; /* on_data may need 200 vs 206 */
		rc = x->req->on_data(x->req->ctx, (const uint8_t *)buf, len);
		if (rc < 0) {
			x->resp->cb_rc = rc;
			return 0; /* CURLE_WRITE_ERROR */
		}
		return len;
	}
	if (x->resp->len < MAX_CAPTURE) {
		size_t take = len;
		char *b;
		if (take > MAX_CAPTURE - x->resp->len)
			take = MAX_CAPTURE - x->resp->len;
		b = realloc(x->resp->body, x->resp->len + take + 1);
		if (!b)
			return 0;
		memcpy(b + x->resp->len, buf, take);
		x->resp->body = b;
		x->resp->len += take;
		b[x->resp->len] = '\0';
	}
	return len;
}

static void
copy_hval(const char *v, size_t len, char *dst, size_t size)
{
	while (len && (*v == ' ' || *v == '\t')) { v++; len--; }
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static size_t
header_cb(char *buf, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = size * n;
	if (len > 5 && strncasecmp(buf, "etag:", 5) == 0)
		copy_hval(buf + 5, len - 5, x->resp->etag, sizeof x->resp->etag);
	else if (len > 29 && strncasecmp(buf, "x-amz-server-side-encryption:", 29) == 0)
		copy_hval(buf + 29, len - 29, x->resp->sse, sizeof x->resp->sse);
	else if (len > 17 && strncasecmp(buf, "x-amz-version-id:", 17) == 0)
		copy_hval(buf + 17, len - 17, x->resp->version_id, sizeof x->resp->version_id);
	else if (len > 12 && strncasecmp(buf, "retry-after:", 12) == 0)
		copy_hval(buf + 12, len - 12, x->resp->retry_after,
		          sizeof x->resp->retry_after);
	return len;
}

static int
progress_cb(void *ud, curl_off_t a, curl_off_t b, curl_off_t c2, curl_off_t d)
{
	xfer *x = ud;
	(void)a; (void)b; (void)c2; (void)d;
	if (!x->req->cleanup && eb_interrupted())
		return 1;
	return x->req->cancel && __atomic_load_n(x->req->cancel, __ATOMIC_ACQUIRE) ? 1 : 0;
}

/* Returns EB_EINVAL (not retried) for TLS trust and URL problems. */
int
eb_http_do(eb_http *h, const eb_http_req *req, eb_http_resp *resp)
{
	CURL *c = h->c;
	struct curl_slist *hl = NULL;
	xfer x = {req, resp, h, 0};
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE] = "";
	int rc = 0;

	memset(resp, 0, sizeof *resp);
	curl_easy_reset(c);
	for (const char *const *p = req->headers; p && *p; p++) {
		struct curl_slist *t = curl_slist_append(hl, *p);
		if (!t)
			goto nomem;
		hl = t;
	}
	/* No "Expect: 100-continue" round trip; no curl-chosen content type. */
	if (!(hl = curl_slist_append(hl, "Expect:")))
		goto nomem;
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 req->connect_timeout_ms ? req->connect_timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
	                 req->stall_timeout_s ? req->stall_timeout_s : 60L);
	if (req->total_timeout_s)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, req->total_timeout_s);
	/* several times a second: a cancel or a signal stops the transfer */
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	if (h->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	{
		curl_off_t cl = -1;
		curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		resp->content_length = cl;
	}
	if (cc != CURLE_OK) {
		if (resp->cb_rc) {
			rc = resp->cb_rc;
		} else if (cc == CURLE_ABORTED_BY_CALLBACK && !req->cleanup && eb_interrupted()) {
			snprintf(resp->transport, sizeof resp->transport, "interrupted by a signal");
			rc = EB_EINTR;
		} else {
			snprintf(resp->transport, sizeof resp->transport, "%s%s%s",
			         curl_easy_strerror(cc), errbuf[0] ? ": " : "", errbuf);
			rc = EB_EUNAVAIL;
			/* retrying cannot fix configuration or trust problems */
			if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
			    cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_URL_MALFORMAT ||
			    cc == CURLE_UNSUPPORTED_PROTOCOL) {
				if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE) {
					size_t n = strlen(resp->transport);
					snprintf(resp->transport + n, sizeof resp->transport - n,
					         " (the server's TLS certificate is not trusted: pass "
					         "--s3-ca-file or set AWS_CA_BUNDLE)");
				}
				rc = EB_EINVAL;
			}
		}
	}
	curl_slist_free_all(hl);
	return rc;
nomem:
	curl_slist_free_all(hl);
	snprintf(resp->transport, sizeof resp->transport, "out of memory");
	return EB_ENOMEM;
}

int
eb_http_resume_data(void *ud, const uint8_t *buf, size_t len)
{
	eb_http_resume *g = ud;
	int rc;
	if (g->resumed && !g->checked) {
		g->checked = 1;
		g->skip = g->resp->status == 206 ? 0 : g->delivered;
	}
	if (g->skip) {
		size_t n = len < g->skip ? len : (size_t)g->skip;
		g->skip -= n;
		buf += n;
		len -= n;
		if (!len)
			return 0;
	}
	rc = g->on_data(g->ctx, buf, len);
	if (rc == 0)
		g->delivered += len;
	return rc;
}

void
eb_http_backoff(int attempt, const eb_http_resp *r, int64_t left_ms)
{
	uint32_t rnd = 0;
	int64_t cap = 200LL << (attempt < 7 ? attempt : 7), ms;
	if (cap > 20000)
		cap = 20000;
	eb_random(&rnd, sizeof rnd, NULL);
	ms = cap / 2 + (int64_t)(rnd % (uint32_t)(cap / 2 + 1)); /* jitter */
	if (r->retry_after[0]) {
		long ra = atol(r->retry_after);
		if (ra > 0 && ra <= 30 && ra * 1000 > ms)
			ms = ra * 1000;
	}
	if (ms > left_ms)
		ms = left_ms > 0 ? left_ms : 0;
	eb_sleep_ms_interruptible((long)ms); /* a signal ends the wait */
}
