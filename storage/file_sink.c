#include "storage/file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"

#define BUF_CAP (1u << 20)
#define PUSH_CAP (128u << 10) /* read: stays in the cache for the next stage */
#define WRITEBACK_EVERY (64u << 20) /* start writeback so the final fsync is short */

typedef struct {
	eb_stream base;
	int fd;          /* -1 until the first byte: a failed run creates nothing */
	int mode;
	int mkdir;       /* create the folder (and parents) when opening */
	int created;     /* tmp exists on disk (until commit or abort) */
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	uint8_t *buf;
	size_t len;
	uint64_t written, synced;
} file_sink;

static int
flush_buf(file_sink *f, eb_err *err)
{
	int rc = eb_write_all(f->fd, f->buf, f->len, f->tmp, err);
	if (rc < 0)
		return rc;
	f->written += f->len;
	f->len = 0;
	if (!(f->mode & EB_FILE_SCRATCH) && f->written - f->synced >= WRITEBACK_EVERY) {
		sync_file_range(f->fd, (off_t)f->synced, (off_t)(f->written - f->synced),
		                SYNC_FILE_RANGE_WRITE);
		f->synced = f->written;
	}
	return 0;
}

static int
open_tmp(file_sink *f, eb_err *err)
{
	int rc;
	if (f->fd >= 0)
		return 0;
	if (f->mkdir && (rc = eb_mkdir_p(f->dir, err)) < 0)
		return rc;
	f->fd = mkstemp(f->tmp);
	if (f->fd < 0) {
		int e = errno;
		f->tmp[0] = '\0';
		return eb_err_sys(err, EB_EIO, e, "cannot create a temp file in %s", f->dir);
	}
	f->created = 1;
	return 0;
}

static int
fs_write(eb_stream *s, const uint8_t *buf, size_t len, eb_err *err)
{
	file_sink *f = (file_sink *)s;
	int rc = open_tmp(f, err);
	if (rc < 0)
		return rc;
	while (len > 0) {
		size_t n = BUF_CAP - f->len < len ? BUF_CAP - f->len : len;
		memcpy(f->buf + f->len, buf, n);
		f->len += n;
		buf += n;
		len -= n;
		if (f->len == BUF_CAP && (rc = flush_buf(f, err)) < 0)
			return rc;
	}
	return 0;
}

static int
fs_finish(eb_stream *s, eb_err *err)
{
	file_sink *f = (file_sink *)s;
	int rc = open_tmp(f, err);
	if (rc == 0)
		rc = flush_buf(f, err);
	if (rc < 0)
		return rc;
	if (!(f->mode & EB_FILE_SCRATCH) && fsync(f->fd) < 0)
		return eb_err_sys(err, EB_EIO, errno, "fsync of %s failed", f->tmp);
	if (close(f->fd) < 0) {
		f->fd = -1;
		return eb_err_sys(err, EB_EIO, errno, "close of %s failed", f->tmp);
	}
	f->fd = -1;
	if (f->mode & EB_FILE_NO_REPLACE) {
		if (link(f->tmp, f->path) < 0)
			return errno == EEXIST
			           ? eb_err_set(err, EB_EEXIST, "%s already exists; not overwritten", f->path)
			           : eb_err_sys(err, EB_EIO, errno, "cannot create %s", f->path);
		unlink(f->tmp);
		f->created = 0;
	} else if (rename(f->tmp, f->path) < 0) {
		return eb_err_sys(err, EB_EIO, errno, "cannot rename %s to %s",
		                  f->tmp, f->path);
	}
	f->created = 0;
	f->tmp[0] = '\0';
	return (f->mode & EB_FILE_SCRATCH) ? 0 : eb_fsync_dir(f->dir, err);
}

static void
fs_free(eb_stream *s)
{
	file_sink *f = (file_sink *)s;
	if (f->fd >= 0)
		close(f->fd);
	/* abort: nothing half-written stays behind, also when the commit
	 * itself failed after the file was closed (the name was taken) */
	if (f->created)
		unlink(f->tmp);
	free(f->buf);
	free(f);
}

static const eb_stream_ops fs_ops = {"file", fs_write, fs_finish, fs_free};

int
eb_file_sink_new(eb_stream **out, const char *path, int mode, eb_err *err)
{
	return eb_file_sink_new2(out, path, mode, 0, err);
}

int
eb_file_sink_new2(eb_stream **out, const char *path, int mode, int mkdir, eb_err *err)
{
	file_sink *f;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!*base)
		return eb_err_set(err, EB_EINVAL, "'%s' is a folder, not a file name", path);
	if ((mode & EB_FILE_NO_REPLACE) && access(path, F_OK) == 0)
		return eb_err_set(err, EB_EEXIST,
		                  "%s already exists; remove it or choose another name", path);
	f = calloc(1, sizeof *f);
	if (!f)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&f->base, &fs_ops, NULL);
	f->fd = -1;
	f->mode = mode;
	f->mkdir = mkdir;
	snprintf(f->path, sizeof f->path, "%s", path);
	eb_dirname(path, f->dir, sizeof f->dir);
	if (snprintf(f->tmp, sizeof f->tmp, "%s/.%s.part.XXXXXX", f->dir, base) >=
	    (int)sizeof f->tmp) {
		free(f);
		return eb_err_set(err, EB_EINVAL, "path too long: %s", path);
	}
	f->buf = malloc(BUF_CAP);
	if (!f->buf) {
		free(f);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if (!mkdir && access(f->dir, W_OK) < 0) {
		int e = errno;
		fs_free(&f->base);
		return eb_err_sys(err, EB_EIO, e, "cannot write to folder %s", f->dir);
	}
	*out = &f->base;
	return 0;
}

int
eb_file_push(const char *path, eb_stream *s, eb_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf;
	int rc = 0;
	if (fd < 0)
		return eb_err_sys(err, errno == ENOENT ? EB_ENOTFOUND : EB_EIO, errno,
		                  "cannot open %s", path);
	buf = malloc(PUSH_CAP);
	if (!buf) {
		close(fd);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	for (;;) {
		ssize_t r = read(fd, buf, PUSH_CAP);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = eb_err_sys(err, EB_EIO, errno, "read of %s failed", path);
			break;
		}
		if (r == 0)
			break;
		rc = eb_stream_write(s, buf, (size_t)r, err);
		if (rc < 0)
			break;
	}
	free(buf);
	close(fd);
	return rc;
}
