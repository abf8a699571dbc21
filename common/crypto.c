#include "common/crypto.h"

#include <openssl/crypto.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

struct eb_sha256 {
	EVP_MD_CTX *ctx;
};

int
eb_sha256_new(eb_sha256 **out, eb_err *err)
{
	eb_sha256 *h = calloc(1, sizeof *h);
	if (!h || !(h->ctx = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		eb_sha256_free(h);
		return eb_err_set(err, EB_ENOMEM, "cannot set up SHA-256");
	}
	*out = h;
	return 0;
}

void
eb_sha256_update(eb_sha256 *h, const void *buf, size_t len)
{
	EVP_DigestUpdate(h->ctx, buf, len);
}

void
eb_sha256_final(eb_sha256 *h, uint8_t out[EB_SHA256_LEN])
{
	unsigned int n = EB_SHA256_LEN;
	EVP_DigestFinal_ex(h->ctx, out, &n);
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void
eb_sha256_peek(const eb_sha256 *h, uint8_t out[EB_SHA256_LEN])
{
	unsigned int n = EB_SHA256_LEN;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (c && EVP_MD_CTX_copy_ex(c, h->ctx) == 1)
		EVP_DigestFinal_ex(c, out, &n);
	else
		memset(out, 0, EB_SHA256_LEN);
	EVP_MD_CTX_free(c);
}

void
eb_sha256_free(eb_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void
eb_sha256_buf(const void *buf, size_t len, uint8_t out[EB_SHA256_LEN])
{
	unsigned int n = EB_SHA256_LEN;
	EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL);
}

void
eb_sha1_buf(const void *buf, size_t len, uint8_t out[EB_SHA1_LEN])
{
	unsigned int n = EB_SHA1_LEN;
	EVP_Digest(buf, len, out, &n, EVP_sha1(), NULL);
}

void
eb_hmac_sha256(const void *key, size_t key_len, const void *msg,
               size_t msg_len, uint8_t out[EB_SHA256_LEN])
{
	unsigned int n = EB_SHA256_LEN;
	HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n);
}

void
eb_md5_buf(const void *buf, size_t len, uint8_t out[EB_MD5_LEN])
{
	unsigned int n = EB_MD5_LEN;
	EVP_Digest(buf, len, out, &n, EVP_md5(), NULL);
}

void
eb_base64(const uint8_t *buf, size_t len, char *out)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8 | buf[i + 2];
		out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
		out[o++] = t[(v >> 6) & 63]; out[o++] = t[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)buf[i] << 16 | (i + 1 < len ? (uint32_t)buf[i + 1] << 8 : 0);
		out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < len ? t[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

void
eb_hex(const uint8_t *buf, size_t len, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = d[buf[i] >> 4];
		out[2 * i + 1] = d[buf[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
nib(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int
eb_unhex(const char *hex, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (!hex[2 * i] || !hex[2 * i + 1])
			return -1;
		hi = nib(hex[2 * i]);
		lo = nib(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[2 * len] == '\0' ? 0 : -1;
}

int
eb_random(void *buf, size_t len, eb_err *err)
{
	if (RAND_bytes(buf, (int)len) != 1)
		return eb_err_set(err, EB_EIO, "no random bytes from OpenSSL");
	return 0;
}

void
eb_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

void
eb_wipe_str(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
}
