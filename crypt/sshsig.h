/* crypt/sshsig.h - OpenSSH ed25519 keys and SSHSIG signatures, so that
 * `ssh-keygen -Y verify` checks what we sign and `ssh-keygen -t ed25519`
 * makes the keys.  Layouts at the top of sshsig.c and in
 * docs/formats/signatures.md. */
#ifndef EB_SSHSIG_H
#define EB_SSHSIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define EB_SSHSIG_NAMESPACE "etcd-backup"
#define EB_SSH_FP_MAX 64 /* "SHA256:" + 43 base64 characters */

typedef struct eb_ssh_signer {
	uint8_t seed[32], pub[32]; /* seed is secret: wiped by dispose */
	char fp[EB_SSH_FP_MAX];
} eb_ssh_signer;

typedef struct eb_ssh_key {
	uint8_t pub[32];
	char fp[EB_SSH_FP_MAX];
	char comment[128];
} eb_ssh_key;

typedef struct eb_ssh_keys {
	eb_ssh_key *v;
	size_t n;
} eb_ssh_keys;

/* An unencrypted OpenSSH ed25519 private key file (ssh-keygen -t ed25519
 * -N "").  An encrypted one is refused, naming `ssh-keygen -p`. */
int eb_ssh_signer_load(eb_ssh_signer *s, const char *path, eb_err *err);
int eb_ssh_signer_parse(eb_ssh_signer *s, const char *text, size_t len, eb_err *err);
void eb_ssh_signer_dispose(eb_ssh_signer *s);

/* Trusted public keys: one per line, as authorized_keys or id_ed25519.pub
 * ("ssh-ed25519 AAAA... comment") or allowed_signers ("principals
 * ssh-ed25519 AAAA..."); blank lines and '#' comments ignored.  Other key
 * types are refused by name. */
int eb_ssh_keys_load(eb_ssh_keys *k, const char *path, eb_err *err);
int eb_ssh_keys_add_line(eb_ssh_keys *k, const char *line, eb_err *err);
/* Trusts the public half of signer s (a run that signs trusts itself). */
int eb_ssh_keys_add_signer(eb_ssh_keys *k, const eb_ssh_signer *s, eb_err *err);
void eb_ssh_keys_dispose(eb_ssh_keys *k);

/* The armoured SSHSIG ("-----BEGIN SSH SIGNATURE-----") of msg in
 * namespace ns, hashed with SHA-512: malloc'd text in *out. */
int eb_sshsig_sign(const eb_ssh_signer *s, const char *ns, const void *msg,
                   size_t len, char **out, eb_err *err);

/* Checks an armoured SSHSIG of msg in namespace ns against the trusted
 * keys.  0 with the signer's fingerprint in fp_out (EB_SSH_FP_MAX, may be
 * NULL); EB_EAUTH when the signer is not trusted (fp_out still names it);
 * EB_ECORRUPT when the signature is malformed, of another namespace, or
 * does not verify. */
int eb_sshsig_verify(const char *sig, size_t sig_len, const char *ns,
                     const void *msg, size_t len, const eb_ssh_keys *trusted,
                     char *fp_out, eb_err *err);

#endif
