#include "storage/digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sha256 pass-through ---- */

typedef struct {
	eb_stream base;
	eb_sha256 *h;
	uint8_t digest[EB_SHA256_LEN];
	int expect;
	uint8_t want[EB_SHA256_LEN];
	uint64_t want_len;
	char what[300];
} sha_stage;

static int
sha_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	sha_stage *st = (sha_stage *)s;
	if (st->expect && len > st->want_len - s->nbytes_in)
		return eb_err_set(err, EB_ECORRUPT, "%s is larger than the %llu bytes its manifest says",
		                  st->what, (unsigned long long)st->want_len);
	eb_sha256_update(st->h, buf, len);
	return s->next ? eb_stream_write(s->next, buf, len, err) : 0;
}

static int
sha_finish(eb_stream *s, eb_err *err)
{
	sha_stage *st = (sha_stage *)s;
	char want[2 * EB_SHA256_LEN + 1], got[2 * EB_SHA256_LEN + 1];
	eb_sha256_final(st->h, st->digest);
	if (st->expect && s->nbytes_in != st->want_len)
		return eb_err_set(err, EB_ECORRUPT,
		                  "%s is %llu bytes but its manifest says %llu",
		                  st->what, (unsigned long long)s->nbytes_in,
		                  (unsigned long long)st->want_len);
	if (st->expect && memcmp(st->digest, st->want, EB_SHA256_LEN) != 0) {
		eb_hex(st->want, EB_SHA256_LEN, want);
		eb_hex(st->digest, EB_SHA256_LEN, got);
		return eb_err_set(err, EB_ECORRUPT,
		                  "%s is corrupt: sha256 %s, manifest says %s",
		                  st->what, got, want);
	}
	return s->next ? eb_stream_finish(s->next, err) : 0;
}

static void
sha_free(eb_stream *s)
{
	sha_stage *st = (sha_stage *)s;
	eb_sha256_free(st->h);
	free(st);
}

static const eb_stream_ops sha_ops = {"sha256", sha_write, sha_finish,
                                      sha_free};

int
eb_sha256_stage_new(eb_stream **out, eb_stream *next, eb_err *err)
{
	sha_stage *st = calloc(1, sizeof *st);
	int rc;
	if (!st)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	rc = eb_sha256_new(&st->h, err);
	if (rc < 0) {
		free(st);
		return rc;
	}
	eb_stream_init(&st->base, &sha_ops, next);
	*out = &st->base;
	return 0;
}

void
eb_sha256_stage_digest(eb_stream *s, uint8_t out[EB_SHA256_LEN])
{
	memcpy(out, ((sha_stage *)s)->digest, EB_SHA256_LEN);
}

void
eb_sha256_stage_expect(eb_stream *s, const uint8_t want[EB_SHA256_LEN],
                       uint64_t want_len, const char *what)
{
	sha_stage *st = (sha_stage *)s;
	st->expect = 1;
	memcpy(st->want, want, EB_SHA256_LEN);
	st->want_len = want_len;
	snprintf(st->what, sizeof st->what, "%s", what);
}

/* ---- etcd trailer check ----
 *
 * hold[] keeps the newest (up to) 32 bytes; they are hashed only once newer
 * bytes push them out, so at finish the hash covers exactly the database and
 * hold[] is the candidate trailer. */

typedef struct {
	eb_stream base;
	eb_sha256 *h;
	uint8_t hold[EB_SHA256_LEN];
	size_t nhold;
	uint64_t hashed;
	uint8_t digest[EB_SHA256_LEN];      /* of the database */
	uint8_t file_digest[EB_SHA256_LEN]; /* of database + trailer */
	int expect;
	uint8_t want[EB_SHA256_LEN];
	uint8_t want_db[EB_SHA256_LEN];
	uint64_t want_len;
	char what[300];
} trailer_stage;

static int
trailer_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	trailer_stage *t = (trailer_stage *)s;
	/* stop at the size the manifest promises: an object that inflates
	 * past it (a decompression bomb) never reaches the disk */
	if (t->expect && len > t->want_len - s->nbytes_in)
		return eb_err_set(err, EB_ECORRUPT,
		                  "%s is larger than the %llu bytes its manifest says; stopped there",
		                  t->what, (unsigned long long)t->want_len);
	if (len >= EB_SHA256_LEN) {
		/* everything held plus all but the last 32 new bytes is database */
		eb_sha256_update(t->h, t->hold, t->nhold);
		eb_sha256_update(t->h, buf, len - EB_SHA256_LEN);
		t->hashed += t->nhold + len - EB_SHA256_LEN;
		memcpy(t->hold, buf + len - EB_SHA256_LEN, EB_SHA256_LEN);
		t->nhold = EB_SHA256_LEN;
	} else {
		size_t over = t->nhold + len > EB_SHA256_LEN
		                  ? t->nhold + len - EB_SHA256_LEN : 0;
		eb_sha256_update(t->h, t->hold, over);
		t->hashed += over;
		memmove(t->hold, t->hold + over, t->nhold - over);
		t->nhold -= over;
		memcpy(t->hold + t->nhold, buf, len);
		t->nhold += len;
	}
	return eb_stream_write(s->next, buf, len, err);
}

static int
trailer_finish(eb_stream *s, eb_err *err)
{
	trailer_stage *t = (trailer_stage *)s;
	char want[2 * EB_SHA256_LEN + 1], got[2 * EB_SHA256_LEN + 1];
	if (t->nhold < EB_SHA256_LEN || t->hashed == 0)
		return eb_err_set(err, EB_ECORRUPT,
		                  "snapshot stream ended after %llu bytes, before etcd's sha256 trailer",
		                  (unsigned long long)(t->hashed + t->nhold));
	/* one pass gives both digests: the database's (peek), then the whole
	 * file's, as etcdctl saves it (database + trailer) */
	eb_sha256_peek(t->h, t->digest);
	eb_sha256_update(t->h, t->hold, EB_SHA256_LEN);
	eb_sha256_final(t->h, t->file_digest);
	if (memcmp(t->digest, t->hold, EB_SHA256_LEN) != 0) {
		eb_hex(t->hold, EB_SHA256_LEN, want);
		eb_hex(t->digest, EB_SHA256_LEN, got);
		return eb_err_set(err, EB_ECORRUPT,
		                  "snapshot is corrupt: etcd's sha256 trailer is %s but the %llu database bytes hash to %s",
		                  want, (unsigned long long)t->hashed, got);
	}
	if (t->expect && s->nbytes_in != t->want_len)
		return eb_err_set(err, EB_ECORRUPT, "%s is %llu bytes but its manifest says %llu",
		                  t->what, (unsigned long long)s->nbytes_in,
		                  (unsigned long long)t->want_len);
	if (t->expect && memcmp(t->file_digest, t->want, EB_SHA256_LEN) != 0) {
		eb_hex(t->want, EB_SHA256_LEN, want);
		eb_hex(t->file_digest, EB_SHA256_LEN, got);
		return eb_err_set(err, EB_ECORRUPT, "%s is corrupt: sha256 %s, manifest says %s",
		                  t->what, got, want);
	}
	if (t->expect && memcmp(t->digest, t->want_db, EB_SHA256_LEN) != 0) {
		eb_hex(t->want_db, EB_SHA256_LEN, want);
		eb_hex(t->digest, EB_SHA256_LEN, got);
		return eb_err_set(err, EB_ECORRUPT,
		                  "%s: the database's sha256 is %s, but the manifest's db_sha256 says %s",
		                  t->what, got, want);
	}
	return eb_stream_finish(s->next, err);
}

static void
trailer_free(eb_stream *s)
{
	trailer_stage *t = (trailer_stage *)s;
	eb_sha256_free(t->h);
	free(t);
}

static const eb_stream_ops trailer_ops = {"etcd-trailer", trailer_write,
                                          trailer_finish, trailer_free};

int
eb_trailer_stage_new(eb_stream **out, eb_stream *next, eb_err *err)
{
	trailer_stage *t = calloc(1, sizeof *t);
	int rc;
	if (!t)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	rc = eb_sha256_new(&t->h, err);
	if (rc < 0) {
		free(t);
		return rc;
	}
	eb_stream_init(&t->base, &trailer_ops, next);
	*out = &t->base;
	return 0;
}

uint64_t
eb_trailer_stage_db_size(eb_stream *s)
{
	return ((trailer_stage *)s)->hashed;
}

void
eb_trailer_stage_db_digest(eb_stream *s, uint8_t out[EB_SHA256_LEN])
{
	memcpy(out, ((trailer_stage *)s)->digest, EB_SHA256_LEN);
}

void
eb_trailer_stage_file_digest(eb_stream *s, uint8_t out[EB_SHA256_LEN])
{
	memcpy(out, ((trailer_stage *)s)->file_digest, EB_SHA256_LEN);
}

void
eb_trailer_stage_expect(eb_stream *s, const uint8_t want[EB_SHA256_LEN],
                        const uint8_t want_db[EB_SHA256_LEN], uint64_t want_len,
                        const char *what)
{
	trailer_stage *t = (trailer_stage *)s;
	t->expect = 1;
	memcpy(t->want, want, EB_SHA256_LEN);
	memcpy(t->want_db, want_db, EB_SHA256_LEN);
	t->want_len = want_len;
	snprintf(t->what, sizeof t->what, "%s", what);
}

/* ---- the size a manifest promises, without hashing ---- */

typedef struct {
	eb_stream base;
	uint64_t n, want_len;
	char what[300];
} size_stage;

static int
size_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	size_stage *z = (size_stage *)s;
	if (len > z->want_len - z->n) /* a decompression bomb never reaches the disk */
		return eb_err_set(err, EB_ECORRUPT, "%s is larger than the %llu bytes its manifest says; stopped there",
		                  z->what, (unsigned long long)z->want_len);
	z->n += len;
	return eb_stream_write(s->next, buf, len, err);
}

static int
size_finish(eb_stream *s, eb_err *err)
{
	size_stage *z = (size_stage *)s;
	if (z->n != z->want_len)
		return eb_err_set(err, EB_ECORRUPT, "%s is %llu bytes, not the %llu its manifest says", z->what,
		                  (unsigned long long)z->n, (unsigned long long)z->want_len);
	return eb_stream_finish(s->next, err);
}

static void
size_free(eb_stream *s)
{
	free(s);
}

static const eb_stream_ops size_ops = {"size", size_write, size_finish, size_free};

int
eb_size_stage_new(eb_stream **out, uint64_t want_len, const char *what, eb_stream *next, eb_err *err)
{
	size_stage *z = calloc(1, sizeof *z);
	*out = NULL;
	if (!z)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&z->base, &size_ops, next);
	z->want_len = want_len;
	snprintf(z->what, sizeof z->what, "%s", what);
	*out = &z->base;
	return 0;
}
