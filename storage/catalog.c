#include "storage/catalog.h"

#include "storage/chain.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "storage/digest.h"
#include "storage/signed.h"
#include "storage/pipeline.h"

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* within a cluster: revision, raft index, creation time, id; all newest
 * first */
static int
cmp_in_cluster(const void *a, const void *b)
{
	const eb_manifest *x = a, *y = b;
	if (x->cluster_id != y->cluster_id)
		return x->cluster_id < y->cluster_id ? -1 : 1;
	if (x->revision != y->revision)
		return x->revision > y->revision ? -1 : 1;
	if (x->raft_index != y->raft_index)
		return x->raft_index > y->raft_index ? -1 : 1;
	if (x->created_unix != y->created_unix)
		return x->created_unix > y->created_unix ? -1 : 1;
	return -strcmp(x->id, y->id);
}

typedef struct {
	int64_t key; /* creation time of the cluster's newest backup */
	size_t at;   /* position after cmp_in_cluster: keeps a cluster's order */
} rank;

static int
cmp_rank(const void *a, const void *b)
{
	const rank *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Sorts c->v (see catalog.h) and marks the backups whose clock contradicts
 * their revision. */
static int
order(eb_catalog *c, eb_err *err)
{
	rank *r;
	eb_manifest *v;
	qsort(c->v, c->n, sizeof *c->v, cmp_in_cluster);
	r = calloc(c->n ? c->n : 1, sizeof *r);
	v = calloc(c->n ? c->n : 1, sizeof *v);
	c->clock_odd = calloc(c->n ? c->n : 1, 1);
	if (!r || !v || !c->clock_odd) {
		free(r);
		free(v);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	for (size_t i = 0, g = 0; i < c->n; i++) {
		if (c->v[i].cluster_id != c->v[g].cluster_id)
			g = i;
		r[i] = (rank){c->v[g].created_unix, i}; /* same key for a whole cluster */
	}
	qsort(r, c->n, sizeof *r, cmp_rank);
	for (size_t i = 0; i < c->n; i++)
		v[i] = c->v[r[i].at];
	free(c->v);
	c->v = v;
	free(r);
	/* clock check: in revision order (newest first) a backup is odd when
	 * it was created after one with a higher revision (prefix minimum) or
	 * before one with a lower revision (suffix maximum) */
	for (size_t g = 0, e; g < c->n; g = e) {
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		for (e = g; e < c->n && c->v[e].cluster_id == c->v[g].cluster_id; e++) {
			if (c->v[e].created_unix > lo)
				c->clock_odd[e] = 1;
			if (c->v[e].created_unix < lo)
				lo = c->v[e].created_unix;
		}
		for (size_t i = e; i-- > g;) {
			if (c->v[i].created_unix < hi)
				c->clock_odd[i] = 1;
			if (c->v[i].created_unix > hi)
				hi = c->v[i].created_unix;
		}
	}
	return 0;
}

static int
add_bad(eb_catalog *c, const char *name, const char *why, eb_err *err)
{
	eb_catalog_bad *nb = realloc(c->bad, (c->nbad + 1) * sizeof *nb);
	if (!nb)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c->bad = nb;
	snprintf(nb[c->nbad].name, sizeof nb[c->nbad].name, "%s", name);
	snprintf(nb[c->nbad].why, sizeof nb[c->nbad].why, "%.399s", why);
	nb[c->nbad].hidden = 0;
	c->nbad++;
	return 0;
}

/* The manifest `name`; with trusted keys, only when its signature object
 * verifies over the exact bytes that are then parsed (nothing is read
 * twice, so nothing can change in between).  fp: the signer, or "". */
static int
load_signed(eb_store *st, const char *name, const eb_ssh_keys *trusted, eb_manifest *m,
            char *fp, eb_err *err)
{
	char *text = NULL, want[128];
	size_t len = 0;
	int rc = eb_store_get_signed(st, name, EB_MANIFEST_MAX, trusted, &text, &len, fp, err);
	if (rc < 0)
		return rc;
	rc = eb_manifest_from_json(m, text, len, err);
	free(text);
	if (rc < 0)
		return rc;
	eb_manifest_name(m->id, want, sizeof want);
	if (strcmp(want, name) != 0) {
		eb_manifest_dispose(m);
		return eb_err_set(err, EB_ECORRUPT, "manifest %s names backup %s", name, m->id);
	}
	return 0;
}

int
eb_catalog_load_signed(eb_store *st, const char *id, const eb_ssh_keys *trusted,
                       eb_manifest *out, char *fp, eb_err *err)
{
	char name[128];
	eb_manifest_name(id, name, sizeof name);
	return load_signed(st, name, trusted, out, fp, err);
}

int
eb_catalog_prove(eb_store *st, const eb_manifest *m, const eb_store_list *names,
                 const eb_ssh_keys *trusted, char *why, size_t cap, eb_err *err)
{
	const eb_store_entry *obj = NULL;
	eb_manifest sm;
	eb_err e1;
	int rc;
	for (size_t i = 0; i < names->n && !obj; i++)
		if (strcmp(names->v[i].name, m->object) == 0)
			obj = &names->v[i];
	if (!obj) {
		snprintf(why, cap, "its object %s is missing", m->object);
		return 0;
	}
	if (obj->size != m->stored_size) {
		snprintf(why, cap, "its object %s has %" PRIu64 " bytes, its manifest says %" PRIu64, m->object,
		         obj->size, m->stored_size);
		return 0;
	}
	if (!trusted)
		return 1;
	eb_err_init(&e1);
	rc = eb_catalog_load_signed(st, m->id, trusted, &sm, NULL, &e1);
	if (rc == EB_EAUTH || rc == EB_ECORRUPT || rc == EB_ENOTFOUND) { /* unsigned, untrusted, forged, gone */
		snprintf(why, cap, "%s", e1.msg);
		return 0;
	}
	if (rc < 0)
		return eb_err_set(err, rc, "%s", e1.msg);
	rc = sm.cluster_id == m->cluster_id && sm.revision == m->revision && sm.raft_index == m->raft_index &&
	     sm.stored_size == m->stored_size && !strcmp(sm.stored_sha256, m->stored_sha256) &&
	     !strcmp(sm.origin, m->origin);
	if (!rc)
		snprintf(why, cap, "its manifest changed while it was read");
	eb_manifest_dispose(&sm);
	return rc;
}

static int
load_one(eb_store *st, const char *name, eb_manifest *m, eb_err *err)
{
	return load_signed(st, name, NULL, m, NULL, err);
}

/* The revision and cluster a backup id names ("<time>-r<rev>-<cluster>-<rnd>",
 * as eb_backup_run makes them); 0 when it does not parse. */
static int
id_parts(const char *name, int64_t *rev, uint64_t *cid)
{
	const char *p = strstr(name, "Z-r");
	char *end;
	if (!p)
		return 0;
	*rev = strtoll(p + 3, &end, 10);
	if (*end != '-' || *rev <= 0)
		return 0;
	*cid = strtoull(end + 1, &end, 16);
	return *end == '-';
}

/* Manifests hidden behind a delete marker (a plain DELETE in a versioned
 * bucket, the data kept) that are newer than every visible backup of their
 * cluster (their id says revision and cluster): listed as bad, so that
 * "latest" cannot move to an older backup in silence.  Older hidden ones
 * are what prune or a lifecycle rule deleted in a versioned bucket: they
 * change nothing.  Best effort: a store that cannot list versions (no
 * s3:ListBucketVersions permission, a server without versions) hides
 * nothing we can see. */
static int
add_hidden(eb_catalog *c, eb_store *st, eb_err *err)
{
	eb_store_list h = {0};
	eb_err e1;
	int rc = 0;
	eb_err_init(&e1);
	if (eb_store_list_hidden(st, &h, &e1) < 0) {
		eb_store_list_dispose(&h);
		return 0;
	}
	for (size_t i = 0; rc == 0 && i < h.n; i++) {
		int64_t rev = 0, newest = 0;
		uint64_t cid = 0;
		int parsed;
		if (!ends_with(h.v[i].name, EB_MANIFEST_SUFFIX))
			continue;
		parsed = id_parts(h.v[i].name, &rev, &cid);
		for (size_t j = 0; parsed && j < c->n; j++)
			if (c->v[j].cluster_id == cid && c->v[j].revision > newest)
				newest = c->v[j].revision;
		if (parsed && newest && rev <= newest)
			continue; /* older than a visible backup: a deleted one */
		rc = add_bad(c, h.v[i].name, "its current version is a delete marker over a version the store "
		             "still keeps (a plain DELETE in a versioned bucket), and it is newer than every backup "
		             "shown; remove the marker to bring it back (aws s3api delete-object --version-id "
		             "MARKER), or name the backup to use", err);
		if (rc == 0)
			c->bad[c->nbad - 1].hidden = 1;
	}
	eb_store_list_dispose(&h);
	return rc;
}

int
eb_catalog_load(eb_catalog *out, eb_store *st, eb_err *err)
{
	const eb_store_list *l = &out->names;
	int rc;
	memset(out, 0, sizeof *out);
	rc = eb_store_list_all(st, &out->names, err);
	if (rc < 0)
		return rc;
	out->v = calloc(l->n ? l->n : 1, sizeof *out->v);
	if (!out->v) {
		eb_catalog_dispose(out);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < l->n; i++) {
		eb_err e1;
		if (!ends_with(l->v[i].name, EB_MANIFEST_SUFFIX))
			continue;
		eb_err_init(&e1);
		rc = load_one(st, l->v[i].name, &out->v[out->n], &e1);
		if (rc == EB_ENOMEM || rc == EB_EAUTH || rc == EB_EUNAVAIL ||
		    rc == EB_ETIMEOUT) {
			/* the store failed, not the manifest: report, don't skip */
			eb_err_set(err, rc, "%s", e1.msg);
			eb_catalog_dispose(out);
			return rc;
		}
		if (rc < 0) {
			rc = add_bad(out, l->v[i].name, e1.msg, err);
			if (rc < 0)
				break;
			continue;
		}
		out->n++;
	}
	if (rc == 0)
		rc = add_hidden(out, st, err);
	if (rc == 0)
		rc = order(out, err);
	if (rc < 0)
		eb_catalog_dispose(out);
	return rc < 0 ? rc : 0;
}

void
eb_catalog_dispose(eb_catalog *c)
{
	for (size_t i = 0; i < c->n; i++)
		eb_manifest_dispose(&c->v[i]);
	free(c->v);
	free(c->clock_odd);
	free(c->bad);
	eb_store_list_dispose(&c->names);
	memset(c, 0, sizeof *c);
}

int
eb_catalog_cluster(const eb_catalog *cat, const char *url, uint64_t want, const unsigned char *ok,
                   uint64_t *out, eb_err *err)
{
	char seen[200] = "";
	size_t nc = 0, at = 0;
	uint64_t last = 0;
	*out = 0;
	for (size_t i = 0; i < cat->n; i++) { /* the catalog keeps a cluster's backups together */
		if ((ok && !ok[i]) || (nc && cat->v[i].cluster_id == last))
			continue;
		if (want && cat->v[i].cluster_id == want)
			*out = want;
		last = cat->v[i].cluster_id;
		nc++;
		if (at + 20 < sizeof seen)
			at += (size_t)snprintf(seen + at, sizeof seen - at, "%s%016" PRIx64, nc > 1 ? ", " : "", last);
	}
	if (want && !*out)
		return eb_err_set(err, EB_ENOTFOUND, "%s holds no backup of cluster %016" PRIx64 "%s%s%s", url, want,
		                  nc ? " (it holds " : "", seen, nc ? ")" : "");
	if (want || nc == 0)
		return 0;
	if (nc > 1)
		return eb_err_set(err, EB_EINVAL, "%s holds backups of %zu clusters (%s): pass --cluster-id with the "
		                  "one you mean (see 'etcd-backup list'); revisions of different clusters are never "
		                  "compared", url, nc, seen);
	*out = last;
	return 0;
}

static int find_any(eb_store *st, const char *id, uint64_t cid, eb_manifest *out, eb_err *err);

int
eb_catalog_find(eb_store *st, const char *id, const eb_read_keys *k, eb_manifest *out,
                eb_err *err)
{
	char fp[EB_SSH_FP_MAX], found[96];
	eb_err e1;
	int rc = find_any(st, id, k ? k->cluster_id : 0, out, err);
	if (rc < 0 || !k || !k->trusted)
		return rc;
	/* --trusted-keys: the manifest used is the one whose bytes verified */
	snprintf(found, sizeof found, "%s", out->id);
	eb_manifest_dispose(out);
	eb_err_init(&e1);
	rc = eb_catalog_load_signed(st, found, k->trusted, out, fp, &e1);
	if (rc < 0)
		return eb_err_set(err, rc, "backup %s refused: %s%s", found, e1.msg,
		                  strcmp(id, "latest") == 0 ? " (it is the latest; name a trusted one "
		                  "with --backup ID, see 'etcd-backup list --trusted-keys')" : "");
	return 0;
}

/* The newest backup of the cluster "latest" means (eb_catalog_cluster). */
static int
find_latest(eb_store *st, const eb_catalog *c, uint64_t want, eb_manifest *out, eb_err *err)
{
	uint64_t cid;
	int rc;
	if (c->nbad > 0)
		return eb_err_set(err, EB_ECORRUPT,
		                  "cannot tell which backup is the latest in %s: manifest %s is %s "
		                  "(%s)%s; choose one with --backup ID (see 'etcd-backup list --from %s')",
		                  st->url, c->bad[0].name, c->bad[0].hidden ? "hidden" : "unreadable", c->bad[0].why,
		                  c->nbad > 1 ? ", and more" : "", st->url);
	if (c->n == 0)
		return eb_err_set(err, EB_ENOTFOUND, "store %s holds no backups", st->url);
	if ((rc = eb_catalog_cluster(c, st->url, want, NULL, &cid, err)) < 0)
		return rc;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].cluster_id == cid)
			return eb_manifest_copy(out, &c->v[i], err);
	return eb_err_set(err, EB_ENOTFOUND, "store %s holds no backups", st->url);
}

static int
find_any(eb_store *st, const char *id, uint64_t cid, eb_manifest *out, eb_err *err)
{
	eb_catalog c;
	int rc;
	if (!id || !*id)
		return eb_err_set(err, EB_EINVAL, "no backup given: pass --backup ID or --backup latest");
	if (strcmp(id, "latest") != 0) {
		char name[128];
		eb_err e1;
		if (strlen(id) > 90 || strchr(id, '/'))
			return eb_err_set(err, EB_EINVAL, "'%s' is not a backup id", id);
		eb_manifest_name(id, name, sizeof name);
		eb_err_init(&e1);
		rc = load_one(st, name, out, &e1);
		if (rc == 0 && cid && out->cluster_id != cid) {
			rc = eb_err_set(err, EB_EINVAL, "backup %s is of cluster %016" PRIx64 ", not %016" PRIx64
			                " (--cluster-id): refused", id, out->cluster_id, cid);
			eb_manifest_dispose(out);
		}
		if (rc == 0 || rc != EB_ENOTFOUND) {
			if (rc < 0 && rc != EB_EINVAL)
				eb_err_set(err, rc, "backup %s in %s: %s", id, st->url, e1.msg);
			return rc;
		}
	}
	rc = eb_catalog_load(&c, st, err);
	if (rc < 0)
		return rc;
	if (strcmp(id, "latest") == 0)
		rc = find_latest(st, &c, cid, out, err);
	else if (c.n == 0)
		rc = eb_err_set(err, EB_ENOTFOUND, "store %s holds no backups", st->url);
	else
		rc = eb_err_set(err, EB_ENOTFOUND,
		                "no backup %s in %s (newest is %s; run 'etcd-backup list --from %s')",
		                id, st->url, c.v[0].id, st->url);
	eb_catalog_dispose(&c);
	return rc;
}

static int
fetch(eb_store *st, const eb_manifest *m, const eb_read_keys *k, int look, eb_stream *sink, eb_err *err)
{
	eb_stream *check = NULL; /* etcd's trailer, or (proven) the size */
	eb_pipe_opts po = {0};
	eb_pipe pipe = {0};
	uint8_t want_stored[32], want_snap[32], want_db[32];
	char what[400];
	int rc;
	if (eb_unhex(m->stored_sha256, want_stored, 32) < 0 ||
	    eb_unhex(m->snapshot_sha256, want_snap, 32) < 0 ||
	    eb_unhex(m->db_sha256, want_db, 32) < 0)
		return eb_err_set(err, EB_ECORRUPT, "manifest of %s has bad digests", m->id);
	if (eb_manifest_encrypted(m) && !eb_read_keys_can_decrypt(k))
		return eb_err_set(err, EB_EINVAL,
		                  "backup %s is age-encrypted (to %s%s): pass --age-identity FILE with "
		                  "the identity of one of its recipients", m->id,
		                  m->nrecipients ? m->recipients[0] : "unknown recipients",
		                  m->nrecipients > 1 ? " and others" : "");
	/* the trailer stage checks etcd's trailer and the snapshot's manifest
	 * digest in one hashing pass (proven: only its size is held to the
	 * manifest's); the pipe's sha256 the stored bytes (on the calling
	 * thread: decrypting, decompressing and what follows on a worker) */
	snprintf(what, sizeof what, "snapshot of backup %s", m->id);
	rc = look ? eb_size_stage_new(&check, m->snapshot_size, what, sink, err)
	          : eb_trailer_stage_new(&check, sink, err);
	if (rc == 0) {
		if (!look)
			eb_trailer_stage_expect(check, want_snap, want_db, m->snapshot_size, what);
		po.zstd = strcmp(m->compression, "zstd") == 0 ? EB_PIPE_ZSTD : EB_PIPE_PLAIN;
		po.ids = eb_manifest_encrypted(m) ? k->age : NULL;
		po.async = 1;
		rc = eb_pipe_decode(&pipe, &po, check, err);
	}
	if (rc == 0) {
		snprintf(what, sizeof what, "stored object %s", m->object);
		eb_sha256_stage_expect(pipe.stored, want_stored, m->stored_size, what);
		rc = eb_store_get(st, m->object, pipe.head, err);
	}
	if (rc == 0)
		rc = eb_stream_finish(pipe.head, err);
	/* our stages only: the sink belongs to the caller */
	eb_pipe_dispose(&pipe);
	if (check)
		check->ops->free(check);
	if (rc == EB_ENOTFOUND)
		return eb_err_context(err, "backup %s: its manifest exists but object %s is missing",
		                      m->id, m->object);
	return rc;
}

int
eb_catalog_fetch(eb_store *st, const eb_manifest *m, const eb_read_keys *k, eb_stream *sink, eb_err *err)
{
	return fetch(st, m, k, 0, sink, err);
}

int
eb_catalog_fetch_proven(eb_store *st, const eb_manifest *m, const eb_read_keys *k, eb_stream *sink,
                      eb_err *err)
{
	return fetch(st, m, k, 1, sink, err);
}

int
eb_catalog_check_stored(eb_store *st, const eb_manifest *m, eb_err *err)
{
	eb_stream *stored = NULL, *sink = NULL;
	uint8_t want[32];
	char what[400];
	int rc;
	if (eb_unhex(m->stored_sha256, want, 32) < 0)
		return eb_err_set(err, EB_ECORRUPT, "manifest of %s has bad digests", m->id);
	rc = eb_null_sink_new(&sink, err);
	if (rc == 0)
		rc = eb_sha256_stage_new(&stored, sink, err);
	if (rc == 0) {
		sink = NULL;
		snprintf(what, sizeof what, "stored object %s", m->object);
		eb_sha256_stage_expect(stored, want, m->stored_size, what);
		rc = eb_store_get(st, m->object, stored, err);
	}
	if (rc == 0)
		rc = eb_stream_finish(stored, err);
	eb_stream_free_chain(stored ? stored : sink);
	if (rc == EB_ENOTFOUND)
		return eb_err_context(err, "backup %s: its manifest exists but object %s is missing",
		                      m->id, m->object);
	return rc;
}

/* The names of a full backup's segments: manifests (mans) and objects. */
static int
segment_names(eb_store *st, const char *id, eb_store_list *mans, eb_store_list *objs, eb_err *err)
{
	eb_store_list l = {0};
	char prefix[128];
	size_t pl;
	int rc = eb_store_list_all(st, &l, err);
	snprintf(prefix, sizeof prefix, "%s.seg.", id);
	pl = strlen(prefix);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const char *n = l.v[i].name;
		size_t len = strlen(n);
		if (strncmp(n, prefix, pl))
			continue;
		if (len > 13 && !strcmp(n + len - 13, ".segment.json"))
			rc = eb_store_list_add(mans, n, l.v[i].size, l.v[i].mtime, err);
		else
			rc = eb_store_list_add(objs, n, l.v[i].size, l.v[i].mtime, err);
	}
	eb_store_list_dispose(&l);
	return rc;
}

static int
by_first_desc(const void *a, const void *b)
{
	char base[96];
	int64_t fa = 0, fb = 0, l;
	eb_segman_parse_name(((const eb_store_entry *)a)->name, base, sizeof base, &fa, &l);
	eb_segman_parse_name(((const eb_store_entry *)b)->name, base, sizeof base, &fb, &l);
	return fa > fb ? -1 : fa < fb;
}

/* Deletes name; one that is not there is no error. */
static int
delete_if_there(eb_store *st, const char *name, eb_err *err)
{
	eb_err e1;
	int rc;
	eb_err_init(&e1);
	if ((rc = eb_store_delete(st, name, &e1)) == EB_ENOTFOUND)
		return 0;
	if (rc < 0)
		eb_err_set(err, rc, "%s", e1.msg);
	return rc;
}

int
eb_catalog_delete(eb_store *st, const eb_manifest *m, eb_err *err)
{
	char name[128], sig[160];
	eb_store_list mans = {0}, objs = {0};
	int rc;
	eb_manifest_name(m->id, name, sizeof name);
	eb_manifest_sig_name(m->id, sig, sizeof sig);
	/* its chain first, newest segment first: what is left stays a
	 * contiguous, restorable chain if this stops half-way */
	rc = segment_names(st, m->id, &mans, &objs, err);
	if (rc == 0 && mans.n)
		qsort(mans.v, mans.n, sizeof *mans.v, by_first_desc);
	for (size_t i = 0; rc == 0 && i < mans.n; i++)
		rc = eb_store_delete(st, mans.v[i].name, err);
	if (rc == 0)
		rc = eb_store_delete(st, name, err);
	/* the signature next (a missing one: the backup was not signed) */
	if (rc == 0)
		rc = delete_if_there(st, sig, err);
	if (rc == 0)
		rc = eb_store_delete(st, m->object, err);
	/* the control-plane bundle (gone already: a run that stopped here) */
	if (rc == 0 && m->cp)
		rc = delete_if_there(st, m->cp->object, err);
	/* the segments' data, which no manifest names any more */
	for (size_t i = 0; rc == 0 && i < objs.n; i++)
		rc = eb_store_delete(st, objs.v[i].name, err);
	eb_store_list_dispose(&mans);
	eb_store_list_dispose(&objs);
	return rc;
}
