/* storage/azure/aztoken.c - see aztoken.h. */
#include "storage/azure/aztoken.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/env.h"
#include "common/fsutil.h"
#include "common/json.h"
#include "storage/s3/http.h"
#include "storage/s3/sigv4.h"

#define REFRESH_BEFORE_S 300
#define SCOPE "https://storage.azure.com/.default"
#define RESOURCE "https://storage.azure.com/"

enum { SRC_WORKLOAD, SRC_IMDS };

struct eb_az_tokens {
	pthread_mutex_t mu;
	int src;
	char *ca_file;
	eb_http *http;
	char token[8192];  /* the current access token, "" before the first */
	int64_t expires;   /* unix seconds */
	int expired_once;  /* a refusal already made us fetch anew */
};

const char *
eb_az_tokens_source(const eb_az_tokens *t)
{
	return t->src == SRC_WORKLOAD ? "workload identity (AZURE_FEDERATED_TOKEN_FILE)"
	                              : "managed identity (IMDS)";
}

int
eb_az_tokens_new(eb_az_tokens **out, const char *ca_file, eb_err *err)
{
	eb_az_tokens *t;
	const char *file = eb_env("AZURE_FEDERATED_TOKEN_FILE");
	*out = NULL;
	if (file && *file && (!eb_env("AZURE_CLIENT_ID") || !eb_env("AZURE_TENANT_ID")))
		return eb_err_set(err, EB_EAUTH, "AZURE_FEDERATED_TOKEN_FILE is set but AZURE_CLIENT_ID or "
		                  "AZURE_TENANT_ID is not (workload identity needs all three; the AKS "
		                  "webhook sets them for a ServiceAccount labelled azure.workload.identity/use)");
	if (!(t = calloc(1, sizeof *t)) || (ca_file && !(t->ca_file = strdup(ca_file)))) {
		free(t);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&t->mu, NULL);
	t->src = file && *file ? SRC_WORKLOAD : SRC_IMDS;
	*out = t;
	return 0;
}

void
eb_az_tokens_free(eb_az_tokens *t)
{
	if (!t)
		return;
	eb_wipe(t->token, sizeof t->token);
	eb_http_free(t->http);
	pthread_mutex_destroy(&t->mu);
	free(t->ca_file);
	free(t);
}

/* The token request of the source: URL, headers, body (form), all wiped
 * by the caller. */
static int
request_of(const eb_az_tokens *t, eb_buf *url, eb_buf *body, const char **hdr, eb_err *err)
{
	int rc = 0;
	if (t->src == SRC_IMDS) {
		const char *host = eb_env("AZURE_POD_IDENTITY_AUTHORITY_HOST");
		const char *cid = eb_env("AZURE_CLIENT_ID");
		rc |= eb_buf_puts(url, host && *host ? host : "http://169.254.169.254");
		while (url->len && url->p[url->len - 1] == '/')
			url->p[--url->len] = '\0';
		rc |= eb_buf_puts(url, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=");
		rc |= eb_s3_uri_encode(url, RESOURCE, strlen(RESOURCE), 0);
		if (cid && *cid) {
			rc |= eb_buf_puts(url, "&client_id=");
			rc |= eb_s3_uri_encode(url, cid, strlen(cid), 0);
		}
		*hdr = "Metadata: true";
	} else {
		const char *auth = eb_env("AZURE_AUTHORITY_HOST"), *cid = eb_env("AZURE_CLIENT_ID");
		char *assertion = NULL;
		size_t n = 0;
		if (eb_read_file(eb_env("AZURE_FEDERATED_TOKEN_FILE"), 64 * 1024, &assertion, &n, err) < 0)
			return eb_err_set(err, EB_EAUTH, "workload identity: %s", err->msg);
		while (n && (assertion[n - 1] == '\n' || assertion[n - 1] == '\r' || assertion[n - 1] == ' '))
			assertion[--n] = '\0';
		rc |= eb_buf_puts(url, auth && *auth ? auth : "https://login.microsoftonline.com/");
		if (url->len && url->p[url->len - 1] != '/')
			rc |= eb_buf_puts(url, "/");
		rc |= eb_buf_printf(url, "%s/oauth2/v2.0/token", eb_env("AZURE_TENANT_ID"));
		rc |= eb_buf_puts(body, "client_assertion=");
		rc |= eb_s3_uri_encode(body, assertion, n, 0);
		rc |= eb_buf_puts(body, "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type"
		                        "%3Ajwt-bearer&client_id=");
		rc |= eb_s3_uri_encode(body, cid, strlen(cid), 0);
		rc |= eb_buf_puts(body, "&grant_type=client_credentials&scope=");
		rc |= eb_s3_uri_encode(body, SCOPE, strlen(SCOPE), 0);
		eb_wipe(assertion, n);
		free(assertion);
		*hdr = "Content-Type: application/x-www-form-urlencoded";
	}
	return rc ? eb_err_set(err, EB_ENOMEM, "out of memory") : 0;
}

/* The answer: access_token and expires_in (a number from Entra ID, a
 * string from IMDS). */
static int
read_answer(eb_az_tokens *t, const eb_http_resp *r, const char *what, eb_err *err)
{
	eb_json *j = NULL;
	const eb_json *tok, *exp;
	int64_t in = 0;
	int rc = eb_json_parse(&j, r->body ? r->body : "", r->len, err);
	if (rc < 0)
		return eb_err_set(err, EB_EAUTH, "%s: the answer is not JSON", what);
	tok = eb_json_get(j, "access_token");
	exp = eb_json_get(j, "expires_in");
	if (exp && exp->str)
		in = strtoll(exp->str, NULL, 10);
	if (!tok || tok->type != EB_JSON_STR || !tok->str[0] || strlen(tok->str) >= sizeof t->token || in <= 0) {
		rc = eb_err_set(err, EB_EAUTH, "%s: no access_token and expires_in in the answer", what);
	} else {
		snprintf(t->token, sizeof t->token, "%s", tok->str);
		t->expires = (int64_t)time(NULL) + in;
	}
	if (tok && tok->str)
		eb_wipe_str(tok->str);
	eb_json_free(j);
	return rc;
}

/* Why the endpoint refused: Entra ID's error and error_description. */
static int
refused(const eb_http_resp *r, const char *what, const char *url, eb_err *err)
{
	eb_json *j = NULL;
	eb_err e;
	char code[96] = "", desc[400] = "";
	eb_err_init(&e);
	if (r->body && eb_json_parse(&j, r->body, r->len, &e) == 0) {
		eb_json_get_strcpy(j, "error", code, sizeof code, &e);
		eb_json_get_strcpy(j, "error_description", desc, sizeof desc, &e);
		eb_json_free(j);
	}
	if (r->status == 0)
		return eb_err_set(err, EB_EAUTH, "%s at %s: %s", what, url, r->transport);
	return eb_err_set(err, EB_EAUTH, "%s at %s: HTTP %ld%s%s%s%s", what, url, r->status,
	                  code[0] ? " " : "", code, desc[0] ? ": " : "", desc);
}

/* One exchange (IMDS: two tries with a short connect timeout, as a
 * link-local endpoint that does not answer at once is not there). */
static int
fetch(eb_az_tokens *t, eb_err *err)
{
	eb_buf url, body;
	eb_http_resp r = {0};
	const char *hdr = NULL, *hdrs[2];
	const char *what = t->src == SRC_IMDS ? "Azure managed identity (IMDS) token"
	                                      : "Azure workload identity token exchange";
	int rc, tries = t->src == SRC_IMDS ? 2 : 3;
	eb_buf_init(&url);
	eb_buf_init(&body);
	if ((rc = request_of(t, &url, &body, &hdr, err)) == 0 && !t->http)
		rc = eb_http_new(&t->http, t->ca_file, err);
	hdrs[0] = hdr;
	hdrs[1] = NULL;
	for (int i = 0; rc == 0 && i < tries; i++) {
		eb_http_req rq = {.method = t->src == SRC_IMDS ? "GET" : "POST", .url = url.p, .headers = hdrs,
		                  .body = (const uint8_t *)body.p, .body_len = body.len,
		                  .connect_timeout_ms = t->src == SRC_IMDS ? 1000 : 0, .total_timeout_s = 20};
		if (i)
			usleep((useconds_t)(200000 << i));
		eb_http_resp_dispose(&r);
		rc = eb_http_do(t->http, &rq, &r);
		if (rc == 0 && r.status / 100 == 2)
			break;
		if (rc == 0 && r.status < 500 && r.status != 429)
			break;
		rc = rc == EB_ENOMEM ? rc : 0;
	}
	if (rc == 0)
		rc = r.status / 100 == 2 ? read_answer(t, &r, what, err) : refused(&r, what, url.p, err);
	if (r.body)
		eb_wipe(r.body, r.len);
	eb_http_resp_dispose(&r);
	if (body.p)
		eb_wipe(body.p, body.len);
	eb_buf_dispose(&url);
	eb_buf_dispose(&body);
	return rc;
}

int
eb_az_tokens_header(eb_az_tokens *t, char *line, size_t cap, eb_err *err)
{
	int64_t now = (int64_t)time(NULL);
	int rc = 0;
	pthread_mutex_lock(&t->mu);
	if (!t->token[0] || now >= t->expires - REFRESH_BEFORE_S) {
		eb_err e;
		eb_err_init(&e);
		rc = fetch(t, &e);
		if (rc && t->token[0] && now < t->expires - 10)
			rc = 0; /* the refresh failed; the current token is still good */
		else if (rc)
			eb_err_set(err, rc, "%s", e.msg);
	}
	if (rc == 0 && snprintf(line, cap, "Authorization: Bearer %s", t->token) >= (int)cap)
		rc = eb_err_set(err, EB_EAUTH, "the Azure access token is too long");
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int
eb_az_tokens_expire(eb_az_tokens *t)
{
	int first;
	pthread_mutex_lock(&t->mu);
	first = !t->expired_once;
	t->expired_once = 1;
	t->expires = 0;
	pthread_mutex_unlock(&t->mu);
	return first;
}
