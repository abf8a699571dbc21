/* common/metrics_push.c - the Pushgateway client: the only libcurl user in
 * common/.  See eb_metrics_push in metrics.h. */
#include "common/metrics.h"
#include "common/url.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSH_CONNECT_TIMEOUT_S 10L
#define PUSH_TIMEOUT_S 30L

typedef struct {
	const char *p;
	size_t left;
} body_src;

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	body_src *s = userdata;
	size_t n = size * nitems;
	if (n > s->left)
		n = s->left;
	memcpy(buf, s->p, n);
	s->p += n;
	s->left -= n;
	return n;
}

typedef struct {
	char buf[256];
	size_t len;
} resp_sink;

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	resp_sink *r = userdata;
	size_t n = size * nmemb, room = sizeof r->buf - 1 - r->len;
	size_t k = n < room ? n : room;
	memcpy(r->buf + r->len, ptr, k);
	r->len += k;
	r->buf[r->len] = '\0';
	return n;
}

/* One path segment: plain when safe, else Pushgateway's base64url form
 * ("<label>@base64/<value>"), which also carries '/' and empty values. */
static int
append_segment(char **url, const char *label, const char *value)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(value), i, o = 0;
	int plain = n > 0;
	char *enc, *nu;
	for (i = 0; i < n && plain; i++) {
		char c = value[i];
		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
	}
	if (plain) {
		if (asprintf(&nu, "%s/%s/%s", *url, label, value) < 0)
			return -1;
	} else {
		enc = malloc(4 * (n / 3 + 1) + 1);
		if (!enc)
			return -1;
		for (i = 0; i < n; i += 3) {
			unsigned v = (unsigned char)value[i] << 16;
			if (i + 1 < n)
				v |= (unsigned char)value[i + 1] << 8;
			if (i + 2 < n)
				v |= (unsigned char)value[i + 2];
			enc[o++] = b64[(v >> 18) & 63];
			enc[o++] = b64[(v >> 12) & 63];
			enc[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
			enc[o++] = i + 2 < n ? b64[v & 63] : '=';
		}
		enc[o] = '\0';
		/* An empty value is "=" in Pushgateway's encoding. */
		if (asprintf(&nu, "%s/%s@base64/%s", *url, label, n ? enc : "=") < 0) {
			free(enc);
			return -1;
		}
		free(enc);
	}
	free(*url);
	*url = nu;
	return 0;
}

int
eb_metrics_push(const eb_metrics *m, const char *url, const char *job,
                const char *instance, eb_err *err)
{
	char *text = NULL, *full = NULL, shown[512];
	char curl_msg[CURL_ERROR_SIZE] = "";
	size_t len = 0, base_len;
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL;
	body_src src;
	resp_sink resp = { .len = 0 };
	CURLcode cc;
	long status = 0;
	int rc;

	if (!url || !*url)
		return eb_err_set(err, EB_EINVAL, "pushgateway: empty URL");
	if (!job || !*job)
		return eb_err_set(err, EB_EINVAL, "pushgateway: empty job name");
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return eb_err_set(err, EB_EINVAL,
		                  "pushgateway: URL must start with http:// or https://");
	eb_url_redact(url, shown, sizeof shown);
	rc = eb_metrics_render(m, 0, &text, &len, err);
	if (rc)
		return rc;
	base_len = strlen(url);
	while (base_len > 0 && url[base_len - 1] == '/')
		base_len--;
	if (asprintf(&full, "%.*s/metrics", (int)base_len, url) < 0) {
		full = NULL;
		rc = eb_err_set(err, EB_ENOMEM, "pushgateway: out of memory");
		goto out;
	}
	if (append_segment(&full, "job", job) != 0 ||
	    (instance && *instance && append_segment(&full, "instance", instance) != 0)) {
		rc = eb_err_set(err, EB_ENOMEM, "pushgateway: out of memory");
		goto out;
	}
	h = curl_easy_init();
	hdrs = curl_slist_append(NULL, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	if (!h || !hdrs) {
		rc = eb_err_set(err, EB_ENOMEM, "pushgateway: cannot create a curl handle");
		goto out;
	}
	src.p = text;
	src.left = len;
	curl_easy_setopt(h, CURLOPT_URL, full);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	/* PUT replaces the whole group; a failed run POSTs so that the last
	 * good run's figures stay (see metrics.h). */
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m->ok ? "PUT" : "POST");
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &src);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, PUSH_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, PUSH_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		int code = EB_EUNAVAIL;
		if (cc == CURLE_OPERATION_TIMEDOUT)
			code = EB_ETIMEOUT;
		else if (cc == CURLE_OUT_OF_MEMORY)
			code = EB_ENOMEM;
		rc = eb_err_set(err, code, "pushgateway %s: %s", shown,
		                curl_msg[0] ? curl_msg : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		size_t i;
		for (i = 0; i < resp.len; i++)
			if (resp.buf[i] == '\n' || resp.buf[i] == '\r')
				resp.buf[i] = ' ';
		rc = eb_err_set(err, status == 401 || status == 403 ? EB_EAUTH : EB_EREMOTE,
		                "pushgateway %s: HTTP %ld: %.200s", shown, status,
		                resp.buf);
		goto out;
	}
	rc = 0;
out:
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	free(full);
	free(text);
	return rc;
}
