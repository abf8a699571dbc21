/* restore/wal.h - etcd write-ahead log records (docs/formats/wal.md): the writer used
 * by restore and a strict reader used by tests, inspect and fuzzing. */
#ifndef EB_RESTORE_WAL_H
#define EB_RESTORE_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/bytes.h"
#include "restore/members.h"

#define EB_WAL_METADATA 1
#define EB_WAL_ENTRY 2
#define EB_WAL_STATE 3
#define EB_WAL_CRC 4
#define EB_WAL_SNAPSHOT 5
#define EB_WAL_SEGMENT_BYTES 64000000u

/* How the etcd a restore is for encodes the raft records: the meaning is
 * the same, the bytes are those of that version's etcdutl (measured in
 * tests/it/t_restore_member.sh; docs/formats/wal.md). */
typedef struct eb_raft_form {
	int wal_confstate; /* the final WAL snapshot carries ConfState (3.5+) */
	int zero_fields;   /* gogo protobuf (<= 3.6) writes ConfChange.ID 0 and
	                    * ConfState.auto_leave false; google protobuf
	                    * (3.7) leaves zero values out */
	int v2_gets_fail;  /* the .snap's v2 stats: etcdutl 3.6+ count one
	                    * failed get */
} eb_raft_form;

/* The form for etcd 3.<minor>; minor 0 = the default form, which every
 * supported version boots (3.5's). */
void eb_raft_form_for(int minor, eb_raft_form *f);

/* Appends the complete WAL of a fresh restore to out (docs/formats/wal.md): CRC,
 * metadata {local id, cluster id}, empty snapshot, one ConfChange AddNode
 * entry per member (ascending id, context = member JSON), HardState
 * {term 1, vote smallest id, commit N}, snapshot {N, 1, ConfState voters}
 * (without ConfState in the 3.4 form). */
int eb_wal_build(eb_wbuf *out, const eb_membership *c, size_t local,
                 const eb_raft_form *form, eb_err *err);
/* raftpb.ConfState {voters, auto_leave} of the members, in form's encoding. */
void eb_confstate(eb_wbuf *b, const eb_membership *c, const eb_raft_form *form);

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
