/* restore/snapshot.c - see snapshot.h. */
#include "restore/snapshot.h"

#include "common/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20)


int
eb_snapshot_open(eb_snapshot *s, const char *path, eb_err *err)
{
	struct stat st;
	memset(s, 0, sizeof *s);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return eb_err_sys(err, errno == ENOENT ? EB_ENOTFOUND : EB_EIO, errno, "open snapshot %s", path);
	if (fstat(s->fd, &st) || !S_ISREG(st.st_mode)) {
		eb_snapshot_close(s);
		return eb_err_set(err, EB_EINVAL, "snapshot %s is not a regular file", path);
	}
	s->file_size = (uint64_t)st.st_size;
	if (s->file_size < 32) {
		eb_snapshot_close(s);
		return eb_err_set(err, EB_ECORRUPT, "snapshot %s has only %llu bytes: truncated or not a snapshot", path, (unsigned long long)s->file_size);
	}
	s->has_trailer = s->file_size % 512 == 32;
	s->db_size = s->file_size - (s->has_trailer ? 32 : 0);
	if (s->has_trailer) {
		ssize_t r = pread(s->fd, s->want, 32, (off_t)s->db_size);
		if (r != 32) {
			eb_snapshot_close(s);
			return eb_err_sys(err, EB_EIO, r < 0 ? errno : EIO, "read sha256 trailer of %s", path);
		}
	}
	return 0;
}

int
eb_snapshot_verify(eb_snapshot *s, int skip, eb_err *err)
{
	if (skip)
		return 0;
	if (!s->has_trailer)
		return eb_err_set(err, EB_ECORRUPT,
		    "snapshot has no sha256 trailer (size %llu, size %% 512 != 32): it is truncated or not a file from `etcdctl snapshot save`; "
		    "for a member/snap/db copied from a data directory pass --skip-hash-check",
		    (unsigned long long)s->file_size);
	eb_sha256 *h;
	int rc = eb_sha256_new(&h, err);
	if (rc)
		return rc;
	uint8_t *buf = malloc(CHUNK);
	if (!buf) {
		eb_sha256_free(h);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	uint64_t off = 0;
	while (off < s->db_size) {
		if ((rc = eb_interrupt_check(err, "checking the snapshot's sha256")) < 0)
			break;
		size_t want = s->db_size - off < CHUNK ? (size_t)(s->db_size - off) : CHUNK;
		ssize_t r = pread(s->fd, buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = eb_err_sys(err, EB_EIO, r < 0 ? errno : EIO, "read snapshot");
			break;
		}
		eb_sha256_update(h, buf, (size_t)r);
		off += (uint64_t)r;
	}
	free(buf);
	if (!rc) {
		eb_sha256_final(h, s->got);
		if (memcmp(s->got, s->want, 32)) {
			char a[65], b[65];
			eb_hex(s->want, 32, a);
			eb_hex(s->got, 32, b);
			rc = eb_err_set(err, EB_ECORRUPT,
			    "snapshot hash mismatch: trailer says sha256 %s, content has %s; the snapshot is corrupt or truncated, use another backup",
			    a, b);
		}
	}
	eb_sha256_free(h);
	return rc;
}

void
eb_snapshot_close(eb_snapshot *s)
{
	if (s->fd > 0)
		close(s->fd);
	s->fd = -1;
}
