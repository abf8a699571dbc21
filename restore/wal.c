/* restore/wal.c - etcd WAL records (docs/formats/wal.md).
 *
 * Record framing (8-byte aligned):
 *   OFFSET  SIZE  content
 *   0       8     LE u64: low 56 bits = L; top byte 0x80|P when P != 0
 *   8       L     walpb.Record {1: type varint, 2: crc varint, 3: data bytes}
 *   8+L     P     zeros, P = (8 - L % 8) % 8
 * crc = CRC-32C chained over the data of every record so far (the CRC
 * record, type 4, carries the chain value at the start of the file). */
#include "restore/wal.h"

#include <string.h>

#include "restore/crc32c.h"

static void
record(eb_wbuf *out, uint32_t *chain, int type, const eb_wbuf *data)
{
	eb_wbuf r = {0};
	if (data)
		*chain = eb_crc32c_update(*chain, data->p, data->len);
	eb_pb_uint(&r, 1, (uint64_t)type);
	eb_pb_uint(&r, 2, *chain);
	if (data)
		eb_pb_bytes(&r, 3, data->p, data->len);
	if (r.oom) {
		out->oom = 1;
		eb_wbuf_dispose(&r);
		return;
	}
	size_t pad = (8 - r.len % 8) % 8;
	uint64_t lf = (uint64_t)r.len | (pad ? (uint64_t)(0x80 | pad) << 56 : 0);
	eb_wbuf_le64(out, lf);
	eb_wbuf_put(out, r.p, r.len);
	eb_wbuf_zero(out, pad);
	eb_wbuf_dispose(&r);
}

void
eb_raft_form_for(int minor, eb_raft_form *f)
{
	if (minor == 0)
		minor = 5;
	f->wal_confstate = minor >= 5;
	f->zero_fields = minor <= 6;
	f->v2_gets_fail = minor >= 6;
}

void
eb_confstate(eb_wbuf *b, const eb_membership *c, const eb_raft_form *form)
{
	for (size_t i = 0; i < c->n; i++)
		eb_pb_uint(b, 1, c->m[i].id);
	if (form->zero_fields)
		eb_pb_uint(b, 5, 0); /* auto_leave false */
}

int
eb_wal_build(eb_wbuf *out, const eb_membership *c, size_t local,
             const eb_raft_form *form, eb_err *err)
{
	uint32_t chain = 0;
	eb_wbuf d = {0}, cc = {0}, js = {0}, cs = {0};

	record(out, &chain, EB_WAL_CRC, NULL);
	eb_pb_uint(&d, 1, c->m[local].id);
	eb_pb_uint(&d, 2, c->cluster_id);
	record(out, &chain, EB_WAL_METADATA, &d);
	eb_wbuf_reset(&d);
	eb_pb_uint(&d, 1, 0);
	eb_pb_uint(&d, 2, 0);
	record(out, &chain, EB_WAL_SNAPSHOT, &d);
	for (size_t i = 0; i < c->n; i++) {
		eb_wbuf_reset(&js);
		eb_rmember_json(&js, &c->m[i]);
		eb_wbuf_reset(&cc);
		if (form->zero_fields)
			eb_pb_uint(&cc, 1, 0); /* ID */
		eb_pb_uint(&cc, 2, 0); /* AddNode */
		eb_pb_uint(&cc, 3, c->m[i].id);
		eb_pb_bytes(&cc, 4, js.p, js.len);
		eb_wbuf_reset(&d);
		eb_pb_uint(&d, 1, 1);     /* EntryConfChange */
		eb_pb_uint(&d, 2, 1);     /* Term */
		eb_pb_uint(&d, 3, i + 1); /* Index */
		eb_pb_bytes(&d, 4, cc.p, cc.len);
		record(out, &chain, EB_WAL_ENTRY, &d);
	}
	eb_wbuf_reset(&d);
	eb_pb_uint(&d, 1, 1);
	eb_pb_uint(&d, 2, c->m[0].id);
	eb_pb_uint(&d, 3, c->n);
	record(out, &chain, EB_WAL_STATE, &d);
	eb_wbuf_reset(&d);
	eb_pb_uint(&d, 1, c->n);
	eb_pb_uint(&d, 2, 1);
	if (form->wal_confstate) {
		eb_confstate(&cs, c, form);
		eb_pb_bytes(&d, 3, cs.p, cs.len);
	}
	record(out, &chain, EB_WAL_SNAPSHOT, &d);
	int oom = d.oom || cc.oom || js.oom || cs.oom || out->oom;
	eb_wbuf_dispose(&d);
	eb_wbuf_dispose(&cc);
	eb_wbuf_dispose(&js);
	eb_wbuf_dispose(&cs);
	return oom ? eb_err_set(err, EB_ENOMEM, "out of memory building the WAL") : 0;
}

/* ---- strict reader ---- */

#define BAD(...) eb_err_set(err, EB_ECORRUPT, __VA_ARGS__)

static int
read_snapshot(const uint8_t *p, size_t n, eb_wal_info *in, size_t at, eb_err *err)
{
	eb_rd r;
	unsigned f, wt;
	uint64_t v;
	const uint8_t *d;
	size_t dl;
	eb_rd_init(&r, p, n);
	in->snap_index = in->snap_term = 0;
	in->snap_voters = 0;
	while (eb_pb_next(&r, &f, &wt, &v, &d, &dl)) {
		if (f == 1 && wt == 0) in->snap_index = v;
		else if (f == 2 && wt == 0) in->snap_term = v;
		else if (f == 3 && wt == 2) {
			eb_rd cr;
			unsigned cf, cwt;
			eb_rd_init(&cr, d, dl);
			while (eb_pb_next(&cr, &cf, &cwt, &v, &d, &dl))
				if (cf == 1 && cwt == 0)
					in->snap_voters++;
			if (cr.bad)
				return BAD("WAL record at %zu: bad ConfState", at);
		}
	}
	return r.bad ? BAD("WAL record at %zu: bad snapshot message", at) : 0;
}

static int
read_entry(const uint8_t *p, size_t n, eb_wal_info *in, size_t at, eb_err *err)
{
	eb_rd r;
	unsigned f, wt;
	uint64_t v, idx = 0, term = 0;
	const uint8_t *d;
	size_t dl;
	eb_rd_init(&r, p, n);
	while (eb_pb_next(&r, &f, &wt, &v, &d, &dl)) {
		if (f == 2 && wt == 0) term = v;
		else if (f == 3 && wt == 0) idx = v;
	}
	if (r.bad)
		return BAD("WAL record at %zu: bad entry", at);
	if (in->entries && idx != in->last_index + 1)
		return BAD("WAL record at %zu: entry index %llu does not follow %llu", at,
		           (unsigned long long)idx, (unsigned long long)in->last_index);
	if (term == 0)
		return BAD("WAL record at %zu: entry with term 0", at);
	in->entries++;
	in->last_index = idx;
	return 0;
}

static int
read_u64s(const uint8_t *p, size_t n, uint64_t *a, uint64_t *b, uint64_t *c,
          size_t at, eb_err *err)
{
	eb_rd r;
	unsigned f, wt;
	uint64_t v;
	const uint8_t *d;
	size_t dl;
	eb_rd_init(&r, p, n);
	while (eb_pb_next(&r, &f, &wt, &v, &d, &dl)) {
		if (wt != 0)
			continue;
		if (f == 1) *a = v;
		else if (f == 2) *b = v;
		else if (f == 3 && c) *c = v;
	}
	return r.bad ? BAD("WAL record at %zu: bad message", at) : 0;
}

int
eb_wal_read(const uint8_t *buf, size_t len, eb_wal_info *in, eb_err *err)
{
	uint32_t chain = 0;
	size_t off = 0;
	int rc;
	memset(in, 0, sizeof *in);
	while (off + 8 <= len) {
		uint64_t lf = eb_le64(buf + off);
		if (lf == 0)
			break;
		uint64_t L = lf & 0x00FFFFFFFFFFFFFFull;
		unsigned top = (unsigned)(lf >> 56);
		uint64_t pad = (8 - L % 8) % 8;
		if ((pad == 0 && top != 0) || (pad != 0 && top != (0x80 | pad)))
			return BAD("WAL record at %zu: bad padding marker 0x%02x", off, top);
		if (L == 0 || L > len - off - 8 || pad > len - off - 8 - L)
			return BAD("WAL record at %zu: length %llu runs past the end (torn write?)", off, (unsigned long long)L);
		const uint8_t *rp = buf + off + 8;
		for (uint64_t i = 0; i < pad; i++)
			if (rp[L + i])
				return BAD("WAL record at %zu: non-zero padding", off);
		eb_rd r;
		unsigned f, wt;
		uint64_t v, type = 0, crc = 0;
		const uint8_t *d = NULL, *dd;
		size_t dl = 0, ddl;
		int have_crc = 0, have_data = 0;
		eb_rd_init(&r, rp, (size_t)L);
		while (eb_pb_next(&r, &f, &wt, &v, &dd, &ddl)) {
			if (f == 1 && wt == 0) type = v;
			else if (f == 2 && wt == 0) { crc = v; have_crc = 1; }
			else if (f == 3 && wt == 2) { d = dd; dl = ddl; have_data = 1; }
		}
		if (r.bad || !have_crc || crc > UINT32_MAX)
			return BAD("WAL record at %zu: undecodable record", off);
		if (type == EB_WAL_CRC) {
			if (chain != 0 && crc != chain)
				return BAD("WAL record at %zu: CRC record 0x%08llx != chain 0x%08x", off, (unsigned long long)crc, chain);
			chain = (uint32_t)crc;
		} else {
			if (have_data)
				chain = eb_crc32c_update(chain, d, dl);
			if (crc != chain)
				return BAD("WAL record at %zu: CRC mismatch (0x%08llx, chain 0x%08x)", off, (unsigned long long)crc, chain);
			switch (type) {
			case EB_WAL_METADATA:
				rc = read_u64s(d, dl, &in->node_id, &in->cluster_id, NULL, off, err);
				break;
			case EB_WAL_ENTRY:
				rc = read_entry(d, dl, in, off, err);
				break;
			case EB_WAL_STATE:
				rc = read_u64s(d, dl, &in->hs_term, &in->hs_vote, &in->hs_commit, off, err);
				break;
			case EB_WAL_SNAPSHOT:
				rc = read_snapshot(d, dl, in, off, err);
				break;
			default:
				rc = BAD("WAL record at %zu: unknown type %llu", off, (unsigned long long)type);
			}
			if (rc)
				return rc;
		}
		in->records++;
		off += 8 + (size_t)L + (size_t)pad;
	}
	in->end = off;
	if (in->records == 0)
		return BAD("WAL has no records");
	return 0;
}
