/* restore/bbolt_read.h - a validating, streaming reader of bbolt files.
 *
 * Reads pages with pread (memory = a few page buffers per tree level, never
 * the whole file) and walks every bucket in key order, handing key/values to
 * a visitor.  As it goes it checks what `bbolt check` checks (docs/formats/bbolt.md):
 * both meta pages (magic, version, FNV-1a checksum), page bounds, page ids,
 * page types, element bounds, key order within pages and across the tree,
 * child keys within the parent's key range, overflow bounds, each page
 * referenced once, freelist consistency, and after the walk that every page
 * below the high-water mark is reachable or free.  Any violation stops the
 * walk with EB_ECORRUPT and a message naming the page and the problem.
 *
 * etcd never uses nested buckets; a nested bucket is reported as
 * unsupported (EB_ECORRUPT) rather than silently skipped. */
#ifndef EB_RESTORE_BBOLT_READ_H
#define EB_RESTORE_BBOLT_READ_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define EB_BOLT_NO_FREELIST UINT64_MAX

typedef struct eb_bolt_meta {
	uint32_t page_size;
	uint64_t root, root_seq, freelist, pgid, txid;
} eb_bolt_meta;

typedef struct eb_bolt_stats {
	uint64_t buckets, inline_buckets, keys;
	uint64_t branch_pages, leaf_pages, overflow_pages, free_pages;
	int max_depth;
} eb_bolt_stats;

/* Pointers given to callbacks are valid only during the call. */
typedef struct eb_bolt_visitor {
	void *ctx;
	int (*bucket_begin)(void *ctx, const uint8_t *name, size_t len,
	                    uint64_t sequence, eb_err *err);
	int (*kv)(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v,
	          size_t vl, eb_err *err);
	int (*bucket_end)(void *ctx, eb_err *err);
} eb_bolt_visitor;

typedef struct eb_bolt eb_bolt;

/* Opens the database held in the first db_size bytes of fd (the caller
 * excludes a snapshot's sha256 trailer).  Checks both meta pages and picks
 * the one with the higher txid.  fd stays owned by the caller. */
int eb_bolt_open(eb_bolt **out, int fd, uint64_t db_size, eb_err *err);
const eb_bolt_meta *eb_bolt_get_meta(const eb_bolt *b);
/* One full validating walk; visitor callbacks may be NULL.  Returns the
 * first visitor error unchanged. */
int eb_bolt_walk(eb_bolt *b, const eb_bolt_visitor *v, eb_bolt_stats *st,
                 eb_err *err);
void eb_bolt_close(eb_bolt *b);

/* FNV-1a 64 as bbolt uses it for meta checksums. */
uint64_t eb_fnv1a64(const uint8_t *p, size_t n);

#endif
