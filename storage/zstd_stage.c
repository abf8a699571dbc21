#include "storage/zstd_stage.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

typedef struct {
	eb_stream base;
	ZSTD_CCtx *c;
	ZSTD_DCtx *d;
	uint8_t *out;
	size_t out_cap;
	size_t last; /* decompress: last ZSTD_decompressStream hint, 0 = frame done */
	int level;
	int mode;    /* auto: -1 undecided, 0 plain (pass through), 1 zstd */
	uint8_t head[4];
	size_t nhead;
} zstage;

static void
zstage_free(eb_stream *s)
{
	zstage *z = (zstage *)s;
	ZSTD_freeCCtx(z->c);
	ZSTD_freeDCtx(z->d);
	free(z->out);
	free(z);
}

static int
zerr(eb_err *err, int code, const char *what, size_t r)
{
	return eb_err_set(err, code, "zstd %s failed: %s", what,
	                  ZSTD_getErrorName(r));
}

static int
compress_some(zstage *z, ZSTD_inBuffer *in, ZSTD_EndDirective mode,
              eb_err *err)
{
	for (;;) {
		ZSTD_outBuffer o = {z->out, z->out_cap, 0};
		size_t r = ZSTD_compressStream2(z->c, &o, in, mode);
		int rc;
		if (ZSTD_isError(r))
			return zerr(err, EB_EIO, "compression", r);
		if (o.pos) {
			rc = eb_stream_write(z->base.next, z->out, o.pos, err);
			if (rc < 0)
				return rc;
		}
		if (mode == ZSTD_e_end ? r == 0 : in->pos == in->size)
			return 0;
	}
}

static int
c_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	ZSTD_inBuffer in = {buf, len, 0};
	return compress_some((zstage *)s, &in, ZSTD_e_continue, err);
}

static int
c_finish(eb_stream *s, eb_err *err)
{
	ZSTD_inBuffer in = {NULL, 0, 0};
	int rc = compress_some((zstage *)s, &in, ZSTD_e_end, err);
	return rc < 0 ? rc : eb_stream_finish(s->next, err);
}

static const eb_stream_ops c_ops = {"zstd-compress", c_write, c_finish,
                                    zstage_free};

static int
d_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	zstage *z = (zstage *)s;
	ZSTD_inBuffer in = {buf, len, 0};
	while (in.pos < in.size) {
		ZSTD_outBuffer o = {z->out, z->out_cap, 0};
		size_t r = ZSTD_decompressStream(z->d, &o, &in);
		int rc;
		if (ZSTD_isError(r))
			return zerr(err, EB_ECORRUPT, "decompression (corrupt object?)", r);
		z->last = r;
		if (o.pos) {
			rc = eb_stream_write(s->next, z->out, o.pos, err);
			if (rc < 0)
				return rc;
		}
	}
	/* drain what the decoder still buffers for this input */
	for (;;) {
		ZSTD_outBuffer o = {z->out, z->out_cap, 0};
		size_t r = ZSTD_decompressStream(z->d, &o, &in);
		int rc;
		if (ZSTD_isError(r))
			return zerr(err, EB_ECORRUPT, "decompression (corrupt object?)", r);
		if (o.pos == 0)
			return 0; /* nothing pending; r is only a hint for more input */
		z->last = r;
		rc = eb_stream_write(s->next, z->out, o.pos, err);
		if (rc < 0)
			return rc;
	}
}

static int
d_finish(eb_stream *s, eb_err *err)
{
	zstage *z = (zstage *)s;
	if (s->nbytes_in == 0)
		return eb_err_set(err, EB_ECORRUPT, "zstd object is empty");
	if (z->last != 0)
		return eb_err_set(err, EB_ECORRUPT,
		                  "zstd object is truncated: it ends inside a frame after %llu bytes",
		                  (unsigned long long)s->nbytes_in);
	return eb_stream_finish(s->next, err);
}

static const eb_stream_ops d_ops = {"zstd-decompress", d_write, d_finish,
                                    zstage_free};

/* auto: the first four bytes say whether a zstd frame follows */
static int
a_decide(zstage *z, eb_err *err)
{
	static const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
	z->mode = z->nhead == 4 && memcmp(z->head, magic, 4) == 0;
	if (z->nhead == 0)
		return 0;
	return z->mode ? d_write(&z->base, z->head, z->nhead, err)
	               : eb_stream_write(z->base.next, z->head, z->nhead, err);
}

static int
a_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	zstage *z = (zstage *)s;
	int rc;
	if (z->mode < 0) {
		size_t k = 4 - z->nhead < len ? 4 - z->nhead : len;
		memcpy(z->head + z->nhead, buf, k);
		z->nhead += k;
		buf += k;
		len -= k;
		if (z->nhead < 4)
			return 0;
		if ((rc = a_decide(z, err)) < 0)
			return rc;
	}
	if (!len)
		return 0;
	return z->mode ? d_write(s, buf, len, err) : eb_stream_write(s->next, buf, len, err);
}

static int
a_finish(eb_stream *s, eb_err *err)
{
	zstage *z = (zstage *)s;
	int rc;
	if (z->mode < 0 && (rc = a_decide(z, err)) < 0)
		return rc;
	return z->mode ? d_finish(s, err) : eb_stream_finish(s->next, err);
}

static const eb_stream_ops a_ops = {"zstd-auto", a_write, a_finish, zstage_free};

int
eb_zstd_compress_new(eb_stream **out, int level, eb_stream *next, eb_err *err)
{
	zstage *z;
	if (level < EB_ZSTD_LEVEL_MIN || level > EB_ZSTD_LEVEL_MAX)
		return eb_err_set(err, EB_EINVAL,
		                  "compression level %d is out of range %d..%d",
		                  level, EB_ZSTD_LEVEL_MIN, EB_ZSTD_LEVEL_MAX);
	z = calloc(1, sizeof *z);
	if (!z)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&z->base, &c_ops, next);
	z->out_cap = ZSTD_CStreamOutSize();
	z->out = malloc(z->out_cap);
	z->c = ZSTD_createCCtx();
	if (!z->out || !z->c ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->c, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->c, ZSTD_c_checksumFlag, 1))) {
		zstage_free(&z->base);
		return eb_err_set(err, EB_ENOMEM, "cannot set up zstd compression");
	}
	z->level = level;
	*out = &z->base;
	return 0;
}

static int
decompress_new(eb_stream **out, const eb_stream_ops *ops, eb_stream *next, eb_err *err)
{
	zstage *z = calloc(1, sizeof *z);
	if (!z)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&z->base, ops, next);
	z->mode = ops == &a_ops ? -1 : 1;
	z->out_cap = ZSTD_DStreamOutSize();
	z->out = malloc(z->out_cap);
	z->d = ZSTD_createDCtx();
	if (!z->out || !z->d) {
		zstage_free(&z->base);
		return eb_err_set(err, EB_ENOMEM, "cannot set up zstd decompression");
	}
	/* our frames use at most an 8 MiB window; refuse anything that would
	 * make the decoder allocate more than 128 MiB */
	ZSTD_DCtx_setParameter(z->d, ZSTD_d_windowLogMax, 27);
	*out = &z->base;
	return 0;
}

int
eb_zstd_decompress_new(eb_stream **out, eb_stream *next, eb_err *err)
{
	return decompress_new(out, &d_ops, next, err);
}

int
eb_zstd_auto_new(eb_stream **out, eb_stream *next, eb_err *err)
{
	return decompress_new(out, &a_ops, next, err);
}
