/* restore/bbolt_write.c - streaming bulk-loading bbolt writer.
 *
 * Page and meta layouts: see bbolt_read.c.  A page being built is kept as
 * an element table plus a data area; on emit it is laid out as
 *
 *   OFFSET              SIZE      content
 *   0                   16        header {id, flags, count, overflow}
 *   16                  16*count  elements; pos = 16*count + data_off - 16*i
 *   16 + 16*count       data      key[,value] of element 0, 1, ... densely
 *   ...                 pad       zeros up to (1 + overflow) * pageSize
 */
#include "restore/bbolt_write.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/bbolt_read.h"
#include "common/bytes.h"

#define F_BRANCH 0x01
#define F_LEAF 0x02
#define F_META 0x04
#define MAX_LEVELS 32
#define OUTBUF (1u << 20)

struct elem {
	uint64_t a;      /* leaf: flags; branch: child pgid */
	size_t off;      /* in data */
	uint32_t kl, vl;
};

struct level {
	struct elem *e;
	size_t n, cap;
	eb_wbuf data;
	uint64_t emitted; /* pages written at this level */
};

struct bucket {
	uint8_t *name;
	size_t len;
	uint64_t root, seq;
};

struct eb_bw {
	int fds[128];
	int nfds;
	uint32_t ps;
	uint64_t next_pgid; /* next page to allocate */
	eb_wbuf out;         /* pages not yet written, starting at out_pgid */
	uint64_t out_pgid;
	eb_wbuf page;        /* scratch for one page image */
	struct level lv[MAX_LEVELS];
	int in_bucket;
	int leaf_flags;     /* element flags at level 0: 1 for the root bucket */
	eb_wbuf last;
	int have_last;
	struct bucket *b;
	size_t nb, capb;
	uint64_t cur_seq;
};

static int
write_all(int fd, const uint8_t *p, size_t n, uint64_t off, eb_err *err)
{
	while (n) {
		ssize_t r = pwrite(fd, p, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return eb_err_sys(err, EB_EIO, errno, "write database");
		}
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int
flush_out(eb_bw *w, eb_err *err)
{
	int rc;
	if (!w->out.len)
		return 0;
	for (int i = 0; i < w->nfds; i++)
		if ((rc = write_all(w->fds[i], w->out.p, w->out.len, w->out_pgid * w->ps, err)))
			return rc;
	w->out_pgid += w->out.len / w->ps;
	eb_wbuf_reset(&w->out);
	return 0;
}

int
eb_bw_new(eb_bw **out, const int *fds, int nfds, uint32_t ps, eb_err *err)
{
	if (nfds < 1 || nfds > 128 || ps < 1024 || (ps & (ps - 1)))
		return eb_err_set(err, EB_EINVAL, "bbolt writer: bad arguments");
	eb_bw *w = calloc(1, sizeof *w);
	if (!w)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	memcpy(w->fds, fds, (size_t)nfds * sizeof *fds);
	w->nfds = nfds;
	w->ps = ps;
	w->next_pgid = 2;
	w->out_pgid = 2;
	*out = w;
	return 0;
}

void
eb_bw_free(eb_bw *w)
{
	if (!w)
		return;
	for (int i = 0; i < MAX_LEVELS; i++) {
		free(w->lv[i].e);
		eb_wbuf_dispose(&w->lv[i].data);
	}
	for (size_t i = 0; i < w->nb; i++)
		free(w->b[i].name);
	free(w->b);
	eb_wbuf_dispose(&w->out);
	eb_wbuf_dispose(&w->page);
	eb_wbuf_dispose(&w->last);
	free(w);
}

static size_t
page_bytes(const struct level *l)
{
	return 16 + 16 * l->n + l->data.len;
}

static int add_elem(eb_bw *w, int L, uint64_t a, const uint8_t *k, size_t kl,
                    const uint8_t *v, size_t vl, eb_err *err);

/* Writes level L's pending page and pushes (first key, pgid) up. */
static int
emit(eb_bw *w, int L, uint64_t *pgid_out, eb_err *err)
{
	struct level *l = &w->lv[L];
	size_t bytes = page_bytes(l);
	uint64_t pages = (bytes + w->ps - 1) / w->ps;
	if (pages == 0)
		pages = 1;
	if (l->n > 0xFFFF || pages - 1 > UINT32_MAX)
		return eb_err_set(err, EB_EINVAL, "bbolt writer: page too large");
	uint64_t id = w->next_pgid;
	w->next_pgid += pages;

	size_t total = (size_t)(pages * w->ps);
	if (w->out.len + total > OUTBUF) {
		int rc = flush_out(w, err);
		if (rc)
			return rc;
	}
	if (eb_wbuf_reserve(&w->out, total))
		return eb_err_set(err, EB_ENOMEM, "out of memory writing page %llu", (unsigned long long)id);
	uint8_t *p = w->out.p + w->out.len;
	memset(p, 0, total);
	eb_st_le64(p, id);
	eb_st_le16(p + 8, L == 0 ? F_LEAF : F_BRANCH);
	eb_st_le16(p + 10, (uint16_t)l->n);
	eb_st_le32(p + 12, (uint32_t)(pages - 1));
	for (size_t i = 0; i < l->n; i++) {
		uint8_t *e = p + 16 + 16 * i;
		uint32_t pos = (uint32_t)(16 * l->n + l->e[i].off - 16 * i);
		if (L == 0) {
			eb_st_le32(e, (uint32_t)l->e[i].a);
			eb_st_le32(e + 4, pos);
			eb_st_le32(e + 8, l->e[i].kl);
			eb_st_le32(e + 12, l->e[i].vl);
		} else {
			eb_st_le32(e, pos);
			eb_st_le32(e + 4, l->e[i].kl);
			eb_st_le64(e + 8, l->e[i].a);
		}
	}
	if (l->data.len)
		memcpy(p + 16 + 16 * l->n, l->data.p, l->data.len);
	w->out.len += total;
	l->emitted++;

	int rc = 0;
	if (pgid_out)
		*pgid_out = id;
	else if (l->n) /* push the first key to the parent level */
		rc = add_elem(w, L + 1, id, l->data.p, l->e[0].kl, NULL, 0, err);
	l->n = 0;
	eb_wbuf_reset(&l->data);
	return rc;
}

static int
add_elem(eb_bw *w, int L, uint64_t a, const uint8_t *k, size_t kl,
         const uint8_t *v, size_t vl, eb_err *err)
{
	if (L >= MAX_LEVELS)
		return eb_err_set(err, EB_EINVAL, "bbolt writer: tree too deep");
	if (kl > UINT32_MAX || vl > UINT32_MAX)
		return eb_err_set(err, EB_EINVAL, "bbolt writer: key or value too large");
	struct level *l = &w->lv[L];
	if (l->n && (page_bytes(l) + 16 + kl + vl > w->ps || l->n == 0xFFFF)) {
		/* The pending page is full.  k may point into this level's
		 * data only when called from emit, which never targets its
		 * own level, so emitting here cannot clobber k. */
		int rc = emit(w, L, NULL, err);
		if (rc)
			return rc;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 64;
		struct elem *ne = realloc(l->e, nc * sizeof *ne);
		if (!ne)
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		l->e = ne;
		l->cap = nc;
	}
	l->e[l->n] = (struct elem){.a = a, .off = l->data.len, .kl = (uint32_t)kl, .vl = (uint32_t)vl};
	eb_wbuf_put(&l->data, k, kl);
	eb_wbuf_put(&l->data, v, vl);
	if (eb_wbuf_check(&l->data, err))
		return EB_ENOMEM;
	l->n++;
	return 0;
}

/* Ends the tree being built; *root = its root page. */
static int
finish_tree(eb_bw *w, uint64_t *root, eb_err *err)
{
	int rc;
	for (int L = 0; L < MAX_LEVELS; L++) {
		struct level *l = &w->lv[L];
		if (l->emitted == 0) {
			rc = emit(w, L, root, err);
			for (int i = 0; i <= L; i++)
				w->lv[i].emitted = 0;
			return rc;
		}
		if (l->n && (rc = emit(w, L, NULL, err)))
			return rc;
	}
	return eb_err_set(err, EB_EINVAL, "bbolt writer: tree too deep");
}

static int
check_order(eb_bw *w, const uint8_t *k, size_t kl, eb_err *err)
{
	if (kl == 0)
		return eb_err_set(err, EB_EINVAL, "bbolt writer: empty key");
	if (w->have_last && eb_keycmp(w->last.p, w->last.len, k, kl) >= 0)
		return eb_err_set(err, EB_EINVAL, "bbolt writer: keys not in ascending order");
	eb_wbuf_reset(&w->last);
	eb_wbuf_put(&w->last, k, kl);
	w->have_last = 1;
	return eb_wbuf_check(&w->last, err);
}

int
eb_bw_bucket_begin(eb_bw *w, const uint8_t *name, size_t len, uint64_t seq,
                   eb_err *err)
{
	if (w->in_bucket)
		return eb_err_set(err, EB_EINVAL, "bbolt writer: nested bucket");
	if (len == 0 || (w->nb && eb_keycmp(w->b[w->nb - 1].name, w->b[w->nb - 1].len, name, len) >= 0))
		return eb_err_set(err, EB_EINVAL, "bbolt writer: bucket names not in ascending order");
	if (w->nb == w->capb) {
		size_t nc = w->capb ? 2 * w->capb : 16;
		struct bucket *nb = realloc(w->b, nc * sizeof *nb);
		if (!nb)
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		w->b = nb;
		w->capb = nc;
	}
	struct bucket *b = &w->b[w->nb];
	if (!(b->name = malloc(len)))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	memcpy(b->name, name, len);
	b->len = len;
	b->root = 0;
	b->seq = seq;
	w->nb++;
	w->in_bucket = 1;
	w->have_last = 0;
	return 0;
}

int
eb_bw_put(eb_bw *w, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
          eb_err *err)
{
	int rc;
	if (!w->in_bucket)
		return eb_err_set(err, EB_EINVAL, "bbolt writer: put outside a bucket");
	if ((rc = check_order(w, k, kl, err)))
		return rc;
	return add_elem(w, 0, 0, k, kl, v, vl, err);
}

int
eb_bw_bucket_end(eb_bw *w, eb_err *err)
{
	if (!w->in_bucket)
		return eb_err_set(err, EB_EINVAL, "bbolt writer: no bucket open");
	w->in_bucket = 0;
	return finish_tree(w, &w->b[w->nb - 1].root, err);
}

static void
meta_page(uint8_t *p, uint32_t ps, uint64_t id, uint64_t root, uint64_t pgid,
          uint64_t txid)
{
	memset(p, 0, ps);
	eb_st_le64(p, id);
	eb_st_le16(p + 8, F_META);
	uint8_t *m = p + 16;
	eb_st_le32(m, 0xED0CDAEDu);
	eb_st_le32(m + 4, 2);
	eb_st_le32(m + 8, ps);
	eb_st_le32(m + 12, 0);
	eb_st_le64(m + 16, root);
	eb_st_le64(m + 24, 0);
	eb_st_le64(m + 32, EB_BOLT_NO_FREELIST);
	eb_st_le64(m + 40, pgid);
	eb_st_le64(m + 48, txid);
	eb_st_le64(m + 56, eb_fnv1a64(m, 56));
}

int
eb_bw_finish(eb_bw *w, uint64_t *size, eb_err *err)
{
	int rc;
	if (w->in_bucket)
		return eb_err_set(err, EB_EINVAL, "bbolt writer: bucket still open");
	/* The root bucket: one leaf element per bucket, flags 1, value =
	 * bucket header {root, sequence}. */
	w->have_last = 0;
	for (size_t i = 0; i < w->nb; i++) {
		uint8_t hdr[16];
		eb_st_le64(hdr, w->b[i].root);
		eb_st_le64(hdr + 8, w->b[i].seq);
		if ((rc = add_elem(w, 0, 1, w->b[i].name, w->b[i].len, hdr, 16, err)))
			return rc;
	}
	uint64_t root;
	if ((rc = finish_tree(w, &root, err)) || (rc = flush_out(w, err)))
		return rc;
	/* Data pages durable before any meta page points at them. */
	for (int i = 0; i < w->nfds; i++)
		if (fdatasync(w->fds[i]))
			return eb_err_sys(err, EB_EIO, errno, "fsync database");
	eb_wbuf_reset(&w->page);
	if (eb_wbuf_reserve(&w->page, 2 * (size_t)w->ps))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	meta_page(w->page.p, w->ps, 0, root, w->next_pgid, 2);
	meta_page(w->page.p + w->ps, w->ps, 1, root, w->next_pgid, 1);
	for (int i = 0; i < w->nfds; i++) {
		if ((rc = write_all(w->fds[i], w->page.p, 2 * (size_t)w->ps, 0, err)))
			return rc;
		if (fsync(w->fds[i]))
			return eb_err_sys(err, EB_EIO, errno, "fsync database");
	}
	if (size)
		*size = w->next_pgid * w->ps;
	return 0;
}
