/* storage/chain.h - continuous backup in a store: a full backup and the
 * segments after it (docs/formats/segment.md, docs/continuous-backup.md).
 *
 * Each segment is two objects, written in this order (the commit rule of
 * a backup):
 *   <base-id>.seg.<first>-<last>.zst[.age]      the segment, compressed
 *   <base-id>.seg.<first>-<last>.segment.json   its manifest: COMMIT POINT
 * A segment exists only once its manifest does.  The chain of a full
 * backup is the run of segments whose revisions follow each other from the
 * full backup's revision on; a missing revision ends it (a gap). */
#ifndef EB_STORAGE_CHAIN_H
#define EB_STORAGE_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypt/keys.h"
#include "storage/manifest.h"
#include "storage/store.h"

/* Reads and parses the segment manifest `name`; with trusted keys its
 * signature must verify (eb_store_get_signed). */
int eb_segman_load(eb_store *st, const char *name, const eb_ssh_keys *trusted, eb_segman *m,
                   eb_err *err);

typedef struct eb_chain {
	eb_segman *v;           /* contiguous from the full backup's revision */
	size_t n;
	int64_t last_rev;       /* the full's revision when n == 0 */
	int64_t gap_after;      /* > 0: a later segment exists past a gap */
} eb_chain;

/* The chain of base_id from segment names only (no manifest is read):
 * its last revision (base_rev when none), how many segments, and the name
 * of the last one (for its manifest: times, HashKV). */
typedef struct eb_chain_span {
	int64_t last_rev;
	size_t n;
	char last_name[256];
	int64_t beyond;         /* > last_rev: a segment of this base ends there, past a hole */
} eb_chain_span;
void eb_chain_scan(const eb_store_list *list, const char *base_id, int64_t base_rev,
                   eb_chain_span *out);

/* The full backup whose chain `etcd-backup replicate` continues, among
 * v[0..n) (catalog order: highest revision first) of cluster cid with
 * ok[i] set (ok NULL: every one): of the fulls replicate made (origin
 * "replicate") and those that have segments, the one whose chain reaches
 * furthest (its last segment's revision, or the full's own).  A tie goes
 * to the higher revision, then the catalog's order: replicate switches to
 * its newer full once the old chain reaches it (--full-interval), so the
 * new full at the old chain's last revision is the live one.  A plain
 * snapshot without segments is not, while any chain exists: the CronJob's
 * snapshot taken beside a running replicate does not take its chain's
 * place.  With no chain and no full of replicate's, the newest full is the
 * one a first replicate continues.  The index, or -1 when there is no full
 * of cid; *span (may be NULL) gets its chain. */
long eb_chain_live(const eb_store_list *names, const eb_manifest *v, size_t n, uint64_t cid,
                   const unsigned char *ok, eb_chain_span *span);

/* The chain of full backup base_id (revision base_rev) from the names in
 * list (eb_store_list_all), reading each manifest; with trusted keys each
 * manifest's signature (<manifest>.sig) must verify (EB_EAUTH otherwise).  Duplicate or
 * overlapping segments (two writers) are skipped; the first gap ends the
 * chain. */
int eb_chain_load(eb_store *st, const eb_store_list *list, const char *base_id,
                  int64_t base_rev, const eb_ssh_keys *trusted, eb_chain *out, eb_err *err);
void eb_chain_dispose(eb_chain *c);

/* A segment's bytes, decrypted (k->age) and decompressed into out (reset
 * first), after its stored and plain sha256 and sizes equal its manifest. */
int eb_chain_fetch(eb_store *st, const eb_segman *sm, const eb_read_keys *k, eb_wbuf *out,
                   eb_err *err);

#endif
