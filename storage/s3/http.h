/* storage/s3/http.h - the one libcurl wrapper of the tree.
 *
 * One eb_http is one reusable connection (a curl easy handle) used by one
 * thread at a time.  eb_http_do performs exactly one request, no retries
 * (the S3 layer retries, because every attempt must be signed afresh). */
#ifndef EB_S3_HTTP_H
#define EB_S3_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct eb_http eb_http;

typedef struct eb_http_req {
	const char *method;       /* GET PUT POST DELETE HEAD */
	const char *url;
	const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
	const uint8_t *body;      /* request body (PUT/POST), may be NULL */
	size_t body_len;
	/* Streaming response: called with the body of a 2xx answer; returns 0
	 * or a negative EB_E* code that stops the transfer.  Non-2xx bodies
	 * and bodies when on_data is NULL are captured in resp->body. */
	int (*on_data)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
	long connect_timeout_ms;  /* 0: 10 s */
	long stall_timeout_s;     /* abort when < 1 byte/s for this long; 0: 60 */
	long total_timeout_s;     /* 0: none */
	const int *cancel;        /* when *cancel becomes non-zero the transfer
	                           * stops (read atomically); may be NULL */
	int cleanup;              /* SIGINT/SIGTERM do not stop this request
	                           * (otherwise they do: EB_EINTR) */
} eb_http_req;

typedef struct eb_http_resp {
	long status;          /* 0 when no HTTP answer arrived */
	char transport[512];  /* why, when status == 0 or the transfer broke */
	int cb_rc;            /* on_data's error, if it stopped the transfer */
	char *body;           /* captured body, NUL-terminated, capped at 1 MiB */
	size_t len;
	char etag[256];       /* ETag response header, quotes kept */
	char retry_after[32];
	char sse[32];         /* x-amz-server-side-encryption response header */
	char version_id[160]; /* x-amz-version-id: the version a write made (versioned bucket) */
	int64_t content_length; /* Content-Length of the answer, -1 unknown */
} eb_http_resp;

int eb_http_new(eb_http **out, const char *ca_file, eb_err *err);
void eb_http_free(eb_http *h);

/* Returns 0 when an HTTP answer arrived (any status; the body may still
 * have been cut: then transport[] is set and the result is EB_EUNAVAIL),
 * EB_EUNAVAIL on connection errors (worth a retry), EB_EINVAL on TLS
 * trust or URL errors (not worth one), or on_data's code. */
int eb_http_do(eb_http *h, const eb_http_req *req, eb_http_resp *resp);
void eb_http_resp_dispose(eb_http_resp *r);

/* A GET that resumes after a broken transfer: give eb_http_resume_data as
 * the request's on_data and the state as its ctx; it passes the body on to
 * on_data and counts what was delivered.  A retry asks for the range from
 * `delivered` on (set resumed = delivered > 0, checked = 0 before it); a
 * server that answers 200 instead of 206 sends the whole object again and
 * the bytes already delivered are dropped. */
typedef struct eb_http_resume {
	int (*on_data)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
	const eb_http_resp *resp;
	uint64_t delivered, skip;
	int resumed, checked;
} eb_http_resume;
int eb_http_resume_data(void *ud, const uint8_t *buf, size_t len);

/* Waits before retry number attempt+1: exponential from 200 ms, capped at
 * 20 s, with jitter, at least the answer's Retry-After (<= 30 s), at most
 * left_ms; a signal ends the wait. */
void eb_http_backoff(int attempt, const eb_http_resp *r, int64_t left_ms);

#endif
