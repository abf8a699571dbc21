/* restore/snapfile.h - the member/snap/<term>-<index>.snap file: a
 * snappb.Snapshot {crc, raftpb.Snapshot{v2 store JSON, metadata}}
 * (docs/formats/wal.md). */
#ifndef EB_RESTORE_SNAPFILE_H
#define EB_RESTORE_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/bytes.h"
#include "restore/members.h"
#include "restore/wal.h"

/* The v2 store JSON etcd's restore produces (membership only). */
int eb_v2_json(eb_wbuf *out, const eb_membership *c, const eb_raft_form *form, eb_err *err);
/* Whole .snap file contents for term 1, index N. */
int eb_snapfile_build(eb_wbuf *out, const eb_membership *c, const eb_raft_form *form,
                      eb_err *err);

typedef struct eb_snapfile_info {
	uint64_t index, term;
	size_t voters;
	size_t json_len;
} eb_snapfile_info;
/* Strict decode with CRC check. */
int eb_snapfile_read(const uint8_t *buf, size_t len, eb_snapfile_info *info,
                     eb_err *err);

#endif
