/* crypt/age_stage.h - age encryption and decryption as stream stages
 * (common/stream.h), with memory bounded by one 64 KiB STREAM chunk.
 *
 *   encrypt:  plain --> header, nonce, sealed chunks --> next
 *   decrypt:  age file --> header read (identity, MAC) --> chunks opened
 *             one by one --> next
 *
 * Decryption releases a chunk to next only after its Poly1305 tag verified,
 * and which chunk is the last is known only at finish: so a file cut at a
 * chunk boundary, a chunk swapped, dropped or altered, fails write or
 * finish before next is finished (before anything commits). */
#ifndef EB_AGE_STAGE_H
#define EB_AGE_STAGE_H

#include "crypt/age.h"
#include "common/stream.h"

/* r is copied (public keys only). */
int eb_age_encrypt_new(eb_stream **out, const eb_age_recipients *r,
                       eb_stream *next, eb_err *err);
/* ids must outlive the stage (it is read while the header arrives). */
int eb_age_decrypt_new(eb_stream **out, const eb_age_identities *ids,
                       eb_stream *next, eb_err *err);

#endif
