/* restore/main.c - etcd-restore: flags, help and logging around
 * eb_restore_run (restore/restore.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypt/keys.h"
#include "common/err.h"
#include "common/exitcodes.h"
#include "common/clock.h"
#include "common/interrupt.h"
#include "common/log.h"
#include "restore/cplay.h"
#include "restore/restore.h"

static const char usage[] =
"Usage: etcd-restore --from SNAPSHOT [flags]\n"
"       etcd-restore --from SNAPSHOT --all-members OUTDIR --initial-cluster ... [flags]\n"
"\n"
"Builds the data directory of a NEW etcd cluster member from a snapshot, as\n"
"`etcdutl snapshot restore` does (same flags, same member and cluster IDs),\n"
"for etcd 3.4, 3.5, 3.6 and 3.7.  The snapshot is checked first (sha256\n"
"trailer, full bbolt structure check, every record etcd decodes at boot);\n"
"the output is built in a temp dir beside the\n"
"target and renamed into place only when complete: on any error nothing is\n"
"left behind.  An existing non-empty data dir is never touched.\n"
"\n"
"Input:\n"
"  --from FILE                    snapshot from `etcdctl snapshot save` (with the\n"
"                                 sha256 trailer) or a member/snap/db file (needs\n"
"                                 --skip-hash-check); FILE may also be given as\n"
"                                 the only positional argument\n"
"  --from STORE --backup ID|latest\n"
"                                 restore a backup from a store (folder,\n"
"                                 file:///path, s3://bucket/prefix; credentials\n"
"                                 and AWS_* variables as for etcd-backup):\n"
"                                 downloaded, decompressed and verified on the\n"
"                                 fly into the temp dir beside the target (the\n"
"                                 plain snapshot is staged there once, needs\n"
"                                 that much free disk, and is removed)\n"
"  --from azblob://ACCOUNT/CONTAINER/prefix --backup ID|latest\n"
"                                 the same from Azure Blob Storage (credentials\n"
"                                 and flags as for etcd-backup)\n"
"  --s3-endpoint URL  --s3-region REGION  --s3-path-style[=BOOL]\n"
"  --s3-ca-file FILE  --s3-compat LIST\n"
"                                 S3 settings, as for etcd-backup\n"
"  --azure-endpoint URL  --azure-endpoint-suffix SUFFIX  --azure-ca-file FILE\n"
"                                 Azure settings, as for etcd-backup\n"
"  --skip-hash-check              do not require/verify the sha256 trailer\n"
"  --age-identity FILE            decrypt with this age identity file\n"
"                                 (age-keygen; repeatable): an encrypted backup\n"
"                                 from a store, or a FILE that starts with an\n"
"                                 age header (a stored .zst.age object, or a\n"
"                                 snapshot that `age -r` encrypted); a zstd\n"
"                                 FILE is decompressed too\n"
"  --age-passphrase-file FILE     decrypt a FILE that `age -p` encrypted, with\n"
"                                 the passphrase on FILE's first line\n"
"  --from STORE --to-revision R | --to-time RFC3339 | --to-latest\n"
"                                 point in time, from the segments that\n"
"                                 `etcd-backup replicate` writes: the full backup\n"
"                                 and every change after it up to revision R, up\n"
"                                 to the last change received at or before the\n"
"                                 time, or up to the newest segment; every digest\n"
"                                 is checked, and the result's HashKV against the\n"
"                                 cluster's when the segment recorded one there.\n"
"                                 A point no chain covers is refused, naming the\n"
"                                 covered ranges (etcd-backup list shows them).\n"
"                                 --from STORE alone means --to-latest\n"
"  --cluster-id HEX               a store that holds backups of several clusters:\n"
"                                 the one to restore (as 'etcd-backup list'\n"
"                                 prints it); needed there for every form of\n"
"                                 latest and every point in time, and refuses a\n"
"                                 --backup ID of another cluster\n"
"  --trusted-keys FILE            with --backup or --to-*: refuse a backup (or a\n"
"                                 segment of its chain) whose manifest\n"
"                                 is not signed (SSHSIG) by one of these\n"
"                                 ssh-ed25519 public keys\n"
"                                 (ETCD_BACKUP_AGE_IDENTITY and\n"
"                                 ETCD_BACKUP_TRUSTED_KEYS name the files when\n"
"                                 the flags are not given)\n"
"\n"
"Output (one member):\n"
"  --name NAME                    this member's name (default \"default\")\n"
"  --data-dir DIR                 data dir to create (default NAME.etcd)\n"
"  --wal-dir DIR                  separate WAL dir (start etcd with the same\n"
"                                 --wal-dir)\n"
"  --initial-advertise-peer-urls URLS\n"
"                                 must equal NAME's URLs in --initial-cluster\n"
"                                 (default http://localhost:2380)\n"
"Output (whole cluster, one read of the snapshot):\n"
"  --all-members OUTDIR           write OUTDIR/<name>/ for every member of\n"
"                                 --initial-cluster; start member <name> with\n"
"                                 --data-dir OUTDIR/<name>\n"
"\n"
"Cluster:\n"
"  --initial-cluster N=URL,...    the new cluster (default\n"
"                                 default=http://localhost:2380)\n"
"  --initial-cluster-token TOKEN  (default etcd-cluster); member IDs depend on\n"
"                                 the peer URLs and this token only\n"
"\n"
"Target:\n"
"  --target-version 3.4|3.5|3.6|3.7\n"
"                                 the etcd that will run on the data dir: its\n"
"                                 etcdutl's exact WAL and .snap bytes, and a\n"
"                                 refusal when the snapshot is newer than it\n"
"                                 (etcd refuses data of a newer version).\n"
"                                 Default: the snapshot's own storage version\n"
"                                 (3.6+ snapshots carry it), else a form that\n"
"                                 3.4 to 3.7 all boot\n"
"\n"
"Disaster recovery (etcdutl 3.5.10+ semantics):\n"
"  --bump-revision N              raise the revision by N above the snapshot's,\n"
"                                 so the restored revisions are newer than any\n"
"                                 a client or controller has seen; needs\n"
"                                 --mark-compacted\n"
"  --mark-compacted               schedule a compaction at the new revision:\n"
"                                 watchers resuming from an older revision get\n"
"                                 \"compacted\" and re-list instead of silently\n"
"                                 missing changes.\n"
"                                 For Kubernetes use --bump-revision 1000000000\n"
"                                 --mark-compacted (more revisions than the\n"
"                                 cluster can have written since the backup;\n"
"                                 the value the etcd docs recommend), so every\n"
"                                 informer re-lists after the restore.\n"
"  --clear-alarms                 drop alarms (NOSPACE, CORRUPT) of the old\n"
"                                 cluster, which would keep the new one read-only\n"
"  --progress, --no-progress      bytes, percent, rate and ETA on stderr while\n"
"                                 the backup is fetched, then rewritten\n"
"                                 (default: when stderr is a terminal)\n"
"  --log-format text|json         how warnings, errors and the outcome go to\n"
"                                 stderr: text (default), or one JSON object a\n"
"                                 line (event \"restore\": warnings, \"failed\"\n"
"                                 with the exit status, \"done\" with the\n"
"                                 revision, keys, db bytes and IDs; event\n"
"                                 \"progress\" every 5 s unless --no-progress).\n"
"                                 The summary on stdout is text either way\n"
"\n"
"Before restoring (nothing is written):\n"
"  --plan, --dry-run              what restoring this backup or point would\n"
"                                undo on the running cluster: the keys created\n"
"                                since (they disappear), deleted since (they\n"
"                                come back) and changed since (they roll\n"
"                                back), per Kubernetes resource and namespace\n"
"                                (runs `etcd-backup diff POINT live`)\n"
"  --endpoints, --cacert, --cert, --key, --user, --password\n"
"                                the running cluster, as for etcdctl\n"
"                                (ETCDCTL_* variables too)\n"
"\n"
"Control plane (backups taken with etcd-backup --control-plane; needs\n"
"--from STORE --backup ID|latest):\n"
"  --control-plane DIR            also lay down the backup's control-plane\n"
"                                 files: its folder (kubeadm /etc/kubernetes:\n"
"                                 pki/, kubeconfigs, manifests/) under DIR, the\n"
"                                 files its manifests name elsewhere (encryption\n"
"                                 config ...) at their own paths, with their\n"
"                                 modes and owners.  The bundle is fetched and\n"
"                                 checked against the signed manifest and every\n"
"                                 target is checked before anything is written\n"
"                                 (etcd's data dir included); files appear by\n"
"                                 rename once all are staged.  A file that\n"
"                                 exists and differs is refused (exit 6)\n"
"  --control-plane-overwrite      replace such files instead\n"
"  --control-plane-rootfs DIR     put the files from outside the folder under\n"
"                                 DIR (a new node's disk mounted elsewhere)\n"
"\n"
"Start each member afterwards with the same --name, --initial-cluster,\n"
"--initial-cluster-token and --initial-advertise-peer-urls; the\n"
"--initial-cluster-state flag is then ignored (the data dir is authoritative).\n"
"Exit status (docs/exit-codes.md): 0 ok, 2 bad flags, 5 corrupt/truncated snapshot or\n"
"hash mismatch, 6 target exists, disk full or local I/O error, 8 snapshot/backup not\n"
"found, 130/143 stopped by SIGINT/SIGTERM (nothing left behind).\n";

static int
parse_bool(const char *flag, const char *v, int *out)
{
	if (!v || !strcasecmp(v, "true") || !strcmp(v, "1")) { *out = 1; return 0; }
	if (!strcasecmp(v, "false") || !strcmp(v, "0")) { *out = 0; return 0; }
	fprintf(stderr, "etcd-restore: --%s=%s: want true or false\n", flag, v);
	return -1;
}

/* A warning or an error once the flags are read: "etcd-restore: [warning: ]
 * ..." on stderr, or with --log-format json one "restore" event. */
static void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
say(int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (eb_log_format() == EB_LOG_JSON)
		eb_logkv(level, "restore", msg, NULL);
	else
		fprintf(stderr, "etcd-restore: %s%s\n", level == EB_LOG_WARN ? "warning: " : "", msg);
}

/* What the flags give: the run's options and what they are made from. */
typedef struct cli {
	eb_restore_opts o;
	eb_store_opts so;
	eb_keys keys; /* wiped before exit */
	uint64_t cluster_id;
	char defdir[300];
	char backup_id[96];
	eb_cp_lay_opts cp;  /* --control-plane DIR: cp.dir */
	/* --plan: `etcd-backup diff POINT live` with these flags passed on */
	int plan;
	const char *to_time;
	char *fwd[64];
	int nfwd;
	int progress;       /* --progress 1, --no-progress 0, -1 on a terminal */
	eb_progress pr;
} cli;

enum { O_FROM = 256, O_DATA, O_WAL, O_NAME, O_IC, O_TOK, O_ADV, O_SKIP, O_BUMP,
       O_MARK, O_CLEAR, O_ALL, O_BACKUP, O_HELP, O_S3EP, O_S3REGION, O_S3PATH, O_S3CA,
       O_AZEP, O_AZSUFFIX, O_AZCA, O_S3COMPAT, O_TARGET, O_AGEID, O_AGEPASS, O_TRUSTED, O_TOREV, O_TOTIME, O_TOLATEST, O_CLUSTERID,
       O_CPLANE, O_CPOVER, O_CPROOT, O_PLAN, O_FWD, O_PROGRESS, O_NOPROGRESS, O_LOGFMT };
static const struct option flags[] = {
	{"from", required_argument, 0, O_FROM},
	{"data-dir", required_argument, 0, O_DATA},
	{"wal-dir", required_argument, 0, O_WAL},
	{"name", required_argument, 0, O_NAME},
	{"initial-cluster", required_argument, 0, O_IC},
	{"initial-cluster-token", required_argument, 0, O_TOK},
	{"initial-advertise-peer-urls", required_argument, 0, O_ADV},
	{"skip-hash-check", optional_argument, 0, O_SKIP},
	{"bump-revision", required_argument, 0, O_BUMP},
	{"mark-compacted", optional_argument, 0, O_MARK},
	{"clear-alarms", optional_argument, 0, O_CLEAR},
	{"all-members", required_argument, 0, O_ALL},
	{"backup", required_argument, 0, O_BACKUP},
	{"s3-endpoint", required_argument, 0, O_S3EP},
	{"s3-region", required_argument, 0, O_S3REGION},
	{"s3-path-style", optional_argument, 0, O_S3PATH},
	{"s3-ca-file", required_argument, 0, O_S3CA},
	{"s3-compat", required_argument, 0, O_S3COMPAT},
	{"azure-endpoint", required_argument, 0, O_AZEP},
	{"azure-endpoint-suffix", required_argument, 0, O_AZSUFFIX},
	{"azure-ca-file", required_argument, 0, O_AZCA},
	{"target-version", required_argument, 0, O_TARGET},
	{"age-identity", required_argument, 0, O_AGEID},
	{"age-passphrase-file", required_argument, 0, O_AGEPASS},
	{"trusted-keys", required_argument, 0, O_TRUSTED},
	{"to-revision", required_argument, 0, O_TOREV},
	{"to-time", required_argument, 0, O_TOTIME},
	{"to-latest", no_argument, 0, O_TOLATEST},
	{"cluster-id", required_argument, 0, O_CLUSTERID},
	{"control-plane", required_argument, 0, O_CPLANE},
	{"control-plane-overwrite", no_argument, 0, O_CPOVER},
	{"control-plane-rootfs", required_argument, 0, O_CPROOT},
	{"plan", no_argument, 0, O_PLAN},
	{"dry-run", no_argument, 0, O_PLAN},
	{"endpoints", required_argument, 0, O_FWD},
	{"cacert", required_argument, 0, O_FWD},
	{"cert", required_argument, 0, O_FWD},
	{"key", required_argument, 0, O_FWD},
	{"user", required_argument, 0, O_FWD},
	{"password", required_argument, 0, O_FWD},
	{"progress", no_argument, 0, O_PROGRESS},
	{"no-progress", no_argument, 0, O_NOPROGRESS},
	{"log-format", required_argument, 0, O_LOGFMT},
	{"help", no_argument, 0, O_HELP},
	{0, 0, 0, 0},
};

/* The flags that take a number or a point in time: 0, or 2 said. */
static int
number_flag(cli *c, int opt, const char *arg)
{
	char *end;
	switch (opt) {
	case O_BUMP:
		c->o.bump_revision = strtoull(arg, &end, 10);
		if (!*arg || *end || arg[0] == '-') {
			fprintf(stderr, "etcd-restore: --bump-revision %s: want a non-negative integer\n", arg);
			return 2;
		}
		return 0;
	case O_TOREV:
		c->o.want.rev = strtoll(arg, &end, 10);
		if (!*arg || *end || c->o.want.rev <= 0) {
			fprintf(stderr, "etcd-restore: --to-revision %s: want a revision (a positive integer)\n", arg);
			return 2;
		}
		c->o.pitr++;
		return 0;
	case O_TOTIME:
		if (eb_rfc3339_ms(arg, &c->o.want.time_ms) < 0 || c->o.want.time_ms <= 0) {
			fprintf(stderr, "etcd-restore: --to-time %s: want an RFC 3339 time with its zone, a real date, "
			        "like 2026-12-01T13:36:53Z or 2026-12-01T14:36:53.250+01:00\n", arg);
			return 2;
		}
		c->o.pitr++;
		return 0;
	default: /* O_CLUSTERID */
		c->cluster_id = strtoull(arg, &end, 16);
		if (!*arg || *end || !c->cluster_id || strlen(arg) > 16 || *arg == '-' || *arg == '+') {
			fprintf(stderr, "etcd-restore: --cluster-id %s: want a hex cluster id, as 'etcd-backup list' prints it\n", arg);
			return 2;
		}
		return 0;
	}
}

/* The store's and the keys' flags, which their modules parse: 0 or 2. */
static int
module_flag(cli *c, int opt, const char *name, const char *arg)
{
	eb_err e;
	eb_err_init(&e);
	if (opt == O_AGEID || opt == O_AGEPASS || opt == O_TRUSTED) {
		if (eb_keys_flag(&c->keys, name, arg, &e) == 0)
			return 0;
		fprintf(stderr, "etcd-restore: --%s: %s\n", name, e.msg);
		return 2;
	}
	if (eb_store_opts_flag(&c->so, name, arg, &e) == 0)
		return 0;
	fprintf(stderr, "etcd-restore: %s\n", e.msg);
	return 2;
}

/* A flag --plan passes on to etcd-backup diff: 0 or 2. */
static int
forward(cli *c, const char *name, const char *arg)
{
	char flag[64];
	if (c->nfwd + 2 >= (int)(sizeof c->fwd / sizeof c->fwd[0])) {
		fprintf(stderr, "etcd-restore: too many flags\n");
		return 2;
	}
	snprintf(flag, sizeof flag, "--%s", name);
	if (!(c->fwd[c->nfwd++] = strdup(flag)))
		return 2;
	if (arg && !(c->fwd[c->nfwd++] = strdup(arg)))
		return 2;
	return 0;
}

/* One flag: 0, 1 (--help printed: exit 0) or 2 (said why). */
static int
apply_flag(cli *c, int opt, const char *name, const char *arg)
{
	eb_restore_opts *o = &c->o;
	if ((opt == O_FWD || (opt >= O_S3EP && opt <= O_S3COMPAT) || opt == O_AGEID || opt == O_AGEPASS ||
	     opt == O_TRUSTED) && forward(c, name, arg))
		return 2;
	if (opt == O_TOTIME)
		c->to_time = arg;
	switch (opt) {
	case O_PLAN: c->plan = 1; return 0;
	case O_FWD: return 0;
	case O_PROGRESS: c->progress = 1; return 0;
	case O_NOPROGRESS: c->progress = 0; return 0;
	case O_LOGFMT:
		if (eb_log_parse_format(arg) < 0) {
			fprintf(stderr, "etcd-restore: --log-format takes text or json, not '%s'\n", arg);
			return 2;
		}
		eb_log_set_format(eb_log_parse_format(arg));
		return forward(c, name, arg) ? 2 : 0;
	case O_FROM: o->from = arg; return 0;
	case O_DATA: o->data_dir = arg; return 0;
	case O_WAL: o->wal_dir = arg; return 0;
	case O_NAME: o->name = arg; return 0;
	case O_IC: o->initial_cluster = arg; return 0;
	case O_TOK: o->token = arg; return 0;
	case O_ADV: o->adv_urls = arg; return 0;
	case O_ALL: o->all_members_dir = arg; return 0;
	case O_BACKUP: o->backup = arg; return 0;
	case O_TARGET: o->target_version = arg; return 0;
	case O_TOLATEST: o->want.latest = 1; o->pitr++; return 0;
	case O_CPLANE: c->cp.dir = arg; return 0;
	case O_CPOVER: c->cp.overwrite = 1; return 0;
	case O_CPROOT: c->cp.rootfs = arg; return 0;
	case O_SKIP: return parse_bool(name, arg, &o->skip_hash_check) ? 2 : 0;
	case O_MARK: return parse_bool(name, arg, &o->mark_compacted) ? 2 : 0;
	case O_CLEAR: return parse_bool(name, arg, &o->clear_alarms) ? 2 : 0;
	case O_BUMP: case O_TOREV: case O_TOTIME: case O_CLUSTERID:
		return number_flag(c, opt, arg);
	case O_S3EP: case O_S3REGION: case O_S3PATH: case O_S3CA: case O_S3COMPAT:
	case O_AZEP: case O_AZSUFFIX: case O_AZCA:
	case O_AGEID: case O_AGEPASS: case O_TRUSTED:
		return module_flag(c, opt, name, arg);
	case 'h':
	case O_HELP: fputs(usage, stdout); return 1;
	default:
		fprintf(stderr, "Run 'etcd-restore --help' for the flags.\n");
		return 2;
	}
}

/* Step 1: the flags, then the positional snapshot.  0, 1 (help) or 2. */
static int
parse_flags(cli *c, int argc, char **argv)
{
	eb_err e;
	int opt, li = 0, rc;
	eb_err_init(&e);
	if (eb_store_opts_tuning_from_env(&c->so, &e) < 0) {
		fprintf(stderr, "etcd-restore: %s\n", e.msg);
		return 2;
	}
	while ((opt = getopt_long(argc, argv, "h", flags, &li)) != -1)
		if ((rc = apply_flag(c, opt, opt >= O_FROM ? flags[li].name : "", optarg)) != 0)
			return rc;
	if (optind < argc) {
		if (c->o.from || optind + 1 < argc) {
			fprintf(stderr, "etcd-restore: unexpected argument %s (give the snapshot once, with --from)\n", argv[optind]);
			return 2;
		}
		c->o.from = argv[optind];
	}
	return 0;
}

/* Step 2: what the flags mean together, and the defaults they leave.  0 or 2. */
static int
check_flags(cli *c)
{
	eb_restore_opts *o = &c->o;
	struct stat sb;
	if (!o->from) {
		fprintf(stderr, "etcd-restore: --from SNAPSHOT is required\nRun 'etcd-restore --help' for the flags.\n");
		return 2;
	}
	/* a store without --backup: its newest point (--to-latest), which is
	 * the newest full backup when no segments follow it */
	if (!o->backup && !o->pitr &&
	    (!strncmp(o->from, "s3://", 5) || !strncmp(o->from, "azblob://", 9) ||
	     !strncmp(o->from, "file://", 7) ||
	     (stat(o->from, &sb) == 0 && S_ISDIR(sb.st_mode)))) {
		o->want.latest = 1;
		o->pitr = 1;
	}
	if (o->pitr > 1) {
		fprintf(stderr, "etcd-restore: give one of --to-revision, --to-time and --to-latest\n");
		return 2;
	}
	if (c->cp.dir && !o->backup) {
		fprintf(stderr, "etcd-restore: --control-plane needs --from STORE --backup ID|latest (the "
		        "bundle belongs to a full backup; 'etcd-backup list' shows which have one)\n");
		return 2;
	}
	if ((c->cp.overwrite || c->cp.rootfs) && !c->cp.dir) {
		fprintf(stderr, "etcd-restore: --control-plane-overwrite and --control-plane-rootfs go with "
		        "--control-plane DIR\n");
		return 2;
	}
	if (o->all_members_dir && o->data_dir) {
		fprintf(stderr, "etcd-restore: --data-dir and --all-members exclude each other\n");
		return 2;
	}
	if (!o->all_members_dir && !o->data_dir) {
		snprintf(c->defdir, sizeof c->defdir, "%s.etcd", o->name);
		o->data_dir = c->defdir;
	}
	return 0;
}

/* Step 3: the keys the variables name, warnings about them.  0 or 2. */
static int
load_keys(cli *c)
{
	eb_err e;
	eb_err_init(&e);
	if (eb_keys_read_env(&c->keys, 0, &e) != 0) {
		fprintf(stderr, "etcd-restore: %s (from ETCD_BACKUP_AGE_IDENTITY / ETCD_BACKUP_TRUSTED_KEYS)\n", e.msg);
		return 2;
	}
	for (int i = 0; i < c->keys.nwarn; i++)
		say(EB_LOG_WARN, "%s", c->keys.warn[i]);
	c->o.keys = eb_keys_read(&c->keys);
	c->o.keys.cluster_id = c->cluster_id;
	return 0;
}

/* What a point-in-time restore brought back, and what it could not. */
static void
report_pitr(const eb_restore_result *r)
{
	printf("point in time: revision %lld = the full backup and %zu segments (%llu events)\n",
	       (long long)r->pitr_rev, r->segments, (unsigned long long)r->events);
	if (r->leases_dropped)
		printf("leases: %llu that no key names at revision %lld (revoked or expired before it) not "
		       "restored\n", (unsigned long long)r->leases_dropped, (long long)r->pitr_rev);
	printf("not carried by segments: auth changes and membership after full backup %s; leases are "
	       "those the keys name at the point (docs/continuous-backup.md)\n", r->backup_id);
	if (r->hashkv_checked)
		printf("HashKV at revision %lld: %u, equal to the cluster's, recorded live\n",
		       (long long)r->pitr_rev, r->hashkv);
	else
		printf("HashKV not compared: %s\n", r->hashkv_note);
}

/* The members written, and where each one's data dir is. */
static void
report_members(const eb_restore_opts *o, const eb_restore_result *r)
{
	for (size_t i = 0; i < r->members; i++) {
		unsigned long long id = (unsigned long long)r->member_ids[i];
		const char *n = r->member_names[i];
		if (!o->all_members_dir && strcmp(n, o->name))
			printf("  member %-16s ID %llx\n", n, id);
		else if (o->all_members_dir)
			printf("  member %-16s ID %llx -> %s/%s\n", n, id, o->all_members_dir, n);
		else
			printf("  member %-16s ID %llx -> %s%s%s\n", n, id, o->data_dir,
			       o->wal_dir ? ", WAL in " : "", o->wal_dir ? o->wal_dir : "");
	}
}

/* Step 5: what was restored, for the operator. */
static void
report(const eb_restore_opts *o, const eb_restore_result *r)
{
	if (r->backup_id[0])
		printf("backup %s of cluster %016llx from %s\n", r->backup_id, (unsigned long long)r->backup_cluster, o->from);
	if (o->pitr)
		report_pitr(r);
	printf("restored %s%s: revision %llu, %llu backend keys, db %llu bytes, cluster ID %llx\n",
	       o->from, r->hash_checked ? " (sha256 verified)" : " (hash check skipped)",
	       (unsigned long long)r->revision, (unsigned long long)r->keys_copied,
	       (unsigned long long)r->db_size, (unsigned long long)r->cluster_id);
	if (r->target_minor)
		printf("for etcd 3.%d%s%s%s\n", r->target_minor, r->storage_version[0] ? " (snapshot storage version " : "",
		       r->storage_version, r->storage_version[0] ? ")" : "");
	else
		printf("for etcd 3.4 to 3.%d (the snapshot has no storage version; --target-version picks one)\n",
		       EB_RESTORE_MAX_MINOR);
	report_members(o, r);
}

/* --log-format json: the outcome as one event. */
static void
log_done(const eb_restore_opts *o, const eb_restore_result *r)
{
	char rev[24], keys[24], size[24], cid[24], prev[24];
	snprintf(rev, sizeof rev, "%" PRIu64, (uint64_t)r->revision);
	snprintf(keys, sizeof keys, "%" PRIu64, (uint64_t)r->keys_copied);
	snprintf(size, sizeof size, "%" PRIu64, (uint64_t)r->db_size);
	snprintf(cid, sizeof cid, "%" PRIx64, (uint64_t)r->cluster_id);
	snprintf(prev, sizeof prev, "%lld", (long long)r->pitr_rev);
	eb_logkv(EB_LOG_INFO, "restore", "done", "from", o->from, "backup", r->backup_id,
	         "point_in_time_revision", o->pitr ? prev : "", "revision", rev, "backend_keys", keys,
	         "db_bytes", size, "cluster_id", cid, "sha256_verified", r->hash_checked ? "true" : "false",
	         "data_dir", o->all_members_dir ? o->all_members_dir : o->data_dir, NULL);
}

/* Step 4 (--control-plane): the bundle fetched and checked, every target
 * checked, before anything is written; the restore then uses exactly that
 * backup (not a "latest" that a new backup changed meanwhile). */
static int
control_plane_fetch(cli *c, eb_manifest *m, eb_cp_data *d, eb_err *err)
{
	int64_t now = (int64_t)time(NULL);
	int rc = eb_cp_fetch_backup(c->o.from, c->o.store_opts, c->o.backup, &c->o.keys, m, d, err);
	if (rc < 0)
		return rc;
	c->cp.plan_only = 1;
	rc = eb_cp_lay_down(m->cp, d->data, &c->cp, &(eb_cp_lay_result){0}, err);
	c->cp.plan_only = 0;
	if (rc < 0) {
		eb_cp_data_dispose(d, m);
		eb_manifest_dispose(m);
		return rc;
	}
	snprintf(c->backup_id, sizeof c->backup_id, "%s", m->id);
	c->o.backup = c->backup_id;
	if (!c->o.keys.trusted)
		say(EB_LOG_WARN, "the control-plane bundle of %s is written as root "
		    "without a proven origin: its manifest is not checked against a signing key "
		    "(--trusted-keys), so whoever can write to the store chose these files", m->id);
	for (size_t i = 0; i < m->cp->ncerts; i++)
		if (m->cp->certs[i].not_after < now)
			say(EB_LOG_WARN, "certificate %s (%s) of the control-plane bundle "
			    "EXPIRED %lld days ago: after the restore run 'kubeadm certs renew all' on this "
			    "node, then restart the control-plane pods", m->cp->certs[i].path,
			    m->cp->certs[i].subject, (long long)((now - m->cp->certs[i].not_after) / 86400));
	return 0;
}

/* Step 6 (--control-plane): the files laid down, and what was done. */
static int
control_plane_lay(cli *c, eb_manifest *m, eb_cp_data *d, eb_err *err)
{
	eb_cp_lay_result r;
	int rc = eb_cp_lay_down(m->cp, d->data, &c->cp, &r, err);
	if (rc == 0) {
		printf("control plane: %zu files of %s laid down under %s (%zu written, %zu replaced, %zu "
		       "already equal)%s\n", m->cp->nfiles, m->cp->root, c->cp.dir, r.written, r.replaced,
		       r.kept, r.owners_kept ? "; not root: owners not set as recorded" : "");
		for (size_t i = 0; i < m->cp->nfiles; i++) {
			char t[4096];
			size_t rl = strlen(m->cp->root);
			if (strncmp(m->cp->files[i].path, m->cp->root, rl) != 0 &&
			    eb_cp_target(m->cp, &m->cp->files[i], &c->cp, t, sizeof t, err) == 0)
				printf("  outside %s: %s\n", m->cp->root, t);
		}
	}
	return rc;
}

/* --plan: what restoring would undo on the running cluster, by
 * `etcd-backup diff POINT live` (the etcd client lives in etcd-backup,
 * installed beside etcd-restore).  Execs it: its output and exit status. */
static int
run_plan(cli *c)
{
	const eb_restore_opts *o = &c->o;
	char point[128], self[4096], bin[4200];
	char *argv[80];
	int n = 0;
	ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
	struct stat sb;
	int file = stat(o->from, &sb) == 0 && S_ISREG(sb.st_mode);
	if (o->backup)
		snprintf(point, sizeof point, "%s", o->backup);
	else if (o->want.rev > 0)
		snprintf(point, sizeof point, "@%lld", (long long)o->want.rev);
	else if (c->to_time)
		snprintf(point, sizeof point, "@%s", c->to_time);
	else
		snprintf(point, sizeof point, "@latest");
	snprintf(bin, sizeof bin, "etcd-backup");
	if (l > 0) {
		self[l] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(bin, sizeof bin, "%s/etcd-backup", self);
		}
	}
	argv[n++] = bin;
	argv[n++] = "diff";
	argv[n++] = file ? (char *)o->from : point;
	argv[n++] = "live";
	if (!file) {
		argv[n++] = "--from";
		argv[n++] = (char *)o->from;
	}
	for (int i = 0; i < c->nfwd; i++)
		argv[n++] = c->fwd[i];
	argv[n] = NULL;
	fprintf(stderr, "etcd-restore --plan: nothing is written; what restoring %s would change on the "
	        "running cluster:\n", file ? o->from : point);
	fflush(stderr);
	execv(bin, argv);
	execvp("etcd-backup", argv);
	fprintf(stderr, "etcd-restore --plan: cannot run etcd-backup (%s or in PATH): %s\n", bin, strerror(errno));
	return 2;
}

int
main(int argc, char **argv)
{
	static cli c = {
		.progress = -1,
		.o = {
			.name = "default",
			.initial_cluster = "default=http://localhost:2380",
			.token = "etcd-cluster",
			.adv_urls = "http://localhost:2380",
		},
	};
	eb_restore_result r;
	eb_manifest cpm;
	eb_cp_data cpd = {0};
	eb_err err;
	int rc;
	eb_store_opts_init(&c.so);
	c.o.store_opts = &c.so;
	if ((rc = parse_flags(&c, argc, argv)) == 0 && (rc = check_flags(&c)) == 0)
		rc = load_keys(&c);
	if (rc != 0) {
		eb_keys_dispose(&c.keys);
		return rc == 1 ? 0 : 2;
	}
	if (c.plan) {
		eb_keys_dispose(&c.keys); /* etcd-backup reads the key files itself */
		return run_plan(&c);
	}
	/* SIGINT/SIGTERM end the run through the normal error path, which
	 * removes the temp dir (no half-built directory is left). */
	eb_interrupt_install();
	eb_err_init(&err);
	eb_manifest_init(&cpm);
	rc = c.cp.dir ? control_plane_fetch(&c, &cpm, &cpd, &err) : 0;
	eb_progress_init(&c.pr, "restore", c.progress);
	c.o.progress = eb_progress_cb_of(&c.pr);
	if (rc == 0)
		rc = eb_restore_run(&c.o, &r, &err);
	if (rc == 0 && c.pr.total) /* the records' bytes fall short of the db's pages */
		eb_progress_report(&c.pr, c.pr.total, c.pr.total);
	eb_progress_end(&c.pr);
	eb_keys_dispose(&c.keys);
	if (rc == 0)
		report(&c.o, &r);
	if (rc == 0 && c.cp.dir)
		rc = control_plane_lay(&c, &cpm, &cpd, &err);
	if (c.cp.dir && cpm.cp) {
		eb_cp_data_dispose(&cpd, &cpm);
		eb_manifest_dispose(&cpm);
	}
	if (rc) {
		char code[8];
		snprintf(code, sizeof code, "%d", eb_exit_code(rc));
		if (eb_log_format() == EB_LOG_JSON)
			eb_logkv(EB_LOG_ERROR, "restore", "failed", "error", eb_err_name(rc), "reason", err.msg,
			         "exit_code", code, NULL);
		else
			fprintf(stderr, "etcd-restore: restore failed (%s): %s\n", eb_err_name(rc), err.msg);
		return eb_exit_code(rc);
	}
	if (eb_log_format() == EB_LOG_JSON)
		log_done(&c.o, &r);
	return 0;
}
