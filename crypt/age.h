/* crypt/age.h - the age v1 file format (C2SP age): keys, header, STREAM.
 * The layout is drawn at the top of age.c and in docs/formats/age.md.
 *
 * Only public keys are needed to encrypt (`age1...` recipients); decrypting
 * takes an identity (`AGE-SECRET-KEY-1...`, as age-keygen writes it) or, for
 * files that `age -p` wrote, a passphrase.  Secret material is wiped with
 * eb_wipe when disposed. */
#ifndef EB_AGE_H
#define EB_AGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define EB_AGE_MAGIC "age-encryption.org/v1\n"
#define EB_AGE_FILE_KEY_LEN 16
#define EB_AGE_NONCE_LEN 16
#define EB_AGE_CHUNK (64 * 1024)            /* STREAM plaintext chunk */
#define EB_AGE_CHUNK_CT (EB_AGE_CHUNK + 16) /* ... sealed, with its tag */
#define EB_AGE_HEADER_MAX (1024 * 1024)     /* a longer header is refused */
#define EB_AGE_RECIPIENT_MAX 128            /* "age1" + 58 characters, and room */

typedef struct eb_age_recipient {
	uint8_t pk[32];
	char text[EB_AGE_RECIPIENT_MAX]; /* "age1...", canonical lower case */
} eb_age_recipient;

typedef struct eb_age_recipients {
	eb_age_recipient *v;
	size_t n;
} eb_age_recipients;

typedef struct eb_age_identities {
	uint8_t (*sk)[32]; /* X25519 secret keys */
	size_t n;
	char *passphrase;  /* for `age -p` files; NULL when none */
} eb_age_identities;

/* One "age1..." recipient (bech32, HRP "age").  EB_EINVAL naming it. */
int eb_age_recipients_add(eb_age_recipients *r, const char *text, eb_err *err);
/* A recipients file as `age -R` reads it: one recipient per line, blank
 * lines and '#' comments ignored; anything else is refused (ssh-* keys are
 * named as not supported). */
int eb_age_recipients_load(eb_age_recipients *r, const char *path, eb_err *err);
void eb_age_recipients_dispose(eb_age_recipients *r);

/* An identity file as age-keygen writes it (AGE-SECRET-KEY-1 lines, '#'
 * comments).  The file's bytes are wiped after parsing. */
int eb_age_identities_load(eb_age_identities *ids, const char *path, eb_err *err);
int eb_age_identities_add(eb_age_identities *ids, const char *line, eb_err *err);
/* A passphrase file: its first line (without the newline). */
int eb_age_identities_passphrase(eb_age_identities *ids, const char *path, eb_err *err);
void eb_age_identities_dispose(eb_age_identities *ids);

/* "age1..." of an X25519 public key; "AGE-SECRET-KEY-1..." of a secret key
 * (out: EB_AGE_RECIPIENT_MAX bytes).  Used by tests and `keygen`. */
void eb_age_recipient_text(const uint8_t pk[32], char *out);
void eb_age_identity_text(const uint8_t sk[32], char *out);

/* Writes the header for r with file_key into *out (malloc'd, *len). */
int eb_age_header_write(const eb_age_recipients *r,
                        const uint8_t file_key[EB_AGE_FILE_KEY_LEN],
                        uint8_t **out, size_t *len, eb_err *err);

/* Reads the header at the start of p[0..len): 1 when more bytes are needed
 * (no MAC line yet), 0 with the file key unwrapped by one of ids, the MAC
 * checked and *hdr_len = the header's length; negative on a malformed
 * header (EB_ECORRUPT), no matching identity (EB_ECORRUPT, says which
 * recipients the file names) or a wrong MAC (EB_ECORRUPT). */
int eb_age_header_read(const uint8_t *p, size_t len, const eb_age_identities *ids,
                       uint8_t file_key[EB_AGE_FILE_KEY_LEN], size_t *hdr_len,
                       eb_err *err);

/* The STREAM payload key for file_key and the 16-byte nonce after the
 * header. */
int eb_age_payload_key(const uint8_t file_key[EB_AGE_FILE_KEY_LEN],
                       const uint8_t nonce[EB_AGE_NONCE_LEN], uint8_t key[32],
                       eb_err *err);
/* The 12-byte ChaCha20-Poly1305 nonce of chunk `counter`. */
void eb_age_chunk_nonce(uint64_t counter, int last, uint8_t nonce[12]);

/* 1 when p starts like an age file (binary header, any version). */
int eb_age_sniff(const uint8_t *p, size_t len);

#endif
