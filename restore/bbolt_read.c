/* restore/bbolt_read.c - validating bbolt reader (see bbolt_read.h).
 *
 * Page layout (docs/formats/bbolt.md), all little endian:
 *
 *   page header       OFFSET SIZE
 *     id                 0    8   must equal the page's index
 *     flags              8    2   0x01 branch, 0x02 leaf, 0x04 meta, 0x10 freelist
 *     count             10    2   elements (freelist: ids, 0xFFFF = u64 count follows)
 *     overflow          12    4   extra physical pages
 *   meta (pages 0, 1, at page offset 16)
 *     magic 0xED0CDAED  16    4
 *     version 2         20    4
 *     pageSize          24    4
 *     flags             28    4
 *     root pgid         32    8
 *     root sequence     40    8
 *     freelist pgid     48    8   0xFFFF..FF = not persisted (etcd)
 *     pgid (hwm)        56    8
 *     txid              64    8
 *     checksum          72    8   FNV-1a 64 of bytes 16..71
 *   branch element (16 bytes, at 16 + 16*i): pos u32, ksize u32, pgid u64
 *   leaf element   (16 bytes, at 16 + 16*i): flags u32, pos u32, ksize u32, vsize u32
 *     key at element_offset + pos; a leaf's value follows its key;
 *     leaf flags 0x01 = value is a bucket header {root u64, sequence u64}
 *     (+ an inline leaf page when root == 0).
 */
#include "restore/bbolt_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"

#define MAGIC 0xED0CDAEDu
#define F_BRANCH 0x01
#define F_LEAF 0x02
#define F_META 0x04
#define F_FREELIST 0x10
#define MAX_DEPTH 64
#define MAX_PAGE_BYTES (512u << 20) /* one logical page (a huge value) */

struct eb_bolt {
	int fd;
	uint64_t size;
	eb_bolt_meta meta;
	uint8_t *seen;  /* bitmap over pgid: referenced */
	uint8_t *freed; /* bitmap over pgid: in the persisted freelist */
	eb_wbuf bufs[2 * MAX_DEPTH + 2];
	eb_bolt_stats st;
	const eb_bolt_visitor *v;
};

/* Per-tree walk state: the last key seen enforces order across pages. */
struct tree {
	int is_root;
	eb_wbuf last;
	int have_last;
};

uint64_t
eb_fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int
pread_full(int fd, void *buf, size_t n, uint64_t off, eb_err *err)
{
	uint8_t *p = buf;
	while (n) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return eb_err_sys(err, EB_EIO, errno, "read snapshot at offset %llu", (unsigned long long)off);
		}
		if (r == 0)
			return eb_err_set(err, EB_ECORRUPT, "snapshot truncated: nothing to read at offset %llu", (unsigned long long)off);
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int
parse_meta(const uint8_t *pg, uint64_t want_id, eb_bolt_meta *m, eb_err *err)
{
	const uint8_t *mp = pg + 16;
	if (eb_le32(mp) != MAGIC)
		return eb_err_set(err, EB_ECORRUPT, "not a bbolt database: bad magic in meta page %llu (is this an etcd snapshot?)", (unsigned long long)want_id);
	if (eb_le32(mp + 4) != 2)
		return eb_err_set(err, EB_ECORRUPT, "meta page %llu: unsupported bbolt version %u", (unsigned long long)want_id, eb_le32(mp + 4));
	if (eb_fnv1a64(mp, 56) != eb_le64(mp + 56))
		return eb_err_set(err, EB_ECORRUPT, "meta page %llu: checksum mismatch (corrupt snapshot)", (unsigned long long)want_id);
	if (eb_le64(pg) != want_id || !(eb_le16(pg + 8) & F_META))
		return eb_err_set(err, EB_ECORRUPT, "meta page %llu: bad page header", (unsigned long long)want_id);
	m->page_size = eb_le32(mp + 8);
	m->root = eb_le64(mp + 16);
	m->root_seq = eb_le64(mp + 24);
	m->freelist = eb_le64(mp + 32);
	m->pgid = eb_le64(mp + 40);
	m->txid = eb_le64(mp + 48);
	return 0;
}

int
eb_bolt_open(eb_bolt **out, int fd, uint64_t db_size, eb_err *err)
{
	uint8_t hdr[80];
	eb_bolt_meta m0, m1;
	int rc;

	*out = NULL;
	if (db_size < 2 * 1024)
		return eb_err_set(err, EB_ECORRUPT, "snapshot too small (%llu bytes) to be a bbolt database", (unsigned long long)db_size);
	if ((rc = pread_full(fd, hdr, sizeof hdr, 0, err)) ||
	    (rc = parse_meta(hdr, 0, &m0, err)))
		return rc;
	uint32_t ps = m0.page_size;
	if (ps < 1024 || ps > 65536 || (ps & (ps - 1)))
		return eb_err_set(err, EB_ECORRUPT, "meta page 0: invalid page size %u", ps);
	if (db_size < 2ull * ps)
		return eb_err_set(err, EB_ECORRUPT, "snapshot truncated: %llu bytes is less than two %u-byte pages", (unsigned long long)db_size, ps);
	if ((rc = pread_full(fd, hdr, sizeof hdr, ps, err)) ||
	    (rc = parse_meta(hdr, 1, &m1, err)))
		return rc;
	if (m1.page_size != ps)
		return eb_err_set(err, EB_ECORRUPT, "meta pages disagree on the page size (%u vs %u)", ps, m1.page_size);
	eb_bolt_meta *m = m0.txid >= m1.txid ? &m0 : &m1;
	if (m->pgid < 3 || m->pgid > db_size / ps)
		return eb_err_set(err, EB_ECORRUPT,
		    "snapshot truncated or corrupt: meta says %llu pages of %u bytes but the database has %llu bytes",
		    (unsigned long long)m->pgid, ps, (unsigned long long)db_size);
	if (m->root < 2 || m->root >= m->pgid)
		return eb_err_set(err, EB_ECORRUPT, "meta: root page %llu out of bounds", (unsigned long long)m->root);
	if (m->freelist != EB_BOLT_NO_FREELIST && (m->freelist < 2 || m->freelist >= m->pgid))
		return eb_err_set(err, EB_ECORRUPT, "meta: freelist page %llu out of bounds", (unsigned long long)m->freelist);

	eb_bolt *b = calloc(1, sizeof *b);
	if (!b)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	b->fd = fd;
	b->size = db_size;
	b->meta = *m;
	size_t bm = (size_t)(m->pgid / 8 + 1);
	b->seen = calloc(1, bm);
	b->freed = calloc(1, bm);
	if (!b->seen || !b->freed) {
		eb_bolt_close(b);
		return eb_err_set(err, EB_ENOMEM, "out of memory for the page bitmap");
	}
	*out = b;
	return 0;
}

const eb_bolt_meta *
eb_bolt_get_meta(const eb_bolt *b)
{
	return &b->meta;
}

void
eb_bolt_close(eb_bolt *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < sizeof b->bufs / sizeof b->bufs[0]; i++)
		eb_wbuf_dispose(&b->bufs[i]);
	free(b->seen);
	free(b->freed);
	free(b);
}

static int bit(const uint8_t *m, uint64_t i) { return m[i / 8] >> (i % 8) & 1; }
static void setbit(uint8_t *m, uint64_t i) { m[i / 8] |= (uint8_t)(1u << (i % 8)); }

/* Reads logical page id (with its overflow) into buf; marks it referenced. */
static int
read_page(eb_bolt *b, uint64_t id, eb_wbuf *buf, eb_err *err)
{
	uint32_t ps = b->meta.page_size;
	int rc;
	if (id < 2 || id >= b->meta.pgid)
		return eb_err_set(err, EB_ECORRUPT, "page %llu out of bounds (high-water mark %llu)", (unsigned long long)id, (unsigned long long)b->meta.pgid);
	eb_wbuf_reset(buf);
	if (eb_wbuf_reserve(buf, ps))
		return eb_err_set(err, EB_ENOMEM, "out of memory reading page %llu", (unsigned long long)id);
	if ((rc = pread_full(b->fd, buf->p, ps, id * ps, err)))
		return rc;
	buf->len = ps;
	if (eb_le64(buf->p) != id)
		return eb_err_set(err, EB_ECORRUPT, "page %llu: header carries id %llu", (unsigned long long)id, (unsigned long long)eb_le64(buf->p));
	uint64_t ovf = eb_le32(buf->p + 12);
	if (ovf >= b->meta.pgid - id)
		return eb_err_set(err, EB_ECORRUPT, "page %llu: overflow %llu runs past the high-water mark", (unsigned long long)id, (unsigned long long)ovf);
	if ((ovf + 1) * ps > MAX_PAGE_BYTES)
		return eb_err_set(err, EB_ECORRUPT, "page %llu: %llu overflow pages is more than supported", (unsigned long long)id, (unsigned long long)ovf);
	for (uint64_t p = id; p <= id + ovf; p++) {
		if (bit(b->seen, p))
			return eb_err_set(err, EB_ECORRUPT, "page %llu: referenced more than once", (unsigned long long)p);
		if (bit(b->freed, p))
			return eb_err_set(err, EB_ECORRUPT, "page %llu: reachable but in the freelist", (unsigned long long)p);
		setbit(b->seen, p);
	}
	if (ovf) {
		size_t total = (size_t)((ovf + 1) * ps);
		if (eb_wbuf_reserve(buf, total - ps))
			return eb_err_set(err, EB_ENOMEM, "out of memory reading page %llu", (unsigned long long)id);
		if ((rc = pread_full(b->fd, buf->p + ps, total - ps, (id + 1) * ps, err)))
			return rc;
		buf->len = total;
		b->st.overflow_pages += ovf;
	}
	return 0;
}

static int
read_freelist(eb_bolt *b, eb_err *err)
{
	eb_wbuf *buf = &b->bufs[0];
	uint64_t id = b->meta.freelist;
	int rc;
	if (id == EB_BOLT_NO_FREELIST)
		return 0;
	if ((rc = read_page(b, id, buf, err)))
		return rc;
	if (eb_le16(buf->p + 8) != F_FREELIST)
		return eb_err_set(err, EB_ECORRUPT, "page %llu: expected a freelist page, flags 0x%x", (unsigned long long)id, eb_le16(buf->p + 8));
	uint64_t n = eb_le16(buf->p + 10), off = 16;
	if (n == 0xFFFF) {
		if (buf->len < 24)
			return eb_err_set(err, EB_ECORRUPT, "freelist page %llu truncated", (unsigned long long)id);
		n = eb_le64(buf->p + 16);
		off = 24;
	}
	if (n > (buf->len - off) / 8)
		return eb_err_set(err, EB_ECORRUPT, "freelist page %llu: %llu ids do not fit the page", (unsigned long long)id, (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t f = eb_le64(buf->p + off + 8 * i);
		if (f < 2 || f >= b->meta.pgid)
			return eb_err_set(err, EB_ECORRUPT, "freelist: page %llu out of bounds", (unsigned long long)f);
		if (bit(b->freed, f))
			return eb_err_set(err, EB_ECORRUPT, "freelist: page %llu already freed", (unsigned long long)f);
		if (bit(b->seen, f))
			return eb_err_set(err, EB_ECORRUPT, "freelist: page %llu is the freelist itself", (unsigned long long)f);
		setbit(b->freed, f);
	}
	return 0;
}

static int walk_page(eb_bolt *b, struct tree *t, uint64_t id, const uint8_t *pg,
                     size_t plen, const uint8_t *lo, size_t lol,
                     const uint8_t *hi, size_t hil, int depth, eb_err *err);

static int
walk_tree(eb_bolt *b, struct tree *t, uint64_t id, const uint8_t *lo, size_t lol,
          const uint8_t *hi, size_t hil, int depth, eb_err *err)
{
	if (depth >= (int)(sizeof b->bufs / sizeof b->bufs[0]))
		return eb_err_set(err, EB_ECORRUPT, "page %llu: tree deeper than %d levels", (unsigned long long)id, MAX_DEPTH);
	eb_wbuf *buf = &b->bufs[depth];
	int rc = read_page(b, id, buf, err);
	if (rc)
		return rc;
	if (depth > b->st.max_depth)
		b->st.max_depth = depth;
	return walk_page(b, t, id, buf->p, buf->len, lo, lol, hi, hil, depth, err);
}

static int
leaf_item(eb_bolt *b, struct tree *t, uint64_t id, uint32_t flags,
          const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, int depth,
          eb_err *err)
{
	const eb_bolt_visitor *vis = b->v;
	int rc;
	if (!t->is_root) {
		if (flags & 1)
			return eb_err_set(err, EB_ECORRUPT, "page %llu: nested bucket '%.*s' (etcd never writes nested buckets; not supported)", (unsigned long long)id, (int)(kl > 64 ? 64 : kl), k);
		b->st.keys++;
		if (vis && vis->kv)
			return vis->kv(vis->ctx, k, kl, v, vl, err);
		return 0;
	}
	if (!(flags & 1))
		return eb_err_set(err, EB_ECORRUPT, "page %llu: root bucket item '%.*s' is not a bucket", (unsigned long long)id, (int)(kl > 64 ? 64 : kl), k);
	if (vl < 16)
		return eb_err_set(err, EB_ECORRUPT, "page %llu: bucket '%.*s' header truncated", (unsigned long long)id, (int)(kl > 64 ? 64 : kl), k);
	uint64_t root = eb_le64(v), seq = eb_le64(v + 8);
	b->st.buckets++;
	if (vis && vis->bucket_begin && (rc = vis->bucket_begin(vis->ctx, k, kl, seq, err)))
		return rc;
	struct tree sub = {0};
	if (root == 0) {
		b->st.inline_buckets++;
		if (vl < 32)
			return eb_err_set(err, EB_ECORRUPT, "page %llu: inline bucket '%.*s' truncated", (unsigned long long)id, (int)(kl > 64 ? 64 : kl), k);
		const uint8_t *ip = v + 16;
		if (eb_le64(ip) != 0 || eb_le16(ip + 8) != F_LEAF || eb_le32(ip + 12) != 0)
			rc = eb_err_set(err, EB_ECORRUPT, "page %llu: inline bucket '%.*s' has a bad page header", (unsigned long long)id, (int)(kl > 64 ? 64 : kl), k);
		else
			rc = walk_page(b, &sub, 0, ip, vl - 16, NULL, 0, NULL, 0, depth + 1, err);
	} else {
		if (vl != 16)
			return eb_err_set(err, EB_ECORRUPT, "page %llu: bucket '%.*s' header has %zu bytes, want 16", (unsigned long long)id, (int)(kl > 64 ? 64 : kl), k, vl);
		rc = walk_tree(b, &sub, root, NULL, 0, NULL, 0, depth + 1, err);
	}
	eb_wbuf_dispose(&sub.last);
	if (rc)
		return rc;
	if (vis && vis->bucket_end)
		return vis->bucket_end(vis->ctx, err);
	return 0;
}

static int
walk_page(eb_bolt *b, struct tree *t, uint64_t id, const uint8_t *pg,
          size_t plen, const uint8_t *lo, size_t lol, const uint8_t *hi,
          size_t hil, int depth, eb_err *err)
{
	unsigned flags = eb_le16(pg + 8);
	size_t count = eb_le16(pg + 10);
	int rc;
	unsigned long long uid = (unsigned long long)id;

	if (flags != F_BRANCH && flags != F_LEAF)
		return eb_err_set(err, EB_ECORRUPT, "page %llu: invalid type 0x%x (want branch or leaf)", uid, flags);
	if (16 + 16 * (uint64_t)count > plen)
		return eb_err_set(err, EB_ECORRUPT, "page %llu: %zu elements do not fit the page", uid, count);
	if (flags == F_BRANCH) {
		b->st.branch_pages++;
		if (count == 0)
			return eb_err_set(err, EB_ECORRUPT, "page %llu: empty branch page", uid);
	} else {
		b->st.leaf_pages++;
	}
	const uint8_t *prev = NULL;
	size_t prevl = 0;
	for (size_t i = 0; i < count; i++) {
		size_t eoff = 16 + 16 * i;
		const uint8_t *e = pg + eoff;
		uint64_t kstart, kl, vl = 0;
		if (flags == F_BRANCH) {
			kstart = eoff + (uint64_t)eb_le32(e);
			kl = eb_le32(e + 4);
		} else {
			kstart = eoff + (uint64_t)eb_le32(e + 4);
			kl = eb_le32(e + 8);
			vl = eb_le32(e + 12);
		}
		if (kstart > plen || kl + vl > plen - kstart)
			return eb_err_set(err, EB_ECORRUPT, "page %llu: element %zu points outside the page", uid, i);
		const uint8_t *k = pg + kstart;
		if (kl == 0)
			return eb_err_set(err, EB_ECORRUPT, "page %llu: element %zu has an empty key", uid, i);
		if (prev && eb_keycmp(prev, prevl, k, kl) >= 0)
			return eb_err_set(err, EB_ECORRUPT, "page %llu: keys out of order at element %zu", uid, i);
		if (lo && eb_keycmp(k, kl, lo, lol) < 0)
			return eb_err_set(err, EB_ECORRUPT, "page %llu: key of element %zu below the parent's range", uid, i);
		if (hi && eb_keycmp(k, kl, hi, hil) >= 0)
			return eb_err_set(err, EB_ECORRUPT, "page %llu: key of element %zu above the parent's range", uid, i);
		prev = k;
		prevl = kl;
		if (flags == F_BRANCH) {
			const uint8_t *nhi = hi;
			size_t nhil = hil;
			if (i + 1 < count) {
				/* The next element's key bounds this child; its
				 * own bounds are checked on its turn. */
				const uint8_t *ne = pg + eoff + 16;
				uint64_t ns = eoff + 16 + (uint64_t)eb_le32(ne), nl = eb_le32(ne + 4);
				if (ns > plen || nl > plen - ns)
					return eb_err_set(err, EB_ECORRUPT, "page %llu: element %zu points outside the page", uid, i + 1);
				nhi = pg + ns;
				nhil = nl;
			}
			if ((rc = walk_tree(b, t, eb_le64(e + 8), k, kl, nhi, nhil, depth + 1, err)))
				return rc;
		} else {
			uint32_t lf = eb_le32(e);
			if (lf & ~1u)
				return eb_err_set(err, EB_ECORRUPT, "page %llu: element %zu has unknown flags 0x%x", uid, i, lf);
			if (t->have_last && eb_keycmp(t->last.p, t->last.len, k, kl) >= 0)
				return eb_err_set(err, EB_ECORRUPT, "page %llu: key order broken across pages", uid);
			eb_wbuf_reset(&t->last);
			eb_wbuf_put(&t->last, k, kl);
			if (eb_wbuf_check(&t->last, err))
				return EB_ENOMEM;
			t->have_last = 1;
			if ((rc = leaf_item(b, t, id, lf, k, kl, k + kl, vl, depth, err)))
				return rc;
		}
	}
	return 0;
}

int
eb_bolt_walk(eb_bolt *b, const eb_bolt_visitor *v, eb_bolt_stats *st, eb_err *err)
{
	int rc;
	size_t bm = (size_t)(b->meta.pgid / 8 + 1);
	memset(b->seen, 0, bm);
	memset(b->freed, 0, bm);
	memset(&b->st, 0, sizeof b->st);
	setbit(b->seen, 0);
	setbit(b->seen, 1);
	b->v = v;
	if ((rc = read_freelist(b, err)))
		return rc;
	struct tree root = {.is_root = 1};
	rc = walk_tree(b, &root, b->meta.root, NULL, 0, NULL, 0, 1, err);
	eb_wbuf_dispose(&root.last);
	if (rc)
		return rc;
	for (uint64_t p = 2; p < b->meta.pgid; p++) {
		if (bit(b->seen, p))
			continue;
		if (b->meta.freelist != EB_BOLT_NO_FREELIST && !bit(b->freed, p))
			return eb_err_set(err, EB_ECORRUPT, "page %llu: unreachable and not in the freelist", (unsigned long long)p);
		b->st.free_pages++;
	}
	if (st)
		*st = b->st;
	return 0;
}
