#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"

int
eb_mkdir_p(const char *path, eb_err *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof buf)
		return eb_err_set(err, EB_EINVAL, "bad folder path '%s'", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0700) < 0 && errno != EEXIST)
				return eb_err_sys(err, EB_EIO, errno,
				                  "cannot create folder %s", buf);
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int
eb_fsync_dir(const char *dir, eb_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0)
		return eb_err_sys(err, EB_EIO, errno, "cannot open folder %s", dir);
	if (fsync(fd) < 0 && errno != EINVAL) /* EINVAL: a file system without folder fsync */
		rc = eb_err_sys(err, EB_EIO, errno, "fsync of folder %s failed", dir);
	close(fd);
	return rc;
}

void
eb_dirname(const char *path, char *out, size_t out_len)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(out, out_len, ".");
	else if (slash == path)
		snprintf(out, out_len, "/");
	else
		snprintf(out, out_len, "%.*s", (int)(slash - path), path);
}

int
eb_write_all(int fd, const void *buf, size_t len, const char *what,
             eb_err *err)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return eb_err_sys(err, EB_EIO, errno, "write to %s failed", what);
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
eb_write_file_atomic(const char *path, const void *buf, size_t len,
                     int flags, eb_err *err)
{
	int no_replace = flags & EB_WRITE_NO_REPLACE;
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, rc;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	eb_dirname(path, dir, sizeof dir);
	/* hidden, and named as file_sink's: one pattern for debris (prune) */
	if (snprintf(tmp, sizeof tmp, "%s/.%s.part.XXXXXX", dir, base) >= (int)sizeof tmp)
		return eb_err_set(err, EB_EINVAL, "path too long: %s", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return eb_err_sys(err, EB_EIO, errno, "cannot create a temp file beside %s", path);
	rc = eb_write_all(fd, buf, len, tmp, err);
	/* mkstemp makes 0600; a file others read (metrics for node_exporter)
	 * gets 0644 whatever the umask */
	if (rc == 0 && (flags & EB_WRITE_PUBLIC) && fchmod(fd, 0644) < 0)
		rc = eb_err_sys(err, EB_EIO, errno, "chmod of %s failed", tmp);
	if (rc == 0 && fsync(fd) < 0)
		rc = eb_err_sys(err, EB_EIO, errno, "fsync of %s failed", tmp);
	if (close(fd) < 0 && rc == 0)
		rc = eb_err_sys(err, EB_EIO, errno, "close of %s failed", tmp);
	if (rc == 0) {
		if (no_replace) {
			/* link() fails if the name exists: no race with another writer */
			if (link(tmp, path) < 0)
				rc = errno == EEXIST
				         ? eb_err_set(err, EB_EEXIST, "%s already exists", path)
				         : eb_err_sys(err, EB_EIO, errno, "cannot create %s", path);
			unlink(tmp);
		} else if (rename(tmp, path) < 0) {
			rc = eb_err_sys(err, EB_EIO, errno, "cannot rename %s to %s", tmp, path);
		}
	}
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return eb_fsync_dir(dir, err);
}

int
eb_read_file(const char *path, size_t max, char **out, size_t *len, eb_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *b = NULL;
	size_t n = 0;
	int rc = 0;
	if (fd < 0)
		return eb_err_sys(err, EB_EINVAL, errno, "cannot open %s", path);
	if (!(b = malloc(max + 2)))
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	while (rc == 0 && n <= max) {
		ssize_t r = read(fd, b + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = eb_err_sys(err, EB_EINVAL, errno, "cannot read %s", path);
		else if (r == 0)
			break;
		else
			n += (size_t)r;
	}
	close(fd);
	if (rc == 0 && n > max)
		rc = eb_err_set(err, EB_EINVAL, "%s is larger than %zu bytes: not the file expected",
		                path, max);
	if (rc < 0) {
		if (b)
			eb_wipe(b, max + 2);
		free(b);
		return rc;
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}

int
eb_each_line(const char *path, size_t max, int (*fn)(void *ctx, const char *line, eb_err *err),
             void *ctx, size_t *nlines, eb_err *err)
{
	char *text = NULL, *line, *next;
	size_t len = 0, lineno = 0;
	int rc = eb_read_file(path, max, &text, &len, err);
	*nlines = 0;
	if (rc < 0)
		return rc;
	/* a UTF-8 byte-order mark (editors on some systems write one) */
	line = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? text + 3 : text;
	for (; rc == 0 && line && *line; line = next) {
		char *e;
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		e = line + strlen(line);
		while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (!*line || *line == '#')
			continue;
		(*nlines)++;
		{
			eb_err e1;
			eb_err_init(&e1);
			if ((rc = fn(ctx, line, &e1)) < 0)
				eb_err_set(err, rc, "%s line %zu: %s", path, lineno, e1.msg);
		}
	}
	eb_wipe(text, len);
	free(text);
	return rc;
}
