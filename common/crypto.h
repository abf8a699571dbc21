/* common/crypto.h - the one wrapper around OpenSSL's digests and HMAC.
 * Nothing else in the tree includes <openssl/evp.h> for hashing. */
#ifndef EB_CRYPTO_H
#define EB_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define EB_SHA256_LEN 32

typedef struct eb_sha256 eb_sha256; /* opaque incremental SHA-256 */

int eb_sha256_new(eb_sha256 **out, eb_err *err);
void eb_sha256_update(eb_sha256 *h, const void *buf, size_t len);
/* Writes the digest and resets h for reuse. */
void eb_sha256_final(eb_sha256 *h, uint8_t out[EB_SHA256_LEN]);
/* Digest of everything so far, without ending the running hash. */
void eb_sha256_peek(const eb_sha256 *h, uint8_t out[EB_SHA256_LEN]);
void eb_sha256_free(eb_sha256 *h);

void eb_sha256_buf(const void *buf, size_t len, uint8_t out[EB_SHA256_LEN]);
/* SHA-1, only for etcd's member/cluster IDs (which are defined over it). */
#define EB_SHA1_LEN 20
void eb_sha1_buf(const void *buf, size_t len, uint8_t out[EB_SHA1_LEN]);
void eb_hmac_sha256(const void *key, size_t key_len, const void *msg,
                    size_t msg_len, uint8_t out[EB_SHA256_LEN]);

#define EB_MD5_LEN 16
/* MD5, only for S3's Content-MD5 header (Object Lock buckets demand it). */
void eb_md5_buf(const void *buf, size_t len, uint8_t out[EB_MD5_LEN]);
/* Standard base64 with padding of len bytes into out (4*((len+2)/3)+1). */
void eb_base64(const uint8_t *buf, size_t len, char *out);
/* The same with or without the '=' padding (age and SSH armour differ);
 * returns the length written (NUL excluded). */
size_t eb_base64_enc(const uint8_t *buf, size_t len, char *out, int pad);
/* Strict, canonical decoding of n characters (no whitespace; padding
 * required when pad, forbidden otherwise; unused bits zero) into at most
 * cap bytes: 0 with *out_len set, -1 on anything else. */
int eb_base64_dec(const char *s, size_t n, uint8_t *out, size_t cap,
                  size_t *out_len, int pad);

/* Lower-case hex of len bytes into out (2*len+1 bytes, NUL-terminated). */
void eb_hex(const uint8_t *buf, size_t len, char *out);
/* Parses exactly 2*len hex digits; -1 on anything else. */
int eb_unhex(const char *hex, uint8_t *out, size_t len);

/* Fills buf with cryptographically random bytes. */
int eb_random(void *buf, size_t len, eb_err *err);

/* Wipes secret bytes (keys, passwords, tokens, signatures) so that the
 * compiler cannot drop the write: OPENSSL_cleanse.  NULL is fine. */
void eb_wipe(void *p, size_t n);
/* eb_wipe of a NUL-terminated string's bytes. */
void eb_wipe_str(char *s);

#endif
