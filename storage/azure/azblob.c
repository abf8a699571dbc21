/* storage/azure/azblob.c - see azblob.h. */
#include "storage/azure/azblob.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/env.h"
#include "common/interrupt.h"
#include "storage/azure/aztoken.h"
#include "storage/s3/sigv4.h"
#include "storage/s3/xml.h"

#define AZ_VERSION "2021-12-02"

struct eb_az {
	char *account, *container, *prefix;
	char *endpoint;      /* scheme://host[:port][/path], no trailing / */
	const char *path0;   /* the endpoint's path part (into endpoint) */
	uint8_t key[128];    /* decoded account key (Shared Key) */
	size_t key_len;
	char *sas;           /* SAS token without '?' (when no key) */
	eb_az_tokens *tokens; /* Entra ID tokens (when neither) */
	const char *source;  /* where the credentials came from */
	char *ca_file;
	int max_attempts, list_max;
	int64_t retry_budget_ms;
	void (*on_retry)(void *arg, const char *msg);
	void *on_retry_arg;
};

/* ---- where the account is, and how we are let in ---- */

/* Step 1: "azblob://ACCOUNT/CONTAINER[/prefix]". */
static int
parse_url(eb_az *a, const char *url, eb_err *err)
{
	const char *p = url + strlen("azblob://"), *slash = strchr(p, '/'), *c, *pre;
	size_t cl;
	if (!slash || slash == p)
		return eb_err_set(err, EB_EINVAL, "store %s: want azblob://ACCOUNT/CONTAINER[/prefix]", url);
	c = slash + 1;
	pre = strchr(c, '/');
	cl = pre ? (size_t)(pre - c) : strlen(c);
	if (cl < 3 || cl > 63)
		return eb_err_set(err, EB_EINVAL, "store %s: a container name has 3 to 63 characters", url);
	for (size_t i = 0; i < cl; i++)
		if (!(islower((unsigned char)c[i]) || isdigit((unsigned char)c[i]) || c[i] == '-'))
			return eb_err_set(err, EB_EINVAL, "store %s: a container name has lower-case letters, "
			                  "digits and '-' only", url);
	a->account = strndup(p, (size_t)(slash - p));
	a->container = strndup(c, cl);
	pre = pre ? pre + 1 : "";
	while (*pre == '/')
		pre++;
	if (asprintf(&a->prefix, "%s%s", pre, *pre && pre[strlen(pre) - 1] != '/' ? "/" : "") < 0)
		a->prefix = NULL;
	if (!a->account || !a->container || !a->prefix)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	if (strstr(a->prefix, "//") || strstr(a->prefix, ".."))
		return eb_err_set(err, EB_EINVAL, "store %s: the prefix may not hold '//' or '..'", url);
	return 0;
}

/* The decoded account key; the text is the caller's to wipe. */
static int
take_key(eb_az *a, const char *b64, const char *source, eb_err *err)
{
	size_t n = 0;
	if (eb_base64_dec(b64, strlen(b64), a->key, sizeof a->key, &n, 1) < 0 || n == 0)
		return eb_err_set(err, EB_EINVAL, "the account key from %s is not base64 (copy it from "
		                  "the storage account's Access keys)", source);
	a->key_len = n;
	a->source = source;
	return 0;
}

static int
take_sas(eb_az *a, const char *sas, const char *source, eb_err *err)
{
	if (*sas == '?')
		sas++;
	if (!strstr(sas, "sig="))
		return eb_err_set(err, EB_EINVAL, "the SAS token from %s has no sig= (want the query "
		                  "string Azure generated: sv=...&sig=...)", source);
	if (!(a->sas = strdup(sas)))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	a->source = source;
	return 0;
}

/* Step 2: the endpoint from the flags, the connection string or the
 * account and suffix. */
static int
set_endpoint(eb_az *a, const eb_store_opts *o, const eb_az_connstr *cs, eb_err *err)
{
	const char *ep = o->azure_endpoint ? o->azure_endpoint : cs->blob_endpoint;
	const char *suffix = o->azure_endpoint_suffix ? o->azure_endpoint_suffix
	                     : cs->suffix ? cs->suffix : "core.windows.net";
	const char *proto = cs->protocol ? cs->protocol : "https";
	int n = ep ? asprintf(&a->endpoint, "%s", ep)
	           : asprintf(&a->endpoint, "%s://%s.blob.%s", proto, a->account, suffix);
	const char *p;
	if (n < 0)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	if (strncmp(a->endpoint, "http://", 7) && strncmp(a->endpoint, "https://", 8))
		return eb_err_set(err, EB_EINVAL, "Azure blob endpoint %s: want http:// or https://",
		                  a->endpoint);
	while (n > 0 && a->endpoint[n - 1] == '/')
		a->endpoint[--n] = '\0';
	p = strchr(a->endpoint + strlen("https://") - 1, '/');
	a->path0 = p ? p : "";
	if (strchr(a->endpoint, '?'))
		return eb_err_set(err, EB_EINVAL, "Azure blob endpoint: give the SAS token in "
		                  "AZURE_STORAGE_SAS_TOKEN, not in the URL");
	return 0;
}

/* Step 3: the credentials, in the SDK's order. */
static int
set_creds(eb_az *a, const eb_az_connstr *cs, eb_err *err)
{
	const char *key = eb_env("AZURE_STORAGE_KEY"), *sas = eb_env("AZURE_STORAGE_SAS_TOKEN");
	if (cs->account && strcmp(cs->account, a->account))
		return eb_err_set(err, EB_EINVAL, "AZURE_STORAGE_CONNECTION_STRING is for account %s, "
		                  "the store for %s", cs->account, a->account);
	if (cs->key)
		return take_key(a, cs->key, "AZURE_STORAGE_CONNECTION_STRING", err);
	if (cs->sas)
		return take_sas(a, cs->sas, "AZURE_STORAGE_CONNECTION_STRING", err);
	if (key && *key)
		return take_key(a, key, "AZURE_STORAGE_KEY", err);
	if (sas && *sas)
		return take_sas(a, sas, "AZURE_STORAGE_SAS_TOKEN", err);
	/* workload identity, else the instance's managed identity */
	if (eb_az_tokens_new(&a->tokens, a->ca_file, err) < 0)
		return err->code;
	a->source = eb_az_tokens_source(a->tokens);
	return 0;
}

void
eb_az_free(eb_az *a)
{
	if (!a)
		return;
	eb_wipe(a->key, sizeof a->key);
	eb_az_tokens_free(a->tokens);
	if (a->sas)
		eb_wipe_str(a->sas);
	free(a->sas);
	free(a->account);
	free(a->container);
	free(a->prefix);
	free(a->endpoint);
	free(a->ca_file);
	free(a);
}

int
eb_az_new(eb_az **out, const char *url, const eb_store_opts *opts, eb_err *err)
{
	eb_az *a = calloc(1, sizeof *a);
	eb_az_connstr cs = {0};
	const char *conn = eb_env("AZURE_STORAGE_CONNECTION_STRING");
	int rc;
	*out = NULL;
	if (!a)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	a->max_attempts = opts->s3_max_attempts > 0 ? opts->s3_max_attempts : 8;
	a->list_max = opts->s3_list_max_keys; /* tests force small pages (EB_S3_LIST_MAX_KEYS) */
	a->retry_budget_ms = 1000 * (opts->s3_retry_budget_s > 0 ? opts->s3_retry_budget_s : 180);
	a->on_retry = opts->on_retry;
	a->on_retry_arg = opts->on_retry_arg;
	if (opts->azure_ca_file && !(a->ca_file = strdup(opts->azure_ca_file))) {
		eb_az_free(a);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if ((rc = parse_url(a, url, err)) == 0 && (!conn || !*conn || (rc = eb_az_connstr_parse(conn, &cs, err)) == 0) &&
	    (rc = set_endpoint(a, opts, &cs, err)) == 0)
		rc = set_creds(a, &cs, err);
	eb_az_connstr_dispose(&cs);
	if (rc) {
		eb_az_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void
eb_az_info_of(const eb_az *a, eb_az_info *out)
{
	*out = (eb_az_info){a->account, a->container, a->prefix, a->endpoint, a->ca_file, a->source,
	                    a->list_max};
}

/* ---- Shared Key ---- */

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* "\nname:value" per query parameter, by name */
static void
canonical_query(eb_buf *b, const char *const *qn, const char *const *qv)
{
	int order[EB_AZ_MAXQ], n = 0;
	for (; n < EB_AZ_MAXQ && qn && qn[n]; n++)
		order[n] = n;
	for (int i = 1; i < n; i++) /* a handful: insertion sort */
		for (int j = i; j > 0 && strcmp(qn[order[j - 1]], qn[order[j]]) > 0; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < n; i++)
		eb_buf_printf(b, "\n%s:%s", qn[order[i]], qv[order[i]]);
}

char *
eb_az_string_to_sign(const char *method, const char *content_length, const char *content_type,
                     const char *if_match, const char *if_none_match, const char *const *headers,
                     const char *account, const char *path, const char *const *qn,
                     const char *const *qv)
{
	const char *hs[16];
	size_t nh = 0;
	eb_buf b;
	eb_buf_init(&b);
	for (; headers && headers[nh] && nh < 16; nh++)
		hs[nh] = headers[nh];
	qsort(hs, nh, sizeof hs[0], cmp_str);
	eb_buf_printf(&b, "%s\n\n\n%s\n\n%s\n\n\n%s\n%s\n\n\n", method, content_length,
	              content_type ? content_type : "", if_match ? if_match : "",
	              if_none_match ? if_none_match : "");
	for (size_t i = 0; i < nh; i++)
		eb_buf_printf(&b, "%s\n", hs[i]);
	eb_buf_printf(&b, "/%s%s", account, path);
	canonical_query(&b, qn, qv);
	if (eb_buf_status(&b)) {
		eb_buf_dispose(&b);
		return NULL;
	}
	return b.p;
}

/* ---- one call ---- */

typedef struct {
	eb_buf path, url;
	char etag_pin[256];
	eb_http_resume g;
	int64_t t0;
} call_state;

/* Step 1: path and URL (with the SAS token when that is the credential). */
static int
call_prepare(const eb_az *a, const eb_az_call *c, eb_http_resp *resp, call_state *cs, eb_err *err)
{
	int rc = 0;
	memset(cs, 0, sizeof *cs);
	cs->g = (eb_http_resume){c->on_data, c->ctx, resp, 0, 0, 0, 0};
	cs->t0 = eb_mono_ms();
	rc |= eb_buf_puts(&cs->path, a->path0);
	rc |= eb_buf_puts(&cs->path, "/");
	rc |= eb_buf_puts(&cs->path, a->container);
	if (c->blob) {
		rc |= eb_buf_puts(&cs->path, "/");
		rc |= eb_s3_uri_encode(&cs->path, c->blob, strlen(c->blob), 1);
	}
	rc |= eb_buf_puts(&cs->url, a->endpoint);
	rc |= eb_buf_puts(&cs->url, cs->path.p + strlen(a->path0));
	for (int i = 0; i < EB_AZ_MAXQ && c->qn[i]; i++) {
		rc |= eb_buf_puts(&cs->url, i ? "&" : "?");
		rc |= eb_s3_uri_encode(&cs->url, c->qn[i], strlen(c->qn[i]), 0);
		rc |= eb_buf_puts(&cs->url, "=");
		rc |= eb_s3_uri_encode(&cs->url, c->qv[i], strlen(c->qv[i]), 0);
	}
	if (a->sas) {
		rc |= eb_buf_puts(&cs->url, c->qn[0] ? "&" : "?");
		rc |= eb_buf_puts(&cs->url, a->sas);
	}
	return rc ? eb_err_set(err, EB_ENOMEM, "out of memory") : 0;
}

static void
call_dispose(call_state *cs)
{
	if (cs->url.p)
		eb_wipe(cs->url.p, cs->url.len); /* may hold the SAS token */
	eb_buf_dispose(&cs->path);
	eb_buf_dispose(&cs->url);
}

/* The x-ms-* headers of one attempt ("name:value"); returns how many. */
static int
ms_headers(const eb_az_call *c, call_state *cs, char lines[][96])
{
	time_t now = time(NULL);
	struct tm tm;
	char date[40];
	int n = 0;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(lines[n++], 96, "x-ms-date:%s", date);
	snprintf(lines[n++], 96, "x-ms-version:%s", AZ_VERSION);
	if (c->block_blob)
		snprintf(lines[n++], 96, "x-ms-blob-type:BlockBlob");
	cs->g.resumed = cs->g.delivered > 0;
	cs->g.checked = 0;
	if (c->on_data && cs->g.delivered)
		snprintf(lines[n++], 96, "x-ms-range:bytes=%llu-", (unsigned long long)cs->g.delivered);
	return n;
}

/* "Authorization: SharedKey ACCOUNT:signature" into auth. */
static int
sign(const eb_az *a, const eb_az_call *c, const call_state *cs, const char *const *ms,
     const char *if_match, char *auth, size_t cap, eb_err *err)
{
	char clen[24] = "", *sts;
	uint8_t mac[32];
	char b64[64];
	if (c->body_len)
		snprintf(clen, sizeof clen, "%zu", c->body_len);
	sts = eb_az_string_to_sign(c->method, clen, c->content_type, if_match,
	                           c->if_none_match ? "*" : NULL, ms, a->account, cs->path.p,
	                           c->qn, c->qv);
	if (!sts)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_hmac_sha256(a->key, a->key_len, sts, strlen(sts), mac);
	free(sts);
	eb_base64(mac, sizeof mac, b64);
	snprintf(auth, cap, "Authorization: SharedKey %s:%s", a->account, b64);
	eb_wipe(mac, sizeof mac);
	return 0;
}

/* Sends one attempt; the Authorization line is wiped here. */
static int
attempt_send(const eb_az *a, eb_http *h, const eb_az_call *c, call_state *cs, eb_http_resp *resp,
             eb_err *err)
{
	char ms[4][96], wire_ms[4][100], ct[160], ifm[300], auth[8300] = "";
	const char *msp[5], *wire[12];
	const char *if_match = c->on_data && cs->g.delivered && cs->etag_pin[0] ? cs->etag_pin : NULL;
	eb_http_req rq = {0};
	int n = ms_headers(c, cs, ms), nw = 0, rc = 0;
	for (int i = 0; i < n; i++) {
		char *colon = strchr(ms[i], ':');
		msp[i] = ms[i];
		snprintf(wire_ms[i], sizeof wire_ms[i], "%.*s: %s", (int)(colon - ms[i]), ms[i], colon + 1);
		wire[nw++] = wire_ms[i];
	}
	msp[n] = NULL;
	if (c->content_type && snprintf(ct, sizeof ct, "Content-Type: %s", c->content_type) > 0)
		wire[nw++] = ct;
	if (c->if_none_match)
		wire[nw++] = "If-None-Match: *";
	if (if_match && snprintf(ifm, sizeof ifm, "If-Match: %s", if_match) > 0)
		wire[nw++] = ifm;
	if (a->tokens)
		rc = eb_az_tokens_header(a->tokens, auth, sizeof auth, err);
	else if (!a->sas)
		rc = sign(a, c, cs, msp, if_match, auth, sizeof auth, err);
	if (rc == 0 && auth[0])
		wire[nw++] = auth;
	wire[nw] = NULL;
	if (rc == 0) {
		rq = (eb_http_req){.method = c->method, .url = cs->url.p, .headers = wire, .body = c->body,
		                   .body_len = c->body_len, .cleanup = c->cleanup, .cancel = c->cancel};
		if (c->on_data) {
			rq.on_data = eb_http_resume_data;
			rq.ctx = &cs->g;
		}
		eb_http_resp_dispose(resp);
		rc = eb_http_do(h, &rq, resp);
		if (rc == EB_ENOMEM)
			eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	eb_wipe(auth, sizeof auth);
	return rc;
}

/* What an Azure error means for the operator; sets err, returns the code
 * and whether a retry may help. */
static int
classify(const eb_az *a, const eb_az_call *c, const eb_http_resp *r, int *retry, eb_err *err)
{
	char code[128] = "", msg[256] = "";
	const char *what = c->blob ? c->blob : "";
	long st = r->status;
	char *nl;
	if (r->body) {
		eb_xml_span d = {r->body, r->len};
		eb_xml_get(d, "Code", code, sizeof code);
		eb_xml_get(d, "Message", msg, sizeof msg);
		if ((nl = strchr(msg, '\n')))
			*nl = '\0'; /* Azure adds RequestId and Time on the next lines */
	}
#define E(C, ...) eb_err_set(err, C, "Azure %s azblob://%s/%s/%s: %ld %s: " __VA_ARGS__)
	if (st >= 500 || st == 429 || !strcmp(code, "ServerBusy") || !strcmp(code, "OperationTimedOut") ||
	    !strcmp(code, "InternalError")) {
		*retry = 1;
		return E(EB_EUNAVAIL, "the service is unavailable or busy%s%s", c->op, a->account,
		         a->container, what, st, code[0] ? code : "error", msg[0] ? ": " : "", msg);
	}
	/* a signature that does not verify: AuthenticationFailed from Azure,
	 * AuthorizationFailure with the same message from Azurite */
	if (!strcmp(code, "AuthorizationFailure") && strstr(msg, "failed to authenticate"))
		strcpy(code, "AuthenticationFailed");
	if (a->tokens && (st == 401 || !strcmp(code, "AuthenticationFailed") ||
	                  !strcmp(code, "InvalidAuthenticationInfo"))) {
		*retry = eb_az_tokens_expire(a->tokens); /* once: a token revoked or expired early */
		return E(EB_EAUTH, "the access token from %s was refused%s%s", c->op, a->account, a->container,
		         what, st, code[0] ? code : "Unauthorized", a->source, msg[0] ? ": " : "", msg);
	}
	if (!strcmp(code, "AuthenticationFailed") && a->sas)
		return E(EB_EAUTH, "the SAS token (from %s) was refused: its signature, expiry or "
		         "start time is not valid", c->op, a->account, a->container, what, st, code, a->source);
	if (!strcmp(code, "AuthenticationFailed"))
		return E(EB_EAUTH, "the signature did not match: the account key (from %s) is not "
		         "a key of account %s, or the local clock is off by more than 15 minutes",
		         c->op, a->account, a->container, what, st, code, a->source, a->account);
	if (st == 403 || st == 401)
		return E(EB_EAUTH, "permission denied (credentials from %s): the key, token or role "
		         "must allow this operation on the container%s%s", c->op, a->account,
		         a->container, what, st, code[0] ? code : "Forbidden", a->source,
		         msg[0] ? ": " : "", msg);
	if (!strcmp(code, "ContainerNotFound"))
		return E(EB_ENOTFOUND, "container %s does not exist in account %s (create it: az "
		         "storage container create -n %s)", c->op, a->account, a->container, what, st, code,
		         a->container, a->account, a->container);
	if (st == 404)
		return E(EB_ENOTFOUND, "no such blob", c->op, a->account, a->container, what, st,
		         code[0] ? code : "NotFound");
	if (c->if_none_match && (st == 409 || st == 412))
		return E(EB_EEXIST, "the blob already exists; not overwritten", c->op, a->account,
		         a->container, what, st, code[0] ? code : "exists");
	if (c->on_data && st == 412)
		return E(EB_ECORRUPT, "the blob changed while it was read", c->op, a->account,
		         a->container, what, st, code);
	return E(EB_EREMOTE, "%s", c->op, a->account, a->container, what, st,
	         code[0] ? code : "error", msg[0] ? msg : "unexpected answer");
#undef E
}

/* Step 2: one attempt.  0 on a 2xx answer; otherwise the error is in e
 * and *retry says whether another attempt may help. */
static int
attempt_once(eb_az *a, eb_http *h, const eb_az_call *c, call_state *cs, eb_http_resp *resp,
             int *retry, eb_err *e)
{
	const char *what = c->blob ? c->blob : "";
	int rc = attempt_send(a, h, c, cs, resp, e);
	*retry = 0;
	if (c->on_data && !cs->etag_pin[0] && resp->etag[0] && resp->status / 100 == 2)
		snprintf(cs->etag_pin, sizeof cs->etag_pin, "%s", resp->etag);
	if (rc == EB_ENOMEM || rc == EB_EAUTH) /* no memory; no token to be had (said in e) */
		return rc;
	if (rc == EB_EINTR)
		return eb_interrupt_check(e, c->op);
	if (rc == EB_EUNAVAIL || (rc == EB_EINVAL && resp->transport[0])) {
		*retry = rc == EB_EUNAVAIL;
		return eb_err_set(e, rc, "Azure %s azblob://%s/%s/%s at %s: %s", c->op, a->account,
		                  a->container, what, a->endpoint, resp->transport);
	}
	if (rc < 0)
		return eb_err_set(e, rc, "Azure %s azblob://%s/%s/%s: the data was refused downstream",
		                  c->op, a->account, a->container, what);
	if (resp->status / 100 == 2)
		return 0;
	return classify(a, c, resp, retry, e);
}

int
eb_az_call_do(eb_az *a, eb_http *h, const eb_az_call *c, eb_http_resp *resp, eb_err *err)
{
	call_state cs;
	int rc, retry = 0;
	memset(resp, 0, sizeof *resp);
	rc = call_prepare(a, c, resp, &cs, err);
	for (int attempt = 0; rc == 0; attempt++) {
		eb_err e;
		eb_err_init(&e);
		rc = attempt_once(a, h, c, &cs, resp, &retry, &e);
		if (rc == 0)
			break;
		if (!retry || attempt + 1 >= a->max_attempts || (!c->cleanup && eb_interrupted()) ||
		    (c->cancel && __atomic_load_n(c->cancel, __ATOMIC_ACQUIRE)) ||
		    a->retry_budget_ms - (eb_mono_ms() - cs.t0) <= 0) {
			if (retry && attempt > 0)
				eb_err_set(err, rc, "%s (gave up after %d attempts in %llds)", e.msg, attempt + 1,
				           (long long)((eb_mono_ms() - cs.t0) / 1000));
			else
				eb_err_set(err, rc, "%s", e.msg);
			break;
		}
		if (a->on_retry) {
			char line[1200];
			snprintf(line, sizeof line, "%.1000s; retrying (attempt %d of %d)", e.msg, attempt + 2,
			         a->max_attempts);
			a->on_retry(a->on_retry_arg, line);
		}
		eb_http_backoff(attempt, resp, a->retry_budget_ms - (eb_mono_ms() - cs.t0));
		rc = 0;
	}
	call_dispose(&cs);
	return rc;
}
