/* restore/cplay.h - lays a control-plane bundle (storage/cpbundle.h) down
 * on a node: the files of the bundle's root folder under dir, the others
 * (named by the static pod manifests) at their own path under rootfs.
 *
 *   plan:    each target: missing -> write; same bytes, mode and owner ->
 *            keep; different -> refused (EB_EEXIST naming it) unless
 *            overwrite; not a regular file -> refused
 *   stage:   every file written beside its target as a temp file (mode,
 *            owner, fsync); any failure removes every temp file
 *   commit:  renames, then fsync of each folder
 *
 * So a refused or failed run changes nothing, and a finished one leaves
 * every file at once (within the renames). */
#ifndef EB_RESTORE_CPLAY_H
#define EB_RESTORE_CPLAY_H

#include <stddef.h>

#include "common/err.h"
#include "crypt/keys.h"
#include "storage/cpbundle.h"
#include "storage/cpman.h"
#include "storage/manifest.h"
#include "storage/store.h"

typedef struct eb_cp_lay_opts {
	const char *dir;     /* the bundle's root goes here (e.g. /etc/kubernetes) */
	const char *rootfs;  /* the other files go under this ("" or NULL: /) */
	int overwrite;       /* replace files that differ */
	int plan_only;       /* check every target, write nothing */
} eb_cp_lay_opts;

typedef struct eb_cp_lay_result {
	size_t written, kept, replaced;
	int owners_kept;     /* not root: files are owned by us, not as recorded */
} eb_cp_lay_result;

int eb_cp_lay_down(const eb_cp_manifest *cp, char *const *data, const eb_cp_lay_opts *o,
                   eb_cp_lay_result *res, eb_err *err);

/* etcd-restore --control-plane's first step: backup id's manifest from the
 * store at url, and its bundle fetched and checked (nothing written). */
int eb_cp_fetch_backup(const char *url, const eb_store_opts *so, const char *id,
                       const eb_read_keys *k, eb_manifest *m, eb_cp_data *d, eb_err *err);

/* Where cp's file f goes under o (out: PATH_MAX). */
int eb_cp_target(const eb_cp_manifest *cp, const eb_cp_file *f, const eb_cp_lay_opts *o, char *out,
                 size_t cap, eb_err *err);

#endif
