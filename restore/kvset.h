/* restore/kvset.h - the keys of a view (restore/view.h) at its point, in key
 * order, as `etcdctl get --prefix --rev R` would return them.
 *
 * Fed the view's records in any order, it keeps per user key the latest
 * record (a delete drops the key at the end).  Memory: the matching
 * keys' bytes and ~80 bytes each; values are not held: with values on,
 * each put's value is appended to an unlinked spool file in the temp dir
 * and read back by offset. */
#ifndef EB_RESTORE_KVSET_H
#define EB_RESTORE_KVSET_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"
#include "restore/view.h"

typedef struct eb_kvent {
	uint64_t koff;                  /* in the key arena */
	uint32_t klen;
	uint8_t deleted;
	int64_t create_rev, mod_rev, version, lease;
	uint64_t vsize;
	uint64_t voff;                  /* in the spool (values on) */
	uint64_t vhash;                 /* a 64-bit digest of the value (hash_values) */
} eb_kvent;

typedef struct eb_kvset_opts {
	const uint8_t *key;             /* with prefix: keys starting with it; */
	size_t key_len;                 /* else this key only (NULL: every key) */
	int prefix;
	int values;                     /* keep values (spooled) for eb_kvset_value */
	int hash_values;                /* fill vhash (diff) */
	const char *spool_dir;          /* where the spool goes (values on) */
} eb_kvset_opts;

typedef struct eb_kvset {
	eb_kvset_opts o;
	eb_wbuf keys;                   /* key bytes */
	eb_kvent *v;                    /* after eb_kvset_finish: live keys, sorted */
	size_t n, cap;
	size_t *slot;                   /* hash index: entry + 1, 0 empty */
	size_t nslot;
	int spool;                      /* fd, -1 none */
	uint64_t spool_len;
	eb_wbuf wbuf;                   /* the spool's unwritten tail */
	uint64_t records;               /* records seen */
} eb_kvset;

int eb_kvset_init(eb_kvset *s, const eb_kvset_opts *o, eb_err *err);
/* One record of revision rev, decoded (tomb: a delete; f carries the key
 * only).  In any order: a key keeps its record of the highest revision. */
int eb_kvset_put(eb_kvset *s, const eb_kv_fields *f, int64_t rev, int tomb, eb_err *err);
/* An eb_view_fn: ctx is the eb_kvset. */
int eb_kvset_add(void *ctx, const eb_view_rec *r, eb_err *err);
/* Drops deleted keys and sorts by key. */
int eb_kvset_finish(eb_kvset *s, eb_err *err);
static inline const uint8_t *eb_kvset_key(const eb_kvset *s, const eb_kvent *e)
{ return s->keys.p + e->koff; }
/* The value of e into out (reset first): values must be on. */
int eb_kvset_value(const eb_kvset *s, const eb_kvent *e, eb_wbuf *out, eb_err *err);
/* The entry of key, or NULL (after eb_kvset_finish). */
const eb_kvent *eb_kvset_find(const eb_kvset *s, const uint8_t *key, size_t len);
void eb_kvset_dispose(eb_kvset *s);

#endif
