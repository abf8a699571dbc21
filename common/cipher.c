/* common/cipher.c - see cipher.h. */
#include "common/cipher.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

int
eb_x25519(uint8_t out[EB_X25519_LEN], const uint8_t scalar[EB_X25519_LEN],
          const uint8_t *point, eb_err *err)
{
	EVP_PKEY *sk = NULL, *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = EB_X25519_LEN;
	int rc = 0;
	static const uint8_t zero[EB_X25519_LEN];

	sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, EB_X25519_LEN);
	if (!point) {
		/* the public key: X25519(scalar, 9) */
		if (!sk || EVP_PKEY_get_raw_public_key(sk, out, &n) != 1 || n != EB_X25519_LEN)
			rc = eb_err_set(err, EB_ENOMEM, "X25519: cannot derive a public key");
		EVP_PKEY_free(sk);
		return rc;
	}
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point, EB_X25519_LEN);
	if (!sk || !pk || !(ctx = EVP_PKEY_CTX_new(sk, NULL)) ||
	    EVP_PKEY_derive_init(ctx) != 1)
		rc = eb_err_set(err, EB_ENOMEM, "X25519: cannot set up the key agreement");
	else if (EVP_PKEY_derive_set_peer(ctx, pk) != 1 ||
	         EVP_PKEY_derive(ctx, out, &n) != 1 || n != EB_X25519_LEN ||
	         CRYPTO_memcmp(out, zero, EB_X25519_LEN) == 0)
		/* OpenSSL refuses an all-zero shared secret; so do we */
		rc = eb_err_set(err, EB_ECORRUPT, "X25519: the peer's share is a low-order point");
	if (rc < 0)
		OPENSSL_cleanse(out, EB_X25519_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(sk);
	return rc;
}

int
eb_hkdf_sha256(const void *ikm, size_t ikm_len, const void *salt, size_t salt_len,
               const char *info, uint8_t *out, size_t out_len, eb_err *err)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5], *q = p;
	int rc = 0;
	*q++ = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string("key", (void *)ikm, ikm_len);
	/* an empty salt is HKDF's default (HashLen zeros): same result */
	if (salt_len)
		*q++ = OSSL_PARAM_construct_octet_string("salt", (void *)salt, salt_len);
	*q++ = OSSL_PARAM_construct_octet_string("info", (void *)info, strlen(info));
	*q = OSSL_PARAM_construct_end();
	if (!ctx || EVP_KDF_derive(ctx, out, out_len, p) != 1)
		rc = eb_err_set(err, EB_ENOMEM, "HKDF-SHA-256 failed");
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
eb_scrypt(const char *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
          unsigned log_n, uint8_t *out, size_t out_len, eb_err *err)
{
	uint64_t n = (uint64_t)1 << log_n;
	/* scrypt needs 128 * r * N bytes (and a little more) */
	uint64_t maxmem = 128 * 8 * n + (1u << 20);
	if (log_n == 0 || log_n > 30)
		return eb_err_set(err, EB_EINVAL, "scrypt work factor 2^%u out of range", log_n);
	if (EVP_PBE_scrypt(pass, pass_len, salt, salt_len, n, 8, 1, maxmem, out, out_len) != 1)
		return eb_err_set(err, EB_ENOMEM, "scrypt with N=2^%u failed (needs %llu MiB)",
		                  log_n, (unsigned long long)(maxmem >> 20));
	return 0;
}

struct eb_aead {
	EVP_CIPHER_CTX *enc, *dec;
	uint8_t key[EB_AEAD_KEY_LEN];
};

int
eb_aead_new(eb_aead **out, const uint8_t key[EB_AEAD_KEY_LEN], eb_err *err)
{
	eb_aead *a = calloc(1, sizeof *a);
	if (!a || !(a->enc = EVP_CIPHER_CTX_new()) || !(a->dec = EVP_CIPHER_CTX_new()) ||
	    EVP_EncryptInit_ex(a->enc, EVP_chacha20_poly1305(), NULL, NULL, NULL) != 1 ||
	    EVP_DecryptInit_ex(a->dec, EVP_chacha20_poly1305(), NULL, NULL, NULL) != 1) {
		eb_aead_free(a);
		return eb_err_set(err, EB_ENOMEM, "cannot set up ChaCha20-Poly1305");
	}
	memcpy(a->key, key, EB_AEAD_KEY_LEN);
	*out = a;
	return 0;
}

int
eb_aead_seal(eb_aead *a, const uint8_t nonce[EB_AEAD_NONCE_LEN], const uint8_t *in,
             size_t len, uint8_t *out, eb_err *err)
{
	int n = 0, m = 0;
	if (len > INT_MAX ||
	    EVP_EncryptInit_ex(a->enc, NULL, NULL, a->key, nonce) != 1 ||
	    EVP_EncryptUpdate(a->enc, out, &n, in, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(a->enc, out + n, &m) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_AEAD_GET_TAG, EB_AEAD_TAG_LEN, out + len) != 1)
		return eb_err_set(err, EB_ENOMEM, "ChaCha20-Poly1305 encryption failed");
	return 0;
}

int
eb_aead_open(eb_aead *a, const uint8_t nonce[EB_AEAD_NONCE_LEN], const uint8_t *in,
             size_t len, uint8_t *out, eb_err *err)
{
	int n = 0, m = 0;
	size_t clen;
	if (len < EB_AEAD_TAG_LEN || len > INT_MAX)
		return eb_err_set(err, EB_ECORRUPT, "ciphertext shorter than its tag");
	clen = len - EB_AEAD_TAG_LEN;
	if (EVP_DecryptInit_ex(a->dec, NULL, NULL, a->key, nonce) != 1 ||
	    EVP_DecryptUpdate(a->dec, out, &n, in, (int)clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_AEAD_SET_TAG, EB_AEAD_TAG_LEN,
	                        (void *)(in + clen)) != 1 ||
	    EVP_DecryptFinal_ex(a->dec, out + n, &m) != 1) {
		OPENSSL_cleanse(out, clen);
		return eb_err_set(err, EB_ECORRUPT, "authentication tag does not verify");
	}
	return 0;
}

void
eb_aead_free(eb_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	OPENSSL_cleanse(a->key, sizeof a->key);
	free(a);
}

int
eb_ed25519_public(const uint8_t seed[EB_ED25519_SEED_LEN], uint8_t pub[EB_ED25519_PUB_LEN],
                  eb_err *err)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, EB_ED25519_SEED_LEN);
	size_t n = EB_ED25519_PUB_LEN;
	int rc = 0;
	if (!k || EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 || n != EB_ED25519_PUB_LEN)
		rc = eb_err_set(err, EB_ENOMEM, "Ed25519: cannot derive the public key");
	EVP_PKEY_free(k);
	return rc;
}

int
eb_ed25519_sign(const uint8_t seed[EB_ED25519_SEED_LEN], const void *msg, size_t len,
                uint8_t sig[EB_ED25519_SIG_LEN], eb_err *err)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, EB_ED25519_SEED_LEN);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t n = EB_ED25519_SIG_LEN;
	int rc = 0;
	if (!k || !c || EVP_DigestSignInit(c, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(c, sig, &n, msg, len) != 1 || n != EB_ED25519_SIG_LEN)
		rc = eb_err_set(err, EB_ENOMEM, "Ed25519 signing failed");
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return rc;
}

int
eb_ed25519_verify(const uint8_t pub[EB_ED25519_PUB_LEN], const void *msg, size_t len,
                  const uint8_t sig[EB_ED25519_SIG_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, EB_ED25519_PUB_LEN);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = k && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
	         EVP_DigestVerify(c, sig, EB_ED25519_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}

void
eb_sha512_buf(const void *buf, size_t len, uint8_t out[EB_SHA512_LEN])
{
	unsigned int n = EB_SHA512_LEN;
	EVP_Digest(buf, len, out, &n, EVP_sha512(), NULL);
}

int
eb_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

static const EVP_CIPHER *
aes_cipher(size_t key_len, int gcm)
{
	switch (key_len) {
	case 16: return gcm ? EVP_aes_128_gcm() : EVP_aes_128_cbc();
	case 24: return gcm ? EVP_aes_192_gcm() : EVP_aes_192_cbc();
	case 32: return gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
	default: return NULL;
	}
}

int
eb_aes_cbc_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[16], const uint8_t *in,
                   size_t len, uint8_t *out, size_t *out_len, eb_err *err)
{
	const EVP_CIPHER *c = aes_cipher(key_len, 0);
	EVP_CIPHER_CTX *x;
	int n1 = 0, n2 = 0, ok;
	if (!c)
		return eb_err_set(err, EB_EINVAL, "an AES-CBC key of %zu bytes (want 16, 24 or 32)", key_len);
	if (len == 0 || len % 16 || len > INT_MAX)
		return eb_err_set(err, EB_ECORRUPT, "AES-CBC data of %zu bytes is not whole blocks", len);
	if (!(x = EVP_CIPHER_CTX_new()))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	ok = EVP_DecryptInit_ex(x, c, NULL, key, iv) == 1 &&
	     EVP_DecryptUpdate(x, out, &n1, in, (int)len) == 1 &&
	     EVP_DecryptFinal_ex(x, out + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(x);
	if (!ok) {
		OPENSSL_cleanse(out, len);
		return eb_err_set(err, EB_ECORRUPT, "AES-CBC: bad padding (a wrong key?)");
	}
	*out_len = (size_t)n1 + (size_t)n2;
	return 0;
}

int
eb_aes_gcm_decrypt(const uint8_t *key, size_t key_len, const uint8_t nonce[12], const uint8_t *aad,
                   size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len,
                   eb_err *err)
{
	const EVP_CIPHER *c = aes_cipher(key_len, 1);
	EVP_CIPHER_CTX *x;
	int n1 = 0, n2 = 0, ok;
	if (!c)
		return eb_err_set(err, EB_EINVAL, "an AES-GCM key of %zu bytes (want 16, 24 or 32)", key_len);
	if (len < 16 || len > INT_MAX || aad_len > INT_MAX)
		return eb_err_set(err, EB_ECORRUPT, "AES-GCM data of %zu bytes has no room for its tag", len);
	if (!(x = EVP_CIPHER_CTX_new()))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	ok = EVP_DecryptInit_ex(x, c, NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	     EVP_DecryptInit_ex(x, NULL, NULL, key, nonce) == 1 &&
	     EVP_DecryptUpdate(x, NULL, &n1, aad, (int)aad_len) == 1 &&
	     EVP_DecryptUpdate(x, out, &n1, in, (int)(len - 16)) == 1 &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + len - 16)) == 1 &&
	     EVP_DecryptFinal_ex(x, out + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(x);
	if (!ok) {
		OPENSSL_cleanse(out, len);
		return eb_err_set(err, EB_ECORRUPT, "AES-GCM: the tag does not verify (a wrong key?)");
	}
	*out_len = (size_t)n1 + (size_t)n2;
	return 0;
}
