/* storage/local_store.c - a store in a local folder.
 *
 * Objects are plain files directly in the folder.  Writes go through
 * file_sink (temp + fsync + rename/link + fsync dir), so a crash leaves at
 * most a hidden ".NAME.part.XXXXXX" file, which list() ignores and
 * clean_incomplete (prune) removes once it is old. */
#include "storage/store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "storage/file_sink.h"

typedef struct {
	eb_store base;
	char dir[PATH_MAX];
} local_store;

static int
obj_path(local_store *ls, const char *name, char *out, eb_err *err)
{
	if (strchr(name, '/'))
		return eb_err_set(err, EB_EINVAL, "store %s: object names have no '/': %s",
		                  ls->base.url, name);
	if (snprintf(out, PATH_MAX, "%s/%s", ls->dir, name) >= PATH_MAX)
		return eb_err_set(err, EB_EINVAL, "path too long in %s", ls->dir);
	return 0;
}

static int
ls_put_stream(eb_store *st, const char *name, eb_stream **out, eb_err *err)
{
	local_store *ls = (local_store *)st;
	char p[PATH_MAX];
	int rc = obj_path(ls, name, p, err);
	return rc < 0 ? rc : eb_file_sink_new2(out, p, EB_FILE_NO_REPLACE, 1, err);
}

static int
ls_put_bytes(eb_store *st, const char *name, const void *buf, size_t len,
             eb_err *err)
{
	local_store *ls = (local_store *)st;
	char p[PATH_MAX];
	int rc = obj_path(ls, name, p, err);
	if (rc == 0)
		rc = eb_mkdir_p(ls->dir, err);
	return rc < 0 ? rc : eb_write_file_atomic(p, buf, len, EB_WRITE_NO_REPLACE, err);
}

static int
ls_get(eb_store *st, const char *name, eb_stream *sink, eb_err *err)
{
	local_store *ls = (local_store *)st;
	char p[PATH_MAX];
	int rc = obj_path(ls, name, p, err);
	return rc < 0 ? rc : eb_file_push(p, sink, err);
}

static int
ls_list(eb_store *st, eb_store_list *out, eb_err *err)
{
	local_store *ls = (local_store *)st;
	DIR *d = opendir(ls->dir);
	struct dirent *e;
	int rc = 0;
	if (!d)
		return eb_err_sys(err, errno == ENOENT ? EB_ENOTFOUND : EB_EIO, errno,
		                  "cannot read store folder %s", ls->dir);
	while ((e = readdir(d)) != NULL) {
		struct stat sb;
		char p[PATH_MAX];
		if (e->d_name[0] == '.')
			continue; /* ".", "..", and temp files of writes in flight */
		if (snprintf(p, sizeof p, "%s/%s", ls->dir, e->d_name) >= (int)sizeof p ||
		    stat(p, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		rc = eb_store_list_add(out, e->d_name, (uint64_t)sb.st_size,
		                       (int64_t)sb.st_mtime, err);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

static int
ls_del(eb_store *st, const char *name, eb_err *err)
{
	local_store *ls = (local_store *)st;
	char p[PATH_MAX];
	int rc = obj_path(ls, name, p, err);
	if (rc < 0)
		return rc;
	if (unlink(p) < 0 && errno != ENOENT)
		return eb_err_sys(err, EB_EIO, errno, "cannot delete %s", p);
	return eb_fsync_dir(ls->dir, err);
}

/* Temp files of writes in flight are ".NAME.part.XXXXXX" (file_sink and
 * eb_write_file_atomic); one older than the cut-off belongs to a run that
 * was killed (a live run writes to its file all the time). */
static int
is_debris(const char *name)
{
	const char *p = strstr(name, ".part.");
	return name[0] == '.' && p && strlen(p + 6) == 6;
}

static int
ls_clean_incomplete(eb_store *st, int64_t older_than_s, int dry_run, int *n, eb_err *err)
{
	local_store *ls = (local_store *)st;
	DIR *d = opendir(ls->dir);
	struct dirent *e;
	time_t cutoff = time(NULL) - (time_t)older_than_s;
	int rc = 0;
	if (!d)
		return errno == ENOENT ? 0 : eb_err_sys(err, EB_EIO, errno, "cannot read store folder %s", ls->dir);
	while ((e = readdir(d)) != NULL) {
		struct stat sb;
		char p[PATH_MAX];
		if (!is_debris(e->d_name) ||
		    snprintf(p, sizeof p, "%s/%s", ls->dir, e->d_name) >= (int)sizeof p ||
		    lstat(p, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_mtime > cutoff)
			continue;
		if (!dry_run && unlink(p) < 0 && errno != ENOENT) {
			rc = eb_err_sys(err, EB_EIO, errno, "cannot remove the leftover temp file %s", p);
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (rc == 0 && *n > 0 && !dry_run)
		rc = eb_fsync_dir(ls->dir, err);
	return rc;
}

static void
ls_free(eb_store *st)
{
	free(st->url);
	free(st);
}

/* The folder resolved (symlinks, "..", "//"): its longest part that exists
 * through realpath, the rest (not made yet) appended as written. */
static int
ls_identity(eb_store *st, char *out, size_t cap, eb_err *err)
{
	local_store *ls = (local_store *)st;
	char head[PATH_MAX], real[PATH_MAX];
	size_t cut;
	snprintf(head, sizeof head, "%s", ls->dir);
	for (cut = strlen(head);; ) {
		char saved = head[cut];
		head[cut] = '\0';
		if (realpath(cut ? head : "/", real)) {
			head[cut] = saved;
			break;
		}
		head[cut] = saved;
		if (errno != ENOENT && errno != ENOTDIR)
			return eb_err_sys(err, EB_EIO, errno, "cannot resolve store folder %s", ls->dir);
		while (cut > 0 && head[cut - 1] != '/')
			cut--;
		while (cut > 0 && head[cut - 1] == '/')
			cut--;
		if (cut == 0 && head[0] != '/') { /* a relative path none of which exists */
			if (!getcwd(real, sizeof real))
				return eb_err_sys(err, EB_EIO, errno, "cannot resolve store folder %s", ls->dir);
			break;
		}
	}
	{ /* the part not made yet, without empty and "." components */
		char rest[PATH_MAX], *save = NULL, *tok;
		size_t at = strlen(real);
		snprintf(rest, sizeof rest, "%s", head + cut);
		for (tok = strtok_r(rest, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
			if (strcmp(tok, ".") != 0 && at + strlen(tok) + 2 < sizeof real)
				at += (size_t)snprintf(real + at, sizeof real - at, "%s%s", at > 1 ? "/" : "", tok);
	}
	if (snprintf(out, cap, "local:%s", real) >= (int)cap)
		return eb_err_set(err, EB_EINVAL, "store folder path too long: %s", ls->dir);
	return 0;
}

static const eb_store_ops local_ops = {"local", ls_put_stream, ls_put_bytes, ls_get,
                                       ls_list, ls_del, ls_clean_incomplete, NULL, NULL, ls_identity, ls_free};

int
eb_local_store_open(eb_store **out, const char *url, const char *path,
                    eb_err *err)
{
	local_store *ls;
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || n >= PATH_MAX)
		return eb_err_set(err, EB_EINVAL, "bad store folder '%s'", path);
	ls = calloc(1, sizeof *ls);
	if (!ls || !(ls->base.url = strdup(url))) {
		free(ls);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	memcpy(ls->dir, path, n);
	ls->dir[n] = '\0';
	ls->base.ops = &local_ops;
	*out = &ls->base;
	return 0;
}
