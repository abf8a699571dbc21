/* crypt/keys.h - the key flags both binaries share, loaded once at flag
 * parsing (the files are read then, so a wrong path fails before anything
 * is attempted):
 *
 *   --age-recipient age1...     encrypt to (repeatable; public keys only)
 *   --age-recipients-file FILE  recipients, one per line (as age -R)
 *   --sign-key FILE             OpenSSH ed25519 private key: sign manifests
 *   --age-identity FILE         decrypt with (repeatable; age-keygen files)
 *   --age-passphrase-file FILE  decrypt files `age -p` wrote
 *   --trusted-keys FILE         demand a signature by one of these keys
 */
#ifndef EB_KEYS_H
#define EB_KEYS_H

#include <stdint.h>

#include "crypt/age.h"
#include "crypt/sshsig.h"

/* What a reader brings: identities to decrypt, and the keys whose
 * signatures it trusts.  NULL (or NULL members): none. */
typedef struct eb_read_keys {
	const eb_age_identities *age;
	const eb_ssh_keys *trusted; /* given: every backup must be signed by one */
	uint64_t cluster_id;        /* non-zero (--cluster-id): backups of this cluster only */
} eb_read_keys;
int eb_read_keys_can_decrypt(const eb_read_keys *k);

typedef struct eb_keys {
	eb_age_recipients rcpt;
	eb_age_identities ids;
	eb_ssh_keys trusted;
	int have_trusted;
	eb_ssh_signer signer;
	int have_signer;
	/* private key files readable by group or others, one line each (as
	 * ssh warns); the binaries log them as warnings */
	char warn[4][320];
	int nwarn;
} eb_keys;

/* Applies flag `name` (without "--"): 0 done, 1 not a key flag, or
 * EB_EINVAL with the reason (a usage error). */
int eb_keys_flag(eb_keys *k, const char *name, const char *arg, eb_err *err);
/* After the flags: ETCD_BACKUP_AGE_IDENTITY and ETCD_BACKUP_TRUSTED_KEYS
 * (file paths) stand in for --age-identity and --trusted-keys when those
 * were not given (a flag always beats its variable); trust_only: only the
 * latter.  0 or EB_EINVAL. */
int eb_keys_read_env(eb_keys *k, int trust_only, eb_err *err);
/* What a reader passes to the catalog. */
eb_read_keys eb_keys_read(const eb_keys *k);
/* Wipes the secrets. */
void eb_keys_dispose(eb_keys *k);

#endif
