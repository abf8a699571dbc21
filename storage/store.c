#include "storage/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/env.h"

void
eb_store_opts_init(eb_store_opts *o)
{
	memset(o, 0, sizeof *o);
	o->s3_path_style = -1;
}

int
eb_store_opts_flag(eb_store_opts *o, const char *name, const char *arg, eb_err *err)
{
	if (!strcmp(name, "s3-endpoint")) o->s3_endpoint = arg;
	else if (!strcmp(name, "s3-region")) o->s3_region = arg;
	else if (!strcmp(name, "s3-ca-file")) o->s3_ca_file = arg;
	else if (!strcmp(name, "s3-compat")) o->s3_compat = arg;
	else if (!strcmp(name, "s3-object-lock-mode")) {
		if (!strcasecmp(arg, "governance")) o->s3_lock_mode = "GOVERNANCE";
		else if (!strcasecmp(arg, "compliance")) o->s3_lock_mode = "COMPLIANCE";
		else return eb_err_set(err, EB_EINVAL, "--s3-object-lock-mode takes governance or compliance, not '%s'", arg);
	} else if (!strcmp(name, "s3-object-lock-days")) {
		char *end;
		long d = strtol(arg, &end, 10);
		if (!*arg || *end || d < 1 || d > 36500)
			return eb_err_set(err, EB_EINVAL, "--s3-object-lock-days takes 1..36500, not '%s'", arg);
		o->s3_lock_days = (int)d;
	} else if (!strcmp(name, "s3-sse")) {
		if (strcmp(arg, "AES256") && strcmp(arg, "aws:kms"))
			return eb_err_set(err, EB_EINVAL, "--s3-sse takes AES256 or aws:kms, not '%s'", arg);
		o->s3_sse = arg;
	} else if (!strcmp(name, "s3-sse-kms-key-id")) o->s3_sse_kms_key = arg;
	else if (!strcmp(name, "azure-endpoint")) o->azure_endpoint = arg;
	else if (!strcmp(name, "azure-endpoint-suffix")) o->azure_endpoint_suffix = arg;
	else if (!strcmp(name, "azure-ca-file")) o->azure_ca_file = arg;
	else if (!strcmp(name, "s3-path-style")) {
		if (!arg || !strcmp(arg, "true")) o->s3_path_style = 1;
		else if (!strcmp(arg, "false")) o->s3_path_style = 0;
		else return eb_err_set(err, EB_EINVAL, "--s3-path-style takes true or false, not '%s'", arg);
	} else {
		return 1;
	}
	return 0;
}

/* A whole number in [lo, hi] from the variable, into *out; unset is 0. */
static int
env_num(const char *name, long long lo, long long hi, long long *out, eb_err *err)
{
	const char *v = eb_env(name);
	char *end;
	*out = 0;
	if (!v)
		return 0;
	*out = strtoll(v, &end, 10);
	if (*end || *out < lo || *out > hi)
		return eb_err_set(err, EB_EINVAL, "%s=%s: want a whole number from %lld to %lld", name, v,
		                  lo, hi);
	return 0;
}

int
eb_store_opts_tuning_from_env(eb_store_opts *o, eb_err *err)
{
	long long v[6];
	int rc = 0;
	rc = rc ? rc : env_num("EB_S3_MAX_ATTEMPTS", 1, 100, &v[0], err);
	rc = rc ? rc : env_num("EB_S3_RETRY_BUDGET_S", 1, 86400, &v[1], err);
	rc = rc ? rc : env_num("EB_S3_PART_SIZE", 5 << 20, 512 << 20, &v[2], err);
	rc = rc ? rc : env_num("EB_S3_PART_DOUBLE_EVERY", 1, 2000, &v[3], err);
	rc = rc ? rc : env_num("EB_S3_BUFFERS", 2, 8, &v[4], err);
	rc = rc ? rc : env_num("EB_S3_LIST_MAX_KEYS", 1, 1000, &v[5], err);
	if (rc < 0)
		return rc;
	o->s3_max_attempts = (int)v[0];
	o->s3_retry_budget_s = (long)v[1];
	o->s3_part_size = (size_t)v[2];
	o->s3_part_double_every = (int)v[3];
	o->s3_buffers = (int)v[4];
	o->s3_list_max_keys = (int)v[5];
	return 0;
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
	void *v = l->v;
	if (eb_array_grow(&v, &l->cap, l->n + 1, sizeof *l->v) < 0)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	l->v = v;
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
		                  "no store given: pass a folder, file:///path, s3://bucket/prefix or "
		                  "azblob://account/container/prefix");
	if (strncmp(url, "s3://", 5) == 0)
		return eb_s3_store_open(out, url, opts, err);
	if (strncmp(url, "azblob://", 9) == 0)
		return eb_az_store_open(out, url, opts, err);
	if (strncmp(url, "file://", 7) == 0) {
		if (url[7] != '/')
			return eb_err_set(err, EB_EINVAL,
			                  "store %s: file:// URLs need an absolute path (file:///var/backups)",
			                  url);
		return eb_local_store_open(out, url, url + 7, err);
	}
	if (strstr(url, "://"))
		return eb_err_set(err, EB_EINVAL,
		                  "store %s: unknown scheme (use a folder, file:///path, s3://bucket/prefix or "
		                  "azblob://account/container/prefix)",
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
eb_store_identity(eb_store *st, char *out, size_t cap, eb_err *err)
{
	if (st->ops->identity)
		return st->ops->identity(st, out, cap, err);
	snprintf(out, cap, "%s", st->url);
	return 0;
}

int
eb_store_list_hidden(eb_store *st, eb_store_list *out, eb_err *err)
{
	return st->ops->list_hidden ? st->ops->list_hidden(st, out, err) : 0;
}

int
eb_store_retained_until(eb_store *st, const char *name, int64_t *until, eb_err *err)
{
	int rc = check_name(st, name, err);
	*until = 0;
	return rc ? rc : st->ops->retained_until ? st->ops->retained_until(st, name, until, err) : 0;
}

int
eb_store_clean_incomplete(eb_store *st, int64_t older_than_s, int dry_run, int *n,
                          eb_err *err)
{
	*n = 0;
	return st->ops->clean_incomplete(st, older_than_s, dry_run, n, err);
}

/* ---- get_bytes: into the capped memory sink (common/stream.h) ---- */

int
eb_store_get_bytes(eb_store *st, const char *name, size_t max_len, char **out,
                   size_t *out_len, eb_err *err)
{
	eb_wbuf b = {0};
	eb_stream *sink = NULL;
	int rc = eb_mem_sink_new(&sink, &b, max_len, err);
	if (rc == 0)
		rc = eb_store_get(st, name, sink, err);
	if (rc == 0) {
		eb_wbuf_u8(&b, 0); /* NUL-terminated text, not counted */
		rc = eb_wbuf_check(&b, err);
	}
	if (sink)
		sink->ops->free(sink);
	if (rc < 0) {
		eb_wbuf_dispose(&b);
		return rc;
	}
	*out = (char *)b.p;
	if (out_len)
		*out_len = b.len - 1;
	return 0;
}

int
eb_store_holds(eb_store *st, const char *name, const void *buf, size_t len)
{
	char *have = NULL;
	size_t hlen = 0;
	eb_err e;
	int same;
	eb_err_init(&e);
	same = eb_store_get_bytes(st, name, len + 1, &have, &hlen, &e) == 0 && hlen == len &&
	       memcmp(have, buf, len) == 0;
	free(have);
	return same;
}
