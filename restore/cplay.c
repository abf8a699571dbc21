/* restore/cplay.c - see cplay.h. */
#include "restore/cplay.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/fsutil.h"
#include "storage/catalog.h"
#include "storage/store.h"

enum { KEEP = 0, WRITE = 1, REPLACE = 2 };

int
eb_cp_target(const eb_cp_manifest *cp, const eb_cp_file *f, const eb_cp_lay_opts *o, char *out,
             size_t cap, eb_err *err)
{
	size_t rl = strlen(cp->root);
	int n;
	if (strncmp(f->path, cp->root, rl) == 0 && f->path[rl] == '/')
		n = snprintf(out, cap, "%s%s", o->dir, f->path + rl);
	else
		n = snprintf(out, cap, "%s%s", o->rootfs ? o->rootfs : "", f->path);
	if (n < 0 || (size_t)n >= cap)
		return eb_err_set(err, EB_EINVAL, "control plane: the target of %s is too long", f->path);
	return 0;
}

/* KEEP when path holds exactly f, WRITE when there is nothing, REPLACE
 * when it differs (refused unless overwrite). */
static int
plan_one(const eb_cp_file *f, const char *path, int overwrite, int *what, eb_err *err)
{
	struct stat sb;
	char *have = NULL, hex[65];
	size_t len = 0;
	uint8_t d[EB_SHA256_LEN];
	int same;
	if (lstat(path, &sb) != 0) {
		if (errno != ENOENT)
			return eb_err_sys(err, EB_EIO, errno, "control plane: %s", path);
		*what = WRITE;
		return 0;
	}
	if (!S_ISREG(sb.st_mode))
		return eb_err_set(err, EB_EEXIST, "control plane: %s exists and is not a regular file; "
		                  "move it away first", path);
	if (eb_read_file(path, 64u << 20, &have, &len, err) < 0)
		return EB_EIO;
	eb_sha256_buf(have, len, d);
	eb_hex(d, sizeof d, hex);
	eb_wipe(have, len);
	free(have);
	same = strcmp(hex, f->sha256) == 0 && (sb.st_mode & 07777) == f->mode &&
	       (geteuid() != 0 || (sb.st_uid == f->uid && sb.st_gid == f->gid));
	if (same) {
		*what = KEEP;
		return 0;
	}
	if (!overwrite)
		return eb_err_set(err, EB_EEXIST, "control plane: %s exists and differs from the backup's "
		                  "(%s); nothing was written.  Move the file away, or pass "
		                  "--control-plane-overwrite to replace every differing file",
		                  path, strcmp(hex, f->sha256) ? "content" : "mode or owner");
	*what = REPLACE;
	return 0;
}

/* The temp file beside path, written, fsynced, with mode and owner. */
static int
stage_one(const eb_cp_file *f, const char *data, const char *path, char *tmp, size_t cap,
          int *owners_kept, eb_err *err)
{
	char dir[PATH_MAX];
	int fd, rc;
	eb_dirname(path, dir, sizeof dir);
	if ((rc = eb_mkdir_p(dir, err)) < 0)
		return rc;
	snprintf(tmp, cap, "%s.eb-restore-XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		tmp[0] = '\0';
		return eb_err_sys(err, EB_EIO, errno, "control plane: temp file beside %s", path);
	}
	rc = eb_write_all(fd, data, f->size, path, err);
	if (rc == 0 && geteuid() == 0 && fchown(fd, f->uid, f->gid) != 0)
		rc = eb_err_sys(err, EB_EIO, errno, "control plane: chown %s", path);
	else if (rc == 0 && geteuid() != 0 && (getuid() != f->uid || getgid() != f->gid))
		*owners_kept = 1;
	if (rc == 0 && fchmod(fd, f->mode) != 0)
		rc = eb_err_sys(err, EB_EIO, errno, "control plane: chmod %s", path);
	if (rc == 0 && fsync(fd) != 0)
		rc = eb_err_sys(err, EB_EIO, errno, "control plane: fsync %s", path);
	close(fd);
	return rc;
}

typedef struct plan {
	char (*target)[PATH_MAX];
	char (*tmp)[PATH_MAX];
	int *what;
} plan;

static void
plan_free(plan *p, size_t n, int unlink_tmp)
{
	for (size_t i = 0; p->tmp && i < n && unlink_tmp; i++)
		if (p->tmp[i][0])
			unlink(p->tmp[i]);
	free(p->target);
	free(p->tmp);
	free(p->what);
}

int
eb_cp_lay_down(const eb_cp_manifest *cp, char *const *data, const eb_cp_lay_opts *o,
               eb_cp_lay_result *res, eb_err *err)
{
	size_t n = cp->nfiles;
	plan p = {calloc(n + 1, PATH_MAX), calloc(n + 1, PATH_MAX), calloc(n + 1, sizeof(int))};
	int rc = 0;
	memset(res, 0, sizeof *res);
	if (!p.target || !p.tmp || !p.what)
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	/* plan: every target checked before anything is written */
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = eb_cp_target(cp, &cp->files[i], o, p.target[i], PATH_MAX, err)) == 0)
			rc = plan_one(&cp->files[i], p.target[i], o->overwrite, &p.what[i], err);
	if (o->plan_only) {
		plan_free(&p, n, 0);
		return rc;
	}
	/* stage */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (p.what[i] != KEEP)
			rc = stage_one(&cp->files[i], data[i], p.target[i], p.tmp[i], PATH_MAX,
			               &res->owners_kept, err);
	/* commit: the renames */
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (p.what[i] == KEEP) {
			res->kept++;
			continue;
		}
		if (rename(p.tmp[i], p.target[i]) != 0) {
			rc = eb_err_sys(err, EB_EIO, errno, "control plane: rename into %s", p.target[i]);
			break;
		}
		p.tmp[i][0] = '\0';
		if (p.what[i] == REPLACE)
			res->replaced++;
		else
			res->written++;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char dir[PATH_MAX];
		eb_dirname(p.target[i], dir, sizeof dir);
		rc = eb_fsync_dir(dir, err);
	}
	plan_free(&p, n, 1);
	return rc;
}

int
eb_cp_fetch_backup(const char *url, const eb_store_opts *so, const char *id,
                   const eb_read_keys *k, eb_manifest *m, eb_cp_data *d, eb_err *err)
{
	eb_store *st = NULL;
	int rc = eb_store_open(&st, url, so, err);
	if (rc == 0 && (rc = eb_catalog_find(st, id, k, m, err)) == 0) {
		rc = eb_cp_fetch(st, m, k, d, err);
		if (rc < 0)
			eb_manifest_dispose(m);
	}
	eb_store_free(st);
	return rc;
}
