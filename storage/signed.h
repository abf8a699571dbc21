/* storage/signed.h - small objects with an SSHSIG beside them: `<name>` and
 * `<name>.sig`, the signature (namespace etcd-backup) over its exact bytes.
 * Manifests of backups and of segments are written and read through it.
 */
#ifndef EB_STORAGE_SIGNED_H
#define EB_STORAGE_SIGNED_H

#include <stddef.h>

#include "common/err.h"
#include "crypt/sshsig.h"
#include "storage/store.h"

/* A small object and, with trusted keys, its SSHSIG `<name>.sig` checked
 * over its exact bytes (EB_EAUTH unsigned or untrusted, EB_ECORRUPT a
 * signature that does not verify; fp gets the signer, EB_SSH_FP_MAX, may be
 * NULL).  Manifests of backups and of segments are read through it. */
int eb_store_get_signed(eb_store *st, const char *name, size_t max, const eb_ssh_keys *trusted,
                        char **text, size_t *len, char *fp, eb_err *err);
/* Writes `<name>.sig`, the SSHSIG (namespace etcd-backup) of text. */
int eb_store_put_signature(eb_store *st, const eb_ssh_signer *s, const char *name, const char *text,
                           eb_err *err);

/* The commit of a backup or a segment whose object is stored: with a
 * signer, `<name>.sig` first (a signed manifest never exists unsigned), then
 * the manifest `name` itself, the COMMIT POINT.  On failure it removes what
 * it wrote and `object` (may be NULL): nothing half-committed is left. */
int eb_store_commit_signed(eb_store *st, const char *name, const char *text, const eb_ssh_signer *signer,
                           const char *object, eb_err *err);

#endif
