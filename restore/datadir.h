/* restore/datadir.h - filesystem steps of a safe restore: refuse non-empty
 * targets, build in a temp dir beside the target, fsync, rename into place,
 * remove everything on failure. */
#ifndef EB_RESTORE_DATADIR_H
#define EB_RESTORE_DATADIR_H

#include <stddef.h>

#include "common/err.h"

/* 0 if path does not exist or is an empty directory; EB_EEXIST otherwise. */
int eb_dir_check_free(const char *path, const char *flag, eb_err *err);
/* mkdtemp "<dir of target>/.<base of target>.restore-XXXXXX" into out, or
 * "<target>/.etcd-restore-XXXXXX" when target is an existing (empty)
 * directory: often a mount point of its own, whose filesystem the bytes
 * must land on (a rename cannot cross filesystems, nor replace a mount
 * point).  eb_dir_check_free removes such a staging dir a killed run left. */
int eb_dir_make_temp(const char *target, char *out, size_t outlen, eb_err *err);
/* Writes a whole file (O_EXCL) with mode, fsyncs it. */
int eb_file_write(const char *path, int mode, const void *buf, size_t len,
                  eb_err *err);
/* fsync every directory in the tree (files are fsynced when written). */
int eb_tree_fsync_dirs(const char *root, eb_err *err);
/* Renames from onto to (to absent or an empty dir), fsyncs to's parent; a
 * staging dir inside to: its entries renamed into to, fsyncs to. */
int eb_dir_commit(const char *from, const char *to, eb_err *err);
/* rm -rf; best effort, silent. */
void eb_dir_remove(const char *path);
/* A new temp dir TMP/PREFIX.XXXXXX (tmp NULL: /tmp) into out, owned by
 * this process (its pid in owner.pid).  First removes the PREFIX.* dirs
 * whose owner died without cleaning up (kill -9, a lost node). */
int eb_temp_dir(const char *tmp, const char *prefix, char *out, size_t outlen, eb_err *err);

#endif
