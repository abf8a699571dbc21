/* storage/digest.h - hashing stages.
 *
 * sha256 stage: forwards every byte unchanged and hashes it; the digest is
 * readable after a successful finish.  Used for the stored-object digest and
 * for the whole-snapshot digest in the manifest.
 *
 * etcd trailer stage: etcd's Maintenance.Snapshot stream ends with 32 bytes
 * that are the sha256 of every byte before them (the bbolt database).  The
 * stage forwards everything (trailer included: the stored file must equal
 * what `etcdctl snapshot save` writes) and, at finish, BEFORE finishing the
 * next stage, checks that the stream is at least 33 bytes long and that the
 * last 32 bytes equal the sha256 of the rest.  A mismatch or a short stream
 * fails finish with EB_ECORRUPT, so the sink never commits.  It holds back
 * the last 32 bytes it has seen in a small ring; memory is constant.
 */
#ifndef EB_DIGEST_H
#define EB_DIGEST_H

#include <stdint.h>

#include "common/crypto.h"
#include "common/stream.h"

int eb_sha256_stage_new(eb_stream **out, eb_stream *next, eb_err *err);
/* Valid after a successful eb_stream_finish(s). */
void eb_sha256_stage_digest(eb_stream *s, uint8_t out[EB_SHA256_LEN]);
/* Makes finish fail with EB_ECORRUPT, before finishing next, unless the
 * digest equals `want` and exactly `want_len` bytes went through; a write
 * past want_len fails at once.  `what` names the data in the message
 * ("stored object x"); copied. */
void eb_sha256_stage_expect(eb_stream *s, const uint8_t want[EB_SHA256_LEN],
                            uint64_t want_len, const char *what);

int eb_trailer_stage_new(eb_stream **out, eb_stream *next, eb_err *err);
/* After a successful finish: bytes of database (trailer excluded) and its
 * sha256 (equal to the trailer). */
uint64_t eb_trailer_stage_db_size(eb_stream *s);
void eb_trailer_stage_db_digest(eb_stream *s, uint8_t out[EB_SHA256_LEN]);
/* ... and the sha256 of everything (database + trailer): the digest of the
 * file `etcdctl snapshot save` writes.  Same single hashing pass. */
void eb_trailer_stage_file_digest(eb_stream *s, uint8_t out[EB_SHA256_LEN]);
/* Makes finish also fail with EB_ECORRUPT, before finishing next, unless
 * the whole stream (database + trailer) is `want_len` bytes with sha256
 * `want` and the database hashes to `want_db` (a manifest's snapshot_size,
 * snapshot_sha256 and db_sha256).  A write that would carry the stream past
 * want_len fails at once, so no more than want_len bytes ever reach next.
 * `what` names the data in the message; copied. */
void eb_trailer_stage_expect(eb_stream *s, const uint8_t want[EB_SHA256_LEN],
                             const uint8_t want_db[EB_SHA256_LEN], uint64_t want_len,
                             const char *what);

/* A pass-through stage holding a stream to exactly want_len bytes (a
 * manifest's snapshot_size, when nothing hashes it again): a write past it
 * fails at once, finish fails (before finishing next) when it is short;
 * EB_ECORRUPT naming `what` (copied). */
int eb_size_stage_new(eb_stream **out, uint64_t want_len, const char *what, eb_stream *next, eb_err *err);

#endif
