/* restore/bolt_stream.c - see bolt_stream.h.
 *
 * Pages (docs/formats/bbolt.md; offsets as drawn in restore/bbolt_read.c):
 *
 *   header   id u64 | flags u16 (0x01 branch, 0x02 leaf, 0x04 meta) |
 *            count u16 | overflow u32                         16 bytes
 *   branch   count x { pos u32, ksize u32, pgid u64 }
 *   leaf     count x { flags u32, pos u32, ksize u32, vsize u32 }, key at
 *            element + pos, value after it; flags 0x01: the value is a
 *            bucket header { root u64, sequence u64 } (+ the bucket's
 *            page inline when root is 0)
 *   meta     pages 0 and 1: magic 0xED0CDAED at 16, version 2 at 20,
 *            page size at 24, root at 32, txid at 64, FNV-1a 64 of bytes
 *            16..71 at 72
 *
 * As bytes arrive, every page position whose header carries its own id and
 * a branch or leaf flag is a candidate, decoded once its last (overflow)
 * page is in; the positions inside a candidate are examined too, since a
 * stale header's overflow cannot be trusted.  What a candidate yields:
 *
 *   branch            its children, kept (pg -> children)
 *   leaf of revision  records -> spill, tagged with pg; pg marked in keyleaf
 *   keys (`key`)
 *   leaf with bucket  the page kept whole (the root bucket: `key`'s and
 *   headers, or with  `meta`'s roots; etcd's compaction revisions)
 *   compaction keys
 *   any other leaf    pg marked in leaf (a live leaf without compaction
 *                     keys: `meta` of a never-compacted etcd)
 *
 * Spill file, little endian, one entry after another:
 *   'P' pg u64 maxrev i64                        a key leaf was captured
 *   'R' pg u64 rev i64 sub i64 tomb u8 create i64 mod i64 version i64
 *       lease i64 vsize u64 vhash u64 klen u32 key [vlen u32 value]
 */
#include "restore/bolt_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/fsutil.h"
#include "common/interrupt.h"
#include "restore/bbolt_read.h"

#define MAGIC 0xED0CDAEDu
#define F_BRANCH 0x01
#define F_LEAF 0x02
#define MAX_SPAN (16u << 20)   /* one candidate page, overflow included */
#define MAX_KEPT (4u << 20)    /* bytes of kept leaves (a few small pages) */
#define MAX_DEPTH 64
#define SPILL_FLUSH (1u << 20)

typedef struct cand { uint64_t pg, span; } cand;
typedef struct branch { uint64_t pg; size_t first; uint32_t n; } branch;
typedef struct kept { uint64_t pg; size_t off, len; } kept;
typedef struct bitmap { uint8_t *p; size_t n; } bitmap;

typedef struct bs {
	eb_stream base;
	eb_bstream_opts o;
	uint32_t psz;
	int unreadable;         /* not a bbolt file this reader follows: emit says 1 */
	uint64_t off;           /* stream offset of win.p[0] */
	eb_wbuf win;
	uint64_t next;          /* the next page position to examine */
	cand *pend;
	size_t npend, cappend;
	uint8_t meta[2][80];
	int nmeta;
	branch *br;
	size_t nbr, capbr;
	uint64_t *kids;
	size_t nkids, capkids;
	bitmap keyleaf, leaf, empty;
	kept *kp;
	size_t nkp, capkp;
	eb_wbuf kbytes;
	int spill;
	uint64_t spill_len;
	char spill_what[320]; /* for messages: where it is, what to do */
	eb_wbuf sw;
} bs;

static int
bit_get(const bitmap *b, uint64_t i)
{
	return i / 8 < b->n && (b->p[i / 8] >> (i % 8) & 1);
}

static int
bit_set(bitmap *b, uint64_t i)
{
	if (i / 8 >= b->n) {
		size_t nn = b->n ? b->n : 4096;
		while (nn <= i / 8)
			nn *= 2;
		uint8_t *p = realloc(b->p, nn);
		if (!p)
			return -1;
		memset(p + b->n, 0, nn - b->n);
		b->p = p;
		b->n = nn;
	}
	b->p[i / 8] |= (uint8_t)(1u << (i % 8));
	return 0;
}

static int
oom(bs *s, eb_err *err)
{
	(void)s;
	return eb_err_set(err, EB_ENOMEM, "out of memory reading the snapshot's pages");
}

/* ---- capture ---- */

/* Bounds of leaf element i of the page p[0..len): key and value. */
static int
leaf_elem(const uint8_t *p, size_t len, unsigned i, uint32_t *flags, const uint8_t **k, size_t *kl,
          const uint8_t **v, size_t *vl)
{
	size_t e = 16 + 16 * (size_t)i;
	if (e + 16 > len)
		return -1;
	uint64_t pos = eb_le32(p + e + 4), ks = eb_le32(p + e + 8), vs = eb_le32(p + e + 12);
	if (e + pos + ks + vs > len)
		return -1;
	*flags = eb_le32(p + e);
	*k = p + e + pos;
	*kl = ks;
	*v = *k + ks;
	*vl = vs;
	return 0;
}

static int
is_rev_key(const uint8_t *k, size_t kl)
{
	return (kl == 17 || (kl == 18 && k[17] == 't')) && k[8] == '_';
}

static int
is_compact_key(const uint8_t *k, size_t kl)
{
	return (kl == 19 && !memcmp(k, "scheduledCompactRev", 19)) ||
	       (kl == 18 && !memcmp(k, "finishedCompactRev", 18));
}

static int
spill_flush(bs *s, eb_err *err)
{
	int rc = eb_write_all(s->spill, s->sw.p, s->sw.len, s->spill_what, err);
	s->spill_len += s->sw.len;
	eb_wbuf_reset(&s->sw);
	return rc;
}

static void
spill_rec(bs *s, uint64_t pg, const uint8_t *k, const eb_kv_fields *f)
{
	int tomb = k[8 + 9] == 't' ? 1 : 0;
	eb_wbuf_u8(&s->sw, 'R');
	eb_wbuf_le64(&s->sw, pg);
	eb_wbuf_le64(&s->sw, eb_be64(k));
	eb_wbuf_le64(&s->sw, eb_be64(k + 9));
	eb_wbuf_u8(&s->sw, (uint8_t)tomb);
	eb_wbuf_le64(&s->sw, (uint64_t)f->create_rev);
	eb_wbuf_le64(&s->sw, (uint64_t)f->mod_rev);
	eb_wbuf_le64(&s->sw, (uint64_t)f->version);
	eb_wbuf_le64(&s->sw, (uint64_t)f->lease);
	eb_wbuf_le64(&s->sw, f->value_len);
	eb_wbuf_le64(&s->sw, s->o.hash_values && !s->o.values ? eb_hash64(f->value, f->value_len) : 0);
	eb_wbuf_le32(&s->sw, (uint32_t)f->key_len);
	eb_wbuf_put(&s->sw, f->key, f->key_len);
	if (s->o.values) {
		eb_wbuf_le32(&s->sw, (uint32_t)f->value_len);
		eb_wbuf_put(&s->sw, f->value, f->value_len);
	}
}

/* A leaf of revision keys: every element decodes, or the page is not
 * captured (stale garbage; if it is live, emit falls back). */
static int
capture_keyleaf(bs *s, uint64_t pg, const uint8_t *p, size_t len, unsigned count, eb_err *err)
{
	eb_err e;
	int64_t maxrev = 0;
	eb_err_init(&e);
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < count; i++) {
			uint32_t fl;
			const uint8_t *k, *v;
			size_t kl, vl;
			eb_kv_fields f;
			leaf_elem(p, len, i, &fl, &k, &kl, &v, &vl);
			if (eb_kv_decode(v, vl, &f, &e))
				return 0;
			if (pass == 0) {
				if ((int64_t)eb_be64(k) > maxrev)
					maxrev = (int64_t)eb_be64(k);
				continue;
			}
			if ((!s->o.upto || (int64_t)eb_be64(k) <= s->o.upto) && eb_key_wanted(f.key, f.key_len, s->o.key, s->o.key_len, s->o.prefix))
				spill_rec(s, pg, k, &f);
		}
		if (pass == 0) {
			eb_wbuf_u8(&s->sw, 'P');
			eb_wbuf_le64(&s->sw, pg);
			eb_wbuf_le64(&s->sw, (uint64_t)maxrev);
		}
	}
	if (eb_wbuf_check(&s->sw, err) || bit_set(&s->keyleaf, pg))
		return oom(s, err);
	return s->sw.len >= SPILL_FLUSH ? spill_flush(s, err) : 0;
}

static int
keep_page(bs *s, uint64_t pg, const uint8_t *p, size_t len, eb_err *err)
{
	void *t = s->kp;
	if (s->kbytes.len + len > MAX_KEPT)
		return 0; /* if it is live, emit falls back */
	if (eb_array_grow(&t, &s->capkp, s->nkp + 1, sizeof *s->kp) < 0)
		return oom(s, err);
	s->kp = t;
	s->kp[s->nkp++] = (kept){pg, s->kbytes.len, len};
	eb_wbuf_put(&s->kbytes, p, len);
	return eb_wbuf_check(&s->kbytes, err);
}

static int
capture_leaf(bs *s, uint64_t pg, const uint8_t *p, size_t len, unsigned count, eb_err *err)
{
	int revs = 1, buckets = 0, compact = 0;
	for (unsigned i = 0; i < count; i++) {
		uint32_t fl;
		const uint8_t *k, *v;
		size_t kl, vl;
		if (leaf_elem(p, len, i, &fl, &k, &kl, &v, &vl))
			return 0; /* garbage */
		revs &= !fl && is_rev_key(k, kl);
		buckets |= fl & 1;
		compact |= is_compact_key(k, kl);
	}
	if (bit_set(&s->leaf, pg) || (!count && bit_set(&s->empty, pg)))
		return oom(s, err);
	if (count && revs)
		return capture_keyleaf(s, pg, p, len, count, err);
	return buckets || compact ? keep_page(s, pg, p, len, err) : 0;
}

static int
capture_branch(bs *s, uint64_t pg, const uint8_t *p, size_t len, unsigned count, eb_err *err)
{
	void *t;
	if (16 + 16 * (size_t)count > len || !count)
		return 0;
	t = s->br;
	if (eb_array_grow(&t, &s->capbr, s->nbr + 1, sizeof *s->br) < 0)
		return oom(s, err);
	s->br = t;
	t = s->kids;
	if (eb_array_grow(&t, &s->capkids, s->nkids + count, sizeof *s->kids) < 0)
		return oom(s, err);
	s->kids = t;
	s->br[s->nbr++] = (branch){pg, s->nkids, count};
	for (unsigned i = 0; i < count; i++)
		s->kids[s->nkids++] = eb_le64(p + 16 + 16 * (size_t)i + 8);
	return 0;
}

static int
capture(bs *s, const cand *c, eb_err *err)
{
	const uint8_t *p = s->win.p + (c->pg * s->psz - s->off);
	size_t len = (size_t)(c->span * s->psz);
	unsigned flags = eb_le16(p + 8), count = eb_le16(p + 10);
	if (flags == F_BRANCH)
		return capture_branch(s, c->pg, p, len, count, err);
	return capture_leaf(s, c->pg, p, len, count, err);
}

/* ---- the stream ---- */

/* Page 0's meta gives the page size. */
static void
read_page_size(bs *s)
{
	const uint8_t *p = s->win.p;
	uint32_t psz = eb_le32(p + 24);
	if (eb_le32(p + 16) != MAGIC || psz < 1024 || psz > 65536 || (psz & (psz - 1)))
		s->unreadable = 1;
	else
		s->psz = psz;
}

/* Examines the page positions whose headers are in, then decodes the
 * candidates whose last page is in. */
static int
advance(bs *s, eb_err *err)
{
	uint64_t end = s->off + s->win.len;
	while (s->next * s->psz + 80 <= end) {
		const uint8_t *p = s->win.p + (s->next * s->psz - s->off);
		uint64_t pg = s->next++;
		unsigned flags = eb_le16(p + 8);
		uint64_t span = (uint64_t)eb_le32(p + 12) + 1;
		if (pg < 2) {
			memcpy(s->meta[pg], p, 80);
			s->nmeta++;
			continue;
		}
		if (eb_le64(p) != pg || (flags != F_BRANCH && flags != F_LEAF) || span * s->psz > MAX_SPAN)
			continue;
		void *t = s->pend;
		if (eb_array_grow(&t, &s->cappend, s->npend + 1, sizeof *s->pend) < 0)
			return oom(s, err);
		s->pend = t;
		s->pend[s->npend++] = (cand){pg, span};
	}
	for (size_t i = 0; i < s->npend;) {
		int rc;
		if ((s->pend[i].pg + s->pend[i].span) * s->psz > end) {
			i++;
			continue;
		}
		if ((rc = capture(s, &s->pend[i], err)) < 0)
			return rc;
		s->pend[i] = s->pend[--s->npend];
	}
	return 0;
}

/* Drops the bytes no page position or candidate needs any more, once
 * they are at least half of the window (amortised). */
static void
trim(bs *s)
{
	uint64_t keep = s->next * s->psz;
	for (size_t i = 0; i < s->npend; i++)
		if (s->pend[i].pg * s->psz < keep)
			keep = s->pend[i].pg * s->psz;
	if (keep <= s->off)
		return;
	size_t drop = (size_t)(keep - s->off);
	if (drop > s->win.len)
		drop = s->win.len;
	if (drop * 2 < s->win.len && drop < (1u << 20))
		return;
	memmove(s->win.p, s->win.p + drop, s->win.len - drop);
	s->win.len -= drop;
	s->off += drop;
}

static int
bs_write(eb_stream *st, const uint8_t *buf, size_t len, eb_err *err)
{
	bs *s = (bs *)st;
	int rc;
	if (s->unreadable)
		return 0;
	eb_wbuf_put(&s->win, buf, len);
	if (eb_wbuf_check(&s->win, err))
		return EB_ENOMEM;
	if (!s->psz && s->win.len >= 80)
		read_page_size(s);
	if (!s->psz)
		return 0;
	if ((rc = advance(s, err)) < 0)
		return rc;
	trim(s);
	return 0;
}

static int
bs_finish(eb_stream *st, eb_err *err)
{
	bs *s = (bs *)st;
	int rc = 0;
	if (s->sw.len)
		rc = spill_flush(s, err);
	eb_wbuf_dispose(&s->win);
	free(s->pend);
	s->pend = NULL;
	s->npend = s->cappend = 0;
	return rc;
}

static void
bs_free(eb_stream *st)
{
	bs *s = (bs *)st;
	eb_wbuf_dispose(&s->win);
	eb_wbuf_dispose(&s->sw);
	eb_wbuf_dispose(&s->kbytes);
	free(s->pend);
	free(s->br);
	free(s->kids);
	free(s->kp);
	free(s->keyleaf.p);
	free(s->leaf.p);
	free(s->empty.p);
	if (s->spill >= 0)
		close(s->spill);
	free(s);
}

static const eb_stream_ops bs_ops = {"bbolt", bs_write, bs_finish, bs_free};

int
eb_bstream_new(eb_stream **out, const eb_bstream_opts *o, eb_err *err)
{
	const char *dir = o->spill_dir ? o->spill_dir : "/tmp";
	bs *s = calloc(1, sizeof *s);
	*out = NULL;
	if (!s)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	eb_stream_init(&s->base, &bs_ops, NULL);
	s->o = *o;
	s->spill = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->spill < 0) {
		int e = errno;
		free(s);
		return eb_err_sys(err, EB_EIO, e, "cannot create a temp file in %s (set --tmp-dir)", dir);
	}
	snprintf(s->spill_what, sizeof s->spill_what,
	         "the snapshot's spill file in %.200s (--tmp-dir picks a folder with more room)", dir);
	*out = &s->base;
	return 0;
}

/* ---- emit: the live tree ---- */

static const branch *
find_branch(const bs *s, uint64_t pg)
{
	size_t lo = 0, hi = s->nbr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->br[mid].pg == pg)
			return &s->br[mid];
		if (s->br[mid].pg < pg)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const kept *
find_kept(const bs *s, uint64_t pg)
{
	for (size_t i = 0; i < s->nkp; i++)
		if (s->kp[i].pg == pg)
			return &s->kp[i];
	return NULL;
}

static int
by_pg(const void *a, const void *b)
{
	const branch *x = a, *y = b;
	return x->pg < y->pg ? -1 : x->pg > y->pg;
}

/* The newest valid meta's root (0: none valid). */
static uint64_t
meta_root(const bs *s)
{
	uint64_t root = 0, txid = 0;
	for (int i = 0; i < 2 && i < s->nmeta; i++) {
		const uint8_t *m = s->meta[i];
		if (eb_le32(m + 16) != MAGIC || eb_le32(m + 20) != 2 || eb_le32(m + 24) != s->psz ||
		    eb_fnv1a64(m + 16, 56) != eb_le64(m + 72))
			continue;
		if (!root || eb_le64(m + 64) > txid) {
			root = eb_le64(m + 32);
			txid = eb_le64(m + 64);
		}
	}
	return root;
}

/* A bucket header: its root, or its inline page (root 0). */
typedef struct bucket { int found; uint64_t root; const uint8_t *inl; size_t inl_len; } bucket;

typedef struct tree {
	bs *s;
	bitmap seen;      /* a page reached twice: not a tree */
	bitmap live;      /* key leaves reached */
	bucket key, meta; /* found in the root bucket */
} tree;

static void
root_leaf(tree *t, const uint8_t *p, size_t len)
{
	unsigned count = eb_le16(p + 10);
	for (unsigned i = 0; i < count; i++) {
		uint32_t fl;
		const uint8_t *k, *v;
		size_t kl, vl;
		bucket *b;
		if (leaf_elem(p, len, i, &fl, &k, &kl, &v, &vl) || !(fl & 1) || vl < 16)
			continue;
		if (kl == 3 && !memcmp(k, "key", 3))
			b = &t->key;
		else if (kl == 4 && !memcmp(k, "meta", 4))
			b = &t->meta;
		else
			continue;
		b->found = 1;
		b->root = eb_le64(v);
		b->inl = v + 16;
		b->inl_len = vl - 16;
	}
}

/* Walks the tree at pg: 0, or 1 when a page of it was not captured. */
static int
walk(tree *t, uint64_t pg, int depth, int is_root, eb_err *err)
{
	bs *s = t->s;
	const branch *b;
	const kept *k;
	if (depth > MAX_DEPTH || pg < 2 || pg >= s->next || bit_get(&t->seen, pg))
		return 1; /* not a page of the file, or reached twice: not a tree */
	if (bit_set(&t->seen, pg))
		return oom(s, err);
	if ((b = find_branch(s, pg))) {
		for (uint32_t i = 0; i < b->n; i++) {
			int rc = walk(t, s->kids[b->first + i], depth + 1, is_root, err);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (is_root) {
		if (!(k = find_kept(s, pg)))
			return 1;
		root_leaf(t, s->kbytes.p + k->off, k->len);
		return 0;
	}
	if (!bit_get(&s->keyleaf, pg))
		return bit_get(&s->empty, pg) ? 0 : 1; /* an empty leaf: nothing */
	return bit_set(&t->live, pg) ? oom(s, err) : 0;
}

/* The compaction revision in the meta bucket's leaf p. */
static int64_t
compact_of(const uint8_t *p, size_t len)
{
	int64_t c = -1;
	unsigned count = eb_le16(p + 10);
	for (unsigned i = 0; i < count; i++) {
		uint32_t fl;
		const uint8_t *k, *v;
		size_t kl, vl;
		if (leaf_elem(p, len, i, &fl, &k, &kl, &v, &vl) == 0 && is_compact_key(k, kl) && vl >= 8 &&
		    (int64_t)eb_be64(v) > c)
			c = (int64_t)eb_be64(v);
	}
	return c;
}

/* etcd's compaction from the meta bucket: 0, or 1 when its page was not
 * captured. */
static int
meta_compact(tree *t, eb_bstream_info *info)
{
	const kept *k;
	info->compact_rev = -1;
	if (!t->meta.found)
		return 0;
	if (!t->meta.root) {
		if (t->meta.inl_len >= 16)
			info->compact_rev = compact_of(t->meta.inl, t->meta.inl_len);
		return 0;
	}
	if ((k = find_kept(t->s, t->meta.root)))
		info->compact_rev = compact_of(t->s->kbytes.p + k->off, k->len);
	else if (!bit_get(&t->s->leaf, t->meta.root))
		return 1; /* a branch, or not captured */
	return 0;
}

/* The records of an inline key bucket (a small db): all live. */
static int
emit_inline(const bucket *b, eb_bstream_fn fn, void *ctx, eb_bstream_info *info, eb_err *err)
{
	unsigned count = b->inl_len >= 16 ? eb_le16(b->inl + 10) : 0;
	for (unsigned i = 0; i < count; i++) { /* all sound before any is handed on */
		uint32_t fl;
		const uint8_t *k, *v;
		size_t kl, vl;
		if (leaf_elem(b->inl, b->inl_len, i, &fl, &k, &kl, &v, &vl) || !is_rev_key(k, kl))
			return 1;
	}
	for (unsigned i = 0; i < count; i++) {
		uint32_t fl;
		const uint8_t *k, *v;
		size_t kl, vl;
		eb_kv_fields f;
		int rc;
		leaf_elem(b->inl, b->inl_len, i, &fl, &k, &kl, &v, &vl);
		if ((rc = eb_kv_decode(v, vl, &f, err)))
			return rc;
		if ((int64_t)eb_be64(k) > info->last_rev)
			info->last_rev = (int64_t)eb_be64(k);
		info->records++;
		if ((rc = fn(ctx, (int64_t)eb_be64(k), (int64_t)eb_be64(k + 9), kl == 18, &f, err)))
			return rc;
	}
	return 0;
}

/* The spill read back: the live pages' records. */
typedef struct spill_rd { int fd; uint64_t pos, len; eb_wbuf buf; size_t at; } spill_rd;

static const uint8_t *
spill_take(spill_rd *r, size_t n, eb_err *err, int *rc)
{
	if (r->buf.len - r->at < n) {
		size_t keep = r->buf.len - r->at, want = n > SPILL_FLUSH ? n : SPILL_FLUSH;
		if (keep)
			memmove(r->buf.p, r->buf.p + r->at, keep);
		r->buf.len = keep;
		r->at = 0;
		if (eb_wbuf_reserve(&r->buf, want)) {
			*rc = eb_err_set(err, EB_ENOMEM, "out of memory");
			return NULL;
		}
		while (r->buf.len < n && r->pos < r->len) {
			ssize_t got = pread(r->fd, r->buf.p + r->buf.len, r->buf.cap - r->buf.len, (off_t)r->pos);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				*rc = eb_err_sys(err, EB_EIO, got < 0 ? errno : EIO, "read the snapshot's spill file");
				return NULL;
			}
			r->buf.len += (size_t)got;
			r->pos += (uint64_t)got;
		}
		if (r->buf.len < n) {
			*rc = eb_err_set(err, EB_EIO, "the snapshot's spill file is short");
			return NULL;
		}
	}
	r->at += n;
	return r->buf.p + r->at - n;
}

static int
emit_spill(bs *s, const bitmap *live, eb_bstream_fn fn, void *ctx, eb_bstream_info *info, eb_err *err)
{
	spill_rd r = {s->spill, 0, s->spill_len, {0}, 0};
	eb_wbuf kc = {0};
	int rc = 0;
	while (rc == 0 && (r.pos < r.len || r.at < r.buf.len)) {
		const uint8_t *h = spill_take(&r, 17, err, &rc), *k, *v;
		if (!h)
			break;
		if (h[0] == 'P') {
			if (bit_get(live, eb_le64(h + 1)) && (int64_t)eb_le64(h + 9) > info->last_rev)
				info->last_rev = (int64_t)eb_le64(h + 9);
			continue;
		}
		uint64_t pg = eb_le64(h + 1);
		int64_t rev = (int64_t)eb_le64(h + 9);
		const uint8_t *m = spill_take(&r, 8 + 1 + 6 * 8 + 4, err, &rc);
		if (!m)
			break;
		eb_kv_fields f = {.create_rev = (int64_t)eb_le64(m + 9), .mod_rev = (int64_t)eb_le64(m + 17),
		                  .version = (int64_t)eb_le64(m + 25), .lease = (int64_t)eb_le64(m + 33),
		                  .value_len = eb_le64(m + 41), .value_hash = eb_le64(m + 49),
		                  .key_len = eb_le32(m + 57), .value_dropped = !s->o.values};
		int64_t sub = (int64_t)eb_le64(m);
		int tomb = m[8];
		if (!(k = spill_take(&r, f.key_len, err, &rc)))
			break;
		f.key = k;
		if (s->o.values) { /* the next takes may move the buffer: the key is copied */
			const uint8_t *vl;
			eb_wbuf_reset(&kc);
			eb_wbuf_put(&kc, k, f.key_len);
			if ((rc = eb_wbuf_check(&kc, err)) || !(vl = spill_take(&r, 4, err, &rc)) ||
			    !(v = spill_take(&r, eb_le32(vl), err, &rc)))
				break;
			f.key = kc.p;
			f.value = v;
		}
		if (!bit_get(live, pg))
			continue;
		if ((++info->records & 0xffff) == 0 && (rc = eb_interrupt_check(err, "reading the backup")) < 0)
			break;
		rc = fn(ctx, rev, sub, tomb, &f, err);
	}
	eb_wbuf_dispose(&r.buf);
	eb_wbuf_dispose(&kc);
	return rc;
}

int
eb_bstream_emit(eb_stream *st, eb_bstream_fn fn, void *ctx, eb_bstream_info *info, eb_err *err)
{
	bs *s = (bs *)st;
	tree t = {.s = s};
	uint64_t root;
	int rc;
	memset(info, 0, sizeof *info);
	if (s->unreadable || !s->psz || !(root = meta_root(s)))
		return 1;
	if (s->nbr > 1)
		qsort(s->br, s->nbr, sizeof *s->br, by_pg);
	rc = walk(&t, root, 0, 1, err);
	if (rc == 0 && (!t.key.found || (rc = meta_compact(&t, info)) != 0))
		rc = rc ? rc : 1;
	if (rc == 0 && t.key.root == 0)
		rc = emit_inline(&t.key, fn, ctx, info, err);
	else if (rc == 0 && (rc = walk(&t, t.key.root, 0, 0, err)) == 0)
		rc = emit_spill(s, &t.live, fn, ctx, info, err);
	free(t.seen.p);
	free(t.live.p);
	return rc;
}
