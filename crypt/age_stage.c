/* crypt/age_stage.c - see age_stage.h; the format is drawn in age.c. */
#include "crypt/age_stage.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cipher.h"
#include "common/crypto.h"

typedef struct {
	eb_stream base;
	eb_aead *aead;
	uint64_t counter;         /* next chunk's number */
	uint8_t *hdr;             /* encrypt: header + nonce to send first;
	                           * decrypt: header bytes received so far */
	size_t hdr_len, hdr_cap;
	int hdr_done;
	const eb_age_identities *ids;
	uint8_t nonce[EB_AGE_NONCE_LEN];
	size_t nonce_have;
	uint8_t buf[EB_AGE_CHUNK_CT]; /* encrypt: plaintext; decrypt: ciphertext */
	size_t buf_len;
	uint8_t out[EB_AGE_CHUNK_CT];
} agestage;

static void
age_free(eb_stream *s)
{
	agestage *a = (agestage *)s;
	eb_aead_free(a->aead);
	free(a->hdr);
	eb_wipe(a->buf, sizeof a->buf);
	eb_wipe(a->out, sizeof a->out);
	free(a);
}

static int
payload_aead(agestage *a, const uint8_t fk[EB_AGE_FILE_KEY_LEN], eb_err *err)
{
	uint8_t key[32];
	int rc = eb_age_payload_key(fk, a->nonce, key, err);
	if (rc == 0)
		rc = eb_aead_new(&a->aead, key, err);
	eb_wipe(key, sizeof key);
	return rc;
}

/* moves up to cap - buf_len bytes of *p into the chunk buffer */
static void
take(agestage *a, size_t cap, const uint8_t **p, size_t *len)
{
	size_t k = cap - a->buf_len < *len ? cap - a->buf_len : *len;
	memcpy(a->buf + a->buf_len, *p, k);
	a->buf_len += k;
	*p += k;
	*len -= k;
}

/* ---- encrypt ---------------------------------------------------------- */

static int
send_header(agestage *a, eb_err *err)
{
	int rc = 0;
	if (!a->hdr_done) {
		rc = eb_stream_write(a->base.next, a->hdr, a->hdr_len, err);
		a->hdr_done = 1;
	}
	return rc;
}

static int
seal_chunk(agestage *a, int last, eb_err *err)
{
	uint8_t n[EB_AEAD_NONCE_LEN];
	int rc;
	eb_age_chunk_nonce(a->counter++, last, n);
	rc = eb_aead_seal(a->aead, n, a->buf, a->buf_len, a->out, err);
	if (rc == 0)
		rc = eb_stream_write(a->base.next, a->out, a->buf_len + EB_AEAD_TAG_LEN, err);
	a->buf_len = 0;
	return rc;
}

static int
enc_write(eb_stream *s, const uint8_t *p, size_t len, eb_err *err)
{
	agestage *a = (agestage *)s;
	int rc = send_header(a, err);
	while (rc == 0 && len) {
		if (a->buf_len == 0 && len > EB_AGE_CHUNK) {
			/* a whole chunk with more after it: sealed straight from the
			 * caller's buffer (no copy) */
			uint8_t n[EB_AEAD_NONCE_LEN];
			eb_age_chunk_nonce(a->counter++, 0, n);
			rc = eb_aead_seal(a->aead, n, p, EB_AGE_CHUNK, a->out, err);
			if (rc == 0)
				rc = eb_stream_write(a->base.next, a->out, EB_AGE_CHUNK_CT, err);
			p += EB_AGE_CHUNK;
			len -= EB_AGE_CHUNK;
			continue;
		}
		/* a full chunk is sealed only once more data shows it is not the
		 * last one: the last chunk carries the "last" flag */
		if (a->buf_len == EB_AGE_CHUNK && (rc = seal_chunk(a, 0, err)))
			break;
		take(a, EB_AGE_CHUNK, &p, &len);
	}
	return rc;
}

static int
enc_finish(eb_stream *s, eb_err *err)
{
	agestage *a = (agestage *)s;
	int rc = send_header(a, err);
	/* the last chunk: short, full, or the one empty chunk of an empty file */
	if (rc == 0)
		rc = seal_chunk(a, 1, err);
	return rc < 0 ? rc : eb_stream_finish(a->base.next, err);
}

static const eb_stream_ops enc_ops = {"age encrypt", enc_write, enc_finish, age_free};

int
eb_age_encrypt_new(eb_stream **out, const eb_age_recipients *r, eb_stream *next, eb_err *err)
{
	agestage *a = calloc(1, sizeof *a);
	uint8_t fk[EB_AGE_FILE_KEY_LEN];
	uint8_t *h = NULL;
	size_t hl = 0;
	int rc;
	if (!a)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&a->base, &enc_ops, next);
	rc = eb_random(fk, sizeof fk, err);
	if (rc == 0)
		rc = eb_random(a->nonce, sizeof a->nonce, err);
	if (rc == 0)
		rc = eb_age_header_write(r, fk, &h, &hl, err);
	if (rc == 0)
		rc = payload_aead(a, fk, err);
	if (rc == 0 && !(a->hdr = malloc(hl + EB_AGE_NONCE_LEN)))
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	if (rc == 0) {
		memcpy(a->hdr, h, hl);
		memcpy(a->hdr + hl, a->nonce, EB_AGE_NONCE_LEN);
		a->hdr_len = hl + EB_AGE_NONCE_LEN;
	}
	eb_wipe(fk, sizeof fk);
	free(h);
	if (rc < 0) {
		age_free(&a->base);
		return rc;
	}
	*out = &a->base;
	return 0;
}

/* ---- decrypt ---------------------------------------------------------- */

static int
open_chunk(agestage *a, int last, eb_err *err)
{
	uint8_t n[EB_AEAD_NONCE_LEN];
	size_t plen = a->buf_len - EB_AEAD_TAG_LEN;
	eb_err e;
	int rc;
	eb_err_init(&e);
	eb_age_chunk_nonce(a->counter, last, n);
	if (eb_aead_open(a->aead, n, a->buf, a->buf_len, a->out, &e) < 0)
		return eb_err_set(err, EB_ECORRUPT,
		                  last ? "age payload: the last chunk (%llu) does not authenticate: "
		                         "the file was altered or truncated"
		                       : "age payload: chunk %llu does not authenticate: the file "
		                         "was altered, reordered or has trailing data",
		                  (unsigned long long)a->counter);
	if (last && plen == 0 && a->counter > 0)
		return eb_err_set(err, EB_ECORRUPT,
		                  "age payload: the last chunk is empty (only an empty file may "
		                  "end so)");
	a->counter++;
	a->buf_len = 0;
	rc = plen ? eb_stream_write(a->base.next, a->out, plen, err) : 0;
	eb_wipe(a->out, plen);
	return rc;
}

/* payload chunks (after the header and the nonce) */
static int
feed_payload(agestage *a, const uint8_t *p, size_t len, eb_err *err)
{
	int rc = 0;
	while (rc == 0 && len) {
		/* a full chunk is opened as "not last" only once more bytes
		 * follow it */
		if (a->buf_len == EB_AGE_CHUNK_CT && (rc = open_chunk(a, 0, err)))
			break;
		take(a, EB_AGE_CHUNK_CT, &p, &len);
	}
	return rc;
}

static int
dec_header(agestage *a, const uint8_t *p, size_t len, eb_err *err)
{
	uint8_t fk[EB_AGE_FILE_KEY_LEN];
	size_t hl = 0, keep;
	int rc;
	if (a->hdr_len > EB_AGE_HEADER_MAX)
		return eb_err_set(err, EB_ECORRUPT, "age header is malformed: no MAC line in the first 1 MiB");
	keep = a->hdr_len + len;
	{
		void *h = a->hdr;
		if (eb_buf_grow(&h, &a->hdr_cap, keep, 0) < 0)
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		a->hdr = h;
	}
	memcpy(a->hdr + a->hdr_len, p, keep - a->hdr_len);
	a->hdr_len = keep;
	rc = eb_age_header_read(a->hdr, a->hdr_len, a->ids, fk, &hl, err);
	if (rc == 0) {
		const uint8_t *rest = a->hdr + hl;
		size_t nrest = a->hdr_len - hl, n0 = nrest < EB_AGE_NONCE_LEN ? nrest : EB_AGE_NONCE_LEN;
		a->hdr_done = 1;
		memcpy(a->nonce, rest, n0);
		a->nonce_have = n0;
		if (n0 == EB_AGE_NONCE_LEN)
			rc = payload_aead(a, fk, err);
		else /* the nonce arrives later: keep the file key until then */
			memcpy(a->buf, fk, sizeof fk);
		if (rc == 0)
			rc = feed_payload(a, rest + n0, nrest - n0, err);
	}
	eb_wipe(fk, sizeof fk);
	return rc < 0 ? rc : 0;
}

static int
dec_write(eb_stream *s, const uint8_t *p, size_t len, eb_err *err)
{
	agestage *a = (agestage *)s;
	if (!a->hdr_done)
		return dec_header(a, p, len, err);
	if (!a->aead) {
		/* the nonce was split across writes: finish it, then derive */
		size_t k = EB_AGE_NONCE_LEN - a->nonce_have < len ? EB_AGE_NONCE_LEN - a->nonce_have : len;
		int rc;
		memcpy(a->nonce + a->nonce_have, p, k);
		a->nonce_have += k;
		p += k;
		len -= k;
		if (a->nonce_have < EB_AGE_NONCE_LEN)
			return 0;
		rc = payload_aead(a, a->buf, err);
		eb_wipe(a->buf, EB_AGE_FILE_KEY_LEN);
		if (rc < 0)
			return rc;
	}
	return feed_payload(a, p, len, err);
}

static int
dec_finish(eb_stream *s, eb_err *err)
{
	agestage *a = (agestage *)s;
	int rc;
	if (!a->hdr_done) {
		if (a->hdr_len && !eb_age_sniff(a->hdr, a->hdr_len) &&
		    memcmp(a->hdr, EB_AGE_MAGIC, a->hdr_len < 22 ? a->hdr_len : 22) != 0)
			return eb_err_set(err, EB_ECORRUPT, "not an age file (no age-encryption.org/v1 header)");
		return eb_err_set(err, EB_ECORRUPT, "age file truncated inside its header (%zu bytes)",
		                  a->hdr_len);
	}
	if (!a->aead)
		return eb_err_set(err, EB_ECORRUPT, "age file truncated inside its payload nonce");
	if (a->buf_len < EB_AEAD_TAG_LEN)
		return eb_err_set(err, EB_ECORRUPT,
		                  a->buf_len == 0 && a->counter == 0
		                      ? "age file has no payload (not even the empty last chunk)"
		                      : "age file truncated: the last chunk is shorter than its tag");
	rc = open_chunk(a, 1, err);
	return rc < 0 ? rc : eb_stream_finish(a->base.next, err);
}

static const eb_stream_ops dec_ops = {"age decrypt", dec_write, dec_finish, age_free};

int
eb_age_decrypt_new(eb_stream **out, const eb_age_identities *ids, eb_stream *next, eb_err *err)
{
	agestage *a = calloc(1, sizeof *a);
	if (!a)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&a->base, &dec_ops, next);
	a->ids = ids;
	*out = &a->base;
	return 0;
}
