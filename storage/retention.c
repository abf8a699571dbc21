#include "storage/retention.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The bucket a backup falls in for a rule, as a comparable string. */
static void
bucket(int64_t t, char rule, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	switch (rule) {
	case 'h': strftime(out, len, "%Y-%m-%dT%H", &tm); break;
	case 'd': strftime(out, len, "%Y-%m-%d", &tm); break;
	case 'w': strftime(out, len, "%G-W%V", &tm); break;
	default: strftime(out, len, "%Y-%m", &tm); break;
	}
}

/* The wall clock only buckets backups; which one of a bucket is kept, and
 * which buckets are the most recent, follows the catalog's revision order
 * (newest first).  With a clock that jumped, one bucket's backups may not
 * be adjacent in that order, so the buckets already used are remembered. */
static void
keep_buckets(const eb_manifest *v, size_t n, uint64_t cid, char rule, int count,
             int *keep)
{
	char (*seen)[32];
	char b[32];
	int used = 0;
	if (count <= 0)
		return;
	seen = calloc((size_t)count, sizeof *seen);
	if (!seen) { /* keep everything rather than guess */
		for (size_t i = 0; i < n; i++)
			keep[i] |= v[i].cluster_id == cid;
		return;
	}
	for (size_t i = 0; i < n && used < count; i++) {
		int dup = 0;
		if (v[i].cluster_id != cid)
			continue;
		bucket(v[i].created_unix, rule, b, sizeof b);
		for (int j = 0; j < used && !dup; j++)
			dup = strcmp(seen[j], b) == 0;
		if (dup)
			continue;
		memcpy(seen[used++], b, sizeof b);
		keep[i] = 1;
	}
	free(seen);
}

size_t
eb_retention_plan(const eb_manifest *v, size_t n, uint64_t cid, const eb_keep *k,
                  int *del)
{
	int *keep = del; /* computed in place, then inverted */
	size_t ndel = 0;
	int seen = 0, newest_done = 0;
	memset(keep, 0, n * sizeof *keep);
	for (size_t i = 0; i < n; i++) {
		if (v[i].cluster_id != cid)
			continue;
		if (!newest_done) {
			keep[i] = 1; /* never delete the newest backup */
			newest_done = 1;
		}
		if (k->last > 0 && seen < k->last)
			keep[i] = 1;
		seen++;
	}
	keep_buckets(v, n, cid, 'h', k->hourly, keep);
	keep_buckets(v, n, cid, 'd', k->daily, keep);
	keep_buckets(v, n, cid, 'w', k->weekly, keep);
	keep_buckets(v, n, cid, 'm', k->monthly, keep);
	for (size_t i = 0; i < n; i++) {
		del[i] = v[i].cluster_id == cid && !keep[i]; /* keep == del: reads before write */
		ndel += (size_t)del[i];
	}
	return ndel;
}
