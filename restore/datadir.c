/* restore/datadir.c - see datadir.h. */
#include "restore/datadir.h"

#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
eb_dir_check_free(const char *path, const char *flag, eb_err *err)
{
	struct stat st;
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		return eb_err_sys(err, EB_EIO, errno, "%s %s", flag, path);
	}
	if (!S_ISDIR(st.st_mode))
		return eb_err_set(err, EB_EEXIST, "%s %s exists and is not a directory; choose a new path", flag, path);
	DIR *d = opendir(path);
	if (!d)
		return eb_err_sys(err, EB_EIO, errno, "%s %s", flag, path);
	struct dirent *e;
	int empty = 1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	if (!empty)
		return eb_err_set(err, EB_EEXIST,
		    "%s %s exists and is not empty; restore never overwrites data: pick a new directory or move the old one away", flag, path);
	return 0;
}

static void
split(const char *path, char *dir, char *base, size_t len)
{
	char a[4096], b[4096];
	snprintf(a, sizeof a, "%s", path);
	snprintf(b, sizeof b, "%s", path);
	/* strip trailing slashes so basename gives the last component */
	for (size_t n = strlen(a); n > 1 && a[n - 1] == '/'; n--) { a[n - 1] = 0; b[n - 1] = 0; }
	snprintf(dir, len, "%s", dirname(a));
	snprintf(base, len, "%s", basename(b));
}

int
eb_dir_make_temp(const char *target, char *out, size_t outlen, eb_err *err)
{
	char dir[4096], base[4096];
	split(target, dir, base, sizeof dir);
	struct stat st;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return eb_err_set(err, EB_EINVAL, "parent directory %s of %s does not exist; create it first", dir, target);
	if ((size_t)snprintf(out, outlen, "%s/.%s.restore-XXXXXX", dir, base) >= outlen)
		return eb_err_set(err, EB_EINVAL, "path %s too long", target);
	if (!mkdtemp(out))
		return eb_err_sys(err, EB_EIO, errno, "create temp dir beside %s", target);
	return 0;
}

int
eb_file_write(const char *path, int mode, const void *buf, size_t len, eb_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int rc;
	if (fd < 0)
		return eb_err_sys(err, EB_EIO, errno, "create %s", path);
	rc = eb_write_all(fd, buf, len, path, err);
	if (rc == 0 && fsync(fd))
		rc = eb_err_sys(err, EB_EIO, errno, "fsync %s", path);
	if (close(fd) && rc == 0)
		rc = eb_err_sys(err, EB_EIO, errno, "close %s", path);
	return rc;
}

static int fsync_failed;
static int
fsync_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)f;
	if (flag == FTW_DP || flag == FTW_D) {
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fsync(fd))
			fsync_failed = 1;
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

int
eb_tree_fsync_dirs(const char *root, eb_err *err)
{
	fsync_failed = 0;
	if (nftw(root, fsync_cb, 16, FTW_PHYS | FTW_DEPTH) || fsync_failed)
		return eb_err_sys(err, EB_EIO, errno, "fsync directories under %s", root);
	return 0;
}

int
eb_dir_commit(const char *from, const char *to, eb_err *err)
{
	struct stat st;
	if (!lstat(to, &st) && S_ISDIR(st.st_mode))
		rmdir(to); /* checked empty earlier; rename needs it absent or empty */
	if (rename(from, to))
		return eb_err_sys(err, EB_EIO, errno, "rename %s to %s", from, to);
	char dir[4096], base[4096];
	split(to, dir, base, sizeof dir);
	return eb_fsync_dir(dir, err);
}

static int
rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)f;
	if (flag == FTW_DP)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

void
eb_dir_remove(const char *path)
{
	if (path && path[0])
		nftw(path, rm_cb, 16, FTW_PHYS | FTW_DEPTH);
}
