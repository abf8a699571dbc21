/* common/fsutil.h - durable local file operations.
 *
 * Durability rule (as Redis rdbSave and libgit2 filebuf): write a temp file
 * in the target's folder, fsync it, rename it over the target, fsync the
 * folder.  Until the rename nothing is visible under the final name. */
#ifndef EB_FSUTIL_H
#define EB_FSUTIL_H

#include <stddef.h>

#include "common/err.h"

/* mkdir -p with mode 0700 for created folders (backups hold secrets). */
int eb_mkdir_p(const char *path, eb_err *err);
int eb_fsync_dir(const char *dir, eb_err *err);
/* The folder part of path ("." when none) into out. */
void eb_dirname(const char *path, char *out, size_t out_len);
/* Writes buf to path atomically (temp + fsync + rename + fsync dir), mode
 * 0600.  flags: EB_WRITE_NO_REPLACE fails with EB_EEXIST if path already
 * exists; EB_WRITE_PUBLIC makes it 0644 (read by another user). */
enum { EB_WRITE_NO_REPLACE = 1, EB_WRITE_PUBLIC = 2 };
int eb_write_file_atomic(const char *path, const void *buf, size_t len,
                         int flags, eb_err *err);
/* Reads a small file (a key, a token, a PEM) whole into *out (malloc'd,
 * NUL-terminated, *len bytes).  A file larger than max is refused, never
 * cut.  The caller wipes secrets before freeing.  EB_EINVAL (the file is
 * configuration) naming path and errno. */
int eb_read_file(const char *path, size_t max, char **out, size_t *len,
                 eb_err *err);
/* Calls fn on each line of the small file path (at most max bytes) that is
 * not blank or a '#' comment, with surrounding blanks and a CR trimmed.  A
 * failing fn stops the walk; its message is given as "PATH line N: why".  *nlines: the lines given to fn.  The file's bytes are wiped
 * afterwards (key files).  */
int eb_each_line(const char *path, size_t max,
                 int (*fn)(void *ctx, const char *line, eb_err *err), void *ctx,
                 size_t *nlines, eb_err *err);
/* Full write(2) loop. */
int eb_write_all(int fd, const void *buf, size_t len, const char *what,
                 eb_err *err);

#endif
