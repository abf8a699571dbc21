/* restore/fetch.h - a backup from a store (folder, file://, s3://) as a
 * plain snapshot file (db + sha256 trailer, as etcdctl saves it).
 *
 * The catalog streams it with bounded memory: GET -> sha256 of the stored
 * object -> zstd decompress -> trailer check -> sha256 of the snapshot ->
 * file.  The bbolt reader needs random access, so the plain snapshot is
 * staged once in `path` (callers put it inside their temp dir on the
 * target's filesystem and delete it afterwards). */
#ifndef EB_RESTORE_FETCH_H
#define EB_RESTORE_FETCH_H

#include <stddef.h>

#include "common/err.h"
#include "storage/store.h"

/* id: exact backup id or "latest"; id_out receives the id found. */
int eb_fetch_backup(const char *store_url, const eb_store_opts *opts,
                    const char *id, const char *path,
                    char *id_out, size_t id_out_len, eb_err *err);

#endif
