/* common/cipher.h - the one wrapper around OpenSSL's keys, KDFs and AEAD:
 * what age (crypt/age.c) and SSH signatures (crypt/sshsig.c) are built of.
 * Nothing else in the tree includes OpenSSL for these.
 *
 *   X25519 (RFC 7748), HKDF-SHA-256 (RFC 5869), ChaCha20-Poly1305
 *   (RFC 8439), scrypt (RFC 7914), Ed25519 (RFC 8032), SHA-512.
 *
 * Secret inputs stay the caller's (wipe them with eb_wipe); nothing here
 * keeps a copy beyond the call, except eb_aead, which wipes its key when
 * freed. */
#ifndef EB_CIPHER_H
#define EB_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define EB_X25519_LEN 32
#define EB_AEAD_KEY_LEN 32
#define EB_AEAD_NONCE_LEN 12
#define EB_AEAD_TAG_LEN 16
#define EB_ED25519_SEED_LEN 32
#define EB_ED25519_PUB_LEN 32
#define EB_ED25519_SIG_LEN 64
#define EB_SHA512_LEN 64

/* out = X25519(scalar, point); point NULL = the base point (the public key
 * of scalar).  EB_ECORRUPT when the result is all zeros (a low-order
 * point: a malicious share). */
int eb_x25519(uint8_t out[EB_X25519_LEN], const uint8_t scalar[EB_X25519_LEN],
              const uint8_t *point, eb_err *err);

/* HKDF-SHA-256 of ikm with salt (may be empty) and info into out. */
int eb_hkdf_sha256(const void *ikm, size_t ikm_len, const void *salt,
                   size_t salt_len, const char *info, uint8_t *out,
                   size_t out_len, eb_err *err);

/* scrypt(pass, salt, N = 2^log_n, r = 8, p = 1) into out. */
int eb_scrypt(const char *pass, size_t pass_len, const uint8_t *salt,
              size_t salt_len, unsigned log_n, uint8_t *out, size_t out_len,
              eb_err *err);

/* ChaCha20-Poly1305 with one key and many nonces (age's STREAM). */
typedef struct eb_aead eb_aead;
int eb_aead_new(eb_aead **out, const uint8_t key[EB_AEAD_KEY_LEN], eb_err *err);
/* out gets len + EB_AEAD_TAG_LEN bytes. */
int eb_aead_seal(eb_aead *a, const uint8_t nonce[EB_AEAD_NONCE_LEN],
                 const uint8_t *in, size_t len, uint8_t *out, eb_err *err);
/* in is ciphertext + tag (len >= EB_AEAD_TAG_LEN); out gets
 * len - EB_AEAD_TAG_LEN bytes.  EB_ECORRUPT (and out wiped) when the tag
 * does not verify. */
int eb_aead_open(eb_aead *a, const uint8_t nonce[EB_AEAD_NONCE_LEN],
                 const uint8_t *in, size_t len, uint8_t *out, eb_err *err);
void eb_aead_free(eb_aead *a);

/* Ed25519 public key of a 32-byte seed (OpenSSH's private key is
 * seed || public). */
int eb_ed25519_public(const uint8_t seed[EB_ED25519_SEED_LEN],
                      uint8_t pub[EB_ED25519_PUB_LEN], eb_err *err);
int eb_ed25519_sign(const uint8_t seed[EB_ED25519_SEED_LEN], const void *msg,
                    size_t len, uint8_t sig[EB_ED25519_SIG_LEN], eb_err *err);
/* 1 when sig is pub's signature of msg, 0 otherwise. */
int eb_ed25519_verify(const uint8_t pub[EB_ED25519_PUB_LEN], const void *msg,
                      size_t len, const uint8_t sig[EB_ED25519_SIG_LEN]);

/* Kubernetes' encryption at rest (docs/formats/kubernetes.md): AES-CBC
 * with PKCS#7 padding (aescbc: key 32 bytes, iv 16), and AES-GCM (aesgcm:
 * key 16, 24 or 32 bytes, nonce 12, tag 16 at the end of in, aad the etcd
 * key).  out holds len bytes; *out_len the plaintext's.  EB_ECORRUPT when
 * the padding or the tag is wrong (a wrong key, mostly). */
int eb_aes_cbc_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[16],
                       const uint8_t *in, size_t len, uint8_t *out, size_t *out_len, eb_err *err);
int eb_aes_gcm_decrypt(const uint8_t *key, size_t key_len, const uint8_t nonce[12],
                       const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                       uint8_t *out, size_t *out_len, eb_err *err);

void eb_sha512_buf(const void *buf, size_t len, uint8_t out[EB_SHA512_LEN]);
/* Constant-time comparison: 1 when equal. */
int eb_ct_equal(const void *a, const void *b, size_t n);

#endif
