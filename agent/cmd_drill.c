/* agent/cmd_drill.c - `etcd-backup drill`: restore a backup into a temp
 * dir, boot a real etcd on it, check it serves what the backup holds
 * (agent/drill.h), record the outcome in metrics. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli.h"
#include "agent/cmds.h"
#include "agent/drill.h"
#include "agent/util.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/metrics.h"

static const char usage[] =
"Usage: etcd-backup drill [--from STORE] [--backup ID|latest | --at-revision R | --at-time T]\n"
"                         [--etcd-binary PATH] [--metrics-file FILE]\n"
"\n"
"A restore drill: proves that a backup restores and boots, every day if run\n"
"from a CronJob.  Restores the backup (or point) into a temp dir, starts a\n"
"real etcd on it (127.0.0.1, ports of its own), and checks that it serves\n"
"the revision and the number of keys the backup holds, and the HashKV the\n"
"cluster answered when the backup was taken (recorded in its manifest;\n"
"computed from the snapshot when none was).  Then stops that etcd and\n"
"removes everything.  A failed drill means the backups cannot be trusted:\n"
"page someone.\n"
"\n"
"  --etcd-binary PATH           the etcd to boot: the version the cluster runs\n"
"                               (default: etcd in PATH)\n"
"  --boot-timeout DUR           how long etcd may take to answer (default 60s)\n"
"  --metrics-file FILE          Prometheus textfile: etcd_backup_drill_* (last\n"
"                               success, duration, restore and boot time)\n"
"  --pushgateway-url URL        push the same metrics\n"
"  --tmp-dir needs room for twice the database: the staged snapshot and the\n"
"  restored member.\n"
"\n"
"In two halves, for a pod whose etcd is a container of its own (the chart's\n"
"drill CronJob: an init container restores, etcd runs as a sidecar, the\n"
"main container checks):\n"
"  --phase restore --work DIR   restore into DIR/data (etcd's name drill, its\n"
"                               peer URL http://127.0.0.1:2380) and write what\n"
"                               etcd must serve to DIR/drill.json\n"
"  --phase check --work DIR [--etcd-endpoint URL]\n"
"                               check the etcd at URL (default\n"
"                               http://127.0.0.1:2379) against DIR/drill.json\n"
"                               and write the metrics\n"
POINT_HELP
READ_KEYS_HELP
STORE_FLAGS_HELP
COMMON_FLAGS_HELP
"Exit status: 0 the drill passed, 3 etcd did not start on the restored\n"
"data, 5 the backup fails a check, 7 etcd served something else than the\n"
"backup holds, 8 no such backup, 2 bad flags.\n";

/* etcd in PATH, as execvp would find it. */
static const char *
find_etcd(char *buf, size_t cap)
{
	const char *path = getenv("PATH");
	while (path && *path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, cap, "%.*s/etcd", (int)n, path);
		if (n && access(buf, X_OK) == 0)
			return buf;
		path += n + (path[n] == ':');
	}
	return NULL;
}

static void
emit(const cli *c, eb_metrics *m, const eb_drill_result *r, int rc)
{
	eb_err e;
	m->drill_restore_s = r->restore_s;
	m->drill_boot_s = rc == 0 ? r->boot_s : -1;
	m->drill_keys = rc == 0 ? r->keys : -1;
	m->revision = rc == 0 ? r->revision : -1;
	eb_metrics_finish(m, rc);
	eb_err_init(&e);
	if (c->metrics_file && eb_metrics_write_file(m, c->metrics_file, &e) < 0)
		EB_LOG(EB_LOG_ERROR, "metrics", "%s", e.msg);
	eb_err_init(&e);
	if (c->pushgateway_url && eb_metrics_push(m, c->pushgateway_url, "etcd-backup-drill", NULL, &e) < 0)
		EB_LOG(EB_LOG_ERROR, "metrics", "%s", e.msg);
}

int
cmd_drill(int argc, char **argv)
{
	cli c;
	eb_drill_opts o = {0};
	eb_drill_result r;
	eb_read_keys k;
	eb_metrics m;
	eb_err err;
	char etcd[4096];
	int rc = cli_parse(&c, argc, argv, CLI_STORE | CLI_BACKUP | CLI_TMPDIR | CLI_READKEYS | CLI_POINT |
	                   CLI_DRILL | CLI_METRICS, usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_metrics_init(&m);
	m.kind = "drill_";
	eb_err_init(&err);
	k = cli_read_keys(&c);
	if (cli_point(&c, &k, &o.src)) {
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	o.etcd_binary = c.etcd_binary ? c.etcd_binary : find_etcd(etcd, sizeof etcd);
	o.boot_timeout_ms = (int)c.boot_timeout_ms;
	o.phase = c.drill_phase;
	o.work = c.work;
	o.endpoint = c.drill_endpoint ? c.drill_endpoint : "http://127.0.0.1:2379";
	if (!o.phase)
		o.endpoint = NULL;
	if (o.phase && !o.work) {
		fprintf(stderr, "etcd-backup drill: --phase needs --work DIR (the folder both halves share)\n");
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	if (!o.phase && (!o.etcd_binary || access(o.etcd_binary, X_OK) != 0)) {
		rc = eb_err_set(&err, EB_EINVAL, "no etcd to boot: %s (give --etcd-binary PATH, the version the "
		                "cluster runs)", c.etcd_binary ? "--etcd-binary is not an executable" : "none in PATH");
		emit(&c, &m, &(eb_drill_result){.restore_s = -1}, rc);
		return cli_finish(&c, NULL, rc, &err);
	}
	rc = eb_drill_run(&o, &r, &err);
	if (rc == 0 && o.phase == EB_DRILL_RESTORE) {
		EB_LOG(EB_LOG_INFO, "drill", "restored %s into %s/data in %.1f s; what etcd must serve is in "
		       "%s/drill.json", r.what, o.work, r.restore_s, o.work);
		return cli_finish(&c, NULL, rc, &err); /* the check phase writes the metrics */
	}
	if (rc == 0 && o.phase == EB_DRILL_CHECK)
		EB_LOG(EB_LOG_INFO, "drill", "drill passed: %s; etcd %s at %s: revision %" PRId64 ", %" PRId64
		       " keys, HashKV %u equal to %s", r.what, r.etcd_version, o.endpoint, r.revision, r.keys,
		       r.hashkv, r.hashkv_source);
	else if (rc == 0)
		EB_LOG(EB_LOG_INFO, "drill", "drill passed: %s restored in %.1f s; etcd %s served it after %.1f s: "
		       "revision %" PRId64 ", %" PRId64 " keys, HashKV %u equal to %s (%.1f s in all)", r.what,
		       r.restore_s, r.etcd_version, r.boot_s, r.revision, r.keys, r.hashkv, r.hashkv_source,
		       r.total_s);
	else
		eb_err_context(&err, "DRILL FAILED%s%s", r.what[0] ? " for " : "", r.what);
	emit(&c, &m, &r, rc);
	return cli_finish(&c, NULL, rc, &err);
}
