/* restore/restore.c - the restore pipeline (see restore.h).
 *
 *   snapshot --sha256 check--> bbolt reader --visitor: transform--> bbolt
 *   writer (one fd per member) ; WAL + .snap per member ; rename into place
 */
#include "restore/restore.h"

#include "common/interrupt.h"
#include "restore/records.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "restore/bbolt_read.h"
#include "restore/bbolt_write.h"
#include "common/bytes.h"
#include "restore/datadir.h"
#include "restore/fetch.h"
#include "restore/inspect.h"
#include "restore/members.h"
#include "restore/replay.h"
#include "restore/snapfile.h"
#include "restore/snapshot.h"
#include "restore/wal.h"
#include "restore/leaseset.h"

enum mode { M_COPY, M_SKIP, M_MEMBERS, M_META, M_KEY, M_LEASE };

/* Buckets that must exist afterwards, in byte order. */
static const char *const required[] = {"cluster", "members", "members_removed", "meta"};
#define NREQ (sizeof required / sizeof required[0])

struct xform {
	eb_bw *w;
	const eb_restore_opts *o;
	const eb_membership *c;
	enum mode mode;
	size_t next_req;
	uint64_t latest_main;
	char storage_version[16]; /* meta/storageVersion seen, "" when none */
	uint8_t bucket[64]; /* the bucket being copied, for record checks */
	size_t bucket_len;
	/* meta overrides, sorted by key */
	struct { const char *k; uint8_t v[17]; size_t vl; } ov[3];
	size_t nov, ov_i;
	uint64_t keys;
	/* point in time: events after the key bucket, leases merged */
	eb_replay *replay;        /* NULL: a plain restore */
	eb_leaseset *named;       /* point in time: the leases the keys name at it */
	uint64_t leases_dropped;  /* leases no key names at the point, not written */
	int64_t snap_rev;         /* the snapshot's own latest revision */
	int64_t fin, sched;       /* the snapshot's compaction marks, -1 when none */
	uint64_t read, db_size;   /* record bytes read so far, of a db this size */
};

static int
put(struct xform *x, const void *k, size_t kl, const void *v, size_t vl, eb_err *err)
{
	x->keys++;
	return eb_bw_put(x->w, k, kl, v, vl, err);
}

static void
rev_bytes(uint8_t out[17], uint64_t main)
{
	eb_st_be64(out, main);
	out[8] = '_';
	eb_st_be64(out + 9, 0);
}

static void
setup_meta(struct xform *x)
{
	x->nov = 0;
	x->ov_i = 0;
	x->ov[x->nov].k = "consistent_index";
	eb_st_be64(x->ov[x->nov].v, x->c->n);
	x->ov[x->nov++].vl = 8;
	if (x->o->mark_compacted && x->o->bump_revision) {
		x->ov[x->nov].k = "scheduledCompactRev";
		rev_bytes(x->ov[x->nov].v, x->latest_main + x->o->bump_revision);
		x->ov[x->nov++].vl = 17;
	}
	x->ov[x->nov].k = "term";
	eb_st_be64(x->ov[x->nov].v, 1);
	x->ov[x->nov++].vl = 8;
}

/* Emits overrides sorting before k (all of them when k is NULL); returns
 * 1 through *replaced when one has exactly key k. */
static int
meta_overrides(struct xform *x, const uint8_t *k, size_t kl, int *replaced, eb_err *err)
{
	int rc;
	*replaced = 0;
	while (x->ov_i < x->nov) {
		const char *ok = x->ov[x->ov_i].k;
		int c = k ? eb_keycmp((const uint8_t *)ok, strlen(ok), k, kl) : -1;
		if (c > 0)
			break;
		if ((rc = put(x, ok, strlen(ok), x->ov[x->ov_i].v, x->ov[x->ov_i].vl, err)))
			return rc;
		x->ov_i++;
		if (c == 0) {
			*replaced = 1;
			break;
		}
	}
	return 0;
}

static int
write_members(struct xform *x, eb_err *err)
{
	/* keys are hex ids: order them byte-wise, not numerically */
	size_t order[EB_MAX_MEMBERS];
	const eb_membership *c = x->c;
	eb_membership_hex_order(c, order);
	eb_wbuf js = {0};
	int rc = 0;
	for (size_t i = 0; i < c->n && !rc; i++) {
		const eb_rmember *m = &c->m[order[i]];
		eb_wbuf_reset(&js);
		eb_rmember_json(&js, m);
		if (!(rc = eb_wbuf_check(&js, err)))
			rc = put(x, m->hexid, strlen(m->hexid), js.p, js.len, err);
	}
	eb_wbuf_dispose(&js);
	return rc;
}

static int
emit_required_before(struct xform *x, const uint8_t *name, size_t len, eb_err *err)
{
	int rc, dummy;
	while (x->next_req < NREQ) {
		const char *r = required[x->next_req];
		int c = name ? eb_keycmp((const uint8_t *)r, strlen(r), name, len) : -1;
		if (c > 0)
			break;
		x->next_req++;
		if (c == 0)
			break; /* present in the source: handled by the visitor */
		if ((rc = eb_bw_bucket_begin(x->w, (const uint8_t *)r, strlen(r), 0, err)))
			return rc;
		if (!strcmp(r, "members"))
			rc = write_members(x, err);
		else if (!strcmp(r, "meta")) {
			setup_meta(x);
			rc = meta_overrides(x, NULL, 0, &dummy, err);
		}
		if (rc || (rc = eb_bw_bucket_end(x->w, err)))
			return rc;
	}
	return 0;
}

static int
v_begin(void *ctx, const uint8_t *name, size_t len, uint64_t seq, eb_err *err)
{
	struct xform *x = ctx;
	int rc;
	if ((rc = emit_required_before(x, name, len, err)) ||
	    (rc = eb_bw_bucket_begin(x->w, name, len, seq, err)))
		return rc;
#define IS(s) (len == strlen(s) && !memcmp(name, s, len))
	x->bucket_len = len < sizeof x->bucket ? len : sizeof x->bucket;
	memcpy(x->bucket, name, x->bucket_len);
	x->mode = M_COPY;
	if (IS("members")) {
		x->mode = M_MEMBERS;
		return write_members(x, err);
	}
	if (IS("members_removed") || (IS("alarm") && x->o->clear_alarms))
		x->mode = M_SKIP;
	else if (IS("meta")) {
		x->mode = M_META;
		setup_meta(x);
	} else if (IS("key"))
		x->mode = M_KEY;
	else if (IS("lease") && x->replay)
		x->mode = M_LEASE;
#undef IS
	return 0;
}

static int
v_kv(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, eb_err *err)
{
	struct xform *x = ctx;
	int rc, replaced;
	if ((rc = eb_interrupt_check(err, "rewriting the database; nothing was written to the target")) < 0)
		return rc;
	x->read += 16 + kl + vl; /* an element, its key and value: each MiB said */
	if (x->o->progress.fn && (x->read >> 20) != ((x->read - 16 - kl - vl) >> 20))
		x->o->progress.fn(x->o->progress.arg, x->read, x->db_size);
	if (x->mode == M_SKIP || x->mode == M_MEMBERS)
		return 0;
	/* a record etcd could not decode at boot fails the restore here,
	 * before the temp dir is renamed into place */
	if ((rc = eb_record_check(x->bucket, x->bucket_len, k, kl, v, vl, err)) < 0)
		return rc;
	switch (x->mode) {
	case M_SKIP:
	case M_MEMBERS:
		return 0;
	case M_LEASE:
		if ((rc = eb_replay_leases(x->replay, k, kl, err)))
			return rc;
		if (x->named && kl == 8 && !eb_leaseset_named(x->named, (int64_t)eb_be64(k))) {
			x->leases_dropped++; /* revoked or expired before the point: no key names it */
			return 0;
		}
		break;
	case M_META:
		if (kl == 18 && !memcmp(k, "finishedCompactRev", 18) && vl >= 8)
			x->fin = (int64_t)eb_be64(v);
		if (kl == 19 && !memcmp(k, "scheduledCompactRev", 19) && vl >= 8)
			x->sched = (int64_t)eb_be64(v);
		if (kl == 14 && !memcmp(k, "storageVersion", 14))
			snprintf(x->storage_version, sizeof x->storage_version, "%.*s",
			         (int)(vl < 15 ? vl : 15), (const char *)v);
		if ((rc = meta_overrides(x, k, kl, &replaced, err)) || replaced)
			return rc;
		break;
	case M_KEY:
		if (kl < 17 || k[8] != '_')
			return eb_err_set(err, EB_ECORRUPT, "bucket key: entry with a %zu-byte key is not an MVCC revision", kl);
		x->latest_main = eb_be64(k); /* keys ascend: the last is the latest */
		if (x->named && (rc = eb_leaseset_version(x->named, v, vl, kl == 18 && k[17] == 't', err)) < 0)
			return rc;
		break;
	case M_COPY:
		break;
	}
	return put(x, k, kl, v, vl, err);
}

static int
replay_put(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, eb_err *err)
{
	struct xform *x = ctx;
	int rc;
	if (x->named && x->mode == M_KEY &&
	    (rc = eb_leaseset_version(x->named, v, vl, kl == 18 && k[17] == 't', err)) < 0)
		return rc;
	if (x->named && x->mode == M_LEASE && kl == 8 && !eb_leaseset_named(x->named, (int64_t)eb_be64(k))) {
		x->leases_dropped++;
		return 0;
	}
	return put(ctx, k, kl, v, vl, err);
}

/* The key bucket's tail in a point-in-time restore: the chain's events
 * after the snapshot's last revision, up to the target. */
static int
replay_events(struct xform *x, eb_err *err)
{
	const eb_pitr_plan *p = x->replay->plan;
	int rc;
	x->snap_rev = (int64_t)x->latest_main;
	if (p->rev < x->snap_rev)
		return eb_err_set(err, EB_ENOTFOUND, "revision %lld is older than full backup %s, which holds "
		                  "revisions up to %lld (writes raced its start): restore %lld or later",
		                  (long long)p->rev, p->full.id, (long long)x->snap_rev, (long long)x->snap_rev);
	x->replay->put = replay_put;
	x->replay->ctx = x;
	if ((rc = eb_replay_keys(x->replay, x->snap_rev, err)))
		return rc;
	x->latest_main = (uint64_t)p->rev;
	/* the key bucket is complete: which leases its live keys name */
	return x->named ? eb_leaseset_seal(x->named, err) : 0;
}

static int
v_end(void *ctx, eb_err *err)
{
	struct xform *x = ctx;
	int rc, dummy;
	if (x->mode == M_META && (rc = meta_overrides(x, NULL, 0, &dummy, err)))
		return rc;
	if (x->mode == M_LEASE && (rc = eb_replay_leases(x->replay, NULL, 0, err)))
		return rc;
	if (x->mode == M_KEY && x->replay && (rc = replay_events(x, err)))
		return rc;
	if (x->mode == M_KEY && x->o->mark_compacted && x->o->bump_revision) {
		/* etcdutl: an empty-valued revision (latest + N, 0) so the new
		 * cluster's revision starts above anything clients watched,
		 * compacted at first start (meta/scheduledCompactRev). */
		uint8_t rb[17];
		rev_bytes(rb, x->latest_main + x->o->bump_revision);
		if ((rc = put(x, rb, 17, "", 0, err)))
			return rc;
	}
	x->mode = M_COPY;
	return eb_bw_bucket_end(x->w, err);
}

static int
safe_name(const char *n)
{
	return n[0] && strcmp(n, ".") && strcmp(n, "..") && !strchr(n, '/') && strlen(n) < 64;
}

struct target {
	char dir[4200];    /* member data dir inside the temp tree */
	char waldir[4200]; /* WAL dir being built */
	int dbfd;
};

/* Writes the first WAL segment, preallocated to etcd's segment size.  As
 * etcd (fileutil.Preallocate), only a filesystem without fallocate falls
 * back to a sparse file; a full disk is an error, not a sparse WAL that
 * etcd would fail on later. */
static int
write_wal(const char *p, const eb_wbuf *wal, eb_err *err)
{
	int rc = 0, fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ssize_t wr;
	if (fd < 0)
		return eb_err_sys(err, EB_EIO, errno, "create %s", p);
	wr = write(fd, wal->p, wal->len);
	if (wr != (ssize_t)wal->len)
		rc = eb_err_sys(err, EB_EIO, wr < 0 ? errno : EIO, "write %s", p);
	/* etcd preallocates segments to 64,000,000 bytes; zeros end the log. */
	else if (fallocate(fd, 0, 0, EB_WAL_SEGMENT_BYTES) != 0) {
		int e = errno;
		if (e != EOPNOTSUPP && e != ENOSYS)
			rc = eb_err_sys(err, EB_EIO, e, "preallocate the %d-byte WAL segment %s",
			                EB_WAL_SEGMENT_BYTES, p);
		else if (ftruncate(fd, EB_WAL_SEGMENT_BYTES) != 0)
			rc = eb_err_sys(err, EB_EIO, errno, "extend %s", p);
	}
	if (rc == 0 && fsync(fd))
		rc = eb_err_sys(err, EB_EIO, errno, "fsync %s", p);
	close(fd);
	return rc;
}

static int
build_member(const eb_membership *c, size_t idx, struct target *t, const eb_wbuf *snap,
             const eb_raft_form *form, eb_err *err)
{
	char p[4300];
	eb_wbuf wal = {0};
	int rc;

	if ((rc = eb_wal_build(&wal, c, idx, form, err)))
		goto out;
	snprintf(p, sizeof p, "%s/member/snap/%016llx-%016llx.snap", t->dir, 1ull, (unsigned long long)c->n);
	if ((rc = eb_file_write(p, 0666, snap->p, snap->len, err)))
		goto out;
	snprintf(p, sizeof p, "%s/%016llx-%016llx.wal", t->waldir, 0ull, 0ull);
	rc = write_wal(p, &wal, err);
out:
	eb_wbuf_dispose(&wal);
	return rc;
}

/* Everything one run holds; run_dispose releases it and, unless the run
 * committed, removes the temp dirs (nothing half-built is left). */
struct run {
	const eb_restore_opts *o;
	eb_restore_result *res;
	eb_membership c;
	int all, local;
	size_t nt;          /* data dirs written: every member, or one */
	char tmp[4096];     /* temp dir beside the target ("" once committed) */
	char waltmp[4096];  /* temp dir beside --wal-dir */
	char staged[4200];  /* a store backup fetched into tmp */
	int verified;       /* staged from a store: the stored object's sha256 and
	                     * zstd's checksum were checked as it streamed in */
	const char *from;
	eb_snapshot s;
	eb_bolt *b;
	eb_bw *w;
	struct target *tg;
	struct xform x;
	eb_pitr_plan plan;  /* point in time: the full backup and its segments */
	int have_plan;
	eb_replay replay;
	eb_leaseset named;  /* point in time: leases the keys name at the point */
	int target;         /* --target-version's minor, 0 = not given */
	eb_raft_form form;  /* how the raft records are encoded */
	/* the snapshot's sha256, checked on a thread of its own while the db
	 * is rewritten; joined before anything is committed */
	pthread_t vthread;
	int vstarted, vrc;
	eb_err verr;
};

/* "3.6", "3.6.0", "v3.6.16" -> 6; 0 when not a 3.x version. */
static int
minor_of(const char *v)
{
	unsigned maj, min;
	if (v[0] == 'v')
		v++;
	if (sscanf(v, "%u.%u", &maj, &min) != 2 || maj != 3)
		return 0;
	return (int)min;
}

static const char *
target_dir(const struct run *r)
{
	return r->all ? r->o->all_members_dir : r->o->data_dir;
}

/* Step 1: flags that contradict each other or etcd, targets that exist. */
static int
check_request(struct run *r, eb_err *err)
{
	const eb_restore_opts *o = r->o;
	int rc;
	if ((rc = eb_membership_parse(&r->c, o->initial_cluster, o->token, err)))
		return rc;
	if (o->pitr && o->backup)
		return eb_err_set(err, EB_EINVAL, "--backup and --to-revision/--to-time/--to-latest exclude each "
		                  "other: the point picks its full backup");
	if (o->bump_revision && !o->mark_compacted)
		return eb_err_set(err, EB_EINVAL, "--bump-revision needs --mark-compacted (as in etcdutl)");
	if (o->mark_compacted && !o->bump_revision)
		return eb_err_set(err, EB_EINVAL, "--mark-compacted needs --bump-revision N > 0 (as in etcdutl)");
	if (o->target_version) {
		r->target = minor_of(o->target_version);
		if (r->target < 4 || r->target > EB_RESTORE_MAX_MINOR)
			return eb_err_set(err, EB_EINVAL, "--target-version %s: give an etcd version from 3.4 to 3.%d",
			                  o->target_version, EB_RESTORE_MAX_MINOR);
	}
	if (r->all) {
		if (o->wal_dir)
			return eb_err_set(err, EB_EINVAL, "--wal-dir cannot be combined with --all-members (each member's WAL goes to <dir>/<name>/member/wal)");
		for (size_t i = 0; i < r->c.n; i++)
			if (!safe_name(r->c.m[i].name))
				return eb_err_set(err, EB_EINVAL, "member name '%s' cannot be used as a directory name with --all-members", r->c.m[i].name);
		return eb_dir_check_free(o->all_members_dir, "--all-members", err);
	}
	r->local = eb_membership_find(&r->c, o->name);
	if (r->local < 0)
		return eb_err_set(err, EB_EINVAL, "couldn't find local name %s in the initial cluster configuration (--initial-cluster %s)", o->name, o->initial_cluster);
	if ((rc = eb_membership_check_advertise(&r->c, (size_t)r->local, o->adv_urls, err)) ||
	    (rc = eb_dir_check_free(o->data_dir, "--data-dir", err)))
		return rc;
	return o->wal_dir ? eb_dir_check_free(o->wal_dir, "--wal-dir", err) : 0;
}

/* Step 2: a stored backup is fetched (verified on the fly) into the temp
 * dir beside the target, so the staged copy shares the target's
 * filesystem and disappears with the temp dir on any failure. */
static int
stage_backup(struct run *r, eb_err *err)
{
	int rc, decode = 0;
	r->from = r->o->from;
	if (!r->o->backup && !r->o->pitr) {
		/* a local file: plain, or age-encrypted and/or zstd (a stored
		 * object copied out, or a snapshot that `age` encrypted) */
		if (r->o->keys.trusted)
			return eb_err_set(err, EB_EINVAL, "--trusted-keys checks a backup's signed "
			                  "manifest: use --from STORE --backup ID (a snapshot file has none)");
		if ((decode = eb_local_needs_decoding(r->from, err)) <= 0)
			return decode;
	}
	if ((rc = eb_dir_make_temp(target_dir(r), r->tmp, sizeof r->tmp, err)))
		return rc;
	snprintf(r->staged, sizeof r->staged, "%s/.snapshot.db", r->tmp);
	if (r->o->pitr) {
		/* the chain that covers the point; its full backup is staged */
		if ((rc = eb_pitr_plan_make(r->o->from, r->o->store_opts, &r->o->keys, &r->o->want, &r->plan, err)))
			return rc;
		r->have_plan = 1;
		r->replay.plan = &r->plan;
		r->replay.keys = &r->o->keys;
		r->res->pitr_rev = r->plan.rev;
		r->res->segments = r->plan.chain.n;
		snprintf(r->res->backup_id, sizeof r->res->backup_id, "%s", r->plan.full.id);
		r->res->backup_cluster = r->plan.full.cluster_id;
		rc = eb_fetch_manifest(r->plan.st, &r->plan.full, &r->o->keys, r->staged, &r->o->progress, err);
		r->verified = rc == 0;
	} else if (decode)
		rc = eb_decode_local(r->o->from, &r->o->keys, r->staged, &r->o->progress, err);
	else {
		rc = eb_fetch_backup(r->o->from, r->o->store_opts, &r->o->keys, r->o->backup,
		                     r->staged, r->res->backup_id, sizeof r->res->backup_id,
		                     &r->res->backup_cluster, &r->o->progress, err);
		r->verified = rc == 0;
	}
	if (rc)
		return rc;
	r->from = r->staged;
	return 0;
}

static void *
verify_main(void *arg)
{
	struct run *r = arg;
	r->vrc = eb_snapshot_verify(&r->s, 0, &r->verr);
	return NULL;
}

/* Step 3: the input is checked before anything is committed. */
static int
open_snapshot(struct run *r, eb_err *err)
{
	int rc;
	/* a fetched backup is not read a second time: it was proven as it
	 * streamed in (restore/fetch.h); a file's sha256 is checked beside
	 * the rewrite (verify_join, before the commit) */
	int skip = r->o->skip_hash_check || r->verified;
	if ((rc = eb_snapshot_open(&r->s, r->from, err)))
		return rc;
	if ((rc = eb_bolt_open(&r->b, r->s.fd, r->s.db_size, err))) {
		/* a torn or foreign file: its sha256, when it has one, says so first */
		eb_err verr;
		int vrc;
		eb_err_init(&verr);
		if (!skip && r->s.has_trailer && (vrc = eb_snapshot_verify(&r->s, 0, &verr)) != 0) {
			*err = verr;
			return vrc;
		}
		return rc;
	}
	if (!skip && r->s.has_trailer) {
		eb_err_init(&r->verr);
		if (pthread_create(&r->vthread, NULL, verify_main, r) == 0)
			r->vstarted = 1;
		else if ((rc = eb_snapshot_verify(&r->s, 0, err)))
			return rc;
	} else if (!skip && (rc = eb_snapshot_verify(&r->s, 0, err))) {
		return rc; /* no trailer: says so (or skips, as asked) */
	}
	r->res->hash_checked = !r->o->skip_hash_check || r->verified;
	return 0;
}

/* Step 6b: the sha256 check's outcome, which comes before rc (what the
 * steps since said) when the snapshot is corrupt. */
static int
verify_join(struct run *r, int rc, eb_err *err)
{
	if (!r->vstarted)
		return rc;
	pthread_join(r->vthread, NULL);
	r->vstarted = 0;
	if (r->vrc) {
		*err = r->verr;
		return r->vrc;
	}
	return rc;
}

/* Bytes free for an unprivileged writer on the filesystem path will be
 * written on: its own when it is an existing folder (an empty mount point:
 * the restore stages inside it), else its parent's; its device in *dev. */
static int
free_bytes(const char *path, uint64_t *out, dev_t *dev, eb_err *err)
{
	char parent[4200], p[4200];
	struct statvfs vs;
	struct stat sb;
	size_t n = (size_t)snprintf(p, sizeof p, "%s", path);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
		snprintf(parent, sizeof parent, "%s", p);
	else
		eb_dirname(p, parent, sizeof parent);
	if (statvfs(parent, &vs) != 0 || stat(parent, &sb) != 0)
		return eb_err_sys(err, EB_EIO, errno, "cannot read the free space of %s", parent);
	*out = (uint64_t)vs.f_bavail * vs.f_frsize;
	*dev = sb.st_dev;
	return 0;
}

/* Step 4: enough room for every db (a rewrite is at most the snapshot's
 * size; an eighth is added for page slack), the .snap files and the
 * preallocated WAL segments, before the first byte is written.  Each WAL
 * dir needs two segments: etcd preallocates the next one when it starts
 * ("read wal error (no space left on device)" otherwise). */
static int
check_space(struct run *r, eb_err *err)
{
	const char *tdir = target_dir(r), *wdir = r->o->wal_dir;
	uint64_t db = r->s.db_size + r->s.db_size / 8 + (1u << 20);
	uint64_t need_data = r->nt * db, need_wal = r->nt * 2 * (uint64_t)EB_WAL_SEGMENT_BYTES;
	uint64_t have_data, have_wal;
	dev_t ddev, wdev;
	int rc = free_bytes(tdir, &have_data, &ddev, err);
	if (rc == 0 && wdir)
		rc = free_bytes(wdir, &have_wal, &wdev, err);
	if (rc < 0)
		return rc;
	if (!wdir || wdev == ddev) {
		need_data += need_wal;
		need_wal = 0;
	}
	if (need_data > have_data)
		return eb_err_set(err, EB_EIO,
		                  "not enough free space for %s: the restore needs about %llu MiB "
		                  "(%zu database(s) of up to %llu MiB%s), %llu MiB are free; free some "
		                  "space or restore elsewhere",
		                  tdir, (unsigned long long)(need_data >> 20), r->nt,
		                  (unsigned long long)(db >> 20),
		                  need_wal || wdir ? "" : ", two 64 MB WAL segments each",
		                  (unsigned long long)(have_data >> 20));
	if (need_wal > have_wal)
		return eb_err_set(err, EB_EIO,
		                  "not enough free space for --wal-dir %s: etcd needs two WAL segments "
		                  "of %d bytes there, %llu MiB are free", wdir, EB_WAL_SEGMENT_BYTES,
		                  (unsigned long long)(have_wal >> 20));
	return 0;
}

/* Step 5: the member dirs inside the temp dir(s), one db file each. */
static int
make_targets(struct run *r, int *fds, eb_err *err)
{
	int rc;
	r->tg = calloc(r->nt, sizeof *r->tg);
	if (!r->tg)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->nt; i++)
		r->tg[i].dbfd = -1;
	if (!r->tmp[0] && (rc = eb_dir_make_temp(target_dir(r), r->tmp, sizeof r->tmp, err)))
		return rc;
	if (r->o->wal_dir && (rc = eb_dir_make_temp(r->o->wal_dir, r->waltmp, sizeof r->waltmp, err)))
		return rc;
	for (size_t i = 0; i < r->nt; i++) {
		struct target *t = &r->tg[i];
		char p[4300];
		int n1 = r->all ? snprintf(t->dir, sizeof t->dir, "%s/%s", r->tmp, r->c.m[i].name)
		                : snprintf(t->dir, sizeof t->dir, "%s", r->tmp);
		int n2 = r->waltmp[0] ? snprintf(t->waldir, sizeof t->waldir, "%s", r->waltmp)
		                      : snprintf(t->waldir, sizeof t->waldir, "%s/member/wal", t->dir);
		if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof t->dir || (size_t)n2 >= sizeof t->waldir)
			return eb_err_set(err, EB_EINVAL, "output path too long");
		snprintf(p, sizeof p, "%s/member/snap", t->dir);
		if ((rc = eb_mkdir_p(p, err)) || (rc = eb_mkdir_p(t->waldir, err)))
			return rc;
		snprintf(p, sizeof p, "%s/member/snap/db", t->dir);
		t->dbfd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (t->dbfd < 0)
			return eb_err_sys(err, EB_EIO, errno, "create %s", p);
		fds[i] = t->dbfd;
	}
	return 0;
}

/* Step 6: one walk of the snapshot feeds every member's db. */
static int
rewrite_db(struct run *r, const int *fds, eb_err *err)
{
	eb_bolt_visitor v = {.ctx = &r->x, .bucket_begin = v_begin, .kv = v_kv, .bucket_end = v_end};
	int rc;
	if ((rc = eb_bw_new(&r->w, fds, (int)r->nt, eb_bolt_get_meta(r->b)->page_size, err)))
		return rc;
	r->x = (struct xform){.w = r->w, .o = r->o, .c = &r->c, .fin = -1, .sched = -1,
	                      .replay = r->have_plan ? &r->replay : NULL,
	                      .named = r->have_plan ? &r->named : NULL, .db_size = r->s.db_size};
	if ((rc = eb_bolt_walk(r->b, &v, NULL, err)) ||
	    (rc = emit_required_before(&r->x, NULL, 0, err)) ||
	    (rc = eb_bw_finish(r->w, &r->res->db_size, err)))
		return rc;
	r->res->keys_copied = r->x.keys;
	r->res->events = r->replay.events;
	r->res->leases_dropped = r->x.leases_dropped;
	r->res->revision = r->x.latest_main + (r->o->mark_compacted ? r->o->bump_revision : 0);
	return 0;
}

/* Step 6b: the etcd version the output is for.  etcd refuses a data dir
 * whose storage version is newer than itself (downgrades go through
 * `etcdutl migrate`, one minor at a time): so do we, before anything is
 * installed. */
static int
choose_target(struct run *r, eb_err *err)
{
	const char *sv = r->x.storage_version;
	int snap = sv[0] ? minor_of(sv) : 0;
	snprintf(r->res->storage_version, sizeof r->res->storage_version, "%s", sv);
	if (sv[0] && snap == 0)
		return eb_err_set(err, EB_ECORRUPT, "the snapshot's storage version \"%s\" is not an etcd 3.x version", sv);
	if (snap > EB_RESTORE_MAX_MINOR)
		return eb_err_set(err, EB_EINVAL,
		                  "the snapshot was written by etcd %s (storage version); this etcd-restore knows "
		                  "etcd 3.4 to 3.%d: use that etcd's etcdutl snapshot restore", sv,
		                  EB_RESTORE_MAX_MINOR);
	r->res->target_minor = r->target ? r->target : snap;
	if (r->target && snap > r->target)
		return eb_err_set(err, EB_EINVAL,
		                  "the snapshot comes from etcd 3.%d (storage version %s) and etcd 3.%d refuses "
		                  "data written by a newer version: restore it with --target-version 3.%d (the "
		                  "snapshot's), then downgrade the running cluster one minor at a time",
		                  snap, sv, r->target, snap);
	eb_raft_form_for(r->res->target_minor, &r->form);
	return 0;
}

/* Step 7: the new database read back through the validating reader before
 * anything is renamed into place: a writer bug or a bad disk shows up here,
 * not when etcd opens it.  The files are identical; the first is checked.
 * The staged download is no longer needed. */
static int
read_back(struct run *r, eb_err *err)
{
	eb_bolt *vb = NULL;
	eb_bolt_stats vst;
	eb_err verr;
	int rc;
	eb_err_init(&verr);
	rc = eb_bolt_open(&vb, r->tg[0].dbfd, r->res->db_size, &verr);
	if (!rc)
		rc = eb_bolt_walk(vb, NULL, &vst, &verr);
	eb_bolt_close(vb);
	if (!rc && vst.keys != r->x.keys)
		rc = eb_err_set(&verr, EB_ECORRUPT, "%llu keys read back, %llu written",
		                (unsigned long long)vst.keys, (unsigned long long)r->x.keys);
	if (rc)
		return eb_err_set(err, rc, "the restored database failed its read-back check (nothing was installed): %s", verr.msg);
	if (r->staged[0] && unlink(r->staged))
		return eb_err_sys(err, EB_EIO, errno, "remove staged snapshot %s", r->staged);
	return 0;
}

/* Step 7b, point in time: the result's HashKV at the target revision must
 * equal the live HashKV the segment recorded, when one ends exactly there
 * and etcd had compacted to the same revision as the restored history
 * (otherwise the two hash different histories: said, not compared). */
static int
check_hashkv(struct run *r, eb_err *err)
{
	const eb_segman *sm = r->plan.chain.n ? &r->plan.chain.v[r->plan.chain.n - 1] : NULL;
	int64_t crev = r->x.fin;
	eb_inspect_opts io = {.hashkv_rev = r->plan.rev, .compact_rev_set = 1};
	eb_inspect_result ir;
	char db[4300];
	int rc;
	if (!r->have_plan)
		return 0;
	if (r->x.sched > r->x.fin)
		crev = r->x.sched;
	if (!sm || sm->last_rev != r->plan.rev || !sm->has_hashkv) {
		snprintf(r->res->hashkv_note, sizeof r->res->hashkv_note, "no live HashKV was recorded at revision "
		         "%lld (one is recorded at the end of each segment)", (long long)r->plan.rev);
		return 0;
	}
	if (sm->hashkv_compact_rev != crev) {
		snprintf(r->res->hashkv_note, sizeof r->res->hashkv_note, "etcd had compacted to revision %lld when "
		         "it was recorded; the restored history starts at %lld", (long long)sm->hashkv_compact_rev,
		         (long long)crev);
		return 0;
	}
	io.compact_rev = crev;
	io.new_rules = eb_hashkv_new_rules_for(r->plan.full.etcd_version);
	snprintf(db, sizeof db, "%s/member/snap/db", r->tg[0].dir);
	if ((rc = eb_inspect_file(db, &io, &ir, err)))
		return rc;
	if (!ir.hashkv_ok)
		return eb_err_set(err, EB_ECORRUPT, "HashKV of the restored database could not be computed: %s",
		                  ir.structure_msg);
	if (ir.hashkv != sm->hashkv)
		return eb_err_set(err, EB_ECORRUPT, "the restored keyspace differs from the cluster's: HashKV at "
		                  "revision %lld is %u, the cluster's was %u (nothing was installed)",
		                  (long long)r->plan.rev, ir.hashkv, sm->hashkv);
	r->res->hashkv_checked = 1;
	r->res->hashkv = ir.hashkv;
	return 0;
}

/* Step 8: the raft state of every member (.snap file, first WAL segment),
 * then every file closed and every directory fsynced. */
static int
write_raft_state(struct run *r, eb_err *err)
{
	eb_wbuf snap = {0};
	int rc = eb_snapfile_build(&snap, &r->c, &r->form, err);
	for (size_t i = 0; rc == 0 && i < r->nt; i++)
		rc = build_member(&r->c, r->all ? i : (size_t)r->local, &r->tg[i], &snap, &r->form, err);
	eb_wbuf_dispose(&snap);
	for (size_t i = 0; rc == 0 && i < r->nt; i++) {
		int fd = r->tg[i].dbfd;
		r->tg[i].dbfd = -1;
		if (close(fd))
			rc = eb_err_sys(err, EB_EIO, errno, "close db");
	}
	if (rc == 0)
		rc = eb_tree_fsync_dirs(r->tmp, err);
	if (rc == 0 && r->waltmp[0])
		rc = eb_tree_fsync_dirs(r->waltmp, err);
	return rc;
}

/* Step 9, the commit point: the temp dirs are renamed into place. */
static int
commit(struct run *r, eb_err *err)
{
	int rc;
	if (r->waltmp[0]) {
		if ((rc = eb_dir_commit(r->waltmp, r->o->wal_dir, err)))
			return rc;
		r->waltmp[0] = 0;
		if ((rc = eb_dir_commit(r->tmp, r->o->data_dir, err))) {
			eb_dir_remove(r->o->wal_dir); /* we just created it */
			return rc;
		}
	} else if ((rc = eb_dir_commit(r->tmp, target_dir(r), err))) {
		return rc;
	}
	r->tmp[0] = 0;
	return 0;
}

static void
run_dispose(struct run *r)
{
	eb_err ignored;
	verify_join(r, 0, &ignored);
	for (size_t i = 0; r->tg && i < r->nt; i++)
		if (r->tg[i].dbfd >= 0)
			close(r->tg[i].dbfd);
	free(r->tg);
	if (r->tmp[0])
		eb_dir_remove(r->tmp);
	if (r->waltmp[0])
		eb_dir_remove(r->waltmp);
	eb_bw_free(r->w);
	eb_bolt_close(r->b);
	eb_snapshot_close(&r->s);
	eb_membership_dispose(&r->c);
	eb_replay_dispose(&r->replay);
	eb_leaseset_dispose(&r->named);
	if (r->have_plan)
		eb_pitr_plan_dispose(&r->plan);
}

int
eb_restore_run(const eb_restore_opts *o, eb_restore_result *res, eb_err *err)
{
	struct run r;
	int fds[EB_MAX_MEMBERS];
	int rc;

	memset(res, 0, sizeof *res);
	memset(&r, 0, sizeof r);
	r.o = o;
	r.res = res;
	r.s.fd = -1;
	r.all = o->all_members_dir != NULL;
	rc = check_request(&r, err);
	if (rc == 0) {
		r.nt = r.all ? r.c.n : 1;
		res->cluster_id = r.c.cluster_id;
		res->members = r.c.n;
		for (size_t i = 0; i < r.c.n; i++) {
			res->member_ids[i] = r.c.m[i].id;
			snprintf(res->member_names[i], sizeof res->member_names[i], "%s", r.c.m[i].name);
		}
		rc = stage_backup(&r, err);
	}
	if (rc == 0)
		rc = open_snapshot(&r, err);
	if (rc == 0)
		rc = check_space(&r, err);
	if (rc == 0)
		rc = make_targets(&r, fds, err);
	if (rc == 0)
		rc = rewrite_db(&r, fds, err);
	rc = verify_join(&r, rc, err); /* a corrupt snapshot is the cause to name */
	if (rc == 0)
		rc = choose_target(&r, err);
	if (rc == 0)
		rc = read_back(&r, err);
	if (rc == 0)
		rc = check_hashkv(&r, err);
	if (rc == 0)
		rc = write_raft_state(&r, err);
	if (rc == 0)
		rc = commit(&r, err); /* the data dir appears here, whole */
	run_dispose(&r);
	return rc;
}
