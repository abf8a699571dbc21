/* storage/s3/sigv4.h - AWS Signature Version 4 for S3 requests (header
 * signing).  Plain string building over common/crypto.h's HMAC, so that what
 * we sign is exactly what we send: no library re-encodes our URLs.
 *
 * Contract: callers build the path with eb_s3_uri_encode (slashes kept) and
 * the query with eb_s3_query_* (every name and value encoded, sorted by
 * name, "k=" for valueless names such as "uploads"), then send the request
 * with that same path and query string and the headers that were signed. */
#ifndef EB_S3_SIGV4_H
#define EB_S3_SIGV4_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

#define EB_S3_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Appends the RFC 3986 encoding of s[0..len) to a growable buffer: every
 * byte but A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex); '/' is kept when
 * keep_slash.  Returns 0 or EB_ENOMEM. */
int eb_s3_uri_encode(eb_buf *b, const char *s, size_t len, int keep_slash);

/* A query string under construction: pairs are encoded on add and sorted
 * by eb_s3_query_build (byte order of the encoded name, then value). */
#define EB_S3_QMAX 8
typedef struct eb_s3_query {
	char *k[EB_S3_QMAX], *v[EB_S3_QMAX];
	int n;
} eb_s3_query;
int eb_s3_query_add(eb_s3_query *q, const char *name, const char *value);
/* "a=1&b=2" (or "" when empty) into *out (malloc'd). */
int eb_s3_query_build(eb_s3_query *q, char **out);
void eb_s3_query_dispose(eb_s3_query *q);

typedef struct eb_s3_hdr {
	const char *name;  /* lower case */
	const char *value; /* trimmed */
} eb_s3_hdr;

/* Signs one request.  hdrs must hold every header to sign, lower-case
 * names, including host, x-amz-date, x-amz-content-sha256 and (with a
 * session token) x-amz-security-token; they need not be sorted.
 * amz_date is "YYYYMMDDTHHMMSSZ".  Writes the Authorization header value to
 * auth (size >= 512) and, when creq is not NULL, the canonical request
 * (malloc'd) for tests and debugging.  Never logs the secret. */
int eb_sigv4_sign(const char *method, const char *path, const char *query,
                  const eb_s3_hdr *hdrs, int nhdrs, const char *payload_hash,
                  const char *amz_date, const char *region,
                  const char *service, const char *access_key,
                  const char *secret_key, char *auth, size_t auth_size,
                  char **creq, eb_err *err);

#endif
