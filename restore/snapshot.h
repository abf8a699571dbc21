/* restore/snapshot.h - a snapshot file as `etcdctl snapshot save` writes it:
 * the bbolt image, optionally followed by a 32-byte SHA-256 of the image
 * (present iff size % 512 == 32, docs/formats/snapshot.md). */
#ifndef EB_RESTORE_SNAPSHOT_H
#define EB_RESTORE_SNAPSHOT_H

#include <signal.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/err.h"

typedef struct eb_snapshot {
	int fd;
	uint64_t file_size;
	uint64_t db_size;  /* file_size minus the trailer */
	int has_trailer;
	uint8_t want[EB_SHA256_LEN]; /* the trailer, when present */
	uint8_t got[EB_SHA256_LEN];  /* computed by eb_snapshot_verify */
} eb_snapshot;

int eb_snapshot_open(eb_snapshot *s, const char *path, eb_err *err);
/* Reads the image once sequentially and compares its SHA-256 with the
 * trailer.  Without a trailer: an error unless skip_hash_check (then 0).
 * With skip_hash_check nothing is read. */
int eb_snapshot_verify(eb_snapshot *s, int skip_hash_check, eb_err *err);
void eb_snapshot_close(eb_snapshot *s);

#endif
