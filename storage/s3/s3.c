/* storage/s3/s3.c - see s3.h. */
#include "storage/s3/s3.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>


#include "common/clock.h"
#include "common/crypto.h"
#include "common/env.h"
#include "common/interrupt.h"
#include "common/url.h"
#include "storage/s3/xml.h"

#define DEFAULT_PART (8u << 20) /* fewer requests per GiB; 4 buffers = 32 MiB */
#define MIN_PART (5u << 20)


void
eb_s3_free(eb_s3 *s)
{
	if (!s)
		return;
	eb_s3_credprov_free(s->creds);
	free(s->url);
	free(s->base);
	free(s->host);
	free(s->bucket);
	free(s->prefix);
	free(s->region);
	free(s->ca_file);
	free(s);
}

char *
eb_s3_key(const eb_s3 *s, const char *name)
{
	char *k;
	if (asprintf(&k, "%s%s", s->prefix, name) < 0)
		return NULL;
	return k;
}

static int
is_ip_host(const char *host)
{
	char h[256];
	struct in6_addr a6;
	struct in_addr a4;
	size_t n;
	if (host[0] == '[')
		return 1;
	n = strcspn(host, ":");
	if (n >= sizeof h)
		return 0;
	memcpy(h, host, n);
	h[n] = '\0';
	return inet_pton(AF_INET, h, &a4) == 1 || inet_pton(AF_INET6, h, &a6) == 1 ||
	       strcmp(h, "localhost") == 0;
}

static int
parse_compat(eb_s3 *s, const char *list, eb_err *err)
{
	const char *p = list;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		if (n == 3 && !strncmp(p, "md5", 3))
			s->compat |= EB_S3_COMPAT_MD5;
		else if (n == 16 && !strncmp(p, "unsigned-payload", 16))
			s->compat |= EB_S3_COMPAT_UNSIGNED;
		else if (n)
			return eb_err_set(err, EB_EINVAL,
			                  "--s3-compat: unknown switch '%.*s' (known: md5, "
			                  "unsigned-payload)", (int)n, p);
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Step 1: "s3://bucket/prefix" -> bucket, prefix ("" or "p/"). */
static int
parse_url(eb_s3 *s, const char *url, eb_err *err)
{
	const char *b = url + 5, *slash = strchr(b, '/'), *pf;
	size_t n;
	s->url = strdup(url);
	s->bucket = slash ? strndup(b, (size_t)(slash - b)) : strdup(b);
	if (!s->url || !s->bucket)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	if (strlen(s->bucket) < 3 || strlen(s->bucket) > 63 ||
	    strspn(s->bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != strlen(s->bucket))
		return eb_err_set(err, EB_EINVAL,
		                  "store %s: '%s' is not a valid bucket name (3-63 lower-case "
		                  "letters, digits, '.', '-')", url, s->bucket);
	/* prefix: no leading slashes, one trailing slash */
	pf = slash ? slash + 1 : "";
	while (*pf == '/')
		pf++;
	n = strlen(pf);
	while (n && pf[n - 1] == '/')
		n--;
	if (n && asprintf(&s->prefix, "%.*s/", (int)n, pf) < 0)
		s->prefix = NULL;
	else if (!n)
		s->prefix = strdup("");
	if (!s->prefix)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	if (strstr(s->prefix, "//") || strstr(s->prefix, ".."))
		return eb_err_set(err, EB_EINVAL, "store %s: bad prefix", url);
	return 0;
}

/* Step 2: --s3-region, AWS_REGION, AWS_DEFAULT_REGION, us-east-1. */
static int
resolve_region(eb_s3 *s, const eb_store_opts *opts, eb_err *err)
{
	const char *r = opts->s3_region;
	if (!r || !*r) r = eb_env("AWS_REGION");
	if (!r) r = eb_env("AWS_DEFAULT_REGION");
	if (!r) r = "us-east-1";
	if (strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(r) || strlen(r) > 40)
		return eb_err_set(err, EB_EINVAL, "S3 region '%s' is not valid", r);
	s->region = strdup(r);
	return s->region ? 0 : eb_err_set(err, EB_ENOMEM, "out of memory");
}

/* Step 3: base URL and Host from --s3-endpoint, AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL, else AWS's regional endpoint.  Credentials written
 * into the URL are never sent, shown or kept: SigV4 signs with the AWS
 * credentials. */
static int
resolve_endpoint(eb_s3 *s, const eb_store_opts *opts, eb_err *err)
{
	const char *ep = opts->s3_endpoint && *opts->s3_endpoint ? opts->s3_endpoint : NULL;
	const char *scheme = "https://", *at;
	size_t n;
	if (!ep) ep = eb_env("AWS_ENDPOINT_URL_S3");
	if (!ep) ep = eb_env("AWS_ENDPOINT_URL");
	if (!ep) {
		if (asprintf(&s->host, "s3.%s.amazonaws.com", s->region) < 0)
			s->host = NULL;
		if (asprintf(&s->base, "https://%s", s->host ? s->host : "") < 0)
			s->base = NULL;
		return s->host && s->base ? 0 : eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if (!strncmp(ep, "http://", 7)) { scheme = "http://"; ep += 7; }
	else if (!strncmp(ep, "https://", 8)) ep += 8;
	else if (strstr(ep, "://")) {
		char shown[512];
		eb_url_redact(ep, shown, sizeof shown);
		return eb_err_set(err, EB_EINVAL, "S3 endpoint %s: only http:// and https:// are supported", shown);
	}
	n = strcspn(ep, "/?#");
	at = memchr(ep, '@', n);
	while (at && memchr(at + 1, '@', n - (size_t)(at + 1 - ep)))
		at = memchr(at + 1, '@', n - (size_t)(at + 1 - ep));
	if (at) {
		n -= (size_t)(at + 1 - ep);
		ep = at + 1;
	}
	if (n == 0 || ep[n + (ep[n] == '/')] != '\0')
		return eb_err_set(err, EB_EINVAL, "S3 endpoint '%s%s': give scheme://host[:port] without a path",
		                  scheme, ep);
	if (asprintf(&s->base, "%s%.*s", scheme, (int)n, ep) < 0)
		s->base = NULL;
	/* Host as curl would send it: default ports dropped */
	if ((!strcmp(scheme, "https://") && n > 4 && !strncmp(ep + n - 4, ":443", 4)) ||
	    (!strcmp(scheme, "http://") && n > 3 && !strncmp(ep + n - 3, ":80", 3)))
		n -= strcmp(scheme, "https://") ? 3 : 4;
	s->host = strndup(ep, n);
	return s->host && s->base ? 0 : eb_err_set(err, EB_ENOMEM, "out of memory");
}

/* Step 4: path style (host/bucket) or virtual-hosted (bucket.host). */
static int
choose_addressing(eb_s3 *s, const eb_store_opts *opts, eb_err *err)
{
	char *nh, *nb;
	const char *sch;
	s->path_style = opts->s3_path_style;
	if (s->path_style < 0)
		s->path_style = is_ip_host(s->host) || strchr(s->bucket, '.') != NULL;
	if (s->path_style)
		return 0;
	sch = !strncmp(s->base, "http://", 7) ? "http://" : "https://";
	if (asprintf(&nh, "%s.%s", s->bucket, s->host) < 0)
		nh = NULL;
	if (!nh || asprintf(&nb, "%s%s.%s", sch, s->bucket, s->base + strlen(sch)) < 0) {
		free(nh);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	free(s->host);
	free(s->base);
	s->host = nh;
	s->base = nb;
	return 0;
}

/* Step 5: the CA bundle (--s3-ca-file, AWS_CA_BUNDLE) and compat switches. */
static int
tls_and_compat(eb_s3 *s, const eb_store_opts *opts, eb_err *err)
{
	const char *ca = opts->s3_ca_file && *opts->s3_ca_file ? opts->s3_ca_file : eb_env("AWS_CA_BUNDLE");
	if (ca) {
		if (access(ca, R_OK) != 0)
			return eb_err_set(err, EB_EINVAL, "S3 CA file %s cannot be read", ca);
		if (!(s->ca_file = strdup(ca)))
			return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if (!!opts->s3_lock_mode != !!opts->s3_lock_days)
		return eb_err_set(err, EB_EINVAL, "--s3-object-lock-mode and --s3-object-lock-days go "
		                  "together (the mode and how long)");
	if (opts->s3_sse_kms_key && (!opts->s3_sse || strcmp(opts->s3_sse, "aws:kms")))
		return eb_err_set(err, EB_EINVAL, "--s3-sse-kms-key-id needs --s3-sse aws:kms");
	s->lock_mode = opts->s3_lock_mode;
	s->lock_days = opts->s3_lock_days;
	s->sse = opts->s3_sse;
	s->sse_kms_key = opts->s3_sse_kms_key;
	if (s->lock_mode)
		s->compat |= EB_S3_COMPAT_MD5; /* buckets with Object Lock demand Content-MD5 */
	return parse_compat(s, opts->s3_compat, err);
}

/* Step 6: retries and the upload's shape, from the options (0 = default). */
static int
apply_tuning(eb_s3 *s, const eb_store_opts *opts, eb_err *err)
{
	s->on_retry = opts->on_retry;
	s->on_retry_arg = opts->on_retry_arg;
	s->max_attempts = opts->s3_max_attempts > 0 ? opts->s3_max_attempts : 8;
	s->retry_budget_ms = 1000 * (opts->s3_retry_budget_s > 0 ? opts->s3_retry_budget_s : 180);
	s->part_size = opts->s3_part_size ? opts->s3_part_size : DEFAULT_PART;
	if (s->part_size < MIN_PART || s->part_size > (512u << 20))
		return eb_err_set(err, EB_EINVAL, "the S3 part size must be between 5 MiB and 512 MiB");
	/* the part size doubles every 2000 parts so 10,000 parts reach far;
	 * tests lower the step to see the doubling on a small object */
	s->part_double_every = opts->s3_part_double_every ? opts->s3_part_double_every : 2000;
	if (s->part_double_every < 1 || s->part_double_every > 2000)
		return eb_err_set(err, EB_EINVAL, "the S3 part-size doubling step must be between 1 and 2000 parts");
	/* part buffers: one filling, the others uploading (memory = buffers x
	 * part size) */
	s->nbufs = opts->s3_buffers > 0 ? opts->s3_buffers : 4;
	s->list_max_keys = opts->s3_list_max_keys;
	return 0;
}

int
eb_s3_new(eb_s3 **out, const char *url, const eb_store_opts *opts, eb_err *err)
{
	eb_s3 *s = calloc(1, sizeof *s);
	int rc;
	*out = NULL;
	if (!s)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	rc = parse_url(s, url, err);
	if (rc == 0)
		rc = resolve_region(s, opts, err);
	if (rc == 0)
		rc = resolve_endpoint(s, opts, err);
	if (rc == 0)
		rc = choose_addressing(s, opts, err);
	if (rc == 0)
		rc = tls_and_compat(s, opts, err);
	if (rc == 0)
		rc = apply_tuning(s, opts, err);
	if (rc == 0)
		rc = eb_s3_credprov_new(&s->creds, s->region, s->ca_file, err);
	if (rc < 0) {
		eb_s3_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- one signed request ---- */

static int
build_path(const eb_s3 *s, const char *key, eb_buf *path)
{
	int rc = 0;
	if (s->path_style) {
		rc |= eb_buf_puts(path, "/");
		rc |= eb_buf_puts(path, s->bucket);
		if (key)
			rc |= eb_buf_puts(path, "/");
	} else {
		rc |= eb_buf_puts(path, "/");
	}
	if (key)
		rc |= eb_s3_uri_encode(path, key, strlen(key), 1);
	return rc ? EB_ENOMEM : 0;
}

/* A 2xx answer whose body is an S3 <Error> document. */
static int
error_document(const eb_http_resp *r)
{
	eb_xml_span d = {r->body, r->len}, sp;
	return r->body && eb_xml_find(d, "Error", &sp) == 1;
}

/* What an S3 error means for the operator; sets err, returns the code and
 * whether a retry may help. */
static int
classify(const eb_s3 *s, const eb_s3_call *c, const eb_http_resp *r,
         const eb_s3_creds *cr, int *retry, int *refresh, eb_err *err)
{
	char code[128] = "", msg[256] = "";
	const char *what = c->key ? c->key : "";
	long st = r->status;
	*retry = *refresh = 0;
	if (r->body) {
		eb_xml_span d = {r->body, r->len};
		eb_xml_get(d, "Code", code, sizeof code);
		eb_xml_get(d, "Message", msg, sizeof msg);
	}
#define E(C, ...) eb_err_set(err, C, "S3 %s s3://%s/%s: %ld %s: " __VA_ARGS__)
	if (st >= 500 || st == 429 || !strcmp(code, "SlowDown") ||
	    !strcmp(code, "RequestTimeout") || !strcmp(code, "InternalError")) {
		*retry = 1;
		return E(EB_EUNAVAIL, "the server is unavailable or overloaded%s%s",
		         c->op, s->bucket, what, st, code[0] ? code : "error",
		         msg[0] ? ": " : "", msg);
	}
	if (!strcmp(code, "ExpiredToken") || !strcmp(code, "TokenRefreshRequired") ||
	    !strcmp(code, "InvalidToken")) {
		*refresh = 1;
		return E(EB_EAUTH, "the session token from %s is expired or not valid; "
		         "refresh the temporary credentials",
		         c->op, s->bucket, what, st, code, cr->source);
	}
	if (!strcmp(code, "SignatureDoesNotMatch"))
		return E(EB_EAUTH, "the secret key is wrong for access key %s (credentials from %s)",
		         c->op, s->bucket, what, st, code, cr->ak, cr->source);
	if (!strcmp(code, "InvalidAccessKeyId"))
		return E(EB_EAUTH, "the server does not know access key %s (credentials from %s); "
		         "check the key and the endpoint %s",
		         c->op, s->bucket, what, st, code, cr->ak, cr->source, s->base);
	if (!strcmp(code, "RequestTimeTooSkewed"))
		return E(EB_EAUTH, "the local clock is more than 15 minutes off the server's; fix NTP",
		         c->op, s->bucket, what, st, code);
	if (!strcmp(code, "AuthorizationHeaderMalformed"))
		return E(EB_EAUTH, "the server refused the credential scope (region %s); set "
		         "--s3-region to the bucket's region%s%s",
		         c->op, s->bucket, what, st, code, s->region, msg[0] ? ": " : "", msg);
	if (st == 403 || st == 401)
		return E(EB_EAUTH, "permission denied for access key %s (credentials from %s); "
		         "the policy must allow this operation on the bucket%s%s",
		         c->op, s->bucket, what, st, code[0] ? code : "Forbidden", cr->ak,
		         cr->source, msg[0] ? ": " : "", msg);
	if (!strcmp(code, "NoSuchBucket"))
		return E(EB_ENOTFOUND, "bucket %s does not exist at %s",
		         c->op, s->bucket, what, st, code, s->bucket, s->base);
	if (st == 404)
		return E(EB_ENOTFOUND, "no such object or upload",
		         c->op, s->bucket, what, st, code[0] ? code : "NotFound");
	if (st == 301 || !strcmp(code, "PermanentRedirect"))
		return E(EB_EINVAL, "the bucket is in another region or needs another endpoint; "
		         "set --s3-region / --s3-endpoint",
		         c->op, s->bucket, what, st, code[0] ? code : "redirect");
	return E(EB_EREMOTE, "%s", c->op, s->bucket, what, st, code[0] ? code : "error",
	         msg[0] ? msg : "unexpected answer");
#undef E
}

/* What stays the same over the attempts of one call. */
typedef struct {
	eb_buf path, url;
	char phash[65], md5b64[32];
	char etag_pin[256]; /* GET: the first answer's ETag, for resumed reads */
	char retain_until[32]; /* new objects with Object Lock */
	eb_http_resume g;
	int64_t t0;
	int refreshed;      /* credentials fetched again once already */
} call_state;

/* Step 1: the request line and the body digests, once per call. */
static int
call_prepare(const eb_s3 *s, const eb_s3_call *c, eb_http_resp *resp, call_state *cs,
             eb_err *err)
{
	memset(cs, 0, sizeof *cs);
	cs->g = (eb_http_resume){c->on_data, c->ctx, resp, 0, 0, 0, 0};
	cs->t0 = eb_mono_ms();
	if (build_path(s, c->key, &cs->path) ||
	    eb_buf_puts(&cs->url, s->base) || eb_buf_puts(&cs->url, cs->path.p) ||
	    (c->query && c->query[0] &&
	     (eb_buf_puts(&cs->url, "?") || eb_buf_puts(&cs->url, c->query))))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	if (s->compat & EB_S3_COMPAT_UNSIGNED) {
		snprintf(cs->phash, sizeof cs->phash, "%s",
		         c->body_len || !strcmp(c->method, "PUT") || !strcmp(c->method, "POST")
		             ? "UNSIGNED-PAYLOAD" : EB_S3_EMPTY_SHA256);
	} else if (c->payload_sha256) {
		snprintf(cs->phash, sizeof cs->phash, "%s", c->payload_sha256);
	} else {
		uint8_t d[EB_SHA256_LEN];
		eb_sha256_buf(c->body ? (const void *)c->body : "", c->body_len, d);
		eb_hex(d, sizeof d, cs->phash);
	}
	if (c->new_object && s->lock_mode) {
		time_t until = time(NULL) + (time_t)s->lock_days * 86400;
		struct tm tm;
		gmtime_r(&until, &tm);
		strftime(cs->retain_until, sizeof cs->retain_until, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if ((s->compat & EB_S3_COMPAT_MD5) && c->body) {
		uint8_t m[EB_MD5_LEN];
		eb_md5_buf(c->body, c->body_len, m);
		eb_base64(m, sizeof m, cs->md5b64);
	}
	return 0;
}

static void
call_dispose(call_state *cs)
{
	eb_buf_dispose(&cs->path);
	eb_buf_dispose(&cs->url);
}

/* The signed headers of one attempt, in hd; returns how many. */
static int
attempt_headers(const eb_s3 *s, const eb_s3_call *c, call_state *cs, const eb_s3_creds *cr,
                const char *amz_date, char *range, size_t range_len, eb_s3_hdr *hd)
{
	int nh = 0;
	hd[nh++] = (eb_s3_hdr){"host", s->host};
	hd[nh++] = (eb_s3_hdr){"x-amz-content-sha256", cs->phash};
	hd[nh++] = (eb_s3_hdr){"x-amz-date", amz_date};
	if (cr->token)
		hd[nh++] = (eb_s3_hdr){"x-amz-security-token", cr->token};
	if (cs->md5b64[0])
		hd[nh++] = (eb_s3_hdr){"content-md5", cs->md5b64};
	if (c->content_type)
		hd[nh++] = (eb_s3_hdr){"content-type", c->content_type};
	if (c->if_none_match)
		hd[nh++] = (eb_s3_hdr){"if-none-match", "*"};
	if (c->new_object && s->lock_mode) {
		hd[nh++] = (eb_s3_hdr){"x-amz-object-lock-mode", s->lock_mode};
		hd[nh++] = (eb_s3_hdr){"x-amz-object-lock-retain-until-date", cs->retain_until};
	}
	if (c->new_object && s->sse)
		hd[nh++] = (eb_s3_hdr){"x-amz-server-side-encryption", s->sse};
	if (c->new_object && s->sse_kms_key)
		hd[nh++] = (eb_s3_hdr){"x-amz-server-side-encryption-aws-kms-key-id", s->sse_kms_key};
	cs->g.resumed = cs->g.delivered > 0;
	cs->g.checked = 0;
	if (c->on_data && cs->g.delivered) {
		snprintf(range, range_len, "bytes=%llu-", (unsigned long long)cs->g.delivered);
		hd[nh++] = (eb_s3_hdr){"range", range};
		if (cs->etag_pin[0])
			hd[nh++] = (eb_s3_hdr){"if-match", cs->etag_pin};
	}
	return nh;
}

/* Signs the headers and sends the request; the "name: value" lines carry
 * the signature and the session token, so they are wiped here. */
static int
attempt_send(const eb_s3 *s, eb_http *h, const eb_s3_call *c, call_state *cs,
             const eb_s3_creds *cr, eb_http_resp *resp, eb_err *err)
{
	eb_s3_hdr hd[16];
	const char *wire[20];
	char *lines[17];
	char amz_date[17], range[64], auth[1024];
	eb_http_req rq = {0};
	time_t now = time(NULL);
	struct tm tm;
	int nh, nl = 0, rc;

	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
	nh = attempt_headers(s, c, cs, cr, amz_date, range, sizeof range, hd);
	rc = eb_sigv4_sign(c->method, cs->path.p, c->query ? c->query : "", hd, nh, cs->phash,
	                   amz_date, s->region, "s3", cr->ak, cr->sk, auth, sizeof auth, NULL, err);
	for (int i = 0; rc == 0 && i <= nh; i++) {
		int n = i < nh ? asprintf(&lines[nl], "%s: %s", hd[i].name, hd[i].value)
		               : asprintf(&lines[nl], "authorization: %s", auth);
		if (n < 0)
			rc = eb_err_set(err, EB_ENOMEM, "out of memory");
		else
			wire[nl] = lines[nl], nl++;
	}
	wire[nl] = NULL;
	eb_wipe(auth, sizeof auth);
	if (rc == 0) {
		rq.method = c->method;
		rq.url = cs->url.p;
		rq.headers = wire;
		rq.body = c->body;
		rq.body_len = c->body_len;
		rq.cancel = c->cancel;
		rq.cleanup = c->cleanup;
		if (c->on_data) {
			rq.on_data = eb_http_resume_data;
			rq.ctx = &cs->g;
		}
		eb_http_resp_dispose(resp);
		rc = eb_http_do(h, &rq, resp);
		if (rc == EB_ENOMEM)
			eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	for (int i = 0; i < nl; i++) {
		eb_wipe_str(lines[i]);
		free(lines[i]);
	}
	return rc;
}

/* Step 2: one attempt.  0 on a 2xx answer.  Otherwise the attempt's error
 * is in e, and *retry / *refresh say whether another attempt may help. */
static int
attempt_once(eb_s3 *s, eb_http *h, const eb_s3_call *c, call_state *cs, eb_http_resp *resp,
             int *retry, int *refresh, eb_err *e)
{
	eb_s3_creds cr = {0};
	eb_err e2;
	const char *key = c->key ? c->key : "";
	int rc;

	*retry = *refresh = 0;
	eb_err_init(&e2);
	rc = eb_s3_creds_get(s->creds, &cr, &e2);
	if (rc)
		return eb_err_set(e, rc, "S3 %s s3://%s/%s: no credentials: %s", c->op, s->bucket,
		                  key, e2.msg);
	rc = attempt_send(s, h, c, cs, &cr, resp, e);
	if (c->on_data && !cs->etag_pin[0] && resp->etag[0] && resp->status / 100 == 2)
		snprintf(cs->etag_pin, sizeof cs->etag_pin, "%s", resp->etag);
	if (rc == EB_ENOMEM) {
		/* message set by attempt_send */
	} else if (rc == EB_EINTR) {
		eb_interrupt_check(e, c->op);
	} else if (rc == EB_EUNAVAIL || (rc == EB_EINVAL && resp->transport[0])) {
		*retry = rc == EB_EUNAVAIL;
		eb_err_set(e, rc, "S3 %s s3://%s/%s at %s: %s", c->op, s->bucket, key, s->base,
		           resp->transport);
	} else if (rc < 0) {
		/* the stream consumer refused the data: its message is in ctx */
		eb_err_set(e, rc, "S3 %s s3://%s/%s: the data was refused downstream", c->op,
		           s->bucket, key);
	} else if (resp->status / 100 == 2 && !(c->error_in_200 && error_document(resp))) {
		rc = 0;
	} else if (c->on_data && cs->g.delivered && resp->status == 412) {
		rc = eb_err_set(e, EB_ECORRUPT, "S3 %s s3://%s/%s: the object changed while it was read",
		                c->op, s->bucket, key);
	} else if (c->if_none_match && resp->status == 412) {
		rc = eb_err_set(e, EB_EEXIST, "S3 %s s3://%s/%s: the object already exists; "
		                "not overwritten", c->op, s->bucket, key);
	} else {
		rc = classify(s, c, resp, &cr, retry, refresh, e);
	}
	eb_s3_creds_dispose(&cr);
	return rc;
}

/* Step 3: after a failed attempt, may another one run? */
static int
may_retry(eb_s3 *s, const eb_s3_call *c, call_state *cs, int attempt, int retry, int refresh)
{
	if (refresh && !cs->refreshed && eb_s3_creds_expire(s->creds)) {
		cs->refreshed = 1;
		retry = 1;
	}
	if (c->cancel && __atomic_load_n(c->cancel, __ATOMIC_ACQUIRE))
		return 0;
	if (!c->cleanup && eb_interrupted())
		return 0;
	return retry && attempt + 1 < s->max_attempts &&
	       s->retry_budget_ms - (eb_mono_ms() - cs->t0) > 0;
}

/* DELETE key, with the query name=value when name is not NULL (versionId,
 * uploadId): a clean-up call (it runs after SIGTERM too). */
static int
delete_with(eb_s3 *s, eb_http *h, const char *op, const char *key, const char *name, const char *value,
            eb_err *err)
{
	eb_s3_query qq = {0};
	char *qs = NULL;
	eb_s3_call c = {0};
	eb_http_resp r;
	int rc;
	if (name && (eb_s3_query_add(&qq, name, value) || eb_s3_query_build(&qq, &qs))) {
		eb_s3_query_dispose(&qq);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	c.op = op;
	c.method = "DELETE";
	c.key = key;
	c.query = qs;
	c.cleanup = 1;
	rc = eb_s3_call_do(s, h, &c, &r, err);
	eb_http_resp_dispose(&r);
	eb_s3_query_dispose(&qq);
	free(qs);
	return rc;
}

int
eb_s3_delete_key(eb_s3 *s, eb_http *h, const char *key, eb_err *err)
{
	return delete_with(s, h, "DeleteObject", key, NULL, NULL, err);
}

/* Undoes the write c made, as the answer resp tells it: the upload that
 * CreateMultipartUpload opened is aborted (its UploadId is in the body),
 * and the object a PUT or CompleteMultipartUpload stored is deleted by
 * its version id when the bucket is versioned (a plain DELETE there only
 * hides it behind a delete marker).  Best effort; 0 when undone. */
static int
undo_write(eb_s3 *s, eb_http *h, const eb_s3_call *c, const eb_http_resp *resp, eb_err *err)
{
	eb_xml_span d = {resp->body ? resp->body : "", resp->len}, id;
	char *upload = NULL;
	int rc;
	if (c->query && strcmp(c->query, "uploads=") == 0) { /* CreateMultipartUpload */
		if (eb_xml_find(d, "UploadId", &id) != 1 || !(upload = eb_xml_text(id)) || !upload[0]) {
			free(upload);
			return eb_err_set(err, EB_EREMOTE, "no UploadId to abort in the answer");
		}
		rc = delete_with(s, h, "AbortMultipartUpload", c->key, "uploadId", upload, err);
		free(upload);
		return rc;
	}
	if (resp->version_id[0] && strcmp(resp->version_id, "null") != 0)
		return delete_with(s, h, "DeleteObject", c->key, "versionId", resp->version_id, err);
	return eb_s3_delete_key(s, h, c->key, err);
}

/* Last step: --s3-sse asked for server-side encryption of a new object,
 * so the answer must say it was applied (a server that ignores the header
 * would store the object in the clear while we claim otherwise).  What the
 * call wrote is undone (undo_write), so that "nothing was kept" is true. */
static int
check_sse(eb_s3 *s, eb_http *h, const eb_s3_call *c, const eb_http_resp *resp, eb_err *err)
{
	eb_err e;
	int undone;
	if (!c->new_object || !s->sse || strcmp(resp->sse, s->sse) == 0)
		return 0;
	eb_err_init(&e);
	undone = undo_write(s, h, c, resp, &e) == 0;
	return eb_err_set(err, EB_EREMOTE,
	                  "S3 %s s3://%s/%s: --s3-sse %s was asked, but the server answered "
	                  "server-side encryption '%s': it does not apply it; %s "
	                  "(drop --s3-sse, or enable SSE on the server)",
	                  c->op, s->bucket, c->key ? c->key : "", s->sse,
	                  resp->sse[0] ? resp->sse : "none",
	                  undone ? "nothing was kept" : "undoing the write failed too");
}

int
eb_s3_call_do(eb_s3 *s, eb_http *h, const eb_s3_call *c, eb_http_resp *resp,
              eb_err *err)
{
	call_state cs;
	int rc, retry = 0, refresh = 0;

	memset(resp, 0, sizeof *resp);
	rc = call_prepare(s, c, resp, &cs, err);
	for (int attempt = 0; rc == 0; attempt++) {
		eb_err e;
		eb_err_init(&e);
		rc = attempt_once(s, h, c, &cs, resp, &retry, &refresh, &e);
		if (rc == 0)
			break;
		if (!may_retry(s, c, &cs, attempt, retry, refresh)) {
			if (retry && attempt > 0)
				eb_err_set(err, rc, "%s (gave up after %d attempts in %llds)", e.msg,
				           attempt + 1, (long long)((eb_mono_ms() - cs.t0) / 1000));
			else
				eb_err_set(err, rc, "%s", e.msg);
			break;
		}
		if (s->on_retry) {
			char line[1200];
			snprintf(line, sizeof line, "%.1000s; retrying (attempt %d of %d)", e.msg,
			         attempt + 2, s->max_attempts);
			s->on_retry(s->on_retry_arg, line);
		}
		eb_http_backoff(attempt, resp, s->retry_budget_ms - (eb_mono_ms() - cs.t0));
		rc = 0;
	}
	call_dispose(&cs);
	return rc < 0 ? rc : check_sse(s, h, c, resp, err);
}
