/* restore/fetch.h - a backup from a store (folder, file://, s3://), or a
 * local file that is age-encrypted and/or zstd-compressed, as a plain
 * snapshot file (db + sha256 trailer, as etcdctl saves it).
 *
 * The catalog streams it with bounded memory: GET -> sha256 of the stored
 * object (against the manifest, signed when trust is asked) -> age decrypt
 * -> zstd decompress (its content checksum) -> file; etcd's trailer,
 * checked when the backup was taken, is not hashed again (verify does).  The bbolt reader needs random access, so the plain
 * snapshot is staged once in `path` (callers put it inside their temp dir
 * on the target's filesystem and delete it afterwards): a scratch copy,
 * not fsynced (what a restore writes from it is).  pr (may be NULL): the
 * bytes so far, of the snapshot (a backup) or of the file read (a local
 * file). */
#ifndef EB_RESTORE_FETCH_H
#define EB_RESTORE_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/progress.h"
#include "storage/catalog.h"
#include "storage/store.h"

/* id: exact backup id or "latest"; id_out receives the id found and
 * *cluster_out (may be NULL) its cluster.  keys (may be NULL): identities
 * to decrypt, trusted signers and the cluster to demand. */
int eb_fetch_backup(const char *store_url, const eb_store_opts *opts,
                    const eb_read_keys *keys, const char *id, const char *path,
                    char *id_out, size_t id_out_len, uint64_t *cluster_out,
                    const eb_progress_cb *pr, eb_err *err);

/* The same, handing out the backup's manifest (m: the caller disposes it,
 * whatever the outcome). */
int eb_fetch_backup_m(const char *url, const eb_store_opts *opts, const eb_read_keys *keys,
                      const char *id, const char *path, eb_manifest *m, const eb_progress_cb *pr,
                      eb_err *err);

/* The backup m (already found, e.g. by restore/pitr.c) from the open store
 * st into the new file `path`, with the same checks. */
int eb_fetch_manifest(eb_store *st, const eb_manifest *m, const eb_read_keys *keys,
                      const char *path, const eb_progress_cb *pr, eb_err *err);

/* 1 when the local file `in` needs decoding first: it starts with an age
 * header ("age-encryption.org/") or a zstd frame; 0 when it is plain;
 * negative when it cannot be read. */
int eb_local_needs_decoding(const char *in, eb_err *err);
/* Decodes `in` (age with keys->age, then zstd when a frame follows) into
 * the new file `path`, which exists only when every check passed (age's
 * tags and final chunk, zstd's frame checksum). */
int eb_decode_local(const char *in, const eb_read_keys *keys, const char *path,
                    const eb_progress_cb *pr, eb_err *err);
/* The same into sink (the caller's: finished when every check passed). */
int eb_decode_local_into(const char *in, const eb_read_keys *keys, eb_stream *sink,
                         const eb_progress_cb *pr, eb_err *err);

#endif
