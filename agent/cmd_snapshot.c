/* etcd-backup snapshot: one verified, compressed backup into a store. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/backup.h"
#include "agent/deep.h"
#include "agent/cli.h"
#include "agent/cmds.h"
#include "agent/prune.h"
#include "agent/util.h"
#include "common/clock.h"
#include "common/exitcodes.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"

static const char usage[] =
"Usage: etcd-backup snapshot [--to STORE] [flags]\n"
"\n"
"Streams a snapshot from one etcd member, checks etcd's sha256 trailer as it\n"
"streams, compresses it with zstd and stores it; the JSON manifest is written\n"
"last, so a backup exists only when it is complete and verified.  On any\n"
"failure (hash mismatch, short stream, member lost) nothing is left in the\n"
"store.  The stored object decompresses to exactly what 'etcdctl snapshot\n"
"save' writes, so any etcd tool can restore it.  With --age-recipient the\n"
"object is age-encrypted after compression (<id>.snapshot.db.zst.age):\n"
"'age -d -i key.txt OBJECT | zstd -d' gives the etcdctl file.\n"
"\n"
"Right after the stream the member and every other reachable member are\n"
"asked for HashKV at the snapshot's revision; the answer is recorded in the\n"
"manifest.  Members that disagree are named and the run exits 7 (the backup\n"
"is kept: it may be the one you need).\n"
"\n"
"Member choice (--member): auto (default) = reachable, no alarm, up to date\n"
"(applied index within 1000 entries of the newest member), a follower\n"
"preferred to spare the leader; leader; follower; or one of the\n"
"--endpoints.  A member with a NOSPACE alarm is used only as a last resort.\n"
"\n"
"Flags:\n"
"  --to STORE                   where to store (default /var/backups/etcd)\n"
STORE_FLAGS_HELP
ETCD_FLAGS_HELP
"  --member auto|leader|follower|URL   which member to stream from\n"
"  --snapshot-idle-timeout DUR  fail when etcd sends nothing this long (30s)\n"
"  --s3-object-lock-mode governance|compliance, --s3-object-lock-days N\n"
"                               S3 Object Lock retention of the object, the\n"
"                               signature and the manifest (the bucket must\n"
"                               have Object Lock enabled; Content-MD5 is sent)\n"
"  --s3-sse AES256|aws:kms, --s3-sse-kms-key-id ID\n"
"                               S3 server-side encryption of new objects\n"
"  --compression zstd|none      (default zstd)\n"
"  --compression-level N        zstd level 1..19 (default 1: fast)\n"
"  --tag LABEL                  label stored in the manifest (repeatable),\n"
"                               e.g. --tag pre-upgrade-1.29\n"
"  --keep-last N, --keep-hourly N, --keep-daily N, --keep-weekly N,\n"
"  --keep-monthly N             prune after a success (see 'prune --help'); with\n"
"                               --sign-key only backups signed by this key (or\n"
"                               one in --trusted-keys) count and are deleted\n"
"  --trusted-keys FILE          more keys whose backups retention counts (env\n"
"                               ETCD_BACKUP_TRUSTED_KEYS)\n"
"  --abort-incomplete-after DUR remove temp files / S3 uploads of killed runs\n"
"                               older than this (default 24h)\n"
"  --metrics-file FILE          Prometheus textfile (node_exporter collector)\n"
"  --pushgateway-url URL        push the same metrics to a Pushgateway\n"
"  --progress, --no-progress    progress on stderr: bytes, percent, rate, ETA\n"
"                               (default: on a terminal; with --log-format\n"
"                               json, a \"progress\" event every 5 s)\n"
"  --verify-deep                read the backup back from the store and compare\n"
"                               its keyspace's HashKV with the cluster's (exit 5\n"
"                               when it differs; see 'verify --help')\n"
"  --tmp-dir DIR                for --verify-deep (default $TMPDIR or /tmp)\n"
CONTROL_PLANE_HELP
WRITE_KEYS_HELP
"  -o, -w, --write-out FMT      table (one summary line, default) or json\n"
COMMON_FLAGS_HELP
"\n"
"Example (kubeadm control plane):\n"
"  etcd-backup snapshot --endpoints https://127.0.0.1:2379 \\\n"
"    --cacert /etc/kubernetes/pki/etcd/ca.crt \\\n"
"    --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt \\\n"
"    --key /etc/kubernetes/pki/etcd/healthcheck-client.key \\\n"
"    --to /var/backups/etcd --tag pre-upgrade --keep-last 14\n";

/* etcd's stream, against the db size Status gave */
static void
on_progress(uint64_t done, uint64_t total, void *arg)
{
	eb_progress_report(arg, done, total);
}

/* Certificate lifetimes of every https endpoint and of the client cert, for
 * the metrics; a certificate that cannot be read is a warning, never a
 * failed backup.  Warns when one expires within 30 days. */
static void
record_certs(const cli *c, eb_metrics *mt)
{
	eb_buf eps;
	eb_err e;
	int64_t now = (int64_t)time(NULL);
	if (!c->metrics_file && !c->pushgateway_url && !c->etcd.cert &&
	    strncmp(c->endpoints[0], "https://", 8) != 0)
		return;
	eb_buf_init(&eps);
	for (size_t i = 0; i < c->nendpoints; i++) {
		if (i)
			eb_buf_puts(&eps, ",");
		eb_buf_puts(&eps, c->endpoints[i]);
	}
	eb_err_init(&e);
	if (eps.p && eb_metrics_collect_certs(mt, eps.p, c->etcd.cacert, c->etcd.cert, c->etcd.key,
	                                      c->etcd.dial_timeout_ms, &e) < 0)
		EB_LOG(EB_LOG_WARN, "cert", "certificate lifetime not read: %s", e.msg);
	eb_buf_dispose(&eps);
	for (size_t i = 0; i < mt->ncerts; i++)
		if (mt->certs[i].not_after - now < 30 * 86400)
			EB_LOG(EB_LOG_WARN, "cert", "the etcd %s certificate%s%s expires in %" PRId64
			       " days (%s): renew it (kubeadm: 'kubeadm certs renew')", mt->certs[i].cert,
			       mt->certs[i].endpoint[0] ? " of " : "", mt->certs[i].endpoint,
			       (mt->certs[i].not_after - now) / 86400,
			       mt->certs[i].not_after < now ? "ALREADY EXPIRED" : "soon");
}

static void
print_summary(const eb_manifest *m, double secs, int json)
{
	char a[32], b[32];
	if (json) {
		char *j = NULL;
		eb_err e;
		eb_err_init(&e);
		if (eb_manifest_to_json(m, &j, &e) == 0) {
			fputs(j, stdout);
			free(j);
		}
		return;
	}
	eb_fmt_bytes(m->snapshot_size, a, sizeof a);
	eb_fmt_bytes(m->stored_size, b, sizeof b);
	printf("backup %s revision %" PRId64 " snapshot %s stored %s (ratio %.2f) in %.1fs (%.0f MiB/s) from %s\n",
	       m->id, m->revision, a, b,
	       m->stored_size ? (double)m->snapshot_size / (double)m->stored_size : 0.0, secs,
	       secs > 0 ? (double)m->snapshot_size / 1048576.0 / secs : 0.0, m->endpoint);
	if (m->cp)
		printf("control plane %s: %zu files, %zu certificates, stored as %s\n", m->cp->root,
		       m->cp->nfiles, m->cp->ncerts, m->cp->object);
	if (m->has_hashkv)
		printf("hashkv %" PRIu32 " at revision %" PRId64 "%s%s\n", m->hashkv, m->hashkv_revision,
		       m->hashkv_disagreement[0] ? ", MEMBERS DISAGREE: " : " (all members agree)",
		       m->hashkv_disagreement);
}

static void
emit_metrics(const cli *c, eb_metrics *mt, int rc)
{
	eb_err e;
	eb_metrics_finish(mt, rc);
	if (c->metrics_file) {
		eb_err_init(&e);
		if (eb_metrics_write_file(mt, c->metrics_file, &e) < 0)
			EB_LOG(EB_LOG_ERROR, "metrics", "%s", e.msg);
	}
	if (c->pushgateway_url) {
		eb_err_init(&e);
		if (eb_metrics_push(mt, c->pushgateway_url, "etcd-backup", NULL, &e) < 0)
			EB_LOG(EB_LOG_ERROR, "metrics", "%s", e.msg);
	}
}

/* Step 2: the member's snapshot into the store (eb_backup_run). */
static int
take_backup(cli *c, eb_cluster *cl, eb_member *m, eb_store *st, eb_metrics *mt, eb_cp_bundle *cp,
            eb_manifest *man, eb_backup_result *res, eb_err *err)
{
	eb_backup_opts bo = {0}; /* every field: a new one must not be stack garbage */
	eb_progress pr;
	int rc;
	if (eb_cluster_alarm_of(cl, m->st.member_id))
		EB_LOG(EB_LOG_WARN, "snapshot", "member %s has a NOSPACE alarm; backing it up anyway "
		       "(no member without alarm answered)", m->endpoint);
	EB_LOG(EB_LOG_INFO, "snapshot", "streaming from %s (member %016" PRIx64 ", %s, revision %" PRId64
	       ", db %" PRId64 " bytes) to %s", m->endpoint, m->st.member_id,
	       m->st.leader == m->st.member_id ? "leader" : "follower", m->st.revision,
	       m->st.db_size, st->url);
	bo.compression = c->compression;
	bo.level = c->compression_level;
	bo.tags = c->tags;
	bo.ntags = c->ntags;
	eb_progress_init(&pr, "snapshot", c->json ? 0 : c->progress);
	bo.progress = on_progress;
	bo.progress_arg = &pr;
	bo.cluster = cl;
	bo.age = c->keys.rcpt.n ? &c->keys.rcpt : NULL;
	bo.signer = c->keys.have_signer ? &c->keys.signer : NULL;
	bo.cp = c->control_plane ? cp : NULL;
	mt->db_size_bytes = m->st.db_size;
	rc = eb_backup_run(m, st, &bo, man, res, err);
	eb_progress_end(&pr);
	return rc;
}

/* Step 3: what follows a stored backup: the members' agreement, the deep
 * read-back, retention.  None undoes the backup: the exit status says
 * what failed (0 when nothing did). */
static int
after_backup(cli *c, eb_member *m, eb_store *st, const eb_manifest *man)
{
	int rc = 0;
	if (man->hashkv_disagreement[0]) {
		/* the backup is kept (it may be the one needed), but the
		 * cluster is not consistent: exit 7 naming who differs */
		EB_LOG(EB_LOG_ERROR, "snapshot", "members disagree on HashKV at revision %" PRId64
		       ": %s streamed %" PRIu32 ", but %s; backup %s kept, check the members "
		       "(docs/disaster-recovery.md)", man->hashkv_revision, m->endpoint, man->hashkv,
		       man->hashkv_disagreement, man->id);
		rc = EB_EUNHEALTHY;
	}
	if (c->deep) {
		eb_err de;
		eb_err_init(&de);
		if (eb_deep_verify(st, man, NULL, c->tmp_dir, &de) < 0) {
			EB_LOG(EB_LOG_ERROR, "snapshot", "--verify-deep: %s", de.msg);
			rc = de.code ? de.code : EB_ECORRUPT;
		} else {
			EB_LOG(EB_LOG_INFO, "snapshot", "--verify-deep: backup %s read back; its HashKV at "
			       "revision %" PRId64 " equals the cluster's (%" PRIu32 ")", man->id,
			       man->hashkv_revision, man->hashkv);
		}
	}
	if (eb_prune_wanted(&c->keep)) {
		eb_err pe;
		eb_prune_opts po = {.keep = c->keep, .cluster_id = man->cluster_id, .protect_id = man->id};
		eb_err_init(&pe);
		/* a run that signs trusts its own key (and --trusted-keys):
		 * only backups signed by one count toward --keep-* */
		if (c->keys.have_signer && eb_ssh_keys_add_signer(&c->keys.trusted, &c->keys.signer, &pe) == 0)
			c->keys.have_trusted = 1;
		po.trusted = c->keys.have_trusted ? &c->keys.trusted : NULL;
		/* a prune failure does not undo a good backup: the metrics say
		 * the backup succeeded, the exit code says pruning failed */
		if (pe.code < 0 || eb_prune_run(st, &po, &pe) < 0) {
			EB_LOG(EB_LOG_ERROR, "prune", "backup succeeded but pruning failed: %s", pe.msg);
			rc = pe.code ? pe.code : EB_EIO;
		}
	}
	if (eb_prune_wanted(&c->keep) || c->abort_incomplete_s >= 0)
		eb_prune_clean_incomplete(st, c->abort_incomplete_s, 0);
	return rc;
}

int
cmd_snapshot(int argc, char **argv)
{
	cli c;
	eb_cluster cl;
	eb_member *m = NULL;
	eb_store *st = NULL;
	eb_manifest man;
	eb_backup_result res = {0};
	eb_metrics mt;
	eb_cp_bundle cp = {0};
	eb_err err;
	int rc, probed = 0, after_rc = 0;

	rc = cli_parse(&c, argc, argv,
	               CLI_ETCD | CLI_STORE | CLI_SNAPSHOT | CLI_KEEP | CLI_METRICS | CLI_FORMAT |
	               CLI_TMPDIR | CLI_WRITEKEYS | CLI_TRUST | CLI_CPLANE, usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	if (c.deep && c.keys.rcpt.n) {
		fprintf(stderr, "etcd-backup snapshot: --verify-deep reads the backup back, which an "
		        "age-encrypted backup allows only with its private key; run 'etcd-backup verify "
		        "--deep --age-identity FILE' where that key is\n");
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	eb_metrics_init(&mt);
	eb_err_init(&err);
	/* 0. the control plane's files, read before anything is stored */
	if (c.control_plane) {
		if (eb_cp_prepare(c.control_plane, c.keys.rcpt.n > 0, c.cp_plain, &cp, &err) < 0) {
			EB_LOG(EB_LOG_ERROR, "snapshot", "%s", err.msg);
			cli_dispose(&c);
			return EB_EXIT_USAGE;
		}
		eb_cp_metrics(&cp.man, &mt);
	}
	/* 1. the store and the member to stream from */
	rc = eb_store_open(&st, c.store, &c.store_opts, &err);
	if (rc == 0 && (rc = eb_cluster_probe(&cl, c.endpoints, c.nendpoints, &c.etcd, &err)) == 0) {
		probed = 1;
		rc = eb_cluster_pick(&cl, c.member, &m, &err);
	}
	/* 2. the backup; 3. what follows it */
	if (rc == 0)
		rc = take_backup(&c, &cl, m, st, &mt, &cp, &man, &res, &err);
	record_certs(&c, &mt);
	if (rc == 0) {
		mt.snapshot_bytes = (int64_t)man.snapshot_size;
		mt.stored_bytes = (int64_t)man.stored_size;
		mt.revision = man.revision;
		EB_LOG(EB_LOG_INFO, "snapshot", "backup %s stored as %s (snapshot sha256 %s)",
		       man.id, man.object, man.snapshot_sha256);
		print_summary(&man, res.seconds, c.json);
		after_rc = after_backup(&c, m, st, &man);
		eb_manifest_dispose(&man);
	} else {
		EB_LOG(EB_LOG_ERROR, "snapshot", "backup failed, nothing was stored: %s", err.msg);
	}
	emit_metrics(&c, &mt, rc);
	if (rc == 0)
		rc = after_rc;
	if (probed)
		eb_cluster_dispose(&cl);
	eb_cp_bundle_dispose(&cp);
	eb_store_free(st);
	cli_dispose(&c);
	return eb_exit_code(rc);
}
