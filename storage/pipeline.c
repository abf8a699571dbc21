/* storage/pipeline.c - see pipeline.h. */
#include "storage/pipeline.h"

#include <string.h>

#include "crypt/age_stage.h"
#include "storage/async_stage.h"
#include "storage/digest.h"
#include "storage/zstd_stage.h"

void
eb_pipe_dispose(eb_pipe *p)
{
	eb_stream *s = p->head, *next;
	for (; s && s != p->tail; s = next) {
		next = s->next;
		s->ops->free(s);
	}
	if (p->own_tail && p->tail)
		p->tail->ops->free(p->tail);
	memset(p, 0, sizeof *p);
}

/* A stage's constructor: (out, next, err) over the pipe's options. */
typedef int (*maker)(eb_stream **out, const eb_pipe_opts *o, eb_stream *next, eb_err *err);

static int mk_sha256(eb_stream **out, const eb_pipe_opts *o, eb_stream *next, eb_err *err)
{ (void)o; return eb_sha256_stage_new(out, next, err); }
static int mk_encrypt(eb_stream **out, const eb_pipe_opts *o, eb_stream *next, eb_err *err)
{ return eb_age_encrypt_new(out, o->rcpt, next, err); }
static int mk_decrypt(eb_stream **out, const eb_pipe_opts *o, eb_stream *next, eb_err *err)
{ return eb_age_decrypt_new(out, o->ids, next, err); }
static int mk_compress(eb_stream **out, const eb_pipe_opts *o, eb_stream *next, eb_err *err)
{ return eb_zstd_compress_new(out, o->level, next, err); }
static int mk_decompress(eb_stream **out, const eb_pipe_opts *o, eb_stream *next, eb_err *err)
{ return o->zstd == EB_PIPE_ZSTD_AUTO ? eb_zstd_auto_new(out, next, err) : eb_zstd_decompress_new(out, next, err); }
static int mk_async(eb_stream **out, const eb_pipe_opts *o, eb_stream *next, eb_err *err)
{ (void)o; return eb_async_stage_new(out, next, err); }

/* Puts a new stage in front of the pipe; on failure frees the pipe. */
static int
push(eb_pipe *p, maker mk, const eb_pipe_opts *o, eb_err *err)
{
	eb_stream *s = NULL;
	int rc = mk(&s, o, p->head, err);
	if (rc < 0) {
		eb_pipe_dispose(p);
		return rc;
	}
	p->head = s;
	return 0;
}

static void
start(eb_pipe *p, const eb_pipe_opts *o, eb_stream *tail)
{
	memset(p, 0, sizeof *p);
	p->head = p->tail = tail;
	p->own_tail = o->own_tail;
}

int
eb_pipe_encode(eb_pipe *p, const eb_pipe_opts *o, eb_stream *tail, eb_err *err)
{
	int rc;
	start(p, o, tail);
	if ((rc = push(p, mk_sha256, o, err)) < 0)
		return rc;
	p->stored = p->head;
	if (o->rcpt && o->rcpt->n && (rc = push(p, mk_encrypt, o, err)) < 0)
		return rc;
	if (o->zstd && (rc = push(p, mk_compress, o, err)) < 0)
		return rc;
	if (o->async && (rc = push(p, mk_async, o, err)) < 0)
		return rc;
	return 0;
}

int
eb_pipe_decode(eb_pipe *p, const eb_pipe_opts *o, eb_stream *tail, eb_err *err)
{
	int rc = 0;
	start(p, o, tail);
	if (o->zstd && (rc = push(p, mk_decompress, o, err)) < 0)
		return rc;
	if (o->ids && (rc = push(p, mk_decrypt, o, err)) < 0)
		return rc;
	if (o->async && (rc = push(p, mk_async, o, err)) < 0)
		return rc;
	if (!o->no_digest && (rc = push(p, mk_sha256, o, err)) < 0)
		return rc;
	if (!o->no_digest)
		p->stored = p->head;
	return 0;
}
