/* storage/segment.c - segment writer and reader (see segment.h for the
 * layout).  The reader trusts nothing: every length is bounded by what is
 * left, every revision is checked against the previous one. */
#include "storage/segment.h"

#include <string.h>

void
eb_seg_writer_init(eb_seg_writer *w, int64_t prev_rev)
{
	memset(w, 0, sizeof *w);
	w->prev_rev = prev_rev;
	eb_wbuf_put(&w->b, EB_SEG_MAGIC, 8);
	eb_wbuf_be64(&w->b, (uint64_t)prev_rev);
}

void
eb_seg_writer_dispose(eb_seg_writer *w)
{
	eb_wbuf_dispose(&w->b);
	eb_wbuf_dispose(&w->kv);
}

/* mvccpb.KeyValue as etcd marshals it: fields in order, zero ones left out */
static void
encode_kv(eb_wbuf *b, const uint8_t *key, size_t kl, const uint8_t *val, size_t vl,
          int64_t create, int64_t mod, int64_t version, int64_t lease)
{
	eb_wbuf_reset(b);
	if (kl)
		eb_pb_bytes(b, 1, key, kl);
	if (create)
		eb_pb_uint(b, 2, (uint64_t)create);
	if (mod)
		eb_pb_uint(b, 3, (uint64_t)mod);
	if (version)
		eb_pb_uint(b, 4, (uint64_t)version);
	if (vl)
		eb_pb_bytes(b, 5, val, vl);
	if (lease)
		eb_pb_uint(b, 6, (uint64_t)lease);
}

int
eb_seg_event(eb_seg_writer *w, int is_delete, int64_t rev, int64_t unix_ms,
             const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
             int64_t create_rev, int64_t version, int64_t lease, eb_err *err)
{
	int64_t want = w->events ? w->last_rev : w->prev_rev + 1;
	if (!(rev == want || (w->events && rev == want + 1)))
		return eb_err_set(err, EB_EINVAL, "segment: event at revision %lld after %lld: revisions must be contiguous",
		                  (long long)rev, (long long)(w->events ? w->last_rev : w->prev_rev));
	if (key_len == 0)
		return eb_err_set(err, EB_EINVAL, "segment: event at revision %lld without a key", (long long)rev);
	if (is_delete) /* a tombstone stores the key only */
		encode_kv(&w->kv, key, key_len, NULL, 0, 0, 0, 0, 0);
	else
		encode_kv(&w->kv, key, key_len, value, value_len, create_rev, rev, version, lease);
	if (w->kv.len > EB_SEG_MAX_KV)
		return eb_err_set(err, EB_EINVAL, "segment: a %zu-byte key-value at revision %lld is too large",
		                  w->kv.len, (long long)rev);
	eb_wbuf_u8(&w->b, is_delete ? 'D' : 'P');
	eb_wbuf_be64(&w->b, (uint64_t)rev);
	eb_wbuf_be64(&w->b, (uint64_t)unix_ms);
	eb_wbuf_be32(&w->b, (uint32_t)w->kv.len);
	eb_wbuf_put(&w->b, w->kv.p, w->kv.len);
	if (!w->events) {
		w->first_rev = rev;
		w->first_ms = unix_ms;
	}
	w->last_rev = rev;
	w->last_ms = unix_ms;
	w->events++;
	return eb_wbuf_check(&w->b, err) < 0 || eb_wbuf_check(&w->kv, err) < 0 ? EB_ENOMEM : 0;
}

int
eb_seg_lease(eb_seg_writer *w, int64_t id, int64_t granted_ttl, eb_err *err)
{
	eb_wbuf_u8(&w->b, 'L');
	eb_wbuf_be64(&w->b, (uint64_t)id);
	eb_wbuf_be64(&w->b, (uint64_t)granted_ttl);
	w->leases++;
	return eb_wbuf_check(&w->b, err) < 0 ? EB_ENOMEM : 0;
}

int
eb_seg_finish(eb_seg_writer *w, eb_err *err)
{
	if (!w->events)
		return eb_err_set(err, EB_EINVAL, "segment: no events");
	eb_wbuf_u8(&w->b, 'E');
	eb_wbuf_be64(&w->b, (uint64_t)w->first_rev);
	eb_wbuf_be64(&w->b, (uint64_t)w->last_rev);
	eb_wbuf_be64(&w->b, w->events);
	eb_wbuf_be64(&w->b, w->leases);
	return eb_wbuf_check(&w->b, err) < 0 ? EB_ENOMEM : 0;
}

static int64_t
rd_i64(eb_rd *r)
{
	const uint8_t *p = eb_rd_take(r, 8);
	return p ? (int64_t)eb_be64(p) : 0;
}

static int
bad(eb_err *err, size_t off, const char *what)
{
	return eb_err_set(err, EB_ECORRUPT, "segment: %s at byte %zu", what, off);
}

int
eb_seg_read(const uint8_t *p, size_t len, const eb_seg_visitor *v, eb_seg_info *info,
            eb_err *err)
{
	eb_rd r;
	const uint8_t *m;
	int64_t prev, last = 0, sub = 0;
	uint64_t events = 0, leases = 0;
	int rc;

	memset(info, 0, sizeof *info);
	eb_rd_init(&r, p, len);
	m = eb_rd_take(&r, 8);
	if (!m || memcmp(m, EB_SEG_MAGIC, 8))
		return bad(err, 0, "not a segment (no EBSEG v1 magic)");
	prev = rd_i64(&r);
	if (r.bad || prev < 0)
		return bad(err, 8, "bad previous revision");
	info->prev_rev = prev;
	last = prev;
	for (;;) {
		size_t at = r.off;
		const uint8_t *tag = eb_rd_take(&r, 1);
		if (!tag)
			return bad(err, at, "no end record (cut short)");
		if (*tag == 'P' || *tag == 'D') {
			int64_t rev = rd_i64(&r), ms = rd_i64(&r);
			uint32_t kl = eb_rd_be32(&r);
			const uint8_t *kv;
			if (r.bad)
				return bad(err, at, "event cut short");
			if (kl > EB_SEG_MAX_KV || kl > eb_rd_left(&r))
				return bad(err, at, "event length beyond the segment");
			kv = eb_rd_take(&r, kl);
			if (rev == last && events)
				sub++;
			else if (rev == last + 1)
				sub = 0;
			else
				return bad(err, at, "revision out of sequence");
			if (kl == 0)
				return bad(err, at, "event without a key-value");
			last = rev;
			events++;
			if (v && v->event && (rc = v->event(v->arg, *tag == 'D', rev, sub, ms, kv, kl, err)) < 0)
				return rc;
		} else if (*tag == 'L') {
			int64_t id = rd_i64(&r), ttl = rd_i64(&r);
			if (r.bad)
				return bad(err, at, "lease cut short");
			leases++;
			if (v && v->lease && (rc = v->lease(v->arg, id, ttl, err)) < 0)
				return rc;
		} else if (*tag == 'E') {
			int64_t first = rd_i64(&r), lst = rd_i64(&r);
			uint64_t ne = (uint64_t)rd_i64(&r), nl = (uint64_t)rd_i64(&r);
			if (r.bad)
				return bad(err, at, "end record cut short");
			if (!events || first != prev + 1 || lst != last || ne != events || nl != leases)
				return bad(err, at, "end record disagrees with the records");
			if (eb_rd_left(&r))
				return bad(err, r.off, "bytes after the end record");
			info->first_rev = first;
			info->last_rev = lst;
			info->events = ne;
			info->leases = nl;
			return 0;
		} else {
			return bad(err, at, "unknown record");
		}
	}
}
