/* tests/tools/metrics_probe.c - the metrics end of a run, without a
 * snapshot: reads the server certificate of each endpoint (TLS handshake)
 * and the client certificate file, then writes --metrics-file and/or pushes
 * to --pushgateway-url, exactly as the agent does at the end of a run.
 * Used by tests/it/t_metrics.sh against a real etcd with client-cert auth.
 *
 *   metrics_probe --endpoints URLS --cacert F --cert F --key F
 *                 [--metrics-file F] [--pushgateway-url U] [--fail CODE]
 *
 * --fail N ends the "run" with EB_E* code -N (to exercise failure counts).
 * Exit code: eb_exit_code of the first error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/certinfo.h"
#include "common/err.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/metrics.h"

int
main(int argc, char **argv)
{
	const char *endpoints = NULL, *cacert = NULL, *cert = NULL, *key = NULL;
	const char *mfile = NULL, *push = NULL;
	int fail_code = 0, rc = 0, i;
	eb_metrics m;
	eb_err err;

	for (i = 1; i + 1 < argc; i += 2) {
		const char *f = argv[i], *v = argv[i + 1];
		if (strcmp(f, "--endpoints") == 0) endpoints = v;
		else if (strcmp(f, "--cacert") == 0) cacert = v;
		else if (strcmp(f, "--cert") == 0) cert = v;
		else if (strcmp(f, "--key") == 0) key = v;
		else if (strcmp(f, "--metrics-file") == 0) mfile = v;
		else if (strcmp(f, "--pushgateway-url") == 0) push = v;
		else if (strcmp(f, "--fail") == 0) fail_code = -atoi(v);
		else if (strcmp(f, "--log-format") == 0) eb_log_set_format(eb_log_parse_format(v));
		else {
			fprintf(stderr, "metrics_probe: unknown flag %s\n", f);
			return 2;
		}
	}
	if (i != argc || !endpoints) {
		fprintf(stderr, "usage: metrics_probe --endpoints URLS [--cacert F --cert F --key F] "
		                "[--metrics-file F] [--pushgateway-url U] [--fail N]\n");
		return 2;
	}
	eb_metrics_init(&m);
	eb_err_init(&err);
	rc = eb_metrics_collect_certs(&m, endpoints, cacert, cert, key, 5000, &err);
	if (rc)
		EB_LOG(EB_LOG_WARN, "certificate", "%s", err.msg);
	for (i = 0; i < (int)m.ncerts; i++) {
		char na[32];
		snprintf(na, sizeof na, "%lld", (long long)m.certs[i].not_after);
		EB_LOGKV(EB_LOG_INFO, "certificate", "expiry read", "cert", m.certs[i].cert,
		         "endpoint", m.certs[i].endpoint, "not_after", na, NULL);
	}
	eb_metrics_finish(&m, fail_code ? fail_code : rc);
	if (mfile) {
		eb_err_init(&err);
		if (eb_metrics_write_file(&m, mfile, &err) != 0) {
			EB_LOG(EB_LOG_ERROR, "metrics", "%s", err.msg);
			if (!rc)
				rc = err.code;
		}
	}
	if (push) {
		eb_err_init(&err);
		if (eb_metrics_push(&m, push, "etcd-backup", "probe", &err) != 0) {
			EB_LOG(EB_LOG_ERROR, "metrics", "%s", err.msg);
			if (!rc)
				rc = err.code;
		}
	}
	return eb_exit_code(fail_code ? fail_code : rc);
}
