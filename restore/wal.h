/* restore/wal.h - etcd write-ahead log records (docs/formats/wal.md): the writer used
 * by restore and a strict reader used by tests, inspect and fuzzing. */
#ifndef EB_RESTORE_WAL_H
#define EB_RESTORE_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "restore/bytes.h"
#include "restore/members.h"

#define EB_WAL_METADATA 1
#define EB_WAL_ENTRY 2
#define EB_WAL_STATE 3
#define EB_WAL_CRC 4
#define EB_WAL_SNAPSHOT 5
#define EB_WAL_SEGMENT_BYTES 64000000u

/* Appends the complete WAL of a fresh restore to out (docs/formats/wal.md): CRC,
 * metadata {local id, cluster id}, empty snapshot, one ConfChange AddNode
 * entry per member (ascending id, context = member JSON), HardState
 * {term 1, vote smallest id, commit N}, snapshot {N, 1, ConfState voters}
 * (ConfState omitted when with_confstate is 0: the 3.4-exact form). */
int eb_wal_build(eb_wbuf *out, const eb_membership *c, size_t local,
                 int with_confstate, eb_err *err);

/* What a strict read of a WAL segment found. */
typedef struct eb_wal_info {
	uint64_t node_id, cluster_id;
	uint64_t hs_term, hs_vote, hs_commit;
	uint64_t snap_index, snap_term; /* last snapshot record */
	size_t snap_voters;             /* voters in its ConfState */
	size_t entries;
	uint64_t last_index;
	size_t records;
	size_t end; /* offset after the last record */
} eb_wal_info;

/* Decodes records from buf until a zero length field or the end; checks
 * framing, padding, the CRC chain, record types and the messages' fields.
 * EB_ECORRUPT with the offset on any problem. */
int eb_wal_read(const uint8_t *buf, size_t len, eb_wal_info *info, eb_err *err);

#endif
