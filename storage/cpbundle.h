/* storage/cpbundle.h - a backup's control-plane bundle read back from its
 * store, checked against the manifest, into memory (it is small: at most
 * 64 MiB, usually some 100 KiB).
 *
 *   store object -> sha256 (stored_sha256) -> [age] -> zstd
 *       -> sha256 (tar_sha256) -> tar reader -> one buffer per file
 *
 * then every member must be a file the manifest lists, with the same size,
 * sha256, mode and owner, and every listed file must be there.  Nothing is
 * written anywhere: laying the files down is restore/cplay.c's job. */
#ifndef EB_STORAGE_CPBUNDLE_H
#define EB_STORAGE_CPBUNDLE_H

#include "common/err.h"
#include "crypt/keys.h"
#include "storage/manifest.h"
#include "storage/store.h"

/* The files' bytes, in the order of m->cp->files (wiped on dispose). */
typedef struct eb_cp_data {
	char **data;
	size_t n;
} eb_cp_data;

/* EB_ENOTFOUND when the backup has no bundle or its object is missing,
 * EB_ECORRUPT naming what differs, EB_EINVAL without the age identity. */
int eb_cp_fetch(eb_store *st, const eb_manifest *m, const eb_read_keys *k, eb_cp_data *out,
                eb_err *err);
void eb_cp_data_dispose(eb_cp_data *d, const eb_manifest *m);

#endif
