/* storage/s3/creds.c - see creds.h. */
#include "storage/s3/creds.h"

#include "common/clock.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/fsutil.h"
#include "common/env.h"
#include "common/json.h"
#include "storage/s3/http.h"
#include "storage/s3/sigv4.h"
#include "storage/s3/xml.h"

#define REFRESH_BEFORE_S 300
#define MAX_DOC (64 * 1024)

enum src { SRC_NONE, SRC_STATIC, SRC_WEBID, SRC_CONTAINER, SRC_IMDS };

struct eb_s3_credprov {
	pthread_mutex_t mu;
	enum src src;
	eb_s3_creds cur;
	int have, fetches;
	char *region, *ca_file;
	/* web identity */
	char *role_arn, *token_file, *session_name;
	eb_http *http;
};

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void
eb_s3_creds_dispose(eb_s3_creds *c)
{
	if (c->sk)
		eb_wipe_str(c->sk);
	free(c->ak);
	free(c->sk);
	free(c->token);
	c->ak = c->sk = c->token = NULL;
}

static int
creds_copy(eb_s3_creds *dst, const eb_s3_creds *src)
{
	memset(dst, 0, sizeof *dst);
	dst->ak = xstrdup(src->ak);
	dst->sk = xstrdup(src->sk);
	dst->token = xstrdup(src->token);
	dst->expires = src->expires;
	memcpy(dst->source, src->source, sizeof dst->source);
	if (!dst->ak || !dst->sk || (src->token && !dst->token)) {
		eb_s3_creds_dispose(dst);
		return EB_ENOMEM;
	}
	return 0;
}

int64_t
eb_s3_parse_iso8601(const char *s)
{
	int64_t ms;
	return eb_rfc3339_ms(s, &ms) < 0 ? -1 : ms / 1000;
}


static char *
read_small_file(const char *path, size_t max, eb_err *err, const char *what)
{
	char *b = NULL;
	size_t n;
	eb_err e;
	eb_err_init(&e);
	if (eb_read_file(path, max, &b, &n, &e) < 0) {
		eb_err_set(err, EB_EAUTH, "%s: %s", what, e.msg);
		return NULL;
	}
	while (n && isspace((unsigned char)b[n - 1]))
		b[--n] = '\0';
	return b;
}

/* ---- shared credentials / config files (INI) ---- */

/* Looks up key in [section] of an INI file; returns malloc'd value or NULL. */
static char *
ini_get(const char *path, const char *section, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int in = 0;
	char *val = NULL;
	if (!f)
		return NULL;
	while (fgets(line, sizeof line, f)) {
		char *s = line, *e;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '#' || *s == ';' || !*s)
			continue;
		if (*s == '[') {
			char *c = strchr(s, ']');
			if (!c)
				continue;
			*c = '\0';
			s++;
			while (isspace((unsigned char)*s)) s++;
			for (e = c; e > s && isspace((unsigned char)e[-1]);) *--e = '\0';
			in = strcmp(s, section) == 0;
			continue;
		}
		if (!in)
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (e = eq; e > s && isspace((unsigned char)e[-1]);) *--e = '\0';
		if (strcmp(s, key) != 0)
			continue;
		char *v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		free(val);
		val = strdup(v);
	}
	fclose(f);
	return val;
}

static char *
home_path(const char *rel)
{
	const char *h = getenv("HOME");
	char *p;
	if (!h || asprintf(&p, "%s/%s", h, rel) < 0)
		return NULL;
	return p;
}

/* ---- HTTP helpers for credential endpoints ---- */

static int
fetch(eb_s3_credprov *p, const char *method, const char *url,
      const char *const *hdrs, const char *body, long connect_ms,
      eb_http_resp *resp, const char *what, eb_err *err)
{
	int rc = 0;
	/* a link-local IMDS that does not answer at once is not there */
	int tries = connect_ms && connect_ms <= 1000 ? 2 : 3;
	if (!p->http && (rc = eb_http_new(&p->http, p->ca_file, err)))
		return rc;
	for (int attempt = 0; attempt < tries; attempt++) {
		eb_http_req rq = {0};
		if (attempt) {
			eb_http_resp_dispose(resp);
			usleep((useconds_t)(200000 << attempt));
		}
		rq.method = method;
		rq.url = url;
		rq.headers = hdrs;
		rq.body = (const uint8_t *)body;
		rq.body_len = body ? strlen(body) : 0;
		rq.connect_timeout_ms = connect_ms;
		rq.total_timeout_s = 10;
		rc = eb_http_do(p->http, &rq, resp);
		if (rc == 0 && resp->status >= 200 && resp->status < 300)
			return 0;
		if (rc == 0 && resp->status < 500 && resp->status != 429)
			break;
	}
	if (rc)
		return eb_err_set(err, EB_EAUTH, "%s at %s: %s", what, url,
		                  resp->transport);
	{
		char code[128] = "";
		if (resp->body) {
			eb_xml_span d = {resp->body, resp->len};
			eb_xml_get(d, "Code", code, sizeof code);
		}
		return eb_err_set(err, EB_EAUTH, "%s at %s: HTTP %ld%s%s", what, url,
		                  resp->status, code[0] ? " " : "", code);
	}
}

/* Optional string member: 0 absent, 1 present (copied), -1 wrong type/OOM */
static int
json_str(const eb_json *o, const char *key, char **out)
{
	const eb_json *m = eb_json_get(o, key);
	*out = NULL;
	if (!m)
		return 0;
	if (m->type != EB_JSON_STR || !(*out = strdup(m->str)))
		return -1;
	return 1;
}

static int
from_json(eb_s3_creds *c, const char *doc, size_t len, const char *what,
          eb_err *err)
{
	eb_json *j = NULL;
	char *exp = NULL;
	eb_err e;
	eb_err_init(&e);
	/* the parser's message may quote the document: keep it out of err */
	if (eb_json_parse(&j, doc, len, &e) || j->type != EB_JSON_OBJ ||
	    json_str(j, "AccessKeyId", &c->ak) != 1 ||
	    json_str(j, "SecretAccessKey", &c->sk) != 1 ||
	    json_str(j, "Token", &c->token) < 0 ||
	    json_str(j, "Expiration", &exp) < 0) {
		eb_json_free(j);
		free(exp);
		return eb_err_set(err, EB_EAUTH,
		                  "%s: the credentials document is not valid JSON "
		                  "with AccessKeyId and SecretAccessKey", what);
	}
	eb_json_free(j);
	c->expires = 0;
	if (exp) {
		c->expires = eb_s3_parse_iso8601(exp);
		free(exp);
		if (c->expires < 0)
			return eb_err_set(err, EB_EAUTH, "%s: bad Expiration in the credentials document", what);
	}
	return 0;
}

static int
fetch_webid(eb_s3_credprov *p, eb_s3_creds *c, eb_err *err)
{
	eb_buf body = {0}, url = {0};
	eb_http_resp r = {0};
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
	                      "Accept: application/xml", NULL};
	char *tok = read_small_file(p->token_file, MAX_DOC, err, "web identity token file");
	eb_xml_span doc, cr;
	int rc;
	if (!tok)
		return err ? err->code : EB_EAUTH;
	rc = eb_buf_puts(&body, "Action=AssumeRoleWithWebIdentity&RoleArn=");
	rc |= eb_s3_uri_encode(&body, p->role_arn, strlen(p->role_arn), 0);
	rc |= eb_buf_puts(&body, "&RoleSessionName=");
	rc |= eb_s3_uri_encode(&body, p->session_name, strlen(p->session_name), 0);
	rc |= eb_buf_puts(&body, "&Version=2011-06-15&WebIdentityToken=");
	rc |= eb_s3_uri_encode(&body, tok, strlen(tok), 0);
	eb_wipe_str(tok);
	free(tok);
	if (eb_env("AWS_ENDPOINT_URL_STS"))
		rc |= eb_buf_puts(&url, eb_env("AWS_ENDPOINT_URL_STS"));
	else if (p->region)
		rc |= eb_buf_printf(&url, "https://sts.%s.amazonaws.com/", p->region);
	else
		rc |= eb_buf_puts(&url, "https://sts.amazonaws.com/");
	if (rc) {
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
		goto out;
	}
	rc = fetch(p, "POST", url.p, hdrs, body.p, 0, &r,
	           "STS AssumeRoleWithWebIdentity", err);
	if (rc)
		goto out;
	doc.p = r.body ? r.body : "";
	doc.len = r.len;
	if (eb_xml_find(doc, "Credentials", &cr) != 1) {
		rc = eb_err_set(err, EB_EAUTH, "STS AssumeRoleWithWebIdentity: no Credentials in the answer");
		goto out;
	}
	{
		eb_xml_span s;
		char *exp = NULL;
		if (eb_xml_find(cr, "AccessKeyId", &s) == 1) c->ak = eb_xml_text(s);
		if (eb_xml_find(cr, "SecretAccessKey", &s) == 1) c->sk = eb_xml_text(s);
		if (eb_xml_find(cr, "SessionToken", &s) == 1) c->token = eb_xml_text(s);
		if (eb_xml_find(cr, "Expiration", &s) == 1) exp = eb_xml_text(s);
		c->expires = exp ? eb_s3_parse_iso8601(exp) : -1;
		free(exp);
		if (!c->ak || !c->sk || !c->token || c->expires < 0)
			rc = eb_err_set(err, EB_EAUTH, "STS AssumeRoleWithWebIdentity: incomplete Credentials in the answer");
	}
out:
	eb_http_resp_dispose(&r);
	eb_buf_dispose(&url);
	if (body.p)
		eb_wipe(body.p, body.len);
	eb_buf_dispose(&body);
	return rc;
}

static int
fetch_container(eb_s3_credprov *p, eb_s3_creds *c, eb_err *err)
{
	char *url = NULL, *tok = NULL, *hdr = NULL;
	const char *hdrs[2] = {NULL, NULL};
	eb_http_resp r = {0};
	int rc;
	if (eb_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
		if (asprintf(&url, "http://169.254.170.2%s", eb_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) < 0)
			url = NULL;
	} else {
		url = xstrdup(eb_env("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
	}
	if (!url)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	if (eb_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
		tok = read_small_file(eb_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), MAX_DOC, err,
		                      "container authorization token file");
		if (!tok) {
			free(url);
			return err ? err->code : EB_EAUTH;
		}
	} else if (eb_env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
		tok = xstrdup(eb_env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	}
	if (tok) {
		if (asprintf(&hdr, "Authorization: %s", tok) < 0)
			hdr = NULL;
		eb_wipe_str(tok);
		free(tok);
		hdrs[0] = hdr;
	}
	rc = fetch(p, "GET", url, hdrs, NULL, 2000, &r, "container credentials", err);
	if (!rc)
		rc = from_json(c, r.body ? r.body : "", r.len, "container credentials", err);
	if (hdr) {
		eb_wipe_str(hdr);
		free(hdr);
	}
	eb_http_resp_dispose(&r);
	free(url);
	return rc;
}

static int
fetch_imds(eb_s3_credprov *p, eb_s3_creds *c, eb_err *err)
{
	const char *base = eb_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	char url[1024], th[1200], role[256];
	const char *ttl[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
	const char *hdrs[] = {th, NULL};
	eb_http_resp r = {0};
	size_t bl;
	int rc;
	if (!base)
		base = "http://169.254.169.254";
	bl = strlen(base);
	if (bl > 900)
		return eb_err_set(err, EB_EINVAL, "AWS_EC2_METADATA_SERVICE_ENDPOINT too long");
	if (base[bl - 1] == '/')
		bl--;
	snprintf(url, sizeof url, "%.*s/latest/api/token", (int)bl, base);
	rc = fetch(p, "PUT", url, ttl, "", 1000, &r, "EC2 instance metadata (IMDSv2 token)", err);
	if (rc)
		goto out;
	if (!r.body || r.len > 1000 || strpbrk(r.body, "\r\n")) {
		rc = eb_err_set(err, EB_EAUTH, "EC2 instance metadata: bad session token");
		goto out;
	}
	snprintf(th, sizeof th, "X-aws-ec2-metadata-token: %s", r.body);
	eb_http_resp_dispose(&r);
	snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/", (int)bl, base);
	rc = fetch(p, "GET", url, hdrs, NULL, 1000, &r, "EC2 instance metadata (role name)", err);
	if (rc)
		goto out;
	if (!r.body || !r.len) {
		rc = eb_err_set(err, EB_EAUTH, "EC2 instance metadata: the instance has no IAM role");
		goto out;
	}
	snprintf(role, sizeof role, "%.*s", (int)strcspn(r.body, "\r\n"), r.body);
	eb_http_resp_dispose(&r);
	for (char *q = role; *q; q++)
		if (!isalnum((unsigned char)*q) && !strchr("+=,.@_-", *q)) {
			rc = eb_err_set(err, EB_EAUTH, "EC2 instance metadata: bad role name");
			goto out;
		}
	snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/%s",
	         (int)bl, base, role);
	rc = fetch(p, "GET", url, hdrs, NULL, 1000, &r, "EC2 instance metadata (credentials)", err);
	if (!rc)
		rc = from_json(c, r.body ? r.body : "", r.len, "EC2 instance metadata", err);
out:
	memset(th, 0, sizeof th);
	eb_http_resp_dispose(&r);
	return rc;
}

static int
refetch(eb_s3_credprov *p, eb_s3_creds *c, eb_err *err)
{
	int rc;
	memset(c, 0, sizeof *c);
	switch (p->src) {
	case SRC_WEBID:
		rc = fetch_webid(p, c, err);
		snprintf(c->source, sizeof c->source, "web identity");
		break;
	case SRC_CONTAINER:
		rc = fetch_container(p, c, err);
		snprintf(c->source, sizeof c->source, "container endpoint");
		break;
	case SRC_IMDS: {
		/* IMDS is the last resort: when it is unreachable the operator
		 * most likely forgot to configure credentials at all */
		eb_err e;
		eb_err_init(&e);
		rc = fetch_imds(p, c, &e);
		if (rc && !p->have)
			eb_err_set(err, EB_EAUTH,
			           "no S3 credentials found: set AWS_ACCESS_KEY_ID and "
			           "AWS_SECRET_ACCESS_KEY, a profile in ~/.aws/credentials "
			           "(AWS_PROFILE), AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, "
			           "or container credentials (last tried: %s)", e.msg);
		else if (rc)
			eb_err_set(err, rc, "%s", e.msg);
		snprintf(c->source, sizeof c->source, "EC2 instance metadata");
		break;
	}
	default:
		rc = eb_err_set(err, EB_EAUTH, "no credentials source");
	}
	if (rc)
		eb_s3_creds_dispose(c);
	else
		p->fetches++;
	return rc;
}

/* Finds the first source that applies; static ones fill p->cur. */
static int
resolve(eb_s3_credprov *p, eb_err *err)
{
	const char *ak = eb_env("AWS_ACCESS_KEY_ID"), *sk = eb_env("AWS_SECRET_ACCESS_KEY");
	const char *profile = eb_env("AWS_PROFILE") ? eb_env("AWS_PROFILE") : "default";
	char *cf, *kf, sect[300];
	eb_s3_creds *c = &p->cur;

	if (ak || sk) {
		if (!ak || !sk)
			return eb_err_set(err, EB_EAUTH,
			                  "credentials from the environment: %s is set but %s is not",
			                  ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			                  ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		c->ak = strdup(ak);
		c->sk = strdup(sk);
		c->token = xstrdup(eb_env("AWS_SESSION_TOKEN"));
		snprintf(c->source, sizeof c->source, "env");
		p->src = SRC_STATIC;
		return 0;
	}
	kf = eb_env("AWS_SHARED_CREDENTIALS_FILE") ? strdup(eb_env("AWS_SHARED_CREDENTIALS_FILE"))
	                                         : home_path(".aws/credentials");
	cf = eb_env("AWS_CONFIG_FILE") ? strdup(eb_env("AWS_CONFIG_FILE")) : home_path(".aws/config");
	if (strcmp(profile, "default") == 0)
		snprintf(sect, sizeof sect, "default");
	else
		snprintf(sect, sizeof sect, "profile %.200s", profile);
	/* credentials file first, then the config file */
	for (int i = 0; i < 2 && !c->ak; i++) {
		const char *f = i ? cf : kf, *s = i ? sect : profile;
		if (!f)
			continue;
		c->ak = ini_get(f, s, "aws_access_key_id");
		if (!c->ak)
			continue;
		c->sk = ini_get(f, s, "aws_secret_access_key");
		c->token = ini_get(f, s, "aws_session_token");
		if (!c->sk) {
			eb_s3_creds_dispose(c);
			free(kf);
			free(cf);
			return eb_err_set(err, EB_EAUTH,
			                  "profile %s in %s has aws_access_key_id but no aws_secret_access_key",
			                  profile, f);
		}
		snprintf(c->source, sizeof c->source, "profile %.40s", profile);
		p->src = SRC_STATIC;
	}
	if (!c->ak && cf) {
		char *ra = ini_get(cf, sect, "role_arn"), *tf = ini_get(cf, sect, "web_identity_token_file");
		char *cp = ini_get(cf, sect, "credential_process");
		char *sp = ini_get(cf, sect, "source_profile");
		int unsupported = !tf && (cp || (ra && sp));
		if (ra && tf) {
			p->role_arn = ra;
			p->token_file = tf;
			p->session_name = ini_get(cf, sect, "role_session_name");
			p->src = SRC_WEBID;
			ra = tf = NULL;
		}
		free(ra);
		free(tf);
		free(cp);
		free(sp);
		if (unsupported) {
			eb_err_set(err, EB_EAUTH,
			           "profile %s in %s uses %s, which etcd-backup does not "
			           "support: give it static keys or role_arn + "
			           "web_identity_token_file, or use the environment", profile, cf,
			           "credential_process or source_profile role chaining");
			free(kf);
			free(cf);
			return EB_EAUTH;
		}
	}
	if (p->src == SRC_NONE && eb_env("AWS_PROFILE")) {
		/* an explicitly named profile that does not exist is a mistake,
		 * not a reason to fall through to instance credentials */
		eb_err_set(err, EB_EAUTH, "profile %s (AWS_PROFILE) not found in %s or %s",
		           profile, kf ? kf : "~/.aws/credentials", cf ? cf : "~/.aws/config");
		free(kf);
		free(cf);
		return EB_EAUTH;
	}
	free(kf);
	free(cf);
	if (p->src != SRC_NONE)
		return 0;
	if (eb_env("AWS_WEB_IDENTITY_TOKEN_FILE") && eb_env("AWS_ROLE_ARN")) {
		p->role_arn = strdup(eb_env("AWS_ROLE_ARN"));
		p->token_file = strdup(eb_env("AWS_WEB_IDENTITY_TOKEN_FILE"));
		p->session_name = xstrdup(eb_env("AWS_ROLE_SESSION_NAME"));
		p->src = SRC_WEBID;
		return 0;
	}
	if (eb_env("AWS_CONTAINER_CREDENTIALS_FULL_URI") ||
	    eb_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
		p->src = SRC_CONTAINER;
		return 0;
	}
	if (!eb_env("AWS_EC2_METADATA_DISABLED") ||
	    strcasecmp(eb_env("AWS_EC2_METADATA_DISABLED"), "true") != 0) {
		p->src = SRC_IMDS;
		return 0;
	}
	return eb_err_set(err, EB_EAUTH,
	                  "no S3 credentials found: set AWS_ACCESS_KEY_ID and "
	                  "AWS_SECRET_ACCESS_KEY, a profile in ~/.aws/credentials "
	                  "(AWS_PROFILE), AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, "
	                  "or run where container or instance credentials are served");
}

int
eb_s3_credprov_new(eb_s3_credprov **out, const char *region,
                   const char *ca_file, eb_err *err)
{
	eb_s3_credprov *p = calloc(1, sizeof *p);
	int rc;
	if (!p)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	pthread_mutex_init(&p->mu, NULL);
	p->region = xstrdup(region);
	p->ca_file = xstrdup(ca_file);
	rc = resolve(p, err);
	if (!rc && p->src == SRC_WEBID && !p->session_name) {
		char n[64];
		snprintf(n, sizeof n, "etcd-backup-%ld", (long)time(NULL));
		p->session_name = strdup(n);
	}
	if (!rc && p->src == SRC_STATIC && (!p->cur.ak || !p->cur.sk))
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	if (!rc && p->src == SRC_WEBID && (!p->role_arn || !p->token_file || !p->session_name))
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	if (rc) {
		eb_s3_credprov_free(p);
		return rc;
	}
	p->have = p->src == SRC_STATIC;
	*out = p;
	return 0;
}

void
eb_s3_credprov_free(eb_s3_credprov *p)
{
	if (!p)
		return;
	eb_s3_creds_dispose(&p->cur);
	free(p->region);
	free(p->ca_file);
	free(p->role_arn);
	free(p->token_file);
	free(p->session_name);
	eb_http_free(p->http);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int
eb_s3_creds_get(eb_s3_credprov *p, eb_s3_creds *out, eb_err *err)
{
	int rc = 0;
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&p->mu);
	if (p->src != SRC_STATIC &&
	    (!p->have || (p->cur.expires && now >= p->cur.expires - REFRESH_BEFORE_S))) {
		eb_s3_creds fresh;
		eb_err e2;
		eb_err_init(&e2);
		rc = refetch(p, &fresh, &e2);
		if (rc == 0) {
			eb_s3_creds_dispose(&p->cur);
			p->cur = fresh;
			p->have = 1;
		} else if (p->have && (p->cur.expires == 0 || now < p->cur.expires - 10)) {
			rc = 0; /* refresh failed; the old ones are still good: retry later */
		} else {
			eb_err_set(err, e2.code, "%s", e2.msg);
		}
	}
	if (rc == 0 && creds_copy(out, &p->cur))
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int
eb_s3_creds_expire(eb_s3_credprov *p)
{
	int r;
	pthread_mutex_lock(&p->mu);
	r = p->src != SRC_STATIC;
	if (r)
		p->have = 0;
	pthread_mutex_unlock(&p->mu);
	return r;
}

int
eb_s3_creds_fetches(eb_s3_credprov *p)
{
	int n;
	pthread_mutex_lock(&p->mu);
	n = p->fetches;
	pthread_mutex_unlock(&p->mu);
	return n;
}
