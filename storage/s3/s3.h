/* storage/s3/s3.h - one S3 bucket/prefix and signed, retried requests.
 *
 * eb_s3 holds what every request needs (endpoint, addressing, region,
 * credentials, compat switches, retry limits); it is shared read-only by the
 * part-upload threads (the credential provider locks itself).  Each thread
 * brings its own eb_http connection. */
#ifndef EB_S3_S3_H
#define EB_S3_S3_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/s3/creds.h"
#include "storage/s3/http.h"
#include "storage/s3/sigv4.h"
#include "storage/store.h"

/* --s3-compat switches */
#define EB_S3_COMPAT_MD5 1u          /* Content-MD5 on every body (Object Lock) */
#define EB_S3_COMPAT_UNSIGNED 2u     /* x-amz-content-sha256: UNSIGNED-PAYLOAD */

typedef struct eb_s3 {
	char *url;          /* s3://bucket/prefix as given, for messages */
	char *base;         /* "https://host[:port]" (no trailing slash) */
	char *host;         /* Host header value */
	char *bucket;
	char *prefix;       /* "" or ends with "/" */
	char *region;
	char *ca_file;
	int path_style;
	unsigned compat;
	eb_s3_credprov *creds;
	int max_attempts;       /* per request, >= 1 */
	int64_t retry_budget_ms; /* total time a request may spend retrying */
	size_t part_size;
	int part_double_every;  /* parts per size step (2000; tests lower it) */
	int nbufs;              /* part buffers in memory (uploads in flight + 1) */
	int list_max_keys;      /* ListObjectsV2 page size; 0: the server's */
	const char *lock_mode;  /* new objects: Object Lock (from eb_store_opts) */
	int lock_days;
	const char *sse, *sse_kms_key;
	void (*on_retry)(void *arg, const char *msg); /* from eb_store_opts */
	void *on_retry_arg;
} eb_s3;

/* Parses url and resolves endpoint, region, addressing, CA, compat switches
 * and credentials (see creds.h).  No network traffic except for credential
 * sources that need it (lazily, on the first request). */
int eb_s3_new(eb_s3 **out, const char *url, const eb_store_opts *opts,
              eb_err *err);
void eb_s3_free(eb_s3 *s);

typedef struct eb_s3_call {
	const char *op;      /* "PutObject"... for messages */
	const char *method;
	const char *key;     /* full object key, NULL for the bucket */
	const char *query;   /* from eb_s3_query_build, may be NULL */
	const uint8_t *body;
	size_t body_len;
	const char *payload_sha256; /* hex of body; NULL: computed here */
	const char *content_type;
	/* GET: stream a 2xx body; a retry resumes with Range at the first
	 * byte not yet delivered, pinned to the first answer's ETag. */
	int (*on_data)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
	const int *cancel; /* stop (no retry) once *cancel is set; may be NULL */
	/* CompleteMultipartUpload may answer 200 with an <Error> document
	 * (the answer starts before the work ends): treat that body as the
	 * error it carries, retried like any other (InternalError is). */
	int error_in_200;
	/* PUT / CompleteMultipartUpload: only if no object has the key yet
	 * (If-None-Match: *); an existing one fails with EB_EEXIST. */
	int if_none_match;
	/* Clean-up after a failure (abort an upload, delete debris): not
	 * stopped by SIGINT/SIGTERM, which is what usually caused it. */
	int cleanup;
	/* PutObject / CreateMultipartUpload: a new object, which gets the
	 * store's Object Lock retention and server-side encryption headers. */
	int new_object;
} eb_s3_call;

/* Signs, sends and retries one request (see the issue: connection errors,
 * 5xx, 429, SlowDown, RequestTimeout; bounded attempts and time; never on
 * auth or permission errors).  0 on a 2xx answer (resp owns the body; dispose
 * it), otherwise a negative code with a message naming the operation, the
 * object, the S3 error code and the fix. */
int eb_s3_call_do(eb_s3 *s, eb_http *h, const eb_s3_call *c,
                  eb_http_resp *resp, eb_err *err);

/* Full key of a store-relative name (prefix + name), malloc'd. */
char *eb_s3_key(const eb_s3 *s, const char *name);

/* DeleteObject of a full key, as a clean-up request (not stopped by
 * SIGINT/SIGTERM; callers check for signals between requests). */
int eb_s3_delete_key(eb_s3 *s, eb_http *h, const char *key, eb_err *err);

#endif
