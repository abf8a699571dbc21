/* storage/s3/creds.h - AWS credentials, found in the order AWS SDKs use:
 *   1. env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   2. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
 *      AWS_CONFIG_FILE (~/.aws/config), profile AWS_PROFILE or "default";
 *      a config profile with role_arn + web_identity_token_file uses (3)
 *   3. web identity (IRSA): AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      [+ AWS_ROLE_SESSION_NAME] through STS AssumeRoleWithWebIdentity at
 *      AWS_ENDPOINT_URL_STS, else https://sts.REGION.amazonaws.com
 *   4. container (ECS, EKS Pod Identity): AWS_CONTAINER_CREDENTIALS_FULL_URI
 *      or _RELATIVE_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN
 *   5. EC2 instance metadata, IMDSv2 (session token first), at
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254, unless
 *      AWS_EC2_METADATA_DISABLED=true
 * Temporary credentials are refreshed from the same source once they are
 * within 5 minutes of expiring (thread-safe: upload workers share one
 * provider).  Nothing here ever logs or reports a secret or token. */
#ifndef EB_S3_CREDS_H
#define EB_S3_CREDS_H

#include <stdint.h>

#include "common/err.h"

typedef struct eb_s3_creds {
	char *ak, *sk, *token; /* token NULL for long-term keys */
	int64_t expires;       /* unix seconds; 0 = does not expire */
	char source[64];       /* "env", "profile default", "web identity"... */
} eb_s3_creds;

typedef struct eb_s3_credprov eb_s3_credprov;

/* region: for the regional STS endpoint; ca_file: for HTTPS endpoints. */
int eb_s3_credprov_new(eb_s3_credprov **out, const char *region,
                       const char *ca_file, eb_err *err);
void eb_s3_credprov_free(eb_s3_credprov *p);

/* A private copy of valid credentials (refreshed if due).  Dispose it. */
int eb_s3_creds_get(eb_s3_credprov *p, eb_s3_creds *out, eb_err *err);
/* The server said the token expired: fetch afresh on the next get.
 * Returns 1 when the source can be refreshed, 0 for static keys. */
int eb_s3_creds_expire(eb_s3_credprov *p);
void eb_s3_creds_dispose(eb_s3_creds *c);
/* Number of successful fetches from the source (tests watch refreshes). */
int eb_s3_creds_fetches(eb_s3_credprov *p);

/* Parses "2026-11-21T10:00:00Z" (fraction and +00:00 allowed); -1 on bad. */
int64_t eb_s3_parse_iso8601(const char *s);

#endif
