#include "agent/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/env.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/url.h"
#include "storage/zstd_stage.h"

enum {
	O_ENDPOINTS = 1000, O_CACERT, O_CERT, O_KEY, O_INSECURE, O_USER, O_PASSWORD,
	O_DIAL, O_CMDTO, O_IDLE, O_TO, O_FROM, O_S3EP, O_S3REGION, O_S3PATH, O_S3CA,
	O_AZEP, O_AZSUFFIX, O_AZCA, O_S3COMPAT, O_COMP, O_COMPLVL, O_TAG, O_MEMBER, O_BACKUP, O_OUTPUT,
	O_KLAST, O_KHOUR, O_KDAY, O_KWEEK, O_KMONTH, O_DRYRUN, O_CLUSTERID, O_ABORTINC,
	O_METRICS, O_PUSH, O_LOGFMT, O_LOGLVL, O_PROGRESS, O_NOPROGRESS, O_TMPDIR, O_DEEP, O_VERIFYDEEP,
	O_S3LOCKMODE, O_S3LOCKDAYS, O_S3SSE, O_S3SSEKMS, O_AGERCPT, O_AGERCPTS, O_SIGNKEY, O_AGEID, O_AGEPASS, O_TRUSTED, O_DELUNTRUSTED,
	O_SEGINT, O_SEGMAX, O_FULLINT, O_CPLANE, O_CPGET, O_CPPLAIN,
	O_ATREV, O_ATTIME, O_SINCEREV, O_PREFIX, O_PREFIXVAL, O_ETCDBIN, O_BOOTTO, O_PHASE, O_WORK, O_ETCDEP, O_VALUES, O_PRINTVALUE, O_ENCCFG, O_HELP = 'h',
	O_FORMAT = 'o', O_WRITEOUT = 'w'
};

typedef struct {
	struct option o;
	unsigned group; /* 0 = every command */
} optdef;

static const optdef defs[] = {
	{{"endpoints", required_argument, 0, O_ENDPOINTS}, CLI_ETCD},
	{{"cacert", required_argument, 0, O_CACERT}, CLI_ETCD},
	{{"cert", required_argument, 0, O_CERT}, CLI_ETCD},
	{{"key", required_argument, 0, O_KEY}, CLI_ETCD},
	{{"insecure-skip-tls-verify", no_argument, 0, O_INSECURE}, CLI_ETCD},
	{{"user", required_argument, 0, O_USER}, CLI_ETCD},
	{{"password", required_argument, 0, O_PASSWORD}, CLI_ETCD},
	{{"dial-timeout", required_argument, 0, O_DIAL}, CLI_ETCD},
	{{"command-timeout", required_argument, 0, O_CMDTO}, CLI_ETCD},
	{{"snapshot-idle-timeout", required_argument, 0, O_IDLE}, CLI_SNAPSHOT},
	{{"to", required_argument, 0, O_TO}, CLI_STORE},
	{{"from", required_argument, 0, O_FROM}, CLI_STORE},
	{{"s3-endpoint", required_argument, 0, O_S3EP}, CLI_STORE},
	{{"s3-region", required_argument, 0, O_S3REGION}, CLI_STORE},
	{{"s3-path-style", optional_argument, 0, O_S3PATH}, CLI_STORE},
	{{"s3-ca-file", required_argument, 0, O_S3CA}, CLI_STORE},
	{{"s3-compat", required_argument, 0, O_S3COMPAT}, CLI_STORE},
	{{"azure-endpoint", required_argument, 0, O_AZEP}, CLI_STORE},
	{{"azure-endpoint-suffix", required_argument, 0, O_AZSUFFIX}, CLI_STORE},
	{{"azure-ca-file", required_argument, 0, O_AZCA}, CLI_STORE},
	{{"s3-object-lock-mode", required_argument, 0, O_S3LOCKMODE}, CLI_SNAPSHOT},
	{{"s3-object-lock-days", required_argument, 0, O_S3LOCKDAYS}, CLI_SNAPSHOT},
	{{"s3-sse", required_argument, 0, O_S3SSE}, CLI_SNAPSHOT},
	{{"s3-sse-kms-key-id", required_argument, 0, O_S3SSEKMS}, CLI_SNAPSHOT},
	{{"compression", required_argument, 0, O_COMP}, CLI_SNAPSHOT},
	{{"compression-level", required_argument, 0, O_COMPLVL}, CLI_SNAPSHOT},
	{{"tag", required_argument, 0, O_TAG}, CLI_SNAPSHOT},
	{{"member", required_argument, 0, O_MEMBER}, CLI_SNAPSHOT},
	{{"backup", required_argument, 0, O_BACKUP}, CLI_BACKUP},
	{{"output", required_argument, 0, O_OUTPUT}, CLI_OUTFILE},
	{{"keep-last", required_argument, 0, O_KLAST}, CLI_KEEP},
	{{"keep-hourly", required_argument, 0, O_KHOUR}, CLI_KEEP},
	{{"keep-daily", required_argument, 0, O_KDAY}, CLI_KEEP},
	{{"keep-weekly", required_argument, 0, O_KWEEK}, CLI_KEEP},
	{{"keep-monthly", required_argument, 0, O_KMONTH}, CLI_KEEP},
	{{"dry-run", no_argument, 0, O_DRYRUN}, CLI_PRUNE},
	{{"cluster-id", required_argument, 0, O_CLUSTERID}, CLI_PRUNE | CLI_BACKUP},
	{{"abort-incomplete-after", required_argument, 0, O_ABORTINC}, CLI_KEEP},
	{{"metrics-file", required_argument, 0, O_METRICS}, CLI_METRICS},
	{{"pushgateway-url", required_argument, 0, O_PUSH}, CLI_METRICS},
	{{"write-out", required_argument, 0, O_WRITEOUT}, CLI_FORMAT},
	{{"output-format", required_argument, 0, O_FORMAT}, CLI_FORMAT},
	{{"tmp-dir", required_argument, 0, O_TMPDIR}, CLI_TMPDIR},
	{{"deep", no_argument, 0, O_DEEP}, CLI_DEEP},
	{{"verify-deep", no_argument, 0, O_VERIFYDEEP}, CLI_SNAPSHOT},
	{{"progress", no_argument, 0, O_PROGRESS}, CLI_SNAPSHOT | CLI_CPGET},
	{{"no-progress", no_argument, 0, O_NOPROGRESS}, CLI_SNAPSHOT | CLI_CPGET},
	{{"age-recipient", required_argument, 0, O_AGERCPT}, CLI_WRITEKEYS},
	{{"age-recipients-file", required_argument, 0, O_AGERCPTS}, CLI_WRITEKEYS},
	{{"sign-key", required_argument, 0, O_SIGNKEY}, CLI_WRITEKEYS},
	{{"age-identity", required_argument, 0, O_AGEID}, CLI_READKEYS},
	{{"age-passphrase-file", required_argument, 0, O_AGEPASS}, CLI_READKEYS},
	{{"trusted-keys", required_argument, 0, O_TRUSTED}, CLI_READKEYS | CLI_TRUST},
	{{"delete-untrusted", no_argument, 0, O_DELUNTRUSTED}, CLI_PRUNE},
	{{"segment-interval", required_argument, 0, O_SEGINT}, CLI_REPLICATE},
	{{"segment-max-bytes", required_argument, 0, O_SEGMAX}, CLI_REPLICATE},
	{{"full-interval", required_argument, 0, O_FULLINT}, CLI_REPLICATE},
	{{"control-plane", required_argument, 0, O_CPLANE}, CLI_CPLANE},
	{{"control-plane", no_argument, 0, O_CPGET}, CLI_CPGET},
	{{"control-plane-store-private-keys-unencrypted", no_argument, 0, O_CPPLAIN}, CLI_CPLANE},
	{{"at-revision", required_argument, 0, O_ATREV}, CLI_POINT},
	{{"at-time", required_argument, 0, O_ATTIME}, CLI_POINT},
	{{"etcd-binary", required_argument, 0, O_ETCDBIN}, CLI_DRILL},
	{{"boot-timeout", required_argument, 0, O_BOOTTO}, CLI_DRILL},
	{{"phase", required_argument, 0, O_PHASE}, CLI_DRILL},
	{{"work", required_argument, 0, O_WORK}, CLI_DRILL},
	{{"etcd-endpoint", required_argument, 0, O_ETCDEP}, CLI_DRILL},
	{{"since-revision", required_argument, 0, O_SINCEREV}, CLI_VIEW},
	{{"prefix", no_argument, 0, O_PREFIX}, CLI_VIEW},
	{{"prefix", required_argument, 0, O_PREFIXVAL}, CLI_ARGS2},
	{{"values", no_argument, 0, O_VALUES}, CLI_VIEW},
	{{"print-value", no_argument, 0, O_PRINTVALUE}, CLI_VIEW},
	{{"encryption-config", required_argument, 0, O_ENCCFG}, CLI_VIEW},
	{{"log-format", required_argument, 0, O_LOGFMT}, 0},
	{{"log-level", required_argument, 0, O_LOGLVL}, 0},
	{{"help", no_argument, 0, O_HELP}, 0},
};
#define NDEFS (sizeof defs / sizeof defs[0])

int
cli_duration_ms(const char *s, long long *out_ms)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (!*end || strcmp(end, "s") == 0) v *= 1000;
	else if (strcmp(end, "ms") == 0) ;
	else if (strcmp(end, "m") == 0) v *= 60000;
	else if (strcmp(end, "h") == 0) v *= 3600000;
	else if (strcmp(end, "d") == 0) v *= 86400000;
	else return -1;
	if (v > 1e15)
		return -1;
	*out_ms = (long long)v;
	return 0;
}

static int usage_error(cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
usage_error(cli *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "etcd-backup %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'etcd-backup %s --help' for usage.\n", c->cmd);
	return 2;
}

static int
parse_int(cli *c, const char *flag, const char *v, int lo, int hi, int *out)
{
	char *end;
	long n;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return usage_error(c, "--%s '%s' is not a whole number in %d..%d", flag, v, lo, hi);
	*out = (int)n;
	return 0;
}

static int
set_timeout(cli *c, const char *flag, const char *v, int *out_ms)
{
	long long ms;
	if (cli_duration_ms(v, &ms) < 0 || ms <= 0 || ms > 86400000LL)
		return usage_error(c, "--%s '%s' is not a duration like 5s, 500ms or 2m", flag, v);
	*out_ms = (int)ms;
	return 0;
}

static int
split_endpoints(cli *c, const char *list)
{
	char *save = NULL, *tok;
	free(c->endpoints_buf);
	c->endpoints_buf = strdup(list);
	c->nendpoints = 0;
	if (!c->endpoints_buf)
		return 2;
	for (tok = strtok_r(c->endpoints_buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		if (c->nendpoints == CLI_MAX_ENDPOINTS)
			return usage_error(c, "too many endpoints (at most 16)");
		if (eb_url_has_userinfo(tok)) {
			/* as etcdctl, a user:password@ in the URL is not used for
			 * auth; it is dropped here so it is never shown or stored */
			char clean[1024];
			eb_url_redact(tok, clean, sizeof clean);
			memmove(tok, clean, strlen(clean) + 1);
			EB_LOG(EB_LOG_WARN, c->cmd, "endpoint %s: the user:password@ part of the URL is "
			       "ignored; pass --user/--password (or ETCDCTL_USER/ETCDCTL_PASSWORD)", tok);
		}
		c->endpoints[c->nendpoints++] = tok;
	}
	if (c->nendpoints == 0)
		return usage_error(c, "--endpoints '%s' names no endpoint", list);
	return 0;
}

/* Remote stores retry on their own; operators see each retry in the log. */
static void
log_retry(void *arg, const char *msg)
{
	(void)arg;
	EB_LOG(EB_LOG_WARN, "store", "%s", msg);
}

static void
defaults(cli *c, const char *cmd)
{
	memset(c, 0, sizeof *c);
	c->cmd = cmd;
	eb_etcd_opts_init(&c->etcd);
	eb_store_opts_init(&c->store_opts);
	c->store_opts.on_retry = log_retry;
	c->compression = "zstd";
	c->compression_level = EB_ZSTD_LEVEL_DEFAULT;
	c->member = "auto";
	c->keep.last = c->keep.hourly = c->keep.daily = c->keep.weekly = c->keep.monthly = -1;
	c->abort_incomplete_s = -1;
	c->progress = -1;
	c->segment_interval_ms = 10000;
	c->segment_max_bytes = 8 << 20;
	c->full_interval_ms = 86400000LL;
	c->tmp_dir = eb_env("TMPDIR") ? eb_env("TMPDIR") : "/tmp";
	c->boot_timeout_ms = 60000;
}

/* ETCDCTL_* variables fill what flags did not set (flags are applied after). */
static int
from_env(cli *c, unsigned mask)
{
	const char *v;
	int rc = 0;
	if (mask & CLI_ETCD) {
		rc = split_endpoints(c, (v = eb_env("ETCDCTL_ENDPOINTS")) ? v : "http://127.0.0.1:2379");
		if ((v = eb_env("ETCDCTL_CACERT"))) c->etcd.cacert = v;
		if ((v = eb_env("ETCDCTL_CERT"))) c->etcd.cert = v;
		if ((v = eb_env("ETCDCTL_KEY"))) c->etcd.key = v;
		if ((v = eb_env("ETCDCTL_USER"))) c->etcd.user = v;
		if ((v = eb_env("ETCDCTL_PASSWORD"))) c->etcd.password = v;
		if ((v = getenv("ETCDCTL_INSECURE_SKIP_TLS_VERIFY")) && strcmp(v, "true") == 0)
			c->etcd.insecure_skip_verify = 1;
		if (rc == 0 && (v = eb_env("ETCDCTL_DIAL_TIMEOUT")))
			rc = set_timeout(c, "dial-timeout (ETCDCTL_DIAL_TIMEOUT)", v, &c->etcd.dial_timeout_ms);
		if (rc == 0 && (v = eb_env("ETCDCTL_COMMAND_TIMEOUT")))
			rc = set_timeout(c, "command-timeout (ETCDCTL_COMMAND_TIMEOUT)", v, &c->etcd.command_timeout_ms);
	}
	if ((mask & CLI_CPLANE) && (v = eb_env("ETCD_BACKUP_CONTROL_PLANE")))
		c->control_plane = v;
	if ((mask & CLI_STORE) && (v = eb_env("ETCD_BACKUP_STORE"))) {
		c->store = v;
		c->store_given = 1;
	}
	if (rc == 0 && (mask & CLI_STORE)) {
		eb_err e;
		eb_err_init(&e);
		if (eb_store_opts_tuning_from_env(&c->store_opts, &e) < 0)
			rc = usage_error(c, "%s", e.msg);
	}
	return rc;
}

/* The long name of a flag id ("s3-endpoint"). */
static const char *
flag_name(int id)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (defs[i].o.val == id)
			return defs[i].o.name;
	return "";
}

#define NOT_MINE 1 /* a flag group's answer for a flag of another group */

/* etcd's connection flags (etcdctl's names). */
static int
apply_etcd(cli *c, int id, const char *arg)
{
	switch (id) {
	case O_ENDPOINTS: return split_endpoints(c, arg);
	case O_CACERT: c->etcd.cacert = arg; return 0;
	case O_CERT: c->etcd.cert = arg; return 0;
	case O_KEY: c->etcd.key = arg; return 0;
	case O_INSECURE: c->etcd.insecure_skip_verify = 1; return 0;
	case O_USER: c->etcd.user = arg; return 0;
	case O_PASSWORD: c->etcd.password = arg; return 0;
	case O_DIAL: return set_timeout(c, "dial-timeout", arg, &c->etcd.dial_timeout_ms);
	case O_CMDTO: return set_timeout(c, "command-timeout", arg, &c->etcd.command_timeout_ms);
	case O_IDLE: return set_timeout(c, "snapshot-idle-timeout", arg, &c->etcd.stream_idle_ms);
	default: return NOT_MINE;
	}
}

/* The store's settings and the keys: their modules parse them. */
static int
apply_module(cli *c, int id, const char *arg)
{
	eb_err e;
	eb_err_init(&e);
	switch (id) {
	case O_S3EP: case O_S3REGION: case O_S3PATH: case O_S3CA: case O_S3COMPAT:
	case O_AZEP: case O_AZSUFFIX: case O_AZCA:
	case O_S3LOCKMODE: case O_S3LOCKDAYS: case O_S3SSE: case O_S3SSEKMS:
		if (eb_store_opts_flag(&c->store_opts, flag_name(id), arg, &e) != 0)
			return usage_error(c, "%s", e.msg);
		return 0;
	case O_AGERCPT: case O_AGERCPTS: case O_SIGNKEY:
	case O_AGEID: case O_AGEPASS: case O_TRUSTED:
		if (eb_keys_flag(&c->keys, flag_name(id), arg, &e) != 0)
			return usage_error(c, "--%s: %s", flag_name(id), e.msg);
		return 0;
	default: return NOT_MINE;
	}
}

/* What a backup is made of and where it goes, and which one is meant. */
static int
apply_backup(cli *c, int id, const char *arg)
{
	char *end;
	switch (id) {
	case O_TO: case O_FROM: c->store = arg; c->store_given = 1; return 0;
	case O_TMPDIR: c->tmp_dir = arg; return 0;
	case O_DEEP:
	case O_VERIFYDEEP: c->deep = 1; return 0;
	case O_COMP:
		if (strcmp(arg, "zstd") && strcmp(arg, "none"))
			return usage_error(c, "--compression must be zstd or none, not '%s'", arg);
		c->compression = arg;
		return 0;
	case O_COMPLVL:
		return parse_int(c, "compression-level", arg, EB_ZSTD_LEVEL_MIN, EB_ZSTD_LEVEL_MAX,
		                 &c->compression_level);
	case O_TAG:
		if (c->ntags == CLI_MAX_TAGS)
			return usage_error(c, "at most 16 --tag flags");
		if (!*arg || strlen(arg) > 128 || strpbrk(arg, "\"\\\n\r\t"))
			return usage_error(c, "--tag '%s' must be 1..128 characters without quotes, backslashes or control characters", arg);
		c->tags[c->ntags++] = arg;
		return 0;
	case O_MEMBER: c->member = arg; return 0;
	case O_CPLANE: c->control_plane = arg; return 0;
	case O_CPGET: c->control_plane = ""; return 0;
	case O_CPPLAIN: c->cp_plain = 1; return 0;
	case O_BACKUP: c->backup = arg; return 0;
	case O_OUTPUT: c->output = arg; return 0;
	case O_CLUSTERID:
		c->cluster_id = strtoull(arg, &end, 16);
		if (!*arg || *end || c->cluster_id == 0 || strlen(arg) > 16 || *arg == '-' || *arg == '+')
			return usage_error(c, "--cluster-id '%s' is not a hex cluster id (as 'etcd-backup list' prints it)", arg);
		return 0;
	default: return NOT_MINE;
	}
}

/* Retention: what prune and snapshot --keep-* keep. */
static int
apply_retention(cli *c, int id, const char *arg)
{
	long long ms;
	switch (id) {
	case O_KLAST: return parse_int(c, "keep-last", arg, 1, 1000000, &c->keep.last);
	case O_KHOUR: return parse_int(c, "keep-hourly", arg, 0, 1000000, &c->keep.hourly);
	case O_KDAY: return parse_int(c, "keep-daily", arg, 0, 1000000, &c->keep.daily);
	case O_KWEEK: return parse_int(c, "keep-weekly", arg, 0, 1000000, &c->keep.weekly);
	case O_KMONTH: return parse_int(c, "keep-monthly", arg, 0, 1000000, &c->keep.monthly);
	case O_DRYRUN: c->dry_run = 1; return 0;
	case O_DELUNTRUSTED: c->delete_untrusted = 1; return 0;
	case O_ABORTINC:
		if (cli_duration_ms(arg, &ms) < 0)
			return usage_error(c, "--abort-incomplete-after '%s' is not a duration like 24h", arg);
		c->abort_incomplete_s = (long)(ms / 1000);
		return 0;
	default: return NOT_MINE;
	}
}

/* --segment-max-bytes: a byte count with K or M, 4K..1024M. */
static int
set_segment_max(cli *c, const char *arg)
{
	char *end;
	errno = 0;
	c->segment_max_bytes = strtoll(arg, &end, 10);
	if (!errno && end != arg && (*end == 'K' || *end == 'M') && c->segment_max_bytes < (1LL << 30))
		c->segment_max_bytes <<= *end++ == 'K' ? 10 : 20;
	if (errno || end == arg || *end || c->segment_max_bytes < 4096 || c->segment_max_bytes > (1LL << 30))
		return usage_error(c, "--segment-max-bytes '%s' is not a byte count (K, M) in 4K..1024M", arg);
	return 0;
}

/* Continuous backup: how segments and fulls are cut. */
static int
apply_replicate(cli *c, int id, const char *arg)
{
	switch (id) {
	case O_SEGINT:
		if (cli_duration_ms(arg, &c->segment_interval_ms) < 0 || c->segment_interval_ms < 100)
			return usage_error(c, "--segment-interval '%s' is not a duration of at least 100ms, like 10s", arg);
		return 0;
	case O_FULLINT:
		if (cli_duration_ms(arg, &c->full_interval_ms) < 0)
			return usage_error(c, "--full-interval '%s' is not a duration like 24h (0: never)", arg);
		return 0;
	case O_SEGMAX: return set_segment_max(c, arg);
	default: return NOT_MINE;
	}
}

/* --at-revision / --since-revision: a positive revision. */
static int
set_rev(cli *c, const char *flag, const char *arg, long long *out)
{
	char *end;
	errno = 0;
	*out = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || *out <= 0)
		return usage_error(c, "--%s '%s' is not a revision (a positive integer)", flag, arg);
	return 0;
}

/* Looking inside a backup: which point, which keys, what is shown. */
static int
apply_view(cli *c, int id, const char *arg)
{
	int64_t ms;
	switch (id) {
	case O_ATREV: return set_rev(c, "at-revision", arg, &c->at_rev);
	case O_SINCEREV: return set_rev(c, "since-revision", arg, &c->since_rev);
	case O_ATTIME:
		if (eb_rfc3339_ms(arg, &ms) < 0 || ms <= 0)
			return usage_error(c, "--at-time '%s' is not an RFC 3339 time with its zone, like "
			                   "2026-12-01T13:36:53Z", arg);
		c->at_ms = ms;
		return 0;
	case O_PREFIX: c->prefix = 1; return 0;
	case O_PREFIXVAL: c->prefix_val = arg; return 0;
	case O_VALUES: c->values = 1; return 0;
	case O_PRINTVALUE: c->print_value = 1; return 0;
	case O_ENCCFG: c->encryption_config = arg; return 0;
	case O_ETCDBIN: c->etcd_binary = arg; return 0;
	case O_WORK: c->work = arg; return 0;
	case O_ETCDEP: c->drill_endpoint = arg; return 0;
	case O_PHASE:
		if (strcmp(arg, "restore") && strcmp(arg, "check"))
			return usage_error(c, "--phase takes restore or check, not '%s'", arg);
		c->drill_phase = arg[0] == 'r' ? 1 : 2;
		return 0;
	case O_BOOTTO:
		if (cli_duration_ms(arg, &c->boot_timeout_ms) < 0 || c->boot_timeout_ms < 1000)
			return usage_error(c, "--boot-timeout '%s' is not a duration of at least 1s, like 60s", arg);
		return 0;
	default: return NOT_MINE;
	}
}

/* What the command prints and logs, and its metrics. */
static int
apply_output(cli *c, int id, const char *arg)
{
	int v;
	switch (id) {
	case O_METRICS: c->metrics_file = arg; return 0;
	case O_PUSH: c->pushgateway_url = arg; return 0;
	case O_FORMAT: case O_WRITEOUT:
		if (strcmp(arg, "json") == 0) c->json = 1;
		else if (strcmp(arg, "table") == 0 || strcmp(arg, "simple") == 0) c->json = 0;
		else return usage_error(c, "-o/--write-out takes table or json, not '%s'", arg);
		return 0;
	case O_PROGRESS: c->progress = 1; return 0;
	case O_NOPROGRESS: c->progress = 0; return 0;
	case O_LOGFMT:
		if ((v = eb_log_parse_format(arg)) < 0)
			return usage_error(c, "--log-format takes text or json, not '%s'", arg);
		eb_log_set_format(v);
		return 0;
	case O_LOGLVL:
		if ((v = eb_log_parse_level(arg)) < 0)
			return usage_error(c, "--log-level takes debug, info, warn or error, not '%s'", arg);
		eb_log_set_level(v);
		return 0;
	default: return NOT_MINE;
	}
}

/* One flag, by the group it belongs to: 0 or 2 (a usage error, said). */
static int
apply(cli *c, int id, const char *arg)
{
	static int (*const groups[])(cli *, int, const char *) = {
		apply_etcd, apply_module, apply_backup, apply_retention, apply_replicate, apply_output,
		apply_view,
	};
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
		int rc = groups[i](c, id, arg);
		if (rc != NOT_MINE)
			return rc;
	}
	return 2;
}

static int
parse(cli *c, int argc, char **argv, unsigned mask, const char *usage)
{
	struct option longopts[NDEFS + 1];
	char shortopts[16] = "h"; /* flags may follow the FILE argument */
	size_t n = 0;
	int rc, id;
	defaults(c, argv[0]);
	if (mask & CLI_FORMAT)
		strcat(shortopts, "o:w:");
	for (size_t i = 0; i < NDEFS; i++)
		if (defs[i].group == 0 || (defs[i].group & mask))
			longopts[n++] = defs[i].o;
	memset(&longopts[n], 0, sizeof longopts[n]);
	if ((rc = from_env(c, mask)) != 0)
		return rc;
	optind = 1;
	opterr = 0;
	while ((id = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (id == O_HELP) {
			fputs(usage, stdout);
			return 1;
		}
		if (id == '?' || id == ':') {
			const char *bad = argv[optind - 1];
			size_t blen = bad && strncmp(bad, "--", 2) == 0 ? strcspn(bad + 2, "=") : 0;
			for (size_t i = 0; i < NDEFS && blen; i++)
				if (strlen(defs[i].o.name) == blen &&
				    strncmp(bad + 2, defs[i].o.name, blen) == 0 &&
				    defs[i].group && !(defs[i].group & mask))
					return usage_error(c, "flag %s does not apply to this command", bad);
			if (id == ':')
				return usage_error(c, "flag %s needs a value", bad ? bad : "?");
			return usage_error(c, "unknown flag %s", bad ? bad : "?");
		}
		if ((rc = apply(c, id, optarg)) != 0)
			return rc;
	}
	if (optind < argc) {
		int most = (mask & CLI_ARGS2) ? 2 : (mask & CLI_FILEARG) ? 1 : 0;
		if (argc - optind > most)
			return usage_error(c, "unexpected argument '%s'", argv[optind + most]);
		for (c->nargs = 0; optind < argc; optind++)
			c->args[c->nargs++] = argv[optind];
		c->file = c->args[0];
	}
	if (mask & (CLI_READKEYS | CLI_TRUST)) {
		eb_err e;
		eb_err_init(&e);
		if (eb_keys_read_env(&c->keys, !(mask & CLI_READKEYS), &e) != 0)
			return usage_error(c, "%s (from ETCD_BACKUP_AGE_IDENTITY / ETCD_BACKUP_TRUSTED_KEYS)", e.msg);
	}
	for (int i = 0; i < c->keys.nwarn; i++)
		EB_LOG(EB_LOG_WARN, c->cmd, "%s", c->keys.warn[i]);
	if ((mask & CLI_STORE) && !c->store)
		c->store = EB_DEFAULT_STORE;
	return 0;
}

int
cli_parse(cli *c, int argc, char **argv, unsigned mask, const char *usage)
{
	int rc = parse(c, argc, argv, mask, usage);
	if (rc)
		cli_dispose(c); /* help or usage error: the caller only returns */
	return rc;
}

void
cli_dispose(cli *c)
{
	free(c->endpoints_buf);
	c->endpoints_buf = NULL;
	eb_keys_dispose(&c->keys);
}

eb_read_keys
cli_read_keys(const cli *c)
{
	eb_read_keys k = eb_keys_read(&c->keys);
	k.cluster_id = c->cluster_id;
	return k;
}

int
cli_open_store(cli *c, eb_store **st, eb_err *err)
{
	return eb_store_open(st, c->store, &c->store_opts, err);
}

int
cli_finish(cli *c, eb_store *st, int rc, eb_err *err)
{
	if (rc < 0 && err->msg[0])
		EB_LOG(EB_LOG_ERROR, c->cmd, "%s", err->msg);
	eb_store_free(st);
	cli_dispose(c);
	return eb_exit_code(rc);
}

/* ---- the point a command looks at ---- */

int
cli_is_file(const char *p)
{
	struct stat st;
	return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

eb_view_src
cli_view_base(cli *c, const eb_read_keys *k)
{
	eb_view_src s = {.store = c->store, .store_opts = &c->store_opts, .keys = k, .tmp_dir = c->tmp_dir};
	return s;
}

/* The point of keys/get-key/history from the flags: a FILE, a backup, a
 * point of a chain, or the latest backup.  2 after saying why. */
int
cli_point(cli *c, const eb_read_keys *k, eb_view_src *s)
{
	const char *file = c->store_given && cli_is_file(c->store) && !c->backup ? c->store : NULL;
	*s = cli_view_base(c, k);
	if (file) {
		if (c->backup || c->at_ms) {
			fprintf(stderr, "etcd-backup %s: a snapshot FILE takes --at-revision only (not --backup "
			        "or --at-time)\n", c->cmd);
			return 2;
		}
		s->file = file;
		s->at_rev = c->at_rev;
		return 0;
	}
	if (c->at_rev && c->at_ms) {
		fprintf(stderr, "etcd-backup %s: give --at-revision or --at-time, not both\n", c->cmd);
		return 2;
	}
	if (c->backup || (!c->at_rev && !c->at_ms)) {
		if (c->at_ms) {
			fprintf(stderr, "etcd-backup %s: --at-time picks its own backup: drop --backup\n", c->cmd);
			return 2;
		}
		s->backup = c->backup ? c->backup : "latest";
		s->at_rev = c->at_rev;
		return 0;
	}
	s->want.rev = c->at_rev;
	s->want.time_ms = c->at_ms;
	return 0;
}

