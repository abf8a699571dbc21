/* agent/replicate.c - continuous backup (see replicate.h). */
#include "agent/replicate.h"

#include <inttypes.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/fsutil.h"
#include "common/interrupt.h"
#include "common/log.h"
#include "storage/catalog.h"
#include "storage/chain.h"
#include "storage/digest.h"
#include "storage/pipeline.h"
#include "storage/segment.h"
#include "storage/signed.h"

typedef struct rep {
	eb_store *st;
	const eb_replicate_opts *o;
	eb_replicate_stats *stats;
	eb_cluster cl;
	int probed;
	eb_member *m;
	/* the chain being written */
	char base[96];
	uint64_t cluster_id;
	eb_seg_writer w;
	int64_t next_rev;       /* the first revision not yet received */
	int64_t seg_start_ms;   /* monotonic time the open segment got its first event */
	int64_t full_ms;        /* monotonic time of the chain's full backup */
	/* a new full was taken (--full-interval) at switch_from, and its
	 * snapshot holds no revision past switch_rev: the old chain goes on up
	 * to switch_rev, the new one starts at switch_from (the revisions in
	 * between, which the snapshot may or may not hold, are in both: the
	 * watch is started again from switch_from + 1) */
	int64_t switch_rev, switch_from;
	char switch_base[96];
	int rewatch;            /* end this watch, watch again from next_rev */
	int64_t *leases;        /* lease IDs recorded in this chain, sorted */
	size_t nleases, capleases;
	int64_t lease;          /* the lock's lease (LOCK_TTL_S), 0 when not held */
	int64_t ka_ms;          /* monotonic time of the last keep-alive (atomic) */
	pthread_t ka_thread;    /* keeps the lease alive whatever the watch does */
	int ka_running, ka_stop, ka_lost; /* ka_stop, ka_lost: atomic */
	int partial;            /* the last message was a fragment: its last revision may go on */
	char lock_key[96];
	int compacted;          /* the watch was cancelled: history is gone */
	int64_t compact_rev;
	int stopped;            /* SIGTERM seen, open segment committed */
	int64_t metrics_ms;     /* monotonic time the textfile was last written */
} rep;


/* ---- the lock: one writer per store ----
 *
 * A key in etcd itself, /etcd-backup/replicate-lock/<sha256 of the store
 * URL>, created only if absent (Txn) under a lease of LOCK_TTL_S seconds
 * that the tick keeps alive.  etcd is the one thing every instance must
 * reach anyway, the lease ends by itself when a holder dies (kill -9,
 * lost node), and no store feature is needed (conditional writes differ
 * between S3 servers, and a folder may be on NFS).  Before each segment
 * commit the lease is renewed: an instance that lost it stops before
 * writing. */
#define LOCK_TTL_S 15
#define LOCK_RENEW_MS 5000

static void pause_ms(long long ms);
static int lock_renew(struct rep *r, int force, eb_err *err);
static void keepalive_start(struct rep *r);

/* Takes the lock, waiting while another instance holds it (a standby
 * takes over within LOCK_TTL_S of the holder's death).  SIGTERM while
 * waiting: r->stopped, 0. */
static int
lock_acquire(rep *r, eb_err *err)
{
	uint8_t d[EB_SHA256_LEN];
	char hex[65], host[128] = "?", val[512], holder[512], said[512] = "", ident[PATH_MAX + 16];
	int created = 0, rc;
	/* the store as it is, not as it was typed: DIR, DIR/, file://DIR and a
	 * link to DIR are one store, and so one lock */
	if ((rc = eb_store_identity(r->st, ident, sizeof ident, err)) < 0)
		return rc;
	eb_sha256_buf(ident, strlen(ident), d);
	eb_hex(d, EB_SHA256_LEN, hex);
	snprintf(r->lock_key, sizeof r->lock_key, "/etcd-backup/replicate-lock/%.32s", hex);
	gethostname(host, sizeof host - 1);
	snprintf(val, sizeof val, "host=%s pid=%ld store=%.300s", host, (long)getpid(), ident);
	if ((rc = eb_etcd_lease_grant(r->m->conn, LOCK_TTL_S, &r->lease, err)) < 0)
		return rc;
	for (;;) {
		if ((rc = eb_etcd_create_key(r->m->conn, r->lock_key, val, r->lease, &created, holder,
		                             sizeof holder, err)) < 0 || created)
			break;
		if (strcmp(said, holder)) { /* once per holder */
			EB_LOG(EB_LOG_WARN, "replicate", "another etcd-backup replicate writes to %s (lock %s held by "
			       "%s): waiting for it (a stopped one's lock ends within %d s)", r->st->url, r->lock_key,
			       holder[0] ? holder : "?", LOCK_TTL_S);
			snprintf(said, sizeof said, "%s", holder);
		}
		pause_ms(2000);
		if (eb_interrupted()) {
			r->stopped = 1;
			break;
		}
		if ((rc = lock_renew(r, 1, err)) < 0)
			break;
	}
	if (rc < 0 || !created) {
		eb_err e2;
		eb_err_init(&e2);
		eb_etcd_lease_revoke(r->m->conn, r->lease, &e2);
		r->lease = 0;
		return rc;
	}
	__atomic_store_n(&r->ka_ms, eb_mono_ms(), __ATOMIC_RELEASE);
	keepalive_start(r);
	EB_LOG(EB_LOG_INFO, "replicate", "holding the lock %s (lease %016" PRIx64 ", %d s)", r->lock_key,
	       (uint64_t)r->lease, LOCK_TTL_S);
	return 0;
}

/* The keep-alive thread: every LOCK_RENEW_MS, on a connection of its own
 * (the watch's may be busy for long with a large backlog, or its member
 * gone), to the endpoints in turn when one fails.  It marks the lease lost
 * when etcd says it is gone, or when no member answered for LOCK_TTL_S - 2
 * seconds; the writer checks that before every commit. */
static void *
keepalive_main(void *arg)
{
	rep *r = arg;
	eb_etcd *c = NULL;
	size_t at = 0;
	while (!__atomic_load_n(&r->ka_stop, __ATOMIC_ACQUIRE)) {
		int64_t ttl = 0, now = eb_mono_ms();
		eb_err e;
		eb_err_init(&e);
		if (now - __atomic_load_n(&r->ka_ms, __ATOMIC_ACQUIRE) >= LOCK_RENEW_MS) {
			if (!c && eb_etcd_open(&c, r->o->endpoints[at % r->o->nendpoints], r->o->etcd, &e) < 0)
				c = NULL;
			if (c && eb_etcd_lease_keepalive(c, r->lease, &ttl, &e) == 0) {
				if (ttl <= 0)
					__atomic_store_n(&r->ka_lost, 1, __ATOMIC_RELEASE);
				else
					__atomic_store_n(&r->ka_ms, eb_mono_ms(), __ATOMIC_RELEASE);
			} else if (c) {
				eb_etcd_close(c); /* the next member next time */
				c = NULL;
				at++;
			}
			if (eb_mono_ms() - __atomic_load_n(&r->ka_ms, __ATOMIC_ACQUIRE) >= (LOCK_TTL_S - 2) * 1000)
				__atomic_store_n(&r->ka_lost, 1, __ATOMIC_RELEASE);
		}
		usleep(100000);
	}
	if (c)
		eb_etcd_close(c);
	return NULL;
}

static void
keepalive_start(rep *r)
{
	__atomic_store_n(&r->ka_stop, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->ka_lost, 0, __ATOMIC_RELEASE);
	r->ka_running = pthread_create(&r->ka_thread, NULL, keepalive_main, r) == 0;
	if (!r->ka_running)
		EB_LOG(EB_LOG_WARN, "replicate", "cannot start the lock keep-alive thread: the lock is renewed "
		       "between watch messages only");
}

static void
keepalive_stop(rep *r)
{
	if (!r->ka_running)
		return;
	__atomic_store_n(&r->ka_stop, 1, __ATOMIC_RELEASE);
	pthread_join(r->ka_thread, NULL);
	r->ka_running = 0;
}

/* Is the lock still ours?  force (before a commit): ask etcd now.
 * EB_EEXIST when the lease is gone (another instance may hold the lock
 * now); a member that does not answer is retried until the lease would
 * have run out. */
static int
lock_renew(rep *r, int force, eb_err *err)
{
	int64_t ttl = 0, now = eb_mono_ms();
	eb_err e;
	if (!r->lease)
		return 0;
	if (__atomic_load_n(&r->ka_lost, __ATOMIC_ACQUIRE))
		return eb_err_set(err, EB_EEXIST, "lost the lock %s (its lease expired, or no member answered for %d "
		                  "s): another instance may write to %s now; stopping without committing", r->lock_key,
		                  LOCK_TTL_S - 2, r->st->url);
	if (!force && (r->ka_running || now - __atomic_load_n(&r->ka_ms, __ATOMIC_ACQUIRE) < LOCK_RENEW_MS))
		return 0;
	eb_err_init(&e);
	if (eb_etcd_lease_keepalive(r->m->conn, r->lease, &ttl, &e) == 0) {
		if (ttl <= 0)
			return eb_err_set(err, EB_EEXIST, "lost the lock %s (its lease expired): another instance may "
			                  "write to %s now; stopping without committing", r->lock_key, r->st->url);
		__atomic_store_n(&r->ka_ms, now, __ATOMIC_RELEASE);
		return 0;
	}
	if (now - __atomic_load_n(&r->ka_ms, __ATOMIC_ACQUIRE) >= (LOCK_TTL_S - 2) * 1000)
		return eb_err_set(err, EB_EEXIST, "cannot renew the lock %s (%s): stopping before it expires", r->lock_key,
		                  e.msg);
	return 0;
}

static void
lock_release(rep *r)
{
	eb_err e;
	keepalive_stop(r);
	eb_err_init(&e);
	if (r->lease && r->m && eb_etcd_lease_revoke(r->m->conn, r->lease, &e) < 0)
		EB_LOG(EB_LOG_WARN, "replicate", "releasing the lock: %s (it ends within %d s)", e.msg, LOCK_TTL_S);
	r->lease = 0;
}

/* ---- chain state ---- */

/* The chain to continue: of the proven full backups of the cluster etcd
 * reports, the one replicate continues (eb_chain_live: the chain that
 * reaches furthest; a plain snapshot never), and where it ends.  0 with
 * base "" when there is none (then a new full backup starts a chain). */
static int
find_chain(rep *r, eb_err *err)
{
	eb_catalog cat;
	eb_chain ch;
	unsigned char *ok = NULL;
	long li = -1;
	eb_err e1;
	int rc;
	eb_err_init(&e1);
	r->base[0] = 0;
	rc = eb_catalog_load(&cat, r->st, &e1);
	if (rc == EB_ENOTFOUND)
		return 0; /* a folder not made yet: the first full backup makes it */
	if (rc < 0)
		return eb_err_set(err, rc, "%s", e1.msg);
	if (!(ok = calloc(cat.n ? cat.n : 1, 1)))
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < cat.n; i++) {
		char why[512];
		if (cat.v[i].cluster_id != r->m->st.cluster_id)
			continue;
		rc = eb_catalog_prove(r->st, &cat.v[i], &cat.names, r->o->trusted, why, sizeof why, err);
		if (rc == 0)
			EB_LOG(EB_LOG_WARN, "replicate", "not continuing %s: %s", cat.v[i].id, why);
		ok[i] = rc > 0;
		rc = rc < 0 ? rc : 0;
	}
	if (rc == 0)
		li = eb_chain_live(&cat.names, cat.v, cat.n, r->m->st.cluster_id, ok, NULL);
	if (li >= 0) {
		const eb_manifest *b = &cat.v[li];
		rc = eb_chain_load(r->st, &cat.names, b->id, b->revision, r->o->trusted, &ch, err);
		if (rc == 0) {
			snprintf(r->base, sizeof r->base, "%s", b->id);
			r->next_rev = ch.last_rev + 1;
			if (ch.gap_after)
				EB_LOG(EB_LOG_WARN, "replicate", "the chain of %s has a gap after revision %" PRId64
				       ": continuing from there", b->id, ch.gap_after);
			EB_LOG(EB_LOG_INFO, "replicate", "resuming the chain of full backup %s (revision %" PRId64
			       ", %zu segments) at revision %" PRId64, b->id, b->revision, ch.n, r->next_rev);
			eb_chain_dispose(&ch);
		}
	}
	free(ok);
	eb_catalog_dispose(&cat);
	return rc;
}

/* *rev: the full's revision; *bound: no revision in its snapshot is newer */
static int
take_full(rep *r, char *id, size_t cap, int64_t *rev, int64_t *bound, eb_err *err)
{
	eb_manifest man;
	eb_backup_result res;
	eb_backup_opts bo = r->o->full;
	eb_cp_bundle cp = {0};
	int rc = 0;
	bo.cluster = &r->cl;
	bo.origin = EB_ORIGIN_REPLICATE;
	/* the control plane's files as they are now (certificates get renewed) */
	if (r->o->control_plane && (rc = eb_cp_collect(r->o->control_plane, &cp, err)) == 0)
		bo.cp = &cp;
	if (rc == 0)
		rc = eb_backup_run(r->m, r->st, &bo, &man, &res, err);
	eb_cp_bundle_dispose(&cp);
	if (rc < 0)
		return rc;
	snprintf(id, cap, "%s", man.id);
	*rev = man.revision;
	*bound = man.revision_bound > man.revision ? man.revision_bound : man.revision;
	r->stats->fulls++;
	EB_LOG(EB_LOG_INFO, "replicate", "full backup %s at revision %" PRId64 " (%.1fs)", man.id,
	       man.revision, res.seconds);
	eb_manifest_dispose(&man);
	return 0;
}

static void
start_chain(rep *r, const char *base, int64_t rev)
{
	if (base != r->base)
		snprintf(r->base, sizeof r->base, "%s", base);
	eb_seg_writer_dispose(&r->w);
	eb_seg_writer_init(&r->w, rev);
	r->next_rev = rev + 1;
	r->nleases = 0;
	r->partial = 0;
	r->full_ms = eb_mono_ms();
}

/* Drops the open segment (a revision was cut between fragments and the
 * watch ended: half a revision is never committed); the next watch starts
 * after the last committed revision and brings it all again. */
static void
discard_open(rep *r)
{
	int64_t committed = r->w.prev_rev;
	if (r->w.events)
		EB_LOG(EB_LOG_INFO, "replicate", "dropping the open segment (revisions %" PRId64 "-%" PRId64 ", the "
		       "last one cut between messages): the watch resumes after revision %" PRId64, r->w.first_rev,
		       r->w.last_rev, committed);
	eb_seg_writer_dispose(&r->w);
	eb_seg_writer_init(&r->w, committed);
	r->next_rev = committed + 1;
	r->nleases = 0; /* leases it recorded are recorded again */
	r->partial = 0;
}

/* ---- one segment into the store ---- */

static int
store_object(rep *r, eb_segman *sm, eb_err *err)
{
	const eb_backup_opts *f = &r->o->full;
	eb_pipe_opts po = {
		.zstd = strcmp(f->compression, "zstd") == 0 ? EB_PIPE_ZSTD : EB_PIPE_PLAIN,
		.level = f->level,
		.rcpt = f->age,
		.own_tail = 1,
	};
	eb_pipe pipe = {0};
	eb_stream *sink = NULL;
	uint8_t d[EB_SHA256_LEN];
	int rc = eb_store_put_stream(r->st, sm->object, &sink, err);
	if (rc == 0)
		rc = eb_pipe_encode(&pipe, &po, sink, err);
	if (rc == 0)
		rc = eb_stream_write(pipe.head, r->w.b.p, r->w.b.len, err);
	if (rc == 0)
		rc = eb_stream_finish(pipe.head, err); /* the object commits here */
	if (rc == 0) {
		eb_sha256_stage_digest(pipe.stored, d);
		eb_hex(d, EB_SHA256_LEN, sm->stored_sha256);
		sm->stored_size = pipe.stored->nbytes_in;
	}
	eb_pipe_dispose(&pipe);
	return rc;
}

static void
live_hashkv(rep *r, eb_segman *sm)
{
	int64_t crev, hrev;
	eb_err e;
	eb_err_init(&e);
	if (eb_etcd_hashkv(r->m->conn, sm->last_rev, &sm->hashkv, &crev, &hrev, &e) == 0) {
		sm->has_hashkv = 1;
		sm->hashkv_compact_rev = crev;
	} else {
		EB_LOG(EB_LOG_DEBUG, "replicate", "no HashKV at revision %" PRId64 ": %s", sm->last_rev, e.msg);
	}
}

/* Commits the open segment (if it has events) and opens the next one. */
static int
flush(rep *r, eb_err *err)
{
	eb_segman sm;
	char name[256], *json = NULL;
	uint8_t d[EB_SHA256_LEN];
	int rc;
	if (!r->w.events)
		return 0;
	memset(&sm, 0, sizeof sm);
	rc = eb_seg_finish(&r->w, err);
	snprintf(sm.base, sizeof sm.base, "%s", r->base);
	sm.cluster_id = r->cluster_id;
	sm.prev_rev = r->w.prev_rev;
	sm.first_rev = r->w.first_rev;
	sm.last_rev = r->w.last_rev;
	sm.events = r->w.events;
	sm.leases = r->w.leases;
	sm.first_ms = r->w.first_ms;
	sm.last_ms = r->w.last_ms;
	snprintf(sm.compression, sizeof sm.compression, "%s", r->o->full.compression);
	snprintf(sm.encryption, sizeof sm.encryption, "%s",
	         r->o->full.age && r->o->full.age->n ? "age" : "none");
	snprintf(sm.object, sizeof sm.object, "%s.seg.%" PRId64 "-%" PRId64 "%s%s", sm.base,
	         sm.first_rev, sm.last_rev, strcmp(sm.compression, "zstd") ? "" : ".zst",
	         strcmp(sm.encryption, "age") ? "" : ".age");
	eb_sha256_buf(r->w.b.p, r->w.b.len, d);
	eb_hex(d, EB_SHA256_LEN, sm.plain_sha256);
	sm.plain_size = r->w.b.len;
	if (rc == 0)
		rc = lock_renew(r, 1, err); /* still ours: nobody else writes this chain */
	if (rc == 0)
		rc = store_object(r, &sm, err);
	if (rc == 0) {
		live_hashkv(r, &sm);
		rc = eb_segman_to_json(&sm, &json, err);
	}
	/* the signature before the manifest (as for backups), then the
	 * COMMIT POINT: the manifest makes the segment exist; a failure
	 * removes the signature and the object */
	eb_segman_name(sm.base, sm.first_rev, sm.last_rev, name, sizeof name);
	if (rc == 0)
		rc = eb_store_commit_signed(r->st, name, json, r->o->full.signer, sm.object, err);
	else if (sm.stored_size) {
		eb_err e2;
		eb_err_init(&e2);
		eb_store_delete(r->st, sm.object, &e2);
	}
	free(json);
	if (rc < 0)
		return eb_err_context(err, "segment %" PRId64 "-%" PRId64 " not stored", sm.first_rev,
		                      sm.last_rev);
	r->stats->segments++;
	r->stats->last_rev = sm.last_rev;
	r->stats->last_segment_ms = eb_wall_ms();
	EB_LOG(EB_LOG_INFO, "replicate", "segment %s: revisions %" PRId64 "-%" PRId64 ", %" PRIu64
	       " events, %" PRIu64 " bytes stored", name, sm.first_rev, sm.last_rev, sm.events, sm.stored_size);
	eb_seg_writer_dispose(&r->w);
	eb_seg_writer_init(&r->w, sm.last_rev);
	return 0;
}

/* ---- the watch ---- */

static int
lease_seen(rep *r, int64_t id)
{
	size_t lo = 0, hi = r->nleases;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->leases[mid] == id)
			return 1;
		if (r->leases[mid] < id) lo = mid + 1; else hi = mid;
	}
	{
		void *t = r->leases;
		if (eb_array_grow(&t, &r->capleases, r->nleases + 1, sizeof *r->leases) < 0)
			return 1; /* recorded again later; never lost */
		r->leases = t;
	}
	memmove(r->leases + lo + 1, r->leases + lo, (r->nleases - lo) * sizeof *r->leases);
	r->leases[lo] = id;
	r->nleases++;
	return 0;
}

static int
record_lease(rep *r, int64_t id, eb_err *err)
{
	int64_t granted = 0, ttl = 0;
	eb_err e;
	if (lease_seen(r, id))
		return 0;
	eb_err_init(&e);
	if (eb_etcd_lease_ttl(r->m->conn, id, &granted, &ttl, &e) < 0 || ttl < 0) {
		/* gone already: its keys' deletes follow in the watch */
		EB_LOG(EB_LOG_DEBUG, "replicate", "lease %016" PRIx64 ": %s", (uint64_t)id,
		       e.msg[0] ? e.msg : "expired");
		return 0;
	}
	return eb_seg_lease(&r->w, id, granted, err);
}

/* Ends the old chain once every event up to the new full's bound is in it;
 * the new chain starts from that full's revision.  1: the watch must start
 * again from there (the revisions between are wanted a second time). */
static int
maybe_switch(rep *r, int64_t upcoming_rev, eb_err *err)
{
	int rc;
	if (!r->switch_rev || upcoming_rev <= r->switch_rev)
		return 0;
	if ((rc = flush(r, err)) < 0)
		return rc;
	start_chain(r, r->switch_base, r->switch_from);
	r->rewatch = r->switch_from < r->switch_rev;
	r->switch_rev = r->switch_from = 0;
	return r->rewatch;
}

static int
on_events(rep *r, const eb_watch_resp *resp, eb_err *err)
{
	/* after a fragment, its last revision may go on in this message */
	int64_t now = eb_wall_ms(), from = r->next_rev - (r->partial ? 1 : 0);
	int rc;
	if (resp->header_revision > r->stats->etcd_rev)
		r->stats->etcd_rev = resp->header_revision;
	if (resp->canceled) {
		r->compacted = resp->compact_revision > 0;
		r->compact_rev = resp->compact_revision;
		if (!r->compacted)
			return eb_err_set(err, EB_EREMOTE, "etcd %s cancelled the watch: %s", r->m->endpoint,
			                  resp->cancel_reason[0] ? resp->cancel_reason : "no reason given");
		return 1;
	}
	for (size_t i = 0; i < resp->n; i++) {
		const eb_watch_event *e = &resp->events[i];
		if (e->mod_revision < from)
			continue; /* had it before a reconnect (a revision never spans responses) */
		if ((rc = maybe_switch(r, e->mod_revision, err)) != 0)
			return rc; /* 1: watched again from the new chain's start */
		/* a full segment commits at a revision boundary, inside a message
		 * too: a backlog of any size becomes segments of about
		 * --segment-max-bytes (one revision is never split) */
		if (r->w.events && e->mod_revision > r->w.last_rev && r->w.b.len >= r->o->segment_max_bytes &&
		    (rc = flush(r, err)) < 0)
			return rc;
		if (!r->w.events)
			r->seg_start_ms = eb_mono_ms();
		rc = eb_seg_event(&r->w, e->is_delete, e->mod_revision, now, e->key, e->key_len, e->value,
		                  e->value_len, e->create_revision, e->version, e->lease, err);
		if (rc == 0 && e->lease && !e->is_delete)
			rc = record_lease(r, e->lease, err);
		if (rc < 0)
			return rc;
		r->next_rev = e->mod_revision + 1;
		r->stats->events++;
	}
	r->partial = resp->fragment && resp->n;
	return 0;
}

static int
full_due(const rep *r)
{
	return r->o->full_interval_ms > 0 && !r->switch_rev &&
	       eb_mono_ms() - r->full_ms >= r->o->full_interval_ms;
}

/* ---- metrics: a textfile for node_exporter, every few seconds ----
 *
 *   etcd_backup_replicate_lag_revisions   etcd's newest revision - the last committed
 *   etcd_backup_replicate_lag_seconds     age of the oldest change not yet committed
 *   etcd_backup_replicate_last_segment_timestamp_seconds, _last_revision,
 *   _segments_total, _events_total, _gaps_total, _full_backups_total,
 *   _reconnects_total, _up */
#define METRICS_EVERY_MS 5000

static void
write_metrics(rep *r, int up)
{
	const eb_replicate_stats *s = r->stats;
	int64_t now = eb_wall_ms(), lag = s->etcd_rev > s->last_rev ? s->etcd_rev - s->last_rev : 0;
	double lag_s = r->w.events ? (double)(now - r->w.first_ms) / 1000.0 : 0.0;
	eb_buf b;
	eb_err e;
	if (!r->o->metrics_file)
		return;
	if (r->w.events == 0 && s->etcd_rev <= s->last_rev)
		lag = 0;
	eb_buf_init(&b);
#define G(name, help, type, fmt, v) \
	eb_buf_printf(&b, "# HELP etcd_backup_replicate_" name " " help "\n# TYPE etcd_backup_replicate_" name \
	              " " type "\netcd_backup_replicate_" name " " fmt "\n", v)
	G("up", "1 while replicate runs, 0 once it stopped", "gauge", "%d", up);
	G("lag_revisions", "etcd's newest revision minus the last committed one", "gauge", "%lld", (long long)lag);
	G("lag_seconds", "age of the oldest change not yet in a committed segment", "gauge", "%.3f", lag_s);
	G("last_revision", "the last revision in a committed segment", "gauge", "%lld", (long long)s->last_rev);
	G("last_segment_timestamp_seconds", "when the last segment was committed", "gauge", "%.3f",
	  (double)s->last_segment_ms / 1000.0);
	G("segments_total", "segments committed", "counter", "%llu", (unsigned long long)s->segments);
	G("events_total", "etcd changes recorded", "counter", "%llu", (unsigned long long)s->events);
	G("gaps_total", "history etcd compacted before it was read", "counter", "%llu", (unsigned long long)s->gaps);
	G("full_backups_total", "full backups taken", "counter", "%llu", (unsigned long long)s->fulls);
	G("reconnects_total", "watches lost and resumed", "counter", "%llu", (unsigned long long)s->reconnects);
#undef G
	eb_err_init(&e);
	if (eb_buf_status(&b) == 0 && eb_write_file_atomic(r->o->metrics_file, b.p, b.len, EB_WRITE_PUBLIC, &e) < 0)
		EB_LOG(EB_LOG_WARN, "replicate", "metrics: %s", e.msg);
	eb_buf_dispose(&b);
	r->metrics_ms = eb_mono_ms();
}

static int
on_tick(rep *r, eb_err *err)
{
	int rc;
	if (eb_mono_ms() - r->metrics_ms >= METRICS_EVERY_MS)
		write_metrics(r, 1);
	if ((rc = lock_renew(r, 0, err)) < 0)
		return rc;
	if (r->partial)
		return 0; /* the rest of a revision is on its way: nothing commits half of it */
	if (eb_interrupted()) {
		/* SIGTERM: the open segment commits (a second signal stops it) */
		eb_interrupt_drain(1);
		rc = flush(r, err);
		eb_interrupt_drain(0);
		if (rc < 0)
			return rc;
		r->stopped = 1;
		return 1;
	}
	if (r->w.events && (eb_mono_ms() - r->seg_start_ms >= r->o->segment_interval_ms ||
	                    r->w.b.len >= r->o->segment_max_bytes) &&
	    (rc = flush(r, err)) < 0)
		return rc;
	if (full_due(r)) {
		int64_t rev, bound;
		if ((rc = flush(r, err)) < 0 ||
		    (rc = take_full(r, r->switch_base, sizeof r->switch_base, &rev, &bound, err)) < 0)
			return rc;
		r->switch_rev = bound;
		r->switch_from = rev;
	}
	/* the new full is at or below what arrived: switch now */
	if (r->switch_rev && r->next_rev > r->switch_rev && !r->w.events)
		return maybe_switch(r, r->switch_rev + 1, err);
	return 0;
}

static int
watch_fn(void *arg, const eb_watch_resp *resp, eb_err *err)
{
	rep *r = arg;
	int rc = resp ? on_events(r, resp, err) : 0;
	if (rc == 0 && !r->partial && r->w.b.len >= r->o->segment_max_bytes)
		rc = flush(r, err);
	if (rc == 0)
		rc = on_tick(r, err);
	return rc;
}

/* ---- members ---- */

static int
connect_member(rep *r, eb_err *err)
{
	int rc;
	if (r->probed) {
		eb_cluster_dispose(&r->cl);
		r->probed = 0;
	}
	rc = eb_cluster_probe(&r->cl, r->o->endpoints, r->o->nendpoints, r->o->etcd, err);
	if (rc < 0)
		return rc;
	r->probed = 1;
	rc = eb_cluster_pick(&r->cl, r->o->member, &r->m, err);
	if (rc == 0 && r->cluster_id && r->m->st.cluster_id != r->cluster_id)
		rc = eb_err_set(err, EB_EINVAL, "member %s belongs to cluster %016" PRIx64 ", not %016" PRIx64,
		                r->m->endpoint, r->m->st.cluster_id, r->cluster_id);
	if (rc == 0) {
		r->cluster_id = r->m->st.cluster_id;
		EB_LOG(EB_LOG_INFO, "replicate", "watching %s (member %016" PRIx64 ", revision %" PRId64 ")",
		       r->m->endpoint, r->m->st.member_id, r->m->st.revision);
	}
	return rc;
}

/* History is gone (or there is no full backup yet): a new full starts a
 * new chain. */
static int
new_chain(rep *r, eb_err *err)
{
	char id[96];
	int64_t rev, bound;
	int rc;
	if ((rc = flush(r, err)) < 0 || (rc = take_full(r, id, sizeof id, &rev, &bound, err)) < 0)
		return rc;
	start_chain(r, id, rev);
	return 0;
}

static void
pause_ms(long long ms)
{
	for (long long t = 0; t < ms && !eb_interrupted(); t += 100)
		usleep(100000);
}

int
eb_replicate_run(eb_store *st, const eb_replicate_opts *o, eb_replicate_stats *stats, eb_err *err)
{
	rep r;
	int rc;
	memset(&r, 0, sizeof r);
	memset(stats, 0, sizeof *stats);
	r.st = st;
	r.o = o;
	r.stats = stats;
	eb_seg_writer_init(&r.w, 0);

	/* 1. a member, and the chain to continue (or a first full backup) */
	rc = connect_member(&r, err);
	if (rc == 0)
		rc = lock_acquire(&r, err);
	if (rc == 0 && !r.stopped)
		rc = find_chain(&r, err);
	if (rc == 0 && !r.stopped && r.base[0])
		start_chain(&r, r.base, r.next_rev - 1); /* continue it */
	else if (rc == 0 && !r.stopped)
		rc = new_chain(&r, err);                 /* none: a first full backup */
	/* 2. watch until stopped; reconnect on failure, new chain on compaction */
	while (rc == 0 && !r.stopped && !eb_interrupted()) {
		eb_err we;
		eb_err_init(&we);
		r.compacted = 0;
		rc = eb_etcd_watch(r.m->conn, r.next_rev, watch_fn, &r, &we);
		if (rc == 0 && r.rewatch) { /* a new chain: its revisions from its full on */
			r.rewatch = 0;
			continue;
		}
		if (rc == 0 && r.compacted) {
			stats->gaps++;
			EB_LOG(EB_LOG_WARN, "replicate", "GAP: etcd compacted revisions up to %" PRId64
			       " before they were read (chain of %s ends at %" PRId64 "); taking a new full backup",
			       r.compact_rev, r.base, r.next_rev - 1);
			rc = new_chain(&r, err);
			continue;
		}
		if (rc == EB_EIO || rc == EB_ENOMEM || rc == EB_EINVAL || rc == EB_ECORRUPT || rc == EB_EEXIST) {
			eb_err_set(err, rc, "%s", we.msg); /* the store or our data: retrying cannot help */
			break;
		}
		if (rc < 0 || (rc == 0 && !r.stopped)) {
			/* the member went away: commit what arrived, then another member */
			eb_err fe;
			eb_err_init(&fe);
			EB_LOG(EB_LOG_WARN, "replicate", "watch on %s ended: %s; reconnecting", r.m->endpoint,
			       we.msg[0] ? we.msg : "stream closed");
			if (r.partial)
				discard_open(&r);
			else if ((rc = flush(&r, &fe)) < 0) {
				eb_err_set(err, rc, "%s", fe.msg);
				break;
			}
			stats->reconnects++;
			do {
				pause_ms(o->reconnect_ms);
				eb_err_init(&fe);
				rc = eb_interrupted() ? 0 : connect_member(&r, &fe);
				if (rc < 0)
					EB_LOG(EB_LOG_WARN, "replicate", "no member to watch: %s", fe.msg);
			} while (rc < 0 && !eb_interrupted());
		}
	}
	/* 3. stopped: whatever is open is committed (never half a revision),
	 * then the lock released */
	if (rc == 0 && !r.stopped && r.partial)
		discard_open(&r);
	if (rc == 0 && !r.stopped)
		rc = flush(&r, err);
	keepalive_stop(&r);
	if (rc != EB_EEXIST)
		lock_release(&r);
	write_metrics(&r, 0);
	eb_seg_writer_dispose(&r.w);
	free(r.leases);
	if (r.probed)
		eb_cluster_dispose(&r.cl);
	return rc;
}
