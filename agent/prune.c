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
		if (rc == EB_ENOTFOUND && i == 1)
			continue; /* unsigned backup */
		if (rc < 0)
			return eb_err_set(err, rc, "cannot read the retention of %s: %s", n[i], e.msg);
		if (u > *until)
			*until = u;
	}
	return *until > now;
}

/* The full backup whose chain reaches furthest is the one `replicate`
 * continues: deleting it would orphan the segments being written.  It is
 * kept whatever the policy says (1 when that undid a deletion). */
static int
keep_live_chain(const eb_store_list *l, const eb_catalog *cat, uint64_t cid, int *del)
{
	eb_chain_span sp, best = {0};
	size_t bi = (size_t)-1;
	for (size_t i = 0; i < cat->n; i++) {
		if (cat->v[i].cluster_id != cid)
			continue;
		eb_chain_scan(l, cat->v[i].id, cat->v[i].revision, &sp);
		if (sp.n && (bi == (size_t)-1 || sp.last_rev > best.last_rev)) {
			best = sp;
			bi = i;
		}
	}
	if (bi == (size_t)-1 || !del[bi])
		return 0;
	del[bi] = 0;
	EB_LOG(EB_LOG_INFO, "prune", "keeping %s: its chain (%zu segments, revisions %" PRId64 "-%" PRId64
	       ") is the newest, which etcd-backup replicate continues", cat->v[bi].id, best.n,
	       cat->v[bi].revision, best.last_rev);
	return 1;
}

int
eb_prune_run(eb_store *st, const cli_keep *keep, uint64_t cid, int dry_run, int json,
             eb_err *err)
{
	eb_catalog cat;
	eb_store_list names = {0}; /* every object: the chains of the backups */
	eb_keep k = {keep->last, keep->hourly, keep->daily, keep->weekly, keep->monthly};
	int *del = NULL, rc;
	size_t ndel, nkept = 0, nother = 0, nlocked = 0;
	eb_buf out;

	rc = eb_catalog_load(&cat, st, err);
	if (rc < 0)
		return rc;
	if (cat.n == 0) {
		EB_LOG(EB_LOG_INFO, "prune", "store %s holds no backups: nothing to prune", st->url);
		if (json)
			printf("{\"deleted\":[],\"kept\":[],\"dry_run\":%s}\n", dry_run ? "true" : "false");
		eb_catalog_dispose(&cat);
		return 0;
	}
	if (cid == 0)
		cid = cat.v[0].cluster_id;
	for (size_t i = 0; i < cat.nbad; i++)
		EB_LOG(EB_LOG_WARN, "prune", "manifest %s is unreadable and is left alone: %s",
		       cat.bad[i].name, cat.bad[i].why);
	if ((rc = eb_store_list_all(st, &names, err)) < 0) {
		eb_catalog_dispose(&cat);
		return rc;
	}
	del = calloc(cat.n, sizeof *del);
	if (!del) {
		eb_catalog_dispose(&cat);
		eb_store_list_dispose(&names);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	ndel = eb_retention_plan(cat.v, cat.n, cid, &k, del);
	ndel -= keep_live_chain(&names, &cat, cid, del);
	eb_buf_init(&out);
	eb_buf_puts(&out, "{\"deleted\":[");
	for (size_t i = 0, first = 1; i < cat.n; i++) {
		if (cat.v[i].cluster_id != cid) {
			nother++;
			continue;
		}
		if (!del[i]) {
			nkept++;
			continue;
		}
		{
			int64_t until;
			int r1 = retained(st, &cat.v[i], &names, &until, err);
			if (r1 < 0) {
				rc = r1;
				break;
			}
			if (r1) {
				char ts[32];
				struct tm tm;
				time_t t = (time_t)until;
				gmtime_r(&t, &tm);
				strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
				EB_LOG(EB_LOG_INFO, "prune", "keeping %s: S3 Object Lock retains it until %s "
				       "(it goes in a later prune)", cat.v[i].id, ts);
				del[i] = 0;
				ndel--;
				nlocked++;
				continue;
			}
		}
		EB_LOG(EB_LOG_INFO, "prune", "%s %s (revision %" PRId64 ", %s)",
		       dry_run ? "would delete" : "deleting", cat.v[i].id, cat.v[i].revision,
		       cat.v[i].created);
		if (!first)
			eb_buf_puts(&out, ",");
		first = 0;
		eb_buf_json_str(&out, cat.v[i].id);
		if (!dry_run && (rc = delete_unreferenced(st, &cat, del, i, err)) < 0)
			break;
	}
	eb_buf_puts(&out, "],\"kept\":[");
	for (size_t i = 0, first = 1; i < cat.n; i++) {
		if (cat.v[i].cluster_id != cid || del[i])
			continue;
		if (!first)
			eb_buf_puts(&out, ",");
		first = 0;
		eb_buf_json_str(&out, cat.v[i].id);
	}
	eb_buf_printf(&out, "],\"cluster_id\":\"%016" PRIx64 "\",\"dry_run\":%s}\n", cid,
	              dry_run ? "true" : "false");
	if (rc == 0) {
		EB_LOG(EB_LOG_INFO, "prune", "%s %zu backup(s), kept %zu of cluster %016" PRIx64
		       "%s%s", dry_run ? "would delete" : "deleted", ndel, nkept + nlocked, cid,
		       nlocked ? " (some under Object Lock retention)" : "",
		       nother ? " (backups of other clusters untouched)" : "");
		if (json && out.p)
			fputs(out.p, stdout);
	}
	eb_buf_dispose(&out);
	free(del);
	eb_store_list_dispose(&names);
	eb_catalog_dispose(&cat);
	return rc;
}
