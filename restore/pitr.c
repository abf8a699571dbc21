/* restore/pitr.c - see pitr.h. */
#include "restore/pitr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "crypt/age_stage.h"
#include "storage/digest.h"
#include "storage/segment.h"
#include "storage/zstd_stage.h"

#define MAX_SEGMENT (1u << 30)

void
eb_pitr_plan_dispose(eb_pitr_plan *p)
{
	eb_chain_dispose(&p->chain);
	eb_manifest_dispose(&p->full);
	if (p->st)
		eb_store_free(p->st);
	p->st = NULL;
}

int
eb_pitr_fetch(const eb_pitr_plan *p, size_t i, const eb_read_keys *k, eb_wbuf *out, eb_err *err)
{
	return eb_chain_fetch(p->st, &p->chain.v[i], k, out, err);
}

/* ---- choosing ---- */

typedef struct cover {
	size_t full;         /* index in the catalog */
	int64_t from, to;    /* revisions restorable: the full's .. the chain's last */
	int64_t beyond;      /* > to: segments of this chain end there, past a hole */
	int64_t from_ms, to_ms; /* the full's creation, the chain's last change */
} cover;

static int
by_from(const void *a, const void *b)
{
	const cover *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

/* "covered: revisions A-B (...); C-D (...); nearest: B and C", oldest first */
static void
describe(eb_buf *b, const eb_catalog *cat, cover *cv, size_t n, int64_t rev)
{
	int64_t below = -1, above = -1;
	if (!n) {
		eb_buf_puts(b, "the store has no full backup");
		return;
	}
	if (n > 1)
		qsort(cv, n, sizeof *cv, by_from);
	eb_buf_puts(b, "covered:");
	for (size_t i = 0; i < n; i++) {
		eb_buf_printf(b, "%s revisions %" PRId64 "-%" PRId64 " (full backup %s%s)", i ? ";" : "",
		              cv[i].from, cv[i].to, cat->v[cv[i].full].id,
		              cv[i].to > cv[i].from ? " and its segments" : "");
		if (cv[i].to < rev && cv[i].to > below)
			below = cv[i].to;
		if (cv[i].from > rev && (above < 0 || cv[i].from < above))
			above = cv[i].from;
	}
	if (rev > 0 && (below > 0 || above > 0)) {
		eb_buf_puts(b, "; nearest:");
		if (below > 0)
			eb_buf_printf(b, " %" PRId64 " (before)", below);
		if (above > 0)
			eb_buf_printf(b, " %" PRId64 " (after)", above);
	}
}

/* The restorable revision range of every full backup of cid, from segment
 * names only; with times, each chain's last change time too (its last
 * segment's manifest: read only for --to-time). */
static int
covers(eb_store *st, const eb_catalog *cat, uint64_t cid, int times, cover **out, size_t *n, eb_err *err)
{
	cover *cv = calloc(cat->n ? cat->n : 1, sizeof *cv);
	size_t k = 0;
	if (!cv)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	for (size_t i = 0; i < cat->n; i++) {
		eb_chain_span sp;
		if (cat->v[i].cluster_id != cid)
			continue; /* another cluster's revisions mean nothing here */
		eb_chain_scan(&cat->names, cat->v[i].id, cat->v[i].revision, &sp);
		cv[k].full = i;
		cv[k].from = cat->v[i].revision;
		cv[k].to = sp.last_rev;
		cv[k].beyond = sp.beyond;
		cv[k].from_ms = cat->v[i].created_unix * 1000;
		cv[k].to_ms = cv[k].from_ms;
		if (sp.n && times) { /* the time of the chain's last change: its last manifest */
			eb_segman sm;
			eb_err e;
			eb_err_init(&e);
			if (eb_segman_load(st, sp.last_name, NULL, &sm, &e) == 0)
				cv[k].to_ms = sm.last_ms;
		}
		k++;
	}
	/* A full backup at the revision a chain's last change made proves that
	 * nothing changed between that change and the full's creation: the
	 * chain's time reaches that far (a quiet spell before a --full-interval
	 * switch is not a gap). */
	for (size_t i = 0; times && i < k; i++)
		for (size_t j = 0; j < k; j++)
			if (j != i && cv[j].from == cv[i].to && cv[j].from_ms > cv[i].to_ms)
				cv[i].to_ms = cv[j].from_ms;
	*out = cv;
	*n = k;
	return 0;
}

/* The newest revision received at or before time_ms in segment i. */
typedef struct { int64_t t, rev; } at_time;
static int
on_ev_time(void *arg, int del, int64_t rev, int64_t sub, int64_t ms, const uint8_t *kv, size_t kl,
           eb_err *err)
{
	at_time *a = arg;
	(void)del; (void)sub; (void)kv; (void)kl; (void)err;
	if (ms <= a->t)
		a->rev = rev;
	return 0;
}

static int
rev_at_time(eb_pitr_plan *p, const eb_read_keys *k, int64_t t, eb_err *err)
{
	eb_wbuf b = {0};
	eb_seg_visitor v = {on_ev_time, NULL, NULL};
	eb_seg_info info;
	at_time a = {t, p->full.revision};
	size_t i;
	int rc = 0;
	for (i = 0; i < p->chain.n && p->chain.v[i].first_ms <= t; i++)
		a.rev = p->chain.v[i].prev_rev;
	if (i > 0 && p->chain.v[i - 1].last_ms <= t)
		a.rev = p->chain.v[i - 1].last_rev;
	else if (i > 0) { /* inside segment i-1: its per-revision times */
		v.arg = &a;
		rc = eb_pitr_fetch(p, i - 1, k, &b, err);
		if (rc == 0)
			rc = eb_seg_read(b.p, b.len, &v, &info, err);
	}
	eb_wbuf_dispose(&b);
	p->rev = a.rev;
	return rc;
}

/* No revision in the full backup's snapshot is newer than this: its
 * revision, or the bound recorded when writes raced its stream. */
static int64_t
bound_of(const eb_manifest *m)
{
	return m->revision_bound > m->revision ? m->revision_bound : m->revision;
}

/* The chain to restore revision R from: among those that reach it, the
 * newest full backup known to hold nothing past R (the least to replay);
 * if none is known to, the newest that reaches R (its rewrite refuses,
 * naming the revision its snapshot holds, when writes raced it).  -1: none
 * reaches R. */
static size_t
pick_for_rev(const eb_catalog *cat, const cover *cv, size_t n, int64_t R)
{
	size_t best = (size_t)-1, safe = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		if (cv[i].from > R || R > cv[i].to)
			continue;
		if (best == (size_t)-1 || cv[i].from > cv[best].from)
			best = i;
		if (bound_of(&cat->v[cv[i].full]) <= R && (safe == (size_t)-1 || cv[i].from > cv[safe].from))
			safe = i;
	}
	return safe != (size_t)-1 ? safe : best;
}

/* What planning works on: the catalog (with its listing), each full's
 * range, and the chain loaded to turn a time into a revision (kept: the
 * plan usually restores from that same chain, read once). */
typedef struct planning {
	eb_catalog cat;
	uint64_t cid;
	cover *cv;
	size_t n;
	size_t pick;      /* in cv; (size_t)-1: none */
	int64_t R;        /* the revision asked, or the one a time means */
	size_t loaded;    /* cv index whose chain is in chain; (size_t)-1: none */
	eb_chain chain;
} planning;

/* The revision at time t: the last one received at or before t, read from
 * the arrival times the segments recorded, in the oldest chain whose
 * records reach t (a newer full's own creation time is cut to the second,
 * and the revisions its chain got again after a --full-interval switch
 * arrived twice: the older chain's times are the first).  1 when no chain
 * covers t. */
static int
time_to_rev(eb_store *st, planning *g, const eb_read_keys *k, int64_t t, eb_err *err)
{
	size_t pick = (size_t)-1;
	eb_pitr_plan tp;
	int rc;
	for (size_t i = 0; i < g->n; i++)
		if (g->cv[i].from_ms <= t && t <= g->cv[i].to_ms && (pick == (size_t)-1 || g->cv[i].from < g->cv[pick].from))
			pick = i;
	if (pick == (size_t)-1)
		return 1;
	memset(&tp, 0, sizeof tp);
	tp.st = st;
	tp.full = g->cat.v[g->cv[pick].full]; /* a view: not disposed here */
	rc = eb_chain_load(st, &g->cat.names, tp.full.id, tp.full.revision, k ? k->trusted : NULL, &tp.chain, err);
	if (rc == 0)
		rc = rev_at_time(&tp, k, t, err);
	if (rc == 0)
		g->R = tp.rev;
	g->chain = tp.chain;
	g->loaded = pick;
	return rc;
}

/* Step 1: the catalog, the one cluster (--cluster-id, or the only one the
 * store holds), each full's range.  The newest point cannot be told while
 * a manifest is unreadable. */
static int
plan_catalog(eb_store *st, const char *url, const eb_read_keys *k, const eb_pitr_want *w, planning *g,
             eb_err *err)
{
	int rc = eb_catalog_load(&g->cat, st, err);
	if (rc == 0)
		rc = eb_catalog_cluster(&g->cat, url, k ? k->cluster_id : 0, NULL, &g->cid, err);
	if (rc == 0 && g->cat.nbad && !w->rev && !w->time_ms)
		rc = eb_err_set(err, EB_ECORRUPT, "cannot tell the latest point in %s: manifest %s is %s "
		                "(%s)%s; name a point with --to-revision R, or a backup with --backup ID (see "
		                "'etcd-backup list')", url, g->cat.bad[0].name, g->cat.bad[0].hidden ? "hidden" : "unreadable",
		                g->cat.bad[0].why, g->cat.nbad > 1 ? ", and more" : "");
	if (rc == 0)
		rc = covers(st, &g->cat, g->cid, w->time_ms > 0, &g->cv, &g->n, err);
	return rc;
}

/* Step 2: the revision (a time is one: the last revision received by
 * then; none asked: the newest point), then the chain that covers it. */
static int
plan_pick(eb_store *st, const eb_read_keys *k, const eb_pitr_want *w, planning *g, eb_err *err)
{
	int rc = 0;
	if (w->time_ms > 0 && (rc = time_to_rev(st, g, k, w->time_ms, err)) == 1)
		rc = 0; /* no chain covers it: said later */
	if (rc < 0)
		return rc;
	if (g->R > 0)
		g->pick = pick_for_rev(&g->cat, g->cv, g->n, g->R);
	if (!w->rev && !w->time_ms && g->n) { /* the newest point, from a chain that reaches it */
		int64_t newest = 0;
		for (size_t i = 0; i < g->n; i++)
			if (g->cv[i].to > newest)
				newest = g->cv[i].to;
		g->pick = pick_for_rev(&g->cat, g->cv, g->n, newest);
	}
	return 0;
}

/* Step 3: a hole, a segment manifest missing in the middle of a chain with
 * later segments behind it.  Its newest point, or any point past the hole,
 * cannot be restored; saying nothing would restore an older one. */
static int
plan_holes(const eb_pitr_want *w, const planning *g, eb_err *err)
{
	for (size_t i = 0; i < g->n; i++) {
		const cover *c = &g->cv[i];
		int none = g->pick == (size_t)-1;
		int past = g->R > 0 ? none && g->R > c->to && g->R <= c->beyond
		         : w->time_ms > 0 ? none && c->from_ms <= w->time_ms
		         : !none && c->beyond > g->cv[g->pick].to; /* newer segments than the newest point */
		if (c->beyond > c->to && past)
			return eb_err_set(err, EB_ECORRUPT, "the chain of full backup %s is broken after revision %" PRId64
			                  ": the segment manifest that follows is missing, and segments up to revision %"
			                  PRId64 " exist beyond the hole; restore a revision up to %" PRId64 " with "
			                  "--to-revision, or bring the missing manifest back", g->cat.v[c->full].id, c->to,
			                  c->beyond, c->to);
	}
	return 0;
}

/* No chain covers the point: say which ranges do. */
static int
not_covered(const char *url, const eb_pitr_want *w, planning *g, eb_err *err)
{
	eb_buf b;
	int rc;
	eb_buf_init(&b);
	describe(&b, &g->cat, g->cv, g->n, w->rev);
	if (w->rev > 0)
		rc = eb_err_set(err, EB_ENOTFOUND, "revision %" PRId64 " is not covered by any full backup "
		                "and its segments in %s; %s", w->rev, url, b.p ? b.p : "");
	else
		rc = eb_err_set(err, EB_ENOTFOUND, "%s in %s; %s", w->time_ms > 0 ?
		                "no full backup and its segments cover that time (before the first full "
		                "backup, inside a gap, or after the last change recorded; list shows each "
		                "chain's time)" : "no full backup", url, b.p ? b.p : "");
	eb_buf_dispose(&b);
	return rc;
}

/* Step 4: the picked full backup (with trusted keys, its manifest read
 * again with its signature: the bytes that verified are the ones used),
 * its segments' manifests (or the chain step 2 read), only those up to
 * the revision. */
static int
plan_chain(eb_pitr_plan *p, const eb_read_keys *k, planning *g, eb_err *err)
{
	const eb_manifest *m = &g->cat.v[g->cv[g->pick].full];
	size_t need = 0;
	eb_err e1;
	int rc;
	eb_err_init(&e1);
	if (!k || !k->trusted)
		rc = eb_manifest_copy(&p->full, m, err);
	else if ((rc = eb_catalog_load_signed(p->st, m->id, k->trusted, &p->full, NULL, &e1)) < 0)
		return eb_err_set(err, rc, "backup %s refused: %s", m->id, e1.msg);
	if (rc < 0)
		return rc;
	if (g->loaded == g->pick) { /* read for the time already */
		p->chain = g->chain;
		memset(&g->chain, 0, sizeof g->chain);
		g->loaded = (size_t)-1;
	} else if ((rc = eb_chain_load(p->st, &g->cat.names, p->full.id, p->full.revision, k ? k->trusted : NULL,
	                               &p->chain, err)) < 0)
		return rc;
	p->rev = g->R > 0 ? g->R : p->chain.last_rev;
	if (p->rev > p->chain.last_rev)
		return eb_err_set(err, EB_ENOTFOUND, "revision %" PRId64 " is past the chain of %s, which ends at %"
		                  PRId64 " (a segment manifest is missing or unreadable)", p->rev, p->full.id,
		                  p->chain.last_rev);
	while (need < p->chain.n && p->chain.v[need].prev_rev < p->rev)
		need++;
	p->chain.n = need;
	return 0;
}

int
eb_pitr_plan_make(const char *url, const eb_store_opts *so, const eb_read_keys *k,
                  const eb_pitr_want *w, eb_pitr_plan *p, eb_err *err)
{
	planning g;
	eb_store_opts dflt;
	int rc;

	memset(p, 0, sizeof *p);
	memset(&g, 0, sizeof g);
	g.pick = g.loaded = (size_t)-1;
	g.R = w->rev;
	eb_manifest_init(&p->full);
	eb_store_opts_init(&dflt);
	if ((rc = eb_store_open(&p->st, url, so ? so : &dflt, err)) < 0)
		return rc;
	rc = plan_catalog(p->st, url, k, w, &g, err);
	if (rc == 0)
		rc = plan_pick(p->st, k, w, &g, err);
	if (rc == 0)
		rc = plan_holes(w, &g, err);
	if (rc == 0 && g.pick == (size_t)-1)
		rc = not_covered(url, w, &g, err);
	if (rc == 0)
		rc = plan_chain(p, k, &g, err);
	eb_chain_dispose(&g.chain);
	free(g.cv);
	eb_catalog_dispose(&g.cat);
	if (rc < 0)
		eb_pitr_plan_dispose(p);
	return rc;
}
