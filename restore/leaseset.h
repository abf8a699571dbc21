/* restore/leaseset.h - the leases the keys name at the restored revision.
 *
 * A point-in-time restore writes the full backup's lease bucket and the
 * leases the segments recorded; a lease revoked (or expired) after the full
 * backup and before the point would come back with them.  The key bucket,
 * snapshot and replayed events alike, goes through here in revision order:
 * per key, the lease its newest version names (none for a tombstone or a
 * version without one).  Once sealed, only leases a live key names are
 * kept.  Memory: one entry per key that ever named a lease (16 bytes of
 * fingerprint + 8 of lease), not per key. */
#ifndef EB_RESTORE_LEASESET_H
#define EB_RESTORE_LEASESET_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct eb_leaseset {
	struct eb_leaseset_slot *slots; /* open addressing, power of two */
	size_t cap, used;
	int64_t *ids;                   /* sealed: the named leases, sorted */
	size_t nids;
} eb_leaseset;

/* One version of a key, as the key bucket holds it: the mvccpb.KeyValue
 * bytes, tombstone when the revision key ends in 't'.  EB_ECORRUPT when the
 * value does not parse, EB_ENOMEM. */
int eb_leaseset_version(eb_leaseset *s, const uint8_t *kv, size_t kvl, int tombstone, eb_err *err);
/* After the key bucket: the set of named leases. */
int eb_leaseset_seal(eb_leaseset *s, eb_err *err);
/* 1 when a live key names lease id (after seal). */
int eb_leaseset_named(const eb_leaseset *s, int64_t id);
void eb_leaseset_dispose(eb_leaseset *s);

#endif
