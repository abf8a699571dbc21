/* storage/cpbundle.c - see cpbundle.h. */
#include "storage/cpbundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/tar.h"
#include "storage/digest.h"
#include "storage/pipeline.h"

#define MEMBER_MAX (8u << 20)

/* What the tar reader collects. */
typedef struct reader {
	const eb_cp_manifest *cp;
	char **data;          /* [i] for cp->files[i] */
	size_t cur;           /* the file being read, cp->nfiles: none */
	size_t off;
	uint8_t *seen;
	const char *id;
} reader;

static int
on_entry(void *arg, const eb_tar_entry *e, eb_err *err)
{
	reader *r = arg;
	char path[EB_TAR_NAME_MAX + 3];
	const eb_cp_file *f;
	snprintf(path, sizeof path, "/%s", e->name);
	f = e->type == '0' ? eb_cp_find(r->cp, path) : NULL;
	if (!f)
		return eb_err_set(err, EB_ECORRUPT, "control-plane bundle of %s holds %s, which its "
		                  "manifest does not list", r->id, path);
	r->cur = (size_t)(f - r->cp->files);
	if (r->seen[r->cur])
		return eb_err_set(err, EB_ECORRUPT, "control-plane bundle of %s holds %s twice", r->id, path);
	if (e->size != f->size || e->mode != f->mode || e->uid != f->uid || e->gid != f->gid)
		return eb_err_set(err, EB_ECORRUPT, "control-plane bundle of %s: %s has size %llu mode "
		                  "%04o owner %u:%u, its manifest says %llu %04o %u:%u", r->id, path,
		                  (unsigned long long)e->size, (unsigned)e->mode, (unsigned)e->uid,
		                  (unsigned)e->gid, (unsigned long long)f->size, (unsigned)f->mode,
		                  (unsigned)f->uid, (unsigned)f->gid);
	r->seen[r->cur] = 1;
	r->off = 0;
	if (!(r->data[r->cur] = malloc(f->size + 1)))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	r->data[r->cur][f->size] = '\0';
	return 0;
}

static int
on_data(void *arg, const uint8_t *p, size_t n, eb_err *err)
{
	reader *r = arg;
	const eb_cp_file *f = &r->cp->files[r->cur];
	if (r->off + n > f->size)
		return eb_err_set(err, EB_ECORRUPT, "control-plane bundle of %s: %s is longer than its "
		                  "header says", r->id, f->path);
	memcpy(r->data[r->cur] + r->off, p, n);
	r->off += n;
	return 0;
}

static int
on_end(void *arg, const eb_tar_entry *e, eb_err *err)
{
	reader *r = arg;
	const eb_cp_file *f = &r->cp->files[r->cur];
	uint8_t d[EB_SHA256_LEN];
	char hex[65];
	(void)e;
	eb_sha256_buf(r->data[r->cur], f->size, d);
	eb_hex(d, sizeof d, hex);
	if (r->off != f->size || strcmp(hex, f->sha256) != 0)
		return eb_err_set(err, EB_ECORRUPT, "control-plane bundle of %s: %s does not have the "
		                  "sha256 its manifest lists", r->id, f->path);
	return 0;
}

/* Every listed file arrived. */
static int
all_there(const reader *r, eb_err *err)
{
	for (size_t i = 0; i < r->cp->nfiles; i++)
		if (!r->seen[i])
			return eb_err_set(err, EB_ECORRUPT, "control-plane bundle of %s lacks %s, which its "
			                  "manifest lists", r->id, r->cp->files[i].path);
	return 0;
}

/* stored object -> sha256 -> [age] -> zstd -> sha256 (tar) -> reader */
static int
read_bundle(eb_store *st, const eb_manifest *m, const eb_read_keys *k, reader *r, eb_err *err)
{
	const eb_cp_manifest *cp = m->cp;
	eb_tar_visitor v = {on_entry, on_data, on_end, r};
	eb_pipe_opts po = {.zstd = EB_PIPE_ZSTD, .ids = eb_manifest_encrypted(m) ? k->age : NULL};
	eb_pipe pipe = {0};
	eb_stream *tar = NULL, *tarsha = NULL;
	uint8_t want_stored[32], want_tar[32];
	char what[400];
	int rc = 0;
	if (eb_unhex(cp->stored_sha256, want_stored, 32) < 0 || eb_unhex(cp->tar_sha256, want_tar, 32) < 0)
		return eb_err_set(err, EB_ECORRUPT, "manifest of %s has bad control-plane digests", m->id);
	if ((rc = eb_tar_sink_new(&tar, &v, MEMBER_MAX, EB_CP_MAX_FILES, err)) == 0 &&
	    (rc = eb_sha256_stage_new(&tarsha, tar, err)) == 0) {
		snprintf(what, sizeof what, "control-plane archive of %s", m->id);
		eb_sha256_stage_expect(tarsha, want_tar, cp->tar_size, what);
		rc = eb_pipe_decode(&pipe, &po, tarsha, err);
	}
	if (rc == 0) {
		snprintf(what, sizeof what, "stored object %s", cp->object);
		eb_sha256_stage_expect(pipe.stored, want_stored, cp->stored_size, what);
		rc = eb_store_get(st, cp->object, pipe.head, err);
	}
	if (rc == 0)
		rc = eb_stream_finish(pipe.head, err);
	eb_pipe_dispose(&pipe);
	eb_stream_free_chain(tarsha ? tarsha : tar);
	if (rc == EB_ENOTFOUND)
		return eb_err_context(err, "backup %s: its manifest lists a control-plane bundle, but "
		                      "object %s is missing", m->id, cp->object);
	return rc == 0 ? all_there(r, err) : rc;
}

int
eb_cp_fetch(eb_store *st, const eb_manifest *m, const eb_read_keys *k, eb_cp_data *out,
            eb_err *err)
{
	reader r = {0};
	int rc;
	memset(out, 0, sizeof *out);
	if (!m->cp)
		return eb_err_set(err, EB_ENOTFOUND, "backup %s has no control-plane bundle (it was "
		                  "taken without --control-plane)", m->id);
	if (eb_manifest_encrypted(m) && !eb_read_keys_can_decrypt(k))
		return eb_err_set(err, EB_EINVAL, "the control-plane bundle of %s is age-encrypted: pass "
		                  "--age-identity FILE with the identity of one of its recipients", m->id);
	r.cp = m->cp;
	r.id = m->id;
	r.cur = m->cp->nfiles;
	r.data = calloc(m->cp->nfiles + 1, sizeof *r.data);
	r.seen = calloc(m->cp->nfiles + 1, 1);
	out->data = r.data;
	out->n = m->cp->nfiles;
	if (!r.data || !r.seen)
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	else
		rc = read_bundle(st, m, k, &r, err);
	free(r.seen);
	if (rc < 0)
		eb_cp_data_dispose(out, m);
	return rc;
}

void
eb_cp_data_dispose(eb_cp_data *d, const eb_manifest *m)
{
	for (size_t i = 0; i < d->n && d->data; i++) {
		if (d->data[i])
			eb_wipe(d->data[i], m->cp->files[i].size);
		free(d->data[i]);
	}
	free(d->data);
	memset(d, 0, sizeof *d);
}
