/* restore/datadir.c - see datadir.h. */
#include "restore/datadir.h"

#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The staging dir inside an existing empty target: ".etcd-restore-XXXXXX". */
#define TEMP_IN ".etcd-restore-"

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
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!strncmp(e->d_name, TEMP_IN, strlen(TEMP_IN))) {
			/* the staging dir of a killed restore into this dir */
			char p[4096];
			snprintf(p, sizeof p, "%s/%s", path, e->d_name);
			eb_dir_remove(p);
			continue;
		}
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
	struct stat st;
	split(target, dir, base, sizeof dir);
	/* an existing (empty) target, often a mount point of its own (etcd's
	 * own disk): stage inside it, so the bytes land on its filesystem
	 * and the commit is a rename there */
	if (!lstat(target, &st) && S_ISDIR(st.st_mode)) {
		if ((size_t)snprintf(out, outlen, "%s/" TEMP_IN "XXXXXX", target) >= outlen)
			return eb_err_set(err, EB_EINVAL, "path %s too long", target);
	} else {
		if (stat(dir, &st) || !S_ISDIR(st.st_mode))
			return eb_err_set(err, EB_EINVAL, "parent directory %s of %s does not exist; create it first", dir, target);
		if ((size_t)snprintf(out, outlen, "%s/.%s.restore-XXXXXX", dir, base) >= outlen)
			return eb_err_set(err, EB_EINVAL, "path %s too long", target);
	}
	if (!mkdtemp(out))
		return eb_err_sys(err, EB_EIO, errno, "create temp dir for %s", target);
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

/* from is a staging dir inside to: its entries renamed into to (a data
 * dir holds one, member/), then from removed. */
static int
commit_inside(const char *from, const char *to, eb_err *err)
{
	DIR *d = opendir(from);
	struct dirent *e;
	int rc = 0;
	if (!d)
		return eb_err_sys(err, EB_EIO, errno, "open %s", from);
	while (rc == 0 && (e = readdir(d))) {
		char a[4096], b[4096];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(a, sizeof a, "%s/%s", from, e->d_name);
		snprintf(b, sizeof b, "%s/%s", to, e->d_name);
		if (rename(a, b))
			rc = eb_err_sys(err, EB_EIO, errno, "rename %s to %s", a, b);
	}
	closedir(d);
	if (rc == 0 && rmdir(from))
		rc = eb_err_sys(err, EB_EIO, errno, "remove %s", from);
	return rc == 0 ? eb_fsync_dir(to, err) : rc;
}

int
eb_dir_commit(const char *from, const char *to, eb_err *err)
{
	struct stat st;
	char dir[4096], base[4096];
	split(from, dir, base, sizeof dir);
	if (!strcmp(dir, to) && !strncmp(base, TEMP_IN, strlen(TEMP_IN)))
		return commit_inside(from, to, err);
	if (!lstat(to, &st) && S_ISDIR(st.st_mode))
		rmdir(to); /* checked empty earlier; rename needs it absent or empty */
	if (rename(from, to))
		return eb_err_sys(err, EB_EIO, errno, "rename %s to %s", from, to);
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

/* The PREFIX.* dirs in tmp whose owner died: owner.pid names a process
 * that no longer exists.  A dir without the file (being made), or whose
 * pid lives, is left alone. */
static void
sweep_dead(const char *tmp, const char *prefix)
{
	DIR *dir = opendir(tmp);
	struct dirent *e;
	size_t pl = strlen(prefix);
	while (dir && (e = readdir(dir))) {
		char path[4200], pidf[4300], buf[32] = {0};
		long pid;
		int fd;
		ssize_t n;
		if (strncmp(e->d_name, prefix, pl) || e->d_name[pl] != '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
		snprintf(pidf, sizeof pidf, "%s/owner.pid", path);
		if ((fd = open(pidf, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0 || (pid = strtol(buf, NULL, 10)) <= 1 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		eb_dir_remove(path);
	}
	if (dir)
		closedir(dir);
}

int
eb_temp_dir(const char *tmp, const char *prefix, char *out, size_t outlen, eb_err *err)
{
	char pidf[4400], buf[32];
	int fd, n;
	if (!tmp)
		tmp = "/tmp";
	sweep_dead(tmp, prefix);
	if (snprintf(out, outlen, "%s/%s.XXXXXX", tmp, prefix) >= (int)outlen || !mkdtemp(out)) {
		out[0] = '\0';
		return eb_err_sys(err, EB_EIO, errno, "cannot create a temp dir in %s (set --tmp-dir)", tmp);
	}
	snprintf(pidf, sizeof pidf, "%s/owner.pid", out);
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	fd = open(pidf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, (size_t)n) != n) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		eb_dir_remove(out);
		out[0] = '\0';
		return eb_err_sys(err, EB_EIO, e, "cannot write %s (disk full?)", pidf);
	}
	close(fd);
	return 0;
}
