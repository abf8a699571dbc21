#include "storage/store.h"

#include <stdlib.h>
#include <string.h>

void
eb_store_opts_init(eb_store_opts *o)
{
	memset(o, 0, sizeof *o);
	o->s3_path_style = -1;
}

void
eb_store_list_dispose(eb_store_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int
eb_store_list_add(eb_store_list *l, const char *name, uint64_t size,
                  int64_t mtime, eb_err *err)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		eb_store_entry *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].name = strdup(name);
	if (!l->v[l->n].name)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	l->v[l->n].size = size;
	l->v[l->n].mtime = mtime;
	l->n++;
	return 0;
}

int
eb_store_open(eb_store **out, const char *url, const eb_store_opts *opts,
              eb_err *err)
{
	eb_store_opts def;
	*out = NULL;
	if (!opts) {
		eb_store_opts_init(&def);
		opts = &def;
	}
	if (!url || !*url)
		return eb_err_set(err, EB_EINVAL,
		                  "no store given: pass a folder, file:///path or s3://bucket/prefix");
	if (strncmp(url, "s3://", 5) == 0)
		return eb_s3_store_open(out, url, opts, err);
	if (strncmp(url, "file://", 7) == 0) {
		if (url[7] != '/')
			return eb_err_set(err, EB_EINVAL,
			                  "store %s: file:// URLs need an absolute path (file:///var/backups)",
			                  url);
		return eb_local_store_open(out, url, url + 7, err);
	}
	if (strstr(url, "://"))
		return eb_err_set(err, EB_EINVAL,
		                  "store %s: unknown scheme (use a folder, file:///path or s3://bucket/prefix)",
		                  url);
	return eb_local_store_open(out, url, url, err);
}

void
eb_store_free(eb_store *st)
{
	if (st)
		st->ops->free(st);
}

/* Names are relative and flat-ish: no "..", no leading "/", printable. */
static int
check_name(eb_store *st, const char *name, eb_err *err)
{
	if (!name[0] || name[0] == '/' || strstr(name, ".."))
		return eb_err_set(err, EB_EINVAL, "store %s: bad object name '%s'",
		                  st->url, name);
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20)
			return eb_err_set(err, EB_EINVAL,
			                  "store %s: bad object name", st->url);
	return 0;
}

int
eb_store_put_stream(eb_store *st, const char *name, eb_stream **out,
                    eb_err *err)
{
	int rc = check_name(st, name, err);
	return rc ? rc : st->ops->put_stream(st, name, out, err);
}

int
eb_store_put_bytes(eb_store *st, const char *name, const void *buf,
                   size_t len, eb_err *err)
{
	int rc = check_name(st, name, err);
	return rc ? rc : st->ops->put_bytes(st, name, buf, len, err);
}

int
eb_store_get(eb_store *st, const char *name, eb_stream *sink, eb_err *err)
{
	int rc = check_name(st, name, err);
	return rc ? rc : st->ops->get(st, name, sink, err);
}

int
eb_store_list_all(eb_store *st, eb_store_list *out, eb_err *err)
{
	return st->ops->list(st, out, err);
}

int
eb_store_delete(eb_store *st, const char *name, eb_err *err)
{
	int rc = check_name(st, name, err);
	return rc ? rc : st->ops->del(st, name, err);
}

int
eb_store_clean_incomplete(eb_store *st, int64_t older_than_s, int dry_run, int *n,
                          eb_err *err)
{
	*n = 0;
	return st->ops->clean_incomplete(st, older_than_s, dry_run, n, err);
}

/* ---- get_bytes: a capped memory sink ---- */

typedef struct {
	eb_stream base;
	char *buf;
	size_t len, cap, max;
} mem_sink;

static int
mem_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	mem_sink *m = (mem_sink *)s;
	if (len > m->max - m->len)
		return eb_err_set(err, EB_ECORRUPT,
		                  "object larger than the %zu bytes expected", m->max);
	if (m->len + len + 1 > m->cap) {
		size_t cap = (m->len + len + 1) * 2;
		char *b = realloc(m->buf, cap);
		if (!b)
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		m->buf = b;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

static int
mem_finish(eb_stream *s, eb_err *err)
{
	(void)s; (void)err;
	return 0;
}

static void
mem_free(eb_stream *s)
{
	(void)s; /* embedded in the caller's frame; buffer handed over or freed there */
}

static const eb_stream_ops mem_ops = {"memory", mem_write, mem_finish, mem_free};

int
eb_store_get_bytes(eb_store *st, const char *name, size_t max_len, char **out,
                   size_t *out_len, eb_err *err)
{
	mem_sink m = {0};
	int rc;
	eb_stream_init(&m.base, &mem_ops, NULL);
	m.max = max_len;
	rc = eb_store_get(st, name, &m.base, err);
	if (rc == 0 && !m.buf) {
		m.buf = malloc(1);
		if (!m.buf)
			rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if (rc < 0) {
		free(m.buf);
		return rc;
	}
	m.buf[m.len] = '\0';
	*out = m.buf;
	if (out_len)
		*out_len = m.len;
	return 0;
}
