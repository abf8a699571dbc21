/* restore/records.h - check a bbolt record the way etcd decodes it at boot.
 *
 * A snapshot whose trailer and bbolt structure are fine can still hold a
 * record that etcd cannot decode when it starts (a key-bucket value that is
 * not a mvccpb.KeyValue, a lease that is not a leasepb.Lease...): etcd
 * then refuses to start, and so does `etcdctl snapshot restore` on some.
 * eb_record_check finds them before a data dir is written; inspect reports
 * them.  Layouts: restore/records.c and docs/formats/records.md. */
#ifndef EB_RESTORE_RECORDS_H
#define EB_RESTORE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* 0, or EB_ECORRUPT naming the bucket, the key and what is wrong.  Records
 * of buckets etcd does not decode at boot are always accepted. */
int eb_record_check(const uint8_t *bucket, size_t bucket_len, const uint8_t *k, size_t kl,
                    const uint8_t *v, size_t vl, eb_err *err);

/* A record's mvccpb.KeyValue, decoded (pointers into the record). */
typedef struct eb_kv_fields {
	const uint8_t *key, *value;
	size_t key_len, value_len;
	int64_t create_rev, mod_rev, version, lease;
	/* the value was not kept (value NULL, value_len its size); value_hash
	 * its eb_hash64 when the reader was asked for it */
	int value_dropped;
	uint64_t value_hash;
} eb_kv_fields;

/* 0, or EB_ECORRUPT when the bytes are not a KeyValue. */
int eb_kv_decode(const uint8_t *kv, size_t len, eb_kv_fields *f, eb_err *err);

#endif
