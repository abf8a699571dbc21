/* etcd-backup replicate: continuous backup (agent/replicate.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/cli.h"
#include "agent/cmds.h"
#include "agent/replicate.h"
#include "agent/util.h"
#include "common/exitcodes.h"
#include "common/log.h"

static const char usage[] =
"Usage: etcd-backup replicate [--to STORE] [flags]\n"
"\n"
"Continuous backup, for a Deployment or a systemd service: a full backup,\n"
"then every change etcd makes, as segments of consecutive revisions, so\n"
"that etcd-restore can restore any revision (--to-revision) or the newest\n"
"(--to-latest), not only the moments of full backups.\n"
"\n"
"It continues the chain that reaches furthest (of the full backups it made\n"
"and those with segments; a plain snapshot, the CronJob's, never replaces\n"
"it) when etcd still has the history after it; otherwise (first run, or\n"
"history compacted while it was down) it takes a new full backup: the\n"
"revisions in between are a gap, logged as GAP, never papered over.  With\n"
"--sign-key it continues only a chain whose full backup that key (or one in\n"
"--trusted-keys) signed.  Every --segment-interval or\n"
"--segment-max-bytes the open segment is compressed (and age-encrypted with\n"
"--age-recipient, its manifest signed with --sign-key) and stored: the\n"
"object first, its manifest last, so a\n"
"segment exists only when complete.  Every --full-interval a new full backup\n"
"starts a new chain; the old chain is continued up to its revision.  A lost\n"
"member: what arrived is committed, another member (--member) is watched\n"
"from the next revision.  SIGTERM/SIGINT: the open segment is committed,\n"
"exit 0; after kill -9 the next start continues from the last committed\n"
"segment.  One instance writes to a store at a time: a lock in etcd (a key\n"
"under a 15 s lease, /etcd-backup/replicate-lock/...) makes a second one\n"
"wait as a standby and take over when the first stops or dies.\n"
"\n"
"Flags:\n"
"  --to STORE                   where to store (default /var/backups/etcd)\n"
STORE_FLAGS_HELP
ETCD_FLAGS_HELP
"  --member auto|leader|follower|URL   which member to watch and snapshot\n"
"  --segment-interval DUR       commit the open segment this often (10s)\n"
"  --segment-max-bytes N        ... or when it holds this much (8M; K, M)\n"
"  --full-interval DUR          a new full backup this often (24h; 0: never)\n"
"  --snapshot-idle-timeout DUR  full backups: fail when etcd sends nothing this long\n"
"  --compression zstd|none      (default zstd), --compression-level N\n"
"  --tag LABEL                  label of the full backups (repeatable)\n"
"  --trusted-keys FILE          with --sign-key: chains signed by these keys\n"
"                               may be continued too (env ETCD_BACKUP_TRUSTED_KEYS)\n"
"  --metrics-file FILE          Prometheus textfile, rewritten every 5 s:\n"
"                               etcd_backup_replicate_lag_revisions, _lag_seconds,\n"
"                               _last_segment_timestamp_seconds, _gaps_total, ...\n"
CONTROL_PLANE_HELP
WRITE_KEYS_HELP
COMMON_FLAGS_HELP;

int
cmd_replicate(int argc, char **argv)
{
	cli c;
	eb_store *st = NULL;
	eb_replicate_opts o;
	eb_replicate_stats stats;
	eb_err err;
	int rc;

	rc = cli_parse(&c, argc, argv, CLI_ETCD | CLI_STORE | CLI_SNAPSHOT | CLI_WRITEKEYS | CLI_REPLICATE |
	                               CLI_METRICS | CLI_TRUST | CLI_CPLANE,
	               usage);
	if (rc)
		return rc == 1 ? 0 : EB_EXIT_USAGE;
	eb_err_init(&err);
	memset(&o, 0, sizeof o);
	o.endpoints = c.endpoints;
	o.nendpoints = c.nendpoints;
	o.etcd = &c.etcd;
	o.member = c.member;
	o.full.compression = c.compression;
	o.full.level = c.compression_level;
	o.full.tags = c.tags;
	o.full.ntags = c.ntags;
	o.full.age = c.keys.rcpt.n ? &c.keys.rcpt : NULL;
	o.full.signer = c.keys.have_signer ? &c.keys.signer : NULL;
	/* a run that signs continues only chains it can prove: its own key's */
	if (c.keys.have_signer && eb_ssh_keys_add_signer(&c.keys.trusted, &c.keys.signer, &err) == 0)
		c.keys.have_trusted = 1;
	o.trusted = c.keys.have_trusted ? &c.keys.trusted : NULL;
	o.segment_interval_ms = c.segment_interval_ms;
	o.segment_max_bytes = (size_t)c.segment_max_bytes;
	o.full_interval_ms = c.full_interval_ms;
	o.reconnect_ms = 1000;
	o.metrics_file = c.metrics_file;
	if (c.pushgateway_url) {
		fprintf(stderr, "etcd-backup replicate: --pushgateway-url is for runs that end; a replicate "
		        "Deployment is scraped: use --metrics-file (node_exporter textfile) instead\n");
		cli_dispose(&c);
		return EB_EXIT_USAGE;
	}
	if (c.control_plane) {
		/* refused at the start (exit 2), not at the first full backup */
		eb_cp_bundle cp;
		if (eb_cp_prepare(c.control_plane, c.keys.rcpt.n > 0, c.cp_plain, &cp, &err) < 0) {
			EB_LOG(EB_LOG_ERROR, "replicate", "%s", err.msg);
			cli_dispose(&c);
			return EB_EXIT_USAGE;
		}
		eb_cp_bundle_dispose(&cp);
		o.control_plane = c.control_plane;
	}
	rc = eb_store_open(&st, c.store, &c.store_opts, &err);
	if (rc == 0) {
		EB_LOG(EB_LOG_INFO, "replicate", "replicating to %s (segments every %lld ms or %lld bytes, "
		       "a full backup every %lld s)", st->url, c.segment_interval_ms, c.segment_max_bytes,
		       c.full_interval_ms / 1000);
		rc = eb_replicate_run(st, &o, &stats, &err);
	}
	if (rc == 0)
		EB_LOG(EB_LOG_INFO, "replicate", "stopped: %" PRIu64 " segments, %" PRIu64 " events, %" PRIu64
		       " full backups, %" PRIu64 " gaps, %" PRIu64 " reconnects, last revision %" PRId64,
		       stats.segments, stats.events, stats.fulls, stats.gaps, stats.reconnects, stats.last_rev);
	else
		EB_LOG(EB_LOG_ERROR, "replicate", "%s", err.msg);
	eb_store_free(st);
	cli_dispose(&c);
	return eb_exit_code(rc);
}
