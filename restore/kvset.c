/* restore/kvset.c - see kvset.h. */
#include "restore/kvset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "restore/bbolt_read.h"

#define SPOOL_FLUSH (1u << 20)

int
eb_kvset_init(eb_kvset *s, const eb_kvset_opts *o, eb_err *err)
{
	memset(s, 0, sizeof *s);
	s->o = *o;
	s->spool = -1;
	if (!o->values)
		return 0;
	const char *dir = o->spool_dir ? o->spool_dir : "/tmp";
	s->spool = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->spool < 0)
		return eb_err_sys(err, EB_EIO, errno, "cannot create a temp file for values in %s (set --tmp-dir)", dir);
	return 0;
}

static int
rehash(eb_kvset *s)
{
	size_t nn = s->nslot ? s->nslot * 2 : 1024;
	size_t *ns = calloc(nn, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		const eb_kvent *e = &s->v[i];
		size_t j = eb_fnv1a64(s->keys.p + e->koff, e->klen) & (nn - 1);
		while (ns[j])
			j = (j + 1) & (nn - 1);
		ns[j] = i + 1;
	}
	free(s->slot);
	s->slot = ns;
	s->nslot = nn;
	return 0;
}

/* The entry of key k, created when absent. */
static eb_kvent *
entry(eb_kvset *s, const uint8_t *k, size_t kl, eb_err *err)
{
	if ((s->n + 1) * 2 > s->nslot && rehash(s) < 0)
		goto oom;
	size_t j = eb_fnv1a64(k, kl) & (s->nslot - 1);
	for (; s->slot[j]; j = (j + 1) & (s->nslot - 1)) {
		eb_kvent *e = &s->v[s->slot[j] - 1];
		if (e->klen == kl && !memcmp(s->keys.p + e->koff, k, kl))
			return e;
	}
	{
		void *t = s->v;
		if (eb_array_grow(&t, &s->cap, s->n + 1, sizeof *s->v) < 0)
			goto oom;
		s->v = t;
	}
	eb_kvent *e = &s->v[s->n];
	memset(e, 0, sizeof *e);
	e->koff = s->keys.len;
	e->klen = (uint32_t)kl;
	eb_wbuf_put(&s->keys, k, kl);
	if (s->keys.oom)
		goto oom;
	s->slot[j] = ++s->n;
	return e;
oom:
	eb_err_set(err, EB_ENOMEM, "out of memory holding %zu keys (narrow with --prefix)", s->n);
	return NULL;
}

/* Values go to the spool in 1 MiB writes (wbuf holds the tail). */
static int
spool_flush(eb_kvset *s, eb_err *err)
{
	int rc = eb_write_all(s->spool, s->wbuf.p, s->wbuf.len, "the values' temp file", err);
	eb_wbuf_reset(&s->wbuf);
	return rc;
}

static int
spool_value(eb_kvset *s, eb_kvent *e, const uint8_t *p, size_t n, eb_err *err)
{
	e->voff = s->spool_len;
	s->spool_len += n;
	eb_wbuf_put(&s->wbuf, p, n);
	if (eb_wbuf_check(&s->wbuf, err))
		return EB_ENOMEM;
	return s->wbuf.len >= SPOOL_FLUSH ? spool_flush(s, err) : 0;
}

int
eb_kvset_put(eb_kvset *s, const eb_kv_fields *f, int64_t rev, int tomb, eb_err *err)
{
	s->records++;
	if (!eb_key_wanted(f->key, f->key_len, s->o.key, s->o.key_len, s->o.prefix))
		return 0;
	eb_kvent *e = entry(s, f->key, f->key_len, err);
	if (!e)
		return EB_ENOMEM;
	if (rev < e->mod_rev)
		return 0; /* an older record, come later (a streamed snapshot's file order) */
	if (s->o.values && f->value_dropped)
		return eb_err_set(err, EB_EINVAL, "internal: a record without its value, values asked");
	e->deleted = (uint8_t)tomb;
	e->mod_rev = rev;
	if (tomb)
		return 0;
	e->create_rev = f->create_rev;
	e->mod_rev = f->mod_rev;
	e->version = f->version;
	e->lease = f->lease;
	e->vsize = f->value_len;
	if (s->o.hash_values)
		e->vhash = f->value_dropped ? f->value_hash : eb_hash64(f->value, f->value_len);
	return s->o.values ? spool_value(s, e, f->value, f->value_len, err) : 0;
}

int
eb_kvset_add(void *ctx, const eb_view_rec *r, eb_err *err)
{
	eb_kv_fields f;
	int rc = r->f ? 0 : eb_kv_decode(r->kv, r->kv_len, &f, err);
	return rc ? rc : eb_kvset_put(ctx, r->f ? r->f : &f, r->rev, r->tomb, err);
}

static int
by_key(const void *a, const void *b, void *arg)
{
	const eb_kvent *x = a, *y = b;
	const uint8_t *k = arg;
	return eb_keycmp(k + x->koff, x->klen, k + y->koff, y->klen);
}

int
eb_kvset_finish(eb_kvset *s, eb_err *err)
{
	size_t n = 0;
	if (s->spool >= 0 && s->wbuf.len && spool_flush(s, err))
		return EB_EIO;
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].deleted)
			s->v[n++] = s->v[i];
	s->n = n;
	free(s->slot);
	s->slot = NULL;
	s->nslot = 0;
	if (n > 1)
		qsort_r(s->v, n, sizeof *s->v, by_key, s->keys.p);
	return 0;
}

const eb_kvent *
eb_kvset_find(const eb_kvset *s, const uint8_t *key, size_t len)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = eb_keycmp(s->keys.p + s->v[mid].koff, s->v[mid].klen, key, len);
		if (c == 0)
			return &s->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
eb_kvset_value(const eb_kvset *s, const eb_kvent *e, eb_wbuf *out, eb_err *err)
{
	eb_wbuf_reset(out);
	if (s->spool < 0)
		return eb_err_set(err, EB_EINVAL, "values were not kept");
	if (eb_wbuf_reserve(out, e->vsize + 1))
		return eb_err_set(err, EB_ENOMEM, "out of memory for a %llu-byte value", (unsigned long long)e->vsize);
	size_t got = 0;
	while (got < e->vsize) {
		ssize_t r = pread(s->spool, out->p + got, e->vsize - got, (off_t)(e->voff + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return eb_err_sys(err, EB_EIO, r < 0 ? errno : EIO, "read the values' temp file");
		got += (size_t)r;
	}
	out->len = got;
	return 0;
}

void
eb_kvset_dispose(eb_kvset *s)
{
	eb_wbuf_dispose(&s->keys);
	eb_wbuf_dispose(&s->wbuf);
	free(s->v);
	free(s->slot);
	if (s->spool >= 0)
		close(s->spool);
	memset(s, 0, sizeof *s);
	s->spool = -1;
}
