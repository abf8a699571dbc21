/* storage/s3/json.h - a strict reader for the flat JSON credential
 * documents of the container endpoint and EC2 instance metadata:
 * {"AccessKeyId": "...", "SecretAccessKey": "...", "Token": "...",
 *  "Expiration": "2026-11-21T10:00:00Z", ...}.
 * Nested values are skipped; anything that is not valid JSON is rejected. */
#ifndef EB_S3_JSON_H
#define EB_S3_JSON_H

#include <stddef.h>

/* Finds the top-level string member `key` of the object in doc[0..len) and
 * copies its decoded value (\uXXXX included) into a malloc'd string.
 * Returns 1 found, 0 absent, -1 malformed document or out of memory. */
int eb_json_get_str(const char *doc, size_t len, const char *key, char **out);

#endif
