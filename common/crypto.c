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

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
eb_base64_enc(const uint8_t *buf, size_t len, char *out, int pad)
{
	const char *t = b64_alphabet;
	size_t i, o = 0;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8 | buf[i + 2];
		out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
		out[o++] = t[(v >> 6) & 63]; out[o++] = t[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)buf[i] << 16 | (i + 1 < len ? (uint32_t)buf[i + 1] << 8 : 0);
		out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = t[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

void
eb_base64(const uint8_t *buf, size_t len, char *out)
{
	eb_base64_enc(buf, len, out, 1);
}

static int
b64_val(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

int
eb_base64_dec(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len, int pad)
{
	size_t o = 0, i = 0, rem;
	if (pad) {
		if (n % 4)
			return -1;
		if (n && s[n - 1] == '=')
			n--;
		if (n && s[n - 1] == '=')
			n--;
	}
	rem = n % 4;
	if (rem == 1)
		return -1;
	for (; i + 4 <= n; i += 4) {
		int a = b64_val(s[i]), b = b64_val(s[i + 1]), c = b64_val(s[i + 2]), d = b64_val(s[i + 3]);
		if ((a | b | c | d) < 0 || o + 3 > cap)
			return -1;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o++] = (uint8_t)(v >> 16); out[o++] = (uint8_t)(v >> 8); out[o++] = (uint8_t)v;
	}
	if (rem) {
		int a = b64_val(s[i]), b = b64_val(s[i + 1]), c = rem == 3 ? b64_val(s[i + 2]) : 0;
		if ((a | b | c) < 0 || o + rem - 1 > cap)
			return -1;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
		/* canonical: the unused low bits must be zero */
		if ((rem == 2 && (v & 0xffff)) || (rem == 3 && (v & 0xff)))
			return -1;
		out[o++] = (uint8_t)(v >> 16);
		if (rem == 3)
			out[o++] = (uint8_t)(v >> 8);
	}
	*out_len = o;
	return 0;
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
