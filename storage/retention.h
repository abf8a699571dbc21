/* storage/retention.h - which backups a --keep-* policy keeps.
 *
 * Policy as restic/borg: --keep-last N keeps the N newest; --keep-hourly N
 * keeps the newest backup of each of the N most recent UTC hours that have
 * one (daily: days, weekly: ISO weeks, monthly: months).  A backup kept by
 * any rule is kept.  The newest backup (the highest revision of the
 * cluster) is always kept.  Only backups of `cluster_id` are considered;
 * others are never marked.  "Newest" is the catalog's order: revision,
 * then raft index; the wall clock only assigns the hour/day/week/month. */
#ifndef EB_RETENTION_H
#define EB_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "storage/manifest.h"

typedef struct eb_keep {
	int last, hourly, daily, weekly, monthly; /* <= 0 = rule off */
} eb_keep;

/* v: newest first (eb_catalog order).  Sets del[i] = 1 for each backup the
 * policy drops.  Returns how many are dropped. */
size_t eb_retention_plan(const eb_manifest *v, size_t n, uint64_t cluster_id,
                         const eb_keep *k, int *del);

#endif
