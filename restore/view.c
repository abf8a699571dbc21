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
#include "restore/datadir.h"
#include "restore/fetch.h"
#include "restore/snapshot.h"
#include "storage/segment.h"

static int
stage_temp(eb_view *v, const eb_view_src *s, eb_err *err)
{
	snprintf(v->tmp, sizeof v->tmp, "%s/etcd-backup-view.XXXXXX", s->tmp_dir ? s->tmp_dir : "/tmp");
	if (!mkdtemp(v->tmp)) {
		v->tmp[0] = '\0';
		return eb_err_set(err, EB_EIO, "cannot create a temp dir in %s (set --tmp-dir)",
		                  s->tmp_dir ? s->tmp_dir : "/tmp");
	}
	snprintf(v->path, sizeof v->path, "%s/snapshot.db", v->tmp);
	return 0;
}

/* A backup of a store: its manifest (the HashKV etcd answered at backup
 * time), then its snapshot. */
static int
open_backup(eb_view *v, const eb_view_src *s, eb_err *err)
{
	eb_manifest m;
	int rc = stage_temp(v, s, err);
	if (rc)
		return rc;
	rc = eb_fetch_backup_m(s->store, s->store_opts, s->keys, s->backup, v->path, &m, err);
	snprintf(v->id, sizeof v->id, "%s", m.id);
	v->cluster_id = m.cluster_id;
	v->has_hashkv = m.has_hashkv;
	v->hashkv = m.hashkv;
	v->hashkv_rev = m.hashkv_revision;
	eb_manifest_dispose(&m);
	return rc;
}

/* Step 1: the snapshot as a plain file (a file as it is, or decoded; a
 * backup fetched; a point's full backup fetched after planning). */
int
eb_view_open(eb_view *v, const eb_view_src *s, eb_err *err)
{
	int rc, decode;
	memset(v, 0, sizeof *v);
	v->compact_rev = -1;
	v->keys = s->keys;
	v->rev = s->at_rev;
	if (s->file) {
		if ((decode = eb_local_needs_decoding(s->file, err)) < 0)
			return decode;
		if (!decode) {
			snprintf(v->path, sizeof v->path, "%s", s->file);
			return 0;
		}
		if ((rc = stage_temp(v, s, err)))
			return rc;
		return eb_decode_local(s->file, s->keys, v->path, err);
	}
	if (s->backup)
		return open_backup(v, s, err);
	if ((rc = eb_pitr_plan_make(s->store, s->store_opts, s->keys, &s->want, &v->plan, err)))
		return rc;
	v->have_plan = 1;
	v->rev = v->plan.rev;
	snprintf(v->id, sizeof v->id, "%s", v->plan.full.id);
	v->cluster_id = v->plan.full.cluster_id;
	if ((rc = stage_temp(v, s, err)))
		return rc;
	return eb_fetch_manifest(v->plan.st, &v->plan.full, s->keys, v->path, err);
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

/* Step 2: the snapshot's records up to w->upto. */
static int
walk_snapshot(struct walk *w, eb_err *err)
{
	eb_snapshot s;
	eb_bolt *b = NULL;
	eb_bolt_visitor vis = {.ctx = w, .bucket_begin = w_begin, .kv = w_kv};
	int rc = eb_snapshot_open(&s, w->v->path, err);
	if (rc)
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
	if (v->tmp[0])
		eb_dir_remove(v->tmp);
	v->tmp[0] = '\0';
	if (v->have_plan)
		eb_pitr_plan_dispose(&v->plan);
	v->have_plan = 0;
}
