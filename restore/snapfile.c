/* restore/snapfile.c - .snap file writer/reader.
 *
 *   snappb.Snapshot   {1: crc uint32 = CRC-32C(data), 2: data bytes}
 *   raftpb.Snapshot   {1: data = v2 JSON, 2: metadata}
 *   SnapshotMetadata  {1: conf_state {1: voter...; 5: auto_leave}, 2: index, 3: term}
 */
#include "restore/snapfile.h"

#include <stdio.h>
#include <string.h>

#include "restore/crc32c.h"

static void
node_head(eb_wbuf *b, const char *path, size_t idx)
{
	eb_wbuf_str(b, "{\"Path\":");
	eb_wbuf_json_str(b, path);
	eb_wbuf_fmt(b, ",\"CreatedIndex\":%zu,\"ModifiedIndex\":%zu,", idx, idx);
	eb_wbuf_str(b, "\"ExpireTime\":\"0001-01-01T00:00:00Z\",");
}

int
eb_v2_json(eb_wbuf *b, const eb_membership *c, const eb_raft_form *form, eb_err *err)
{
	char path[128];
	eb_wbuf attrs = {0};
	if (c->n > 1000)
		return eb_err_set(err, EB_EINVAL, "too many members");
	eb_wbuf_str(b, "{\"Root\":");
	node_head(b, "/", 0);
	eb_wbuf_str(b, "\"Value\":\"\",\"Children\":{\"0\":");
	node_head(b, "/0", 0);
	eb_wbuf_str(b, "\"Value\":\"\",\"Children\":{\"members\":");
	node_head(b, "/0/members", 1);
	eb_wbuf_str(b, "\"Value\":\"\",\"Children\":{");
	/* Children keys sorted byte-wise (Go map JSON order), not by id. */
	size_t order[EB_MAX_MEMBERS];
	eb_membership_hex_order(c, order);
	for (size_t oi = 0; oi < c->n; oi++) {
		size_t i = order[oi];
		const eb_rmember *m = &c->m[i];
		if (oi) eb_wbuf_u8(b, ',');
		eb_wbuf_json_str(b, m->hexid);
		eb_wbuf_u8(b, ':');
		snprintf(path, sizeof path, "/0/members/%s", m->hexid);
		node_head(b, path, i + 1);
		eb_wbuf_str(b, "\"Value\":\"\",\"Children\":{\"raftAttributes\":");
		snprintf(path, sizeof path, "/0/members/%s/raftAttributes", m->hexid);
		node_head(b, path, i + 1);
		eb_wbuf_reset(&attrs);
		eb_raft_attrs_json(&attrs, m);
		eb_wbuf_u8(&attrs, 0);
		eb_wbuf_str(b, "\"Value\":");
		eb_wbuf_json_str(b, attrs.oom ? "" : (char *)attrs.p);
		eb_wbuf_str(b, ",\"Children\":null}}}");
	}
	eb_wbuf_str(b, "}}}},\"1\":");
	node_head(b, "/1", 0);
	eb_wbuf_str(b, "\"Value\":\"\",\"Children\":{}}}},");
	eb_wbuf_str(b, "\"WatcherHub\":{\"EventHistory\":{\"Queue\":{\"Events\":[");
	for (size_t i = 0; i < 1000; i++) {
		if (i) eb_wbuf_u8(b, ',');
		if (i >= c->n) {
			eb_wbuf_str(b, "null");
			continue;
		}
		const eb_rmember *m = &c->m[i];
		snprintf(path, sizeof path, "/0/members/%s/raftAttributes", m->hexid);
		eb_wbuf_str(b, "{\"action\":\"create\",\"node\":{\"key\":");
		eb_wbuf_json_str(b, path);
		eb_wbuf_reset(&attrs);
		eb_raft_attrs_json(&attrs, m);
		eb_wbuf_u8(&attrs, 0);
		eb_wbuf_str(b, ",\"value\":");
		eb_wbuf_json_str(b, attrs.oom ? "" : (char *)attrs.p);
		eb_wbuf_fmt(b, ",\"modifiedIndex\":%zu,\"createdIndex\":%zu}}", i + 1, i + 1);
	}
	eb_wbuf_fmt(b, "],\"Size\":%zu,\"Front\":0,\"Back\":%zu,\"Capacity\":1000},", c->n, c->n);
	eb_wbuf_fmt(b, "\"StartIndex\":1,\"LastIndex\":%zu}},", c->n);
	eb_wbuf_fmt(b, "\"CurrentIndex\":%zu,", c->n);
	eb_wbuf_str(b, form->v2_gets_fail ? "\"Stats\":{\"getsSuccess\":0,\"getsFail\":1,"
	                                  : "\"Stats\":{\"getsSuccess\":0,\"getsFail\":0,");
	eb_wbuf_str(b, "\"setsSuccess\":0,\"setsFail\":0,"
	              "\"deleteSuccess\":0,\"deleteFail\":0,\"updateSuccess\":0,\"updateFail\":0,");
	eb_wbuf_fmt(b, "\"createSuccess\":%zu,", c->n);
	eb_wbuf_str(b, "\"createFail\":0,\"compareAndSwapSuccess\":0,\"compareAndSwapFail\":0,"
	              "\"compareAndDeleteSuccess\":0,\"compareAndDeleteFail\":0,\"expireCount\":0,"
	              "\"watchers\":0},\"CurrentVersion\":2}");
	int oom = attrs.oom;
	eb_wbuf_dispose(&attrs);
	if (oom)
		b->oom = 1;
	return eb_wbuf_check(b, err);
}

int
eb_snapfile_build(eb_wbuf *out, const eb_membership *c, const eb_raft_form *form, eb_err *err)
{
	eb_wbuf json = {0}, cs = {0}, md = {0}, snap = {0};
	int rc = eb_v2_json(&json, c, form, err);
	if (!rc) {
		eb_confstate(&cs, c, form);
		eb_pb_bytes(&md, 1, cs.p, cs.len);
		eb_pb_uint(&md, 2, c->n);
		eb_pb_uint(&md, 3, 1);
		eb_pb_bytes(&snap, 1, json.p, json.len);
		eb_pb_bytes(&snap, 2, md.p, md.len);
		if (!(rc = eb_wbuf_check(&cs, err)) && !(rc = eb_wbuf_check(&md, err)) &&
		    !(rc = eb_wbuf_check(&snap, err))) {
			eb_pb_uint(out, 1, eb_crc32c_update(0, snap.p, snap.len));
			eb_pb_bytes(out, 2, snap.p, snap.len);
			rc = eb_wbuf_check(out, err);
		}
	}
	eb_wbuf_dispose(&json);
	eb_wbuf_dispose(&cs);
	eb_wbuf_dispose(&md);
	eb_wbuf_dispose(&snap);
	return rc;
}

#define BAD(...) eb_err_set(err, EB_ECORRUPT, __VA_ARGS__)

int
eb_snapfile_read(const uint8_t *buf, size_t len, eb_snapfile_info *in, eb_err *err)
{
	eb_rd r;
	unsigned f, wt;
	uint64_t v, crc = 0;
	const uint8_t *d, *data = NULL, *md = NULL;
	size_t dl, datal = 0, mdl = 0;
	memset(in, 0, sizeof *in);
	if (len == 0)
		return BAD(".snap file is empty");
	eb_rd_init(&r, buf, len);
	while (eb_pb_next(&r, &f, &wt, &v, &d, &dl)) {
		if (f == 1 && wt == 0) crc = v;
		else if (f == 2 && wt == 2) { data = d; datal = dl; }
	}
	if (r.bad)
		return BAD(".snap file: undecodable");
	if (crc == 0 || !data || datal == 0)
		return BAD(".snap file: empty snapshot");
	if (eb_crc32c_update(0, data, datal) != crc)
		return BAD(".snap file: CRC mismatch");
	eb_rd_init(&r, data, datal);
	while (eb_pb_next(&r, &f, &wt, &v, &d, &dl)) {
		if (f == 1 && wt == 2) in->json_len = dl;
		else if (f == 2 && wt == 2) { md = d; mdl = dl; }
	}
	if (r.bad || !md)
		return BAD(".snap file: bad raft snapshot");
	eb_rd_init(&r, md, mdl);
	while (eb_pb_next(&r, &f, &wt, &v, &d, &dl)) {
		if (f == 2 && wt == 0) in->index = v;
		else if (f == 3 && wt == 0) in->term = v;
		else if (f == 1 && wt == 2) {
			eb_rd cr;
			eb_rd_init(&cr, d, dl);
			while (eb_pb_next(&cr, &f, &wt, &v, &d, &dl))
				if (f == 1 && wt == 0)
					in->voters++;
			if (cr.bad)
				return BAD(".snap file: bad ConfState");
		}
	}
	return r.bad ? BAD(".snap file: bad metadata") : 0;
}
