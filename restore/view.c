/* restore/view.c - see view.h.
 *
 * A `key` bucket record (docs/formats/snapshot.md):
 *
 *   key    main rev be64 | '_' | sub rev be64 [| 't' for a delete]   17/18 bytes
 *   value  mvccpb.KeyValue: 1 key, 2 create_revision, 3 mod_revision,
 *          4 version, 5 value, 6 lease (a delete carries the key only)
 *
 * The bbolt walk visits buckets in name order, so `meta` (the compaction
 * revisions) comes after `key`: whether the point is still held is known
 * at the end of the walk, and checked there. */
#include "restore/view.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/interrupt.h"
#include "restore/bbolt_read.h"
#include "restore/bolt_stream.h"
#include "restore/datadir.h"
#include "restore/fetch.h"
#include "restore/snapshot.h"
#include "storage/catalog.h"
#include "storage/segment.h"

static int
stage_temp(eb_view *v, eb_err *err)
{
	int rc = eb_temp_dir(v->tmp_dir, "etcd-backup-view", v->tmp, sizeof v->tmp, err);
	if (rc == 0)
		snprintf(v->path, sizeof v->path, "%s/snapshot.db", v->tmp);
	return rc;
}

/* The snapshot as a plain file in the temp dir: a file decoded, a
 * backup's or a point's full backup fetched. */
static int
stage(eb_view *v, eb_err *err)
{
	int rc = stage_temp(v, err);
	if (rc)
		return rc;
	if (v->file)
		return eb_decode_local(v->file, v->keys, v->path, NULL, err);
	if (v->have_m)
		return eb_fetch_manifest(v->st, &v->m, v->keys, v->path, NULL, err);
	return eb_fetch_manifest(v->plan.st, &v->plan.full, v->keys, v->path, NULL, err);
}

/* A backup of a store: its manifest (the HashKV etcd answered at backup
 * time). */
static int
open_backup(eb_view *v, const eb_view_src *s, eb_err *err)
{
	eb_store_opts so;
	int rc;
	eb_store_opts_init(&so);
	eb_manifest_init(&v->m);
	v->have_m = 1;
	if ((rc = eb_store_open(&v->st, s->store, s->store_opts ? s->store_opts : &so, err)) == 0)
		rc = eb_catalog_find(v->st, s->backup, s->keys, &v->m, err);
	if (rc)
		return rc;
	snprintf(v->id, sizeof v->id, "%s", v->m.id);
	v->cluster_id = v->m.cluster_id;
	v->has_hashkv = v->m.has_hashkv;
	v->hashkv = v->m.hashkv;
	v->hashkv_rev = v->m.hashkv_revision;
	return 0;
}

/* Step 1: the backup found, or the point planned; the snapshot staged
 * unless it streams (a plain file is read in place). */
int
eb_view_open(eb_view *v, const eb_view_src *s, eb_err *err)
{
	int rc, decode;
	memset(v, 0, sizeof *v);
	v->compact_rev = -1;
	v->keys = s->keys;
	v->rev = s->at_rev;
	v->tmp_dir = s->tmp_dir;
	v->stream = s->stream;
	if (s->file) {
		if ((decode = eb_local_needs_decoding(s->file, err)) < 0)
			return decode;
		if (!decode) {
			snprintf(v->path, sizeof v->path, "%s", s->file);
			return 0;
		}
		v->file = s->file;
	} else if (s->backup) {
		if ((rc = open_backup(v, s, err)))
			return rc;
	} else {
		if ((rc = eb_pitr_plan_make(s->store, s->store_opts, s->keys, &s->want, &v->plan, err)))
			return rc;
		v->have_plan = 1;
		v->rev = v->plan.rev;
		snprintf(v->id, sizeof v->id, "%s", v->plan.full.id);
		v->cluster_id = v->plan.full.cluster_id;
	}
	return v->stream ? 0 : stage(v, err);
}

struct walk {
	eb_view *v;
	eb_view_fn fn;
	void *ctx;
	int in_key, in_meta;
	int64_t upto;      /* INT64_MAX: all of the snapshot */
	int64_t sched, fin;
	uint64_t n;
};

static int
w_begin(void *ctx, const uint8_t *name, size_t len, uint64_t seq, eb_err *err)
{
	struct walk *w = ctx;
	(void)seq;
	(void)err;
	w->in_key = len == 3 && !memcmp(name, "key", 3);
	w->in_meta = len == 4 && !memcmp(name, "meta", 4);
	return 0;
}

static int
w_kv(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl, eb_err *err)
{
	struct walk *w = ctx;
	if (w->in_meta && vl >= 8) {
		if (kl == 19 && !memcmp(k, "scheduledCompactRev", 19))
			w->sched = (int64_t)eb_be64(val);
		if (kl == 18 && !memcmp(k, "finishedCompactRev", 18))
			w->fin = (int64_t)eb_be64(val);
	}
	if (!w->in_key)
		return 0;
	if ((kl != 17 && kl != 18) || k[8] != '_' || (kl == 18 && k[17] != 't'))
		return eb_err_set(err, EB_ECORRUPT, "a key bucket record has a %zu-byte key, not a revision", kl);
	eb_view_rec r = {.rev = (int64_t)eb_be64(k), .sub = (int64_t)eb_be64(k + 9), .tomb = kl == 18,
	                 .kv = val, .kv_len = vl};
	w->v->snap_rev = r.rev;
	if (r.rev > w->upto)
		return 0;
	if ((++w->n & 0xffff) == 0) {
		int rc = eb_interrupt_check(err, "reading the backup");
		if (rc < 0)
			return rc;
	}
	return w->fn(w->ctx, &r, err);
}

static int
on_streamed(void *ctx, int64_t rev, int64_t sub, int tomb, const eb_kv_fields *f, eb_err *err)
{
	struct walk *w = ctx;
	eb_view_rec r = {.rev = rev, .sub = sub, .tomb = tomb, .f = f};
	return rev > w->upto ? 0 : w->fn(w->ctx, &r, err);
}

/* The snapshot read as it is fetched or decoded: 0, 1 (it cannot be read
 * that way: staged instead), or an error. */
static int
stream_snapshot(struct walk *w, eb_err *err)
{
	eb_view *v = w->v;
	eb_bstream_opts o = *v->stream;
	eb_bstream_info info;
	eb_stream *sink = NULL;
	int rc;
	o.upto = w->upto == INT64_MAX ? 0 : w->upto;
	o.spill_dir = v->tmp_dir;
	/* the pipes decode on a worker thread: pages are sorted out there
	 * while the calling thread reads (and hashes) what follows */
	if ((rc = eb_bstream_new(&sink, &o, err)))
		return rc;
	if (v->file)
		rc = eb_decode_local_into(v->file, v->keys, sink, NULL, err);
	else if (v->have_m)
		rc = eb_catalog_fetch_proven(v->st, &v->m, v->keys, sink, err);
	else
		rc = eb_catalog_fetch_proven(v->plan.st, &v->plan.full, v->keys, sink, err);
	if (rc == 0)
		rc = eb_bstream_emit(sink, on_streamed, w, &info, err);
	eb_stream_free_chain(sink);
	if (rc == 0) {
		v->streamed = 1;
		v->snap_rev = info.last_rev;
		v->compact_rev = info.compact_rev;
	}
	return rc;
}

/* Step 2: the snapshot's records up to w->upto. */
static int
walk_snapshot(struct walk *w, eb_err *err)
{
	eb_snapshot s;
	eb_bolt *b = NULL;
	eb_bolt_visitor vis = {.ctx = w, .bucket_begin = w_begin, .kv = w_kv};
	int rc;
	if (!w->v->path[0] && (rc = stream_snapshot(w, err)) != 1)
		return rc;
	if (!w->v->path[0] && (rc = stage(w->v, err)))
		return rc;
	if ((rc = eb_snapshot_open(&s, w->v->path, err)))
		return rc;
	if ((rc = eb_bolt_open(&b, s.fd, s.db_size, err)) == 0)
		rc = eb_bolt_walk(b, &vis, NULL, err);
	eb_bolt_close(b);
	eb_snapshot_close(&s);
	if (rc)
		return rc;
	w->v->compact_rev = w->fin > 0 || w->sched > 0 ? (w->sched > w->fin ? w->sched : w->fin) : -1;
	return 0;
}

struct segw {
	struct walk *w;
	int64_t after;
};

static int
s_event(void *arg, int is_delete, int64_t rev, int64_t sub, int64_t ms, const uint8_t *kv,
        size_t kl, eb_err *err)
{
	struct segw *sw = arg;
	eb_view *v = sw->w->v;
	if (rev <= sw->after || rev > v->rev)
		return 0;
	if (!v->first_ms)
		v->first_ms = ms;
	v->last_ms = ms;
	eb_view_rec r = {.rev = rev, .sub = sub, .tomb = is_delete, .unix_ms = ms, .kv = kv, .kv_len = kl};
	return sw->w->fn(sw->w->ctx, &r, err);
}

/* Step 3: the chain's events above the snapshot, up to the point. */
static int
walk_segments(struct walk *w, const eb_read_keys *keys, eb_err *err)
{
	eb_wbuf b = {0};
	struct segw sw = {w, w->v->snap_rev};
	eb_seg_visitor vis = {.event = s_event, .arg = &sw};
	eb_seg_info info;
	int rc = 0;
	for (size_t i = 0; i < w->v->plan.chain.n && rc == 0; i++) {
		if ((rc = eb_interrupt_check(err, "reading the backup's segments")) < 0)
			break;
		rc = eb_pitr_fetch(&w->v->plan, i, keys, &b, err);
		if (rc == 0)
			rc = eb_seg_read(b.p, b.len, &vis, &info, err);
	}
	eb_wbuf_dispose(&b);
	return rc;
}

int
eb_view_walk(eb_view *v, eb_view_fn fn, void *ctx, eb_err *err)
{
	struct walk w = {.v = v, .fn = fn, .ctx = ctx, .upto = INT64_MAX};
	int64_t want = v->rev;
	int rc;
	if (want > 0 && !v->have_plan)
		w.upto = want;
	if ((rc = walk_snapshot(&w, err)))
		return rc;
	if (!v->have_plan && want > v->snap_rev)
		return eb_err_set(err, EB_EINVAL, "revision %" PRId64 " is after the backup's (%" PRId64 "): "
		                  "use a later backup, or --from STORE --at-revision for a continuous backup",
		                  want, v->snap_rev);
	if (want > 0 && want < v->compact_rev)
		return eb_err_set(err, EB_EINVAL, "revision %" PRId64 " is compacted away in this backup: it "
		                  "holds revisions %" PRId64 "-%" PRId64 " (use an older backup)",
		                  want, v->compact_rev, v->snap_rev);
	if (v->have_plan)
		rc = walk_segments(&w, v->keys, err);
	if (!v->rev)
		v->rev = v->snap_rev;
	return rc;
}

void
eb_view_close(eb_view *v)
{
	if (v->have_m)
		eb_manifest_dispose(&v->m);
	v->have_m = 0;
	if (v->st)
		eb_store_free(v->st);
	v->st = NULL;
	if (v->tmp[0])
		eb_dir_remove(v->tmp);
	v->tmp[0] = '\0';
	if (v->have_plan)
		eb_pitr_plan_dispose(&v->plan);
	v->have_plan = 0;
}
