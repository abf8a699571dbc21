/* common/metrics.h - the figures of one run, in Prometheus text format.
 *
 * Lifecycle (the agent, at the end of EVERY run, success or failure):
 *
 *   eb_metrics m;
 *   eb_metrics_init(&m);                 at the start: records the start time
 *   m.snapshot_bytes = ...;              whatever the run learnt (-1 = unknown)
 *   eb_metrics_collect_certs(&m, endpoints, cacert, cert, key, 5000, &warn);
 *   eb_metrics_finish(&m, rc);           rc = 0 or the run's EB_E* code
 *   if (metrics_file) eb_metrics_write_file(&m, metrics_file, &err);
 *   if (push_url)     eb_metrics_push(&m, push_url, "etcd-backup", NULL, &err);
 *
 * Series (every name starts with etcd_backup_):
 *   last_run_timestamp_seconds        gauge  end of this run (unix seconds)
 *   last_run_success                  gauge  1 ok, 0 failed
 *   last_run_duration_seconds         gauge  wall time of this run
 *   last_success_timestamp_seconds    gauge  end of the last successful run
 *   snapshot_size_bytes               gauge  snapshot bytes received from etcd
 *   stored_size_bytes                 gauge  bytes written to the store
 *   snapshot_revision                 gauge  etcd revision of the snapshot
 *   db_size_bytes                     gauge  etcd backend db size (status)
 *   failures_total{reason}            counter failed runs, reason =
 *                                     eb_err_name(code); every reason is
 *                                     emitted (0 when never seen)
 *   certificate_expiry_timestamp_seconds{cert,endpoint}   gauge notAfter
 *   certificate_remaining_seconds{cert,endpoint}          gauge notAfter-now
 *                                     cert="server" (seen in the TLS
 *                                     handshake, endpoint="host:port") or
 *                                     "client" (the --cert file, endpoint="")
 *                                     or "control-plane" (in the bundle of
 *                                     --control-plane, with a file label)
 *
 * Carry-over through the textfile.  eb_metrics_write_file() first reads the
 * file it is about to replace (if it exists and parses) and carries over:
 *   - failures_total{reason}: the previous counts are ADDED, so the counter
 *     survives across runs (a deleted or unreadable file restarts it at 0,
 *     which Prometheus handles as a counter reset);
 *   - last_success_timestamp_seconds, snapshot_size_bytes, stored_size_bytes,
 *     snapshot_revision, db_size_bytes: kept from the previous file when this
 *     run did not set them (a failed run still shows the last good backup).
 * Certificate figures are never carried over (stale dates would mislead).
 *
 * Pushgateway.  eb_metrics_push() sends the same text to
 * <url>/metrics/job/<job>[/instance/<instance>].  A successful run uses PUT
 * (the group is replaced as a whole); a failed run uses POST, which replaces
 * only the series it sends, so last_success_timestamp_seconds and the sizes
 * of the last good backup stay in the group.  The Pushgateway keeps no
 * counters of its own: failures_total pushed is the carried-over count when
 * the same run also wrote a --metrics-file (write the file first), else only
 * this run's failure.  Alert on last_run_success and on the age of
 * last_success_timestamp_seconds, which both work with either sink. */
#ifndef EB_METRICS_H
#define EB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define EB_METRICS_MAX_CERTS 64
#define EB_METRICS_NREASONS 13

typedef struct eb_metrics_cert {
	char cert[16];      /* "server" or "client" */
	char endpoint[256]; /* host:port for server certs, "" for the client */
	char file[256];     /* control-plane: the file it is in ("" otherwise) */
	int64_t not_after;  /* unix seconds */
} eb_metrics_cert;

typedef struct eb_metrics {
	/* NULL: a backup run; "drill_": a restore drill (etcd-backup drill),
	 * whose series are etcd_backup_drill_* (the run series, failures_total,
	 * snapshot_revision, restore_seconds, boot_seconds, keys) */
	const char *kind;
	double drill_restore_s, drill_boot_s;   /* -1 unknown */
	int64_t drill_keys;
	/* Set by eb_metrics_init / eb_metrics_finish (tests may overwrite). */
	double start_time;           /* unix seconds, sub-second */
	double end_time;
	int finished;                /* eb_metrics_finish was called */
	int ok;                      /* 1 when the run succeeded */
	int err_code;                /* EB_E* of the failure, 0 on success */
	double last_success_time;    /* end_time when ok; else carried over, 0 unknown */

	/* Set by the caller; -1 = unknown (the series is then carried over
	 * from the previous textfile or left out). */
	int64_t snapshot_bytes;
	int64_t stored_bytes;
	int64_t revision;
	int64_t db_size_bytes;

	/* failures_total per reason (index: eb_metrics_reason_index). */
	uint64_t failures[EB_METRICS_NREASONS];

	eb_metrics_cert certs[EB_METRICS_MAX_CERTS];
	size_t ncerts;
} eb_metrics;

void eb_metrics_init(eb_metrics *m);

/* Ends the run: end time, duration, outcome; counts one failure under
 * eb_err_name(err_code) when err_code != 0. */
void eb_metrics_finish(eb_metrics *m, int err_code);

/* Records a certificate's notAfter.  cert is "server" or "client"; endpoint
 * is "host:port" (or "" / NULL).  A 65th certificate is ignored (returns
 * EB_EINVAL, nothing else happens). */
int eb_metrics_add_cert(eb_metrics *m, const char *cert, const char *endpoint,
                        int64_t not_after);
/* The same for a certificate of the control-plane bundle: cert="control-plane",
 * endpoint="", file=path (a PEM file, or the kubeconfig holding it). */
int eb_metrics_add_cert_file(eb_metrics *m, const char *file, int64_t not_after);

/* Reads the certificate figures in one go: the server certificate of each
 * https endpoint in the comma-separated list (a short TLS handshake each,
 * timeout_ms bounding each one; http:// endpoints are skipped) and the
 * client certificate file `cert` (may be NULL).  What could be read is
 * recorded even when some of it fails; returns 0 or the first error (err
 * holds its message).  The agent calls it once per run, before
 * eb_metrics_finish, and treats an error as a warning: a certificate that
 * cannot be read must not fail the backup.  (In common/metrics_certs.c.) */
int eb_metrics_collect_certs(eb_metrics *m, const char *endpoints,
                             const char *cacert, const char *cert,
                             const char *key, int timeout_ms, eb_err *err);

/* The reason label names, in index order, and the index of a code. */
const char *eb_metrics_reason_name(size_t index);
size_t eb_metrics_reason_index(int err_code);

/* Renders the exposition text (malloc'd, NUL-terminated; free() it).
 * `now` is the time the remaining-lifetime figures are computed against
 * (unix seconds; pass 0 for the current time). */
int eb_metrics_render(const eb_metrics *m, int64_t now, char **out,
                      size_t *out_len, eb_err *err);

/* Merges in the figures of a previous exposition text (the carry-over rules
 * above).  Lines it does not know are ignored; returns 0, or EB_ECORRUPT
 * when a known series has an unparsable value (m is then unchanged). */
int eb_metrics_merge_previous(eb_metrics *m, const char *text, eb_err *err);

/* Reads `path` if it exists and merges it (see above; an unreadable or
 * corrupt previous file is ignored), renders, and replaces `path`
 * atomically: temp file in the same folder (a name not ending in .prom, so
 * node_exporter never reads it), fsync, rename, fsync of the folder. */
int eb_metrics_write_file(eb_metrics *m, const char *path, eb_err *err);

/* Pushes the rendered text to a Pushgateway (see above).  url is the base,
 * e.g. http://pushgateway.monitoring:9091 (user:password@ in it is used
 * for basic auth and never shown in messages); job must be non-empty;
 * instance may be NULL or "".  Errors: EB_EUNAVAIL (connect), EB_ETIMEOUT,
 * EB_EREMOTE (non-2xx answer, status in the message), EB_EINVAL. */
int eb_metrics_push(const eb_metrics *m, const char *url, const char *job,
                    const char *instance, eb_err *err);

#endif
