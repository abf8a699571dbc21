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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/bbolt_read.h"
#include "restore/bbolt_write.h"
#include "restore/bytes.h"
#include "restore/datadir.h"
#include "restore/fetch.h"
#include "restore/members.h"
#include "restore/snapfile.h"
#include "restore/snapshot.h"
#include "restore/wal.h"

enum mode { M_COPY, M_SKIP, M_MEMBERS, M_META, M_KEY };

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
	uint8_t bucket[64]; /* the bucket being copied, for record checks */
	size_t bucket_len;
	/* meta overrides, sorted by key */
	struct { const char *k; uint8_t v[17]; size_t vl; } ov[3];
	size_t nov, ov_i;
	uint64_t keys;
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
	eb_wbuf_free(&js);
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
	case M_META:
		if ((rc = meta_overrides(x, k, kl, &replaced, err)) || replaced)
			return rc;
		break;
	case M_KEY:
		if (kl < 17 || k[8] != '_')
			return eb_err_set(err, EB_ECORRUPT, "bucket key: entry with a %zu-byte key is not an MVCC revision", kl);
		x->latest_main = eb_be64(k); /* keys ascend: the last is the latest */
		break;
	case M_COPY:
		break;
	}
	return put(x, k, kl, v, vl, err);
}

static int
v_end(void *ctx, eb_err *err)
{
	struct xform *x = ctx;
	int rc, dummy;
	if (x->mode == M_META && (rc = meta_overrides(x, NULL, 0, &dummy, err)))
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

static int
build_member(const eb_membership *c, size_t idx, struct target *t, const eb_wbuf *snap, eb_err *err)
{
	char p[4300];
	eb_wbuf wal = {0};
	int rc, fd;

	if ((rc = eb_wal_build(&wal, c, idx, 1, err)))
		goto out;
	snprintf(p, sizeof p, "%s/member/snap/%016llx-%016llx.snap", t->dir, 1ull, (unsigned long long)c->n);
	if ((rc = eb_file_write(p, 0666, snap->p, snap->len, err)))
		goto out;
	snprintf(p, sizeof p, "%s/%016llx-%016llx.wal", t->waldir, 0ull, 0ull);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = eb_err_sys(err, EB_EIO, errno, "create %s", p);
		goto out;
	}
	ssize_t wr = write(fd, wal.p, wal.len);
	if (wr != (ssize_t)wal.len)
		rc = eb_err_sys(err, EB_EIO, wr < 0 ? errno : EIO, "write %s", p);
	/* etcd preallocates segments to 64,000,000 bytes; zeros end the log. */
	else if (fallocate(fd, 0, 0, EB_WAL_SEGMENT_BYTES) && ftruncate(fd, EB_WAL_SEGMENT_BYTES))
		rc = eb_err_sys(err, EB_EIO, errno, "preallocate %s", p);
	else if (fsync(fd))
		rc = eb_err_sys(err, EB_EIO, errno, "fsync %s", p);
	close(fd);
out:
	eb_wbuf_free(&wal);
	return rc;
}

int
eb_restore_run(const eb_restore_opts *o, eb_restore_result *res, eb_err *err)
{
	eb_membership c = {0};
	eb_snapshot s = {.fd = -1};
	eb_bolt *b = NULL;
	eb_bw *w = NULL;
	eb_wbuf snap = {0};
	struct target *tg = NULL;
	char tmp[4096] = "", waltmp[4096] = "";
	int rc, all = o->all_members_dir != NULL;

	memset(res, 0, sizeof *res);
	if ((rc = eb_membership_parse(&c, o->initial_cluster, o->token, err)))
		return rc;
	if (o->bump_revision && !o->mark_compacted) {
		rc = eb_err_set(err, EB_EINVAL, "--bump-revision needs --mark-compacted (as in etcdutl)");
		goto out;
	}
	if (o->mark_compacted && !o->bump_revision) {
		rc = eb_err_set(err, EB_EINVAL, "--mark-compacted needs --bump-revision N > 0 (as in etcdutl)");
		goto out;
	}
	int local = -1;
	if (!all) {
		local = eb_membership_find(&c, o->name);
		if (local < 0) {
			rc = eb_err_set(err, EB_EINVAL, "couldn't find local name %s in the initial cluster configuration (--initial-cluster %s)", o->name, o->initial_cluster);
			goto out;
		}
		if ((rc = eb_membership_check_advertise(&c, (size_t)local, o->adv_urls, err)))
			goto out;
		if ((rc = eb_dir_check_free(o->data_dir, "--data-dir", err)))
			goto out;
		if (o->wal_dir && (rc = eb_dir_check_free(o->wal_dir, "--wal-dir", err)))
			goto out;
	} else {
		if (o->wal_dir) {
			rc = eb_err_set(err, EB_EINVAL, "--wal-dir cannot be combined with --all-members (each member's WAL goes to <dir>/<name>/member/wal)");
			goto out;
		}
		for (size_t i = 0; i < c.n; i++)
			if (!safe_name(c.m[i].name)) {
				rc = eb_err_set(err, EB_EINVAL, "member name '%s' cannot be used as a directory name with --all-members", c.m[i].name);
				goto out;
			}
		if ((rc = eb_dir_check_free(o->all_members_dir, "--all-members", err)))
			goto out;
	}
	res->cluster_id = c.cluster_id;
	res->members = c.n;
	for (size_t i = 0; i < c.n; i++) {
		res->member_ids[i] = c.m[i].id;
		snprintf(res->member_names[i], sizeof res->member_names[i], "%s", c.m[i].name);
	}

	/* A stored backup is fetched (verified on the fly) into the temp dir
	 * beside the target, so the staged copy shares the target's
	 * filesystem and disappears with the temp dir on any failure. */
	const char *from = o->from;
	char staged[4200] = "";
	if (o->backup) {
		if ((rc = eb_dir_make_temp(all ? o->all_members_dir : o->data_dir, tmp, sizeof tmp, err)))
			goto out;
		snprintf(staged, sizeof staged, "%s/.snapshot.db", tmp);
		if ((rc = eb_fetch_backup(o->from, o->store_opts, o->backup, staged, res->backup_id, sizeof res->backup_id, err)))
			goto out;
		from = staged;
	}
	/* Input checks come before anything else is created. */
	if ((rc = eb_snapshot_open(&s, from, err)) ||
	    (rc = eb_snapshot_verify(&s, o->skip_hash_check, err)) ||
	    (rc = eb_bolt_open(&b, s.fd, s.db_size, err)))
		goto out;
	res->hash_checked = !o->skip_hash_check;

	size_t nt = all ? c.n : 1;
	tg = calloc(nt, sizeof *tg);
	if (!tg) {
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nt; i++)
		tg[i].dbfd = -1;
	if (!tmp[0] && (rc = eb_dir_make_temp(all ? o->all_members_dir : o->data_dir, tmp, sizeof tmp, err)))
		goto out;
	if (o->wal_dir && (rc = eb_dir_make_temp(o->wal_dir, waltmp, sizeof waltmp, err)))
		goto out;
	int fds[EB_MAX_MEMBERS];
	for (size_t i = 0; i < nt; i++) {
		char p[4300];
		int n1 = all ? snprintf(tg[i].dir, sizeof tg[i].dir, "%s/%s", tmp, c.m[i].name)
		             : snprintf(tg[i].dir, sizeof tg[i].dir, "%s", tmp);
		int n2 = waltmp[0] ? snprintf(tg[i].waldir, sizeof tg[i].waldir, "%s", waltmp)
		                   : snprintf(tg[i].waldir, sizeof tg[i].waldir, "%s/member/wal", tg[i].dir);
		if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof tg[i].dir || (size_t)n2 >= sizeof tg[i].waldir) {
			rc = eb_err_set(err, EB_EINVAL, "output path too long");
			goto out;
		}
		snprintf(p, sizeof p, "%s/member/snap", tg[i].dir);
		if ((rc = eb_dir_mkdirs(p, err)) || (rc = eb_dir_mkdirs(tg[i].waldir, err)))
			goto out;
		snprintf(p, sizeof p, "%s/member/snap/db", tg[i].dir);
		tg[i].dbfd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (tg[i].dbfd < 0) {
			rc = eb_err_sys(err, EB_EIO, errno, "create %s", p);
			goto out;
		}
		fds[i] = tg[i].dbfd;
	}

	/* One walk of the snapshot feeds every member's db. */
	if ((rc = eb_bw_new(&w, fds, (int)nt, eb_bolt_get_meta(b)->page_size, err)))
		goto out;
	struct xform x = {.w = w, .o = o, .c = &c};
	eb_bolt_visitor v = {.ctx = &x, .bucket_begin = v_begin, .kv = v_kv, .bucket_end = v_end};
	if ((rc = eb_bolt_walk(b, &v, NULL, err)) ||
	    (rc = emit_required_before(&x, NULL, 0, err)) ||
	    (rc = eb_bw_finish(w, &res->db_size, err)))
		goto out;
	/* Read the new database back through the validating reader before
	 * anything is renamed into place: a writer bug or a bad disk shows up
	 * here, not when etcd opens it.  The files are identical; the first
	 * is checked. */
	{
		eb_bolt *vb = NULL;
		eb_bolt_stats vst;
		eb_err verr;
		eb_err_init(&verr);
		rc = eb_bolt_open(&vb, tg[0].dbfd, res->db_size, &verr);
		if (!rc)
			rc = eb_bolt_walk(vb, NULL, &vst, &verr);
		eb_bolt_close(vb);
		if (!rc && vst.keys != x.keys)
			rc = eb_err_set(&verr, EB_ECORRUPT, "%llu keys read back, %llu written",
			                (unsigned long long)vst.keys, (unsigned long long)x.keys);
		if (rc) {
			rc = eb_err_set(err, rc, "the restored database failed its read-back check (nothing was installed): %s", verr.msg);
			goto out;
		}
	}
	if (staged[0] && unlink(staged)) {
		rc = eb_err_sys(err, EB_EIO, errno, "remove staged snapshot %s", staged);
		goto out;
	}
	res->keys_copied = x.keys;
	res->revision = x.latest_main + (o->mark_compacted ? o->bump_revision : 0);

	if ((rc = eb_snapfile_build(&snap, &c, err)))
		goto out;
	for (size_t i = 0; i < nt; i++)
		if ((rc = build_member(&c, all ? i : (size_t)local, &tg[i], &snap, err)))
			goto out;
	for (size_t i = 0; i < nt; i++) {
		if (close(tg[i].dbfd)) {
			tg[i].dbfd = -1;
			rc = eb_err_sys(err, EB_EIO, errno, "close db");
			goto out;
		}
		tg[i].dbfd = -1;
	}
	if ((rc = eb_tree_fsync_dirs(tmp, err)) ||
	    (waltmp[0] && (rc = eb_tree_fsync_dirs(waltmp, err))))
		goto out;
	if (waltmp[0]) {
		if ((rc = eb_dir_commit(waltmp, o->wal_dir, err)))
			goto out;
		waltmp[0] = 0;
		if ((rc = eb_dir_commit(tmp, o->data_dir, err))) {
			eb_dir_remove(o->wal_dir); /* we just created it */
			goto out;
		}
	} else if ((rc = eb_dir_commit(tmp, all ? o->all_members_dir : o->data_dir, err)))
		goto out;
	tmp[0] = 0;
out:
	if (tg)
		for (size_t i = 0; i < (all ? c.n : 1); i++)
			if (tg[i].dbfd >= 0)
				close(tg[i].dbfd);
	free(tg);
	if (tmp[0])
		eb_dir_remove(tmp);
	if (waltmp[0])
		eb_dir_remove(waltmp);
	eb_wbuf_free(&snap);
	eb_bw_free(w);
	eb_bolt_close(b);
	eb_snapshot_close(&s);
	eb_membership_dispose(&c);
	return rc;
}
