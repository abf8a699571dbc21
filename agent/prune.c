#include "agent/prune.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/interrupt.h"
#include "common/json.h"
#include "common/log.h"
#include "storage/catalog.h"
#include "storage/chain.h"
#include "storage/retention.h"

void
eb_prune_clean_incomplete(eb_store *st, long older_than_s, int dry_run)
{
	eb_err e;
	int n = 0;
	const char *what = strcmp(st->ops->kind, "s3") == 0 ? "incomplete multipart upload(s)"
	                                                    : "leftover temp file(s)";
	eb_err_init(&e);
	if (older_than_s < 0)
		older_than_s = 86400;
	/* debris of killed runs: invisible, but it fills the disk or the bill;
	 * failure is a warning */
	if (eb_store_clean_incomplete(st, older_than_s, dry_run, &n, &e) < 0)
		EB_LOG(EB_LOG_WARN, "prune", "could not clean up %s: %s", what, e.msg);
	else if (n > 0)
		EB_LOG(EB_LOG_INFO, "prune", "%s %d %s older than %lds", dry_run ? "would remove" : "removed",
		       n, what, older_than_s);
}

int
eb_prune_wanted(const cli_keep *k)
{
	return k->last > 0 || k->hourly >= 0 || k->daily >= 0 || k->weekly >= 0 || k->monthly >= 0;
}

/* Deletes backup i unless a backup that stays (of this cluster or another)
 * names the same object: never delete what a kept manifest references.  Object names are derived from ids, so this
 * only bites on a store someone edited by hand.  Stops between backups on
 * SIGINT/SIGTERM (each delete is short and is not cut in half). */
static int
delete_unreferenced(eb_store *st, const eb_catalog *cat, const int *del, size_t i, eb_err *err)
{
	int rc = eb_interrupt_check(err, "pruning");
	for (size_t j = 0; rc == 0 && j < cat->n; j++)
		if (j != i && !del[j] && strcmp(cat->v[j].object, cat->v[i].object) == 0)
			rc = eb_err_set(err, EB_ECORRUPT,
			                "backup %s shares its object %s with backup %s, which is kept: "
			                "not deleted", cat->v[i].id, cat->v[i].object, cat->v[j].id);
	return rc < 0 ? rc : eb_catalog_delete(st, &cat->v[i], err);
}

/* Object Lock: a backup any of whose objects is still retained is left
 * whole (deleting only some of them, or hiding them behind delete markers,
 * would half-delete it).  Its chain's newest segment manifest is checked
 * too: segments are written after the full backup, so theirs is the latest
 * retention.  1 = retained (until *until), 0 = free. */
static int
retained(eb_store *st, const eb_manifest *m, const eb_store_list *names, int64_t *until, eb_err *err)
{
	char n[4][256];
	int64_t now = (int64_t)time(NULL), u;
	eb_chain_span sp;
	int count = 3;
	eb_manifest_name(m->id, n[0], sizeof n[0]);
	eb_manifest_sig_name(m->id, n[1], sizeof n[1]);
	snprintf(n[2], sizeof n[2], "%s", m->object);
	eb_chain_scan(names, m->id, m->revision, &sp);
	if (sp.n)
		snprintf(n[count++], sizeof n[3], "%s", sp.last_name);
	*until = 0;
	for (int i = 0; i < count; i++) {
		eb_err e;
		int rc;
		eb_err_init(&e);
		rc = eb_store_retained_until(st, n[i], &u, &e);
		if (rc == EB_ENOTFOUND)
			continue; /* unsigned backup, or an object gone (a backup not proven) */
		if (rc < 0)
			return eb_err_set(err, rc, "cannot read the retention of %s: %s", n[i], e.msg);
		if (u > *until)
			*until = u;
	}
	return *until > now;
}

/* ---- the plan: what this prune deletes, step by step ---- */

typedef struct plan {
	eb_catalog cat;
	unsigned char *ok;      /* [i]: proven (eb_catalog_prove) */
	int *del;               /* [i]: delete */
	uint64_t cid;
	size_t nproven, nunproven;
} plan;

static void
plan_dispose(plan *p)
{
	free(p->ok);
	free(p->del);
	eb_catalog_dispose(&p->cat);
}

/* 1. every manifest and every object name (one listing) */
static int
plan_load(plan *p, eb_store *st, eb_err *err)
{
	int rc = eb_catalog_load(&p->cat, st, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < p->cat.nbad; i++)
		EB_LOG(EB_LOG_WARN, "prune", "manifest %s is unreadable and is left alone: %s",
		       p->cat.bad[i].name, p->cat.bad[i].why);
	p->ok = calloc(p->cat.n ? p->cat.n : 1, 1);
	p->del = calloc(p->cat.n ? p->cat.n : 1, sizeof *p->del);
	return p->ok && p->del ? 0 : eb_err_set(err, EB_ENOMEM, "out of memory");
}

/* 2. which backups are proven: only those are ranked and counted */
static int
plan_prove(plan *p, eb_store *st, const eb_prune_opts *o, eb_err *err)
{
	for (size_t i = 0; i < p->cat.n; i++) {
		char why[512];
		int rc = eb_catalog_prove(st, &p->cat.v[i], &p->cat.names, o->trusted, why, sizeof why, err);
		if (rc < 0)
			return rc;
		p->ok[i] = (unsigned char)rc;
		if (rc) {
			p->nproven++;
			continue;
		}
		p->nunproven++;
		p->del[i] = o->delete_untrusted;
		EB_LOG(EB_LOG_WARN, "prune", "%s is not counted as a backup (%s)%s: %s", p->cat.v[i].id,
		       o->trusted ? "not proven by --trusted-keys" : "its object does not match",
		       o->delete_untrusted ? "; --delete-untrusted removes it" : "; left alone "
		       "(--delete-untrusted removes it)", why);
	}
	return 0;
}

/* 3. the cluster: given, or the one the proven backups belong to */
static int
plan_cluster(plan *p, eb_store *st, const eb_prune_opts *o, eb_err *err)
{
	eb_err e1;
	int rc;
	eb_err_init(&e1);
	rc = eb_catalog_cluster(&p->cat, st->url, o->cluster_id, p->ok, &p->cid, &e1);
	if (rc == EB_ENOTFOUND) { /* nothing of that cluster: nothing to prune */
		p->cid = o->cluster_id;
		return 0;
	}
	return rc < 0 ? eb_err_set(err, rc, "%s", e1.msg) : 0;
}

/* 4. the policy, over the proven backups of the cluster alone */
static int
plan_policy(plan *p, const eb_prune_opts *o, eb_err *err)
{
	eb_keep k = {o->keep.last, o->keep.hourly, o->keep.daily, o->keep.weekly, o->keep.monthly};
	eb_manifest *sub = calloc(p->nproven ? p->nproven : 1, sizeof *sub);
	int *sdel = calloc(p->nproven ? p->nproven : 1, sizeof *sdel);
	size_t *map = calloc(p->nproven ? p->nproven : 1, sizeof *map), n = 0;
	if (!sub || !sdel || !map) {
		free(sub); free(sdel); free(map);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < p->cat.n; i++)
		if (p->ok[i]) {
			sub[n] = p->cat.v[i]; /* a shallow view, not disposed */
			map[n++] = i;
		}
	eb_retention_plan(sub, n, p->cid, &k, sdel);
	for (size_t j = 0; j < n; j++)
		p->del[map[j]] = sdel[j];
	free(sub); free(sdel); free(map);
	return 0;
}

/* 5. never the full whose chain `replicate` continues (deleting it would
 * orphan the segments being written), never the backup this run wrote */
static void
plan_protect(plan *p, const eb_prune_opts *o)
{
	eb_chain_span sp;
	long li = eb_chain_live(&p->cat.names, p->cat.v, p->cat.n, p->cid, p->ok, &sp);
	if (li >= 0 && p->del[li]) {
		p->del[li] = 0;
		EB_LOG(EB_LOG_INFO, "prune", "keeping %s: its chain (%zu segments, revisions %" PRId64 "-%" PRId64
		       ") is the newest, which etcd-backup replicate continues", p->cat.v[li].id, sp.n,
		       p->cat.v[li].revision, sp.last_rev);
	}
	for (size_t i = 0; o->protect_id && i < p->cat.n; i++)
		if (p->del[i] && strcmp(p->cat.v[i].id, o->protect_id) == 0) {
			p->del[i] = 0;
			EB_LOG(EB_LOG_INFO, "prune", "keeping %s: this run just wrote it", o->protect_id);
		}
}

/* 6. delete, each backup whole, unless Object Lock still retains it */
static int
plan_apply(plan *p, eb_store *st, const eb_prune_opts *o, eb_buf *out, size_t *ndel, size_t *nlocked,
           eb_err *err)
{
	int rc = 0, first = 1;
	for (size_t i = 0; rc == 0 && i < p->cat.n; i++) {
		int64_t until;
		int r1;
		if (!p->del[i])
			continue;
		if ((r1 = retained(st, &p->cat.v[i], &p->cat.names, &until, err)) < 0)
			return r1;
		if (r1) {
			char ts[32];
			struct tm tm;
			time_t t = (time_t)until;
			gmtime_r(&t, &tm);
			strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
			EB_LOG(EB_LOG_INFO, "prune", "keeping %s: S3 Object Lock retains it until %s "
			       "(it goes in a later prune)", p->cat.v[i].id, ts);
			p->del[i] = 0;
			(*nlocked)++;
			continue;
		}
		EB_LOG(EB_LOG_INFO, "prune", "%s %s (revision %" PRId64 ", %s)%s", o->dry_run ? "would delete" : "deleting",
		       p->cat.v[i].id, p->cat.v[i].revision, p->cat.v[i].created, p->ok[i] ? "" : ", not proven");
		if (!first)
			eb_buf_puts(out, ",");
		first = 0;
		eb_buf_json_str(out, p->cat.v[i].id);
		(*ndel)++;
		if (!o->dry_run)
			rc = delete_unreferenced(st, &p->cat, p->del, i, err);
	}
	return rc;
}

/* the JSON report's list of ids for which pick(p, i) holds */
static void
json_ids(eb_buf *out, const char *key, const plan *p, int (*pick)(const plan *, size_t))
{
	int first = 1;
	eb_buf_printf(out, "],\"%s\":[", key);
	for (size_t i = 0; i < p->cat.n; i++) {
		if (!pick(p, i))
			continue;
		if (!first)
			eb_buf_puts(out, ",");
		first = 0;
		eb_buf_json_str(out, p->cat.v[i].id);
	}
}
static int pick_kept(const plan *p, size_t i) { return p->ok[i] && !p->del[i] && p->cat.v[i].cluster_id == p->cid; }
static int pick_unproven(const plan *p, size_t i) { return !p->ok[i] && !p->del[i]; }

int
eb_prune_run(eb_store *st, const eb_prune_opts *o, eb_err *err)
{
	plan p;
	size_t ndel = 0, nlocked = 0, nkept = 0, nother = 0;
	eb_buf out;
	int rc;

	memset(&p, 0, sizeof p);
	eb_buf_init(&out);
	eb_buf_puts(&out, "{\"deleted\":[");
	rc = plan_load(&p, st, err);
	if (rc == 0)
		rc = plan_prove(&p, st, o, err);
	if (rc == 0)
		rc = plan_cluster(&p, st, o, err);
	if (rc == 0)
		rc = plan_policy(&p, o, err);
	if (rc == 0)
		plan_protect(&p, o);
	if (rc == 0 && p.cat.n == 0)
		EB_LOG(EB_LOG_INFO, "prune", "store %s holds no backups: nothing to prune", st->url);
	if (rc == 0)
		rc = plan_apply(&p, st, o, &out, &ndel, &nlocked, err); /* the deletes: no undo past here */
	for (size_t i = 0; rc == 0 && i < p.cat.n; i++) {
		if (!p.ok[i] || p.del[i])
			continue;
		if (p.cat.v[i].cluster_id == p.cid)
			nkept++;
		else
			nother++;
	}
	if (rc == 0) {
		EB_LOG(EB_LOG_INFO, "prune", "%s %zu backup(s), kept %zu of cluster %016" PRIx64 "%s%s%s",
		       o->dry_run ? "would delete" : "deleted", ndel, nkept, p.cid,
		       nlocked ? " (some under Object Lock retention)" : "",
		       nother ? " (backups of other clusters untouched)" : "",
		       p.nunproven && !o->delete_untrusted ? " (backups not proven left alone)" : "");
		json_ids(&out, "kept", &p, pick_kept);
		json_ids(&out, "not_proven", &p, pick_unproven);
		eb_buf_printf(&out, "],\"cluster_id\":\"%016" PRIx64 "\",\"dry_run\":%s}\n", p.cid,
		              o->dry_run ? "true" : "false");
		if (o->json && out.p)
			fputs(out.p, stdout);
	}
	eb_buf_dispose(&out);
	plan_dispose(&p);
	return rc;
}
