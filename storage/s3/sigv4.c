/* storage/s3/sigv4.c - see sigv4.h. */
#include "storage/s3/sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"

int
eb_s3_uri_encode(eb_buf *b, const char *s, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3];
		int rc;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~' || (c == '/' && keep_slash)) {
			rc = eb_buf_add(b, (const char *)&s[i], 1);
		} else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			rc = eb_buf_add(b, e, 3);
		}
		if (rc)
			return rc;
	}
	if (!b->p)
		return eb_buf_add(b, "", 0);
	return 0;
}

static char *
enc_dup(const char *s)
{
	eb_buf b = {0};
	if (eb_s3_uri_encode(&b, s, strlen(s), 0)) {
		eb_buf_dispose(&b);
		return NULL;
	}
	return b.p;
}

int
eb_s3_query_add(eb_s3_query *q, const char *name, const char *value)
{
	if (q->n == EB_S3_QMAX)
		return EB_EINVAL;
	q->k[q->n] = enc_dup(name);
	q->v[q->n] = enc_dup(value ? value : "");
	if (!q->k[q->n] || !q->v[q->n]) {
		free(q->k[q->n]);
		free(q->v[q->n]);
		return EB_ENOMEM;
	}
	q->n++;
	return 0;
}

int
eb_s3_query_build(eb_s3_query *q, char **out)
{
	eb_buf b = {0};
	int rc = 0;
	/* insertion sort: a handful of pairs */
	for (int i = 1; i < q->n; i++)
		for (int j = i; j > 0; j--) {
			int c = strcmp(q->k[j - 1], q->k[j]);
			if (c < 0 || (c == 0 && strcmp(q->v[j - 1], q->v[j]) <= 0))
				break;
			char *t = q->k[j]; q->k[j] = q->k[j - 1]; q->k[j - 1] = t;
			t = q->v[j]; q->v[j] = q->v[j - 1]; q->v[j - 1] = t;
		}
	rc = eb_buf_add(&b, "", 0);
	for (int i = 0; i < q->n && !rc; i++) {
		if (i)
			rc = eb_buf_puts(&b, "&");
		if (!rc)
			rc = eb_buf_puts(&b, q->k[i]);
		if (!rc)
			rc = eb_buf_puts(&b, "=");
		if (!rc)
			rc = eb_buf_puts(&b, q->v[i]);
	}
	if (rc) {
		eb_buf_dispose(&b);
		return EB_ENOMEM;
	}
	*out = b.p;
	return 0;
}

void
eb_s3_query_dispose(eb_s3_query *q)
{
	for (int i = 0; i < q->n; i++) {
		free(q->k[i]);
		free(q->v[i]);
	}
	q->n = 0;
}

static int
hdr_cmp(const void *a, const void *b)
{
	return strcmp(((const eb_s3_hdr *)a)->name, ((const eb_s3_hdr *)b)->name);
}

int
eb_sigv4_sign(const char *method, const char *path, const char *query,
              const eb_s3_hdr *hdrs, int nhdrs, const char *payload_hash,
              const char *amz_date, const char *region, const char *service,
              const char *access_key, const char *secret_key, char *auth,
              size_t auth_size, char **creq_out, eb_err *err)
{
	eb_s3_hdr sorted[16];
	eb_buf creq = {0}, signed_h = {0}, sts = {0};
	uint8_t h[EB_SHA256_LEN], k[EB_SHA256_LEN];
	char hex[2 * EB_SHA256_LEN + 1], date[9], kbuf[256];
	int rc = 0, n;

	if (nhdrs > 16 || strlen(amz_date) != 16 || strlen(secret_key) > 200)
		return eb_err_set(err, EB_EINVAL, "SigV4: bad request to sign");
	memcpy(sorted, hdrs, (size_t)nhdrs * sizeof *hdrs);
	qsort(sorted, (size_t)nhdrs, sizeof *sorted, hdr_cmp);
	memcpy(date, amz_date, 8);
	date[8] = '\0';

	rc |= eb_buf_printf(&creq, "%s\n", method);
	rc |= eb_buf_puts(&creq, path);
	rc |= eb_buf_puts(&creq, "\n");
	rc |= eb_buf_puts(&creq, query ? query : "");
	rc |= eb_buf_puts(&creq, "\n");
	for (int i = 0; i < nhdrs; i++) {
		rc |= eb_buf_puts(&creq, sorted[i].name);
		rc |= eb_buf_puts(&creq, ":");
		rc |= eb_buf_puts(&creq, sorted[i].value);
		rc |= eb_buf_puts(&creq, "\n");
		if (i)
			rc |= eb_buf_puts(&signed_h, ";");
		rc |= eb_buf_puts(&signed_h, sorted[i].name);
	}
	rc |= eb_buf_puts(&creq, "\n");
	rc |= eb_buf_puts(&creq, signed_h.p ? signed_h.p : "");
	rc |= eb_buf_puts(&creq, "\n");
	rc |= eb_buf_puts(&creq, payload_hash);
	if (rc) {
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
		goto out;
	}
	eb_sha256_buf(creq.p, creq.len, h);
	eb_hex(h, sizeof h, hex);
	rc = eb_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
	                 amz_date, date, region, service, hex);
	if (rc) {
		rc = eb_err_set(err, EB_EINVAL, "SigV4: region or service too long");
		goto out;
	}
	n = snprintf(kbuf, sizeof kbuf, "AWS4%s", secret_key);
	eb_hmac_sha256(kbuf, (size_t)n, date, 8, k);
	memset(kbuf, 0, sizeof kbuf);
	eb_hmac_sha256(k, sizeof k, region, strlen(region), k);
	eb_hmac_sha256(k, sizeof k, service, strlen(service), k);
	eb_hmac_sha256(k, sizeof k, "aws4_request", 12, k);
	eb_hmac_sha256(k, sizeof k, sts.p, sts.len, h);
	memset(k, 0, sizeof k);
	eb_hex(h, sizeof h, hex);
	n = snprintf(auth, auth_size,
	             "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
	             "SignedHeaders=%s, Signature=%s",
	             access_key, date, region, service, signed_h.p, hex);
	if (n < 0 || (size_t)n >= auth_size) {
		rc = eb_err_set(err, EB_EINVAL, "SigV4: Authorization header too long");
		goto out;
	}
	if (creq_out) {
		*creq_out = creq.p;
		creq.p = NULL;
	}
out:
	eb_buf_dispose(&creq);
	eb_buf_dispose(&signed_h);
	eb_buf_dispose(&sts);
	return rc;
}
