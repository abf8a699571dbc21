/* storage/cpman.c - see cpman.h. */
#include "storage/cpman.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"

void
eb_cp_manifest_dispose(eb_cp_manifest *m)
{
	if (!m)
		return;
	free(m->files);
	free(m->certs);
	memset(m, 0, sizeof *m);
}

int
eb_cp_add_file(eb_cp_manifest *m, const eb_cp_file *f, eb_err *err)
{
	if (m->nfiles >= EB_CP_MAX_FILES)
		return eb_err_set(err, EB_EINVAL, "control-plane bundle: more than %d files",
		                  EB_CP_MAX_FILES);
	if (eb_array_grow((void **)&m->files, &m->capfiles, m->nfiles + 1, sizeof *m->files) < 0)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	m->files[m->nfiles++] = *f;
	return 0;
}

int
eb_cp_add_cert(eb_cp_manifest *m, const eb_cp_cert *c, eb_err *err)
{
	if (m->ncerts >= EB_CP_MAX_FILES)
		return eb_err_set(err, EB_EINVAL, "control-plane bundle: more than %d certificates",
		                  EB_CP_MAX_FILES);
	if (eb_array_grow((void **)&m->certs, &m->capcerts, m->ncerts + 1, sizeof *m->certs) < 0)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	m->certs[m->ncerts++] = *c;
	return 0;
}

int
eb_cp_manifest_copy(eb_cp_manifest **out, const eb_cp_manifest *src, eb_err *err)
{
	eb_cp_manifest *m;
	int rc = 0;
	*out = NULL;
	if (!src)
		return 0;
	if (!(m = calloc(1, sizeof *m)))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	*m = *src;
	m->files = NULL;
	m->certs = NULL;
	m->nfiles = m->capfiles = m->ncerts = m->capcerts = 0;
	for (size_t i = 0; i < src->nfiles && rc == 0; i++)
		rc = eb_cp_add_file(m, &src->files[i], err);
	for (size_t i = 0; i < src->ncerts && rc == 0; i++)
		rc = eb_cp_add_cert(m, &src->certs[i], err);
	if (rc < 0) {
		eb_cp_manifest_dispose(m);
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int
eb_cp_path_ok(const char *path)
{
	size_t n = strlen(path);
	const char *p = path;
	if (n < 2 || n > EB_CP_PATH_MAX || path[0] != '/' || path[n - 1] == '/')
		return 0;
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
			return 0;
	while (*p == '/') {
		const char *part = p + 1, *end = strchr(part, '/');
		size_t len = end ? (size_t)(end - part) : strlen(part);
		if (len == 0 || (len == 1 && part[0] == '.') || (len == 2 && part[0] == '.' && part[1] == '.'))
			return 0;
		p = part + len;
	}
	return 1;
}

void
eb_cp_object_name(const char *id, int encrypted, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s", id, EB_CP_SUFFIX, encrypted ? ".age" : "");
}

void
eb_cp_manifest_json(eb_buf *b, const eb_cp_manifest *m)
{
	eb_buf_puts(b, "  \"control_plane\": {\n    \"object\": ");
	eb_buf_json_str(b, m->object);
	eb_buf_puts(b, ",\n    \"root\": ");
	eb_buf_json_str(b, m->root);
	eb_buf_printf(b, ",\n    \"tar_size\": %" PRIu64 ",\n    \"tar_sha256\": \"%s\",\n"
	              "    \"stored_size\": %" PRIu64 ",\n    \"stored_sha256\": \"%s\",\n"
	              "    \"files\": [", m->tar_size, m->tar_sha256, m->stored_size, m->stored_sha256);
	for (size_t i = 0; i < m->nfiles; i++) {
		const eb_cp_file *f = &m->files[i];
		eb_buf_puts(b, i ? ",\n      {\"path\": " : "\n      {\"path\": ");
		eb_buf_json_str(b, f->path);
		eb_buf_printf(b, ", \"mode\": \"%04o\", \"uid\": %" PRIu32 ", \"gid\": %" PRIu32
		              ", \"size\": %" PRIu64 ", \"sha256\": \"%s\"}",
		              (unsigned)f->mode, f->uid, f->gid, f->size, f->sha256);
	}
	eb_buf_puts(b, "\n    ],\n    \"certs\": [");
	for (size_t i = 0; i < m->ncerts; i++) {
		const eb_cp_cert *c = &m->certs[i];
		eb_buf_puts(b, i ? ",\n      {\"path\": " : "\n      {\"path\": ");
		eb_buf_json_str(b, c->path);
		eb_buf_puts(b, ", \"subject\": ");
		eb_buf_json_str(b, c->subject);
		eb_buf_puts(b, ", \"issuer\": ");
		eb_buf_json_str(b, c->issuer);
		eb_buf_printf(b, ", \"not_before\": %" PRId64 ", \"not_after\": %" PRId64 "}",
		              c->not_before, c->not_after);
	}
	eb_buf_puts(b, "\n    ]\n  },\n");
}

/* ---- reading ---------------------------------------------------------- */

static int
sha_into(const eb_json *j, const char *key, char *dst, eb_err *err)
{
	uint8_t tmp[32];
	int rc = eb_json_get_strcpy(j, key, dst, 65, err);
	if (rc == 0 && eb_unhex(dst, tmp, sizeof tmp) < 0)
		rc = eb_err_set(err, EB_ECORRUPT, "control_plane field \"%s\" is not a sha256 hex digest", key);
	return rc;
}

static int
u32_into(const eb_json *j, const char *key, uint32_t *out, eb_err *err)
{
	uint64_t v;
	int rc = eb_json_get_u64(j, key, &v, err);
	if (rc == 0 && v > UINT32_MAX)
		rc = eb_err_set(err, EB_ECORRUPT, "control_plane field \"%s\" is out of range", key);
	*out = (uint32_t)v;
	return rc;
}

static int
read_file(const eb_json *e, eb_cp_file *f, eb_err *err)
{
	char mode[8], *end;
	int rc;
	memset(f, 0, sizeof *f);
	if ((rc = eb_json_get_strcpy(e, "path", f->path, sizeof f->path, err)) < 0 ||
	    (rc = eb_json_get_strcpy(e, "mode", mode, sizeof mode, err)) < 0 ||
	    (rc = u32_into(e, "uid", &f->uid, err)) < 0 || (rc = u32_into(e, "gid", &f->gid, err)) < 0 ||
	    (rc = eb_json_get_u64(e, "size", &f->size, err)) < 0 ||
	    (rc = sha_into(e, "sha256", f->sha256, err)) < 0)
		return rc;
	f->mode = (uint32_t)strtoul(mode, &end, 8);
	if (!mode[0] || *end || f->mode > 07777)
		return eb_err_set(err, EB_ECORRUPT, "control_plane file mode \"%s\" is not octal permission bits",
		                  mode);
	if (!eb_cp_path_ok(f->path))
		return eb_err_set(err, EB_ECORRUPT, "control_plane file path \"%.100s\" is not a safe absolute path",
		                  f->path);
	return 0;
}

static int
read_cert(const eb_json *e, eb_cp_cert *c, eb_err *err)
{
	int rc;
	memset(c, 0, sizeof *c);
	if ((rc = eb_json_get_strcpy(e, "path", c->path, sizeof c->path, err)) < 0 ||
	    (rc = eb_json_get_strcpy(e, "subject", c->subject, sizeof c->subject, err)) < 0 ||
	    (rc = eb_json_get_strcpy(e, "issuer", c->issuer, sizeof c->issuer, err)) < 0 ||
	    (rc = eb_json_get_i64(e, "not_before", &c->not_before, err)) < 0)
		return rc;
	return eb_json_get_i64(e, "not_after", &c->not_after, err);
}

static int
read_lists(const eb_json *j, eb_cp_manifest *m, eb_err *err)
{
	const eb_json *files = eb_json_get(j, "files"), *certs = eb_json_get(j, "certs");
	int rc = 0;
	if (!files || files->type != EB_JSON_ARR || !certs || certs->type != EB_JSON_ARR)
		return eb_err_set(err, EB_ECORRUPT, "control_plane needs the arrays \"files\" and \"certs\"");
	for (const eb_json *e = files->child; e && rc == 0; e = e->next) {
		eb_cp_file f;
		if ((rc = read_file(e, &f, err)) == 0 && eb_cp_find(m, f.path))
			rc = eb_err_set(err, EB_ECORRUPT, "control_plane lists %.100s twice", f.path);
		if (rc == 0)
			rc = eb_cp_add_file(m, &f, err);
	}
	for (const eb_json *e = certs->child; e && rc == 0; e = e->next) {
		eb_cp_cert c;
		if ((rc = read_cert(e, &c, err)) == 0)
			rc = eb_cp_add_cert(m, &c, err);
	}
	return rc;
}

int
eb_cp_manifest_read(const eb_json *j, const char *id, int encrypted, eb_cp_manifest **out,
                    eb_err *err)
{
	eb_cp_manifest *m = calloc(1, sizeof *m);
	char want[256];
	int rc;
	*out = NULL;
	if (!m)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	if (j->type != EB_JSON_OBJ)
		rc = eb_err_set(err, EB_ECORRUPT, "control_plane is not an object");
	else if ((rc = eb_json_get_strcpy(j, "object", m->object, sizeof m->object, err)) == 0 &&
	         (rc = eb_json_get_strcpy(j, "root", m->root, sizeof m->root, err)) == 0 &&
	         (rc = eb_json_get_u64(j, "tar_size", &m->tar_size, err)) == 0 &&
	         (rc = sha_into(j, "tar_sha256", m->tar_sha256, err)) == 0 &&
	         (rc = eb_json_get_u64(j, "stored_size", &m->stored_size, err)) == 0 &&
	         (rc = sha_into(j, "stored_sha256", m->stored_sha256, err)) == 0)
		rc = read_lists(j, m, err);
	eb_cp_object_name(id, encrypted, want, sizeof want);
	if (rc == 0 && strcmp(m->object, want) != 0)
		rc = eb_err_set(err, EB_ECORRUPT, "control_plane names object \"%.100s\", but it can only be %s",
		                m->object, want);
	if (rc == 0 && !eb_cp_path_ok(m->root))
		rc = eb_err_set(err, EB_ECORRUPT, "control_plane root \"%.100s\" is not a safe absolute path",
		                m->root);
	if (rc < 0) {
		eb_cp_manifest_dispose(m);
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

const eb_cp_file *
eb_cp_find(const eb_cp_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].path, path) == 0)
			return &m->files[i];
	return NULL;
}
