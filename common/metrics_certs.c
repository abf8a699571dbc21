/* common/metrics_certs.c - fills the certificate series of eb_metrics from
 * the endpoints and the client certificate file (common/certinfo). */
#include <stdlib.h>
#include <string.h>

#include "common/certinfo.h"
#include "common/metrics.h"

int
eb_metrics_collect_certs(eb_metrics *m, const char *endpoints,
                         const char *cacert, const char *cert,
                         const char *key, int timeout_ms, eb_err *err)
{
	char *list, *save = NULL, *ep;
	int rc = 0, r;
	eb_certinfo ci;

	if (endpoints && *endpoints) {
		list = strdup(endpoints);
		if (!list)
			return eb_err_set(err, EB_ENOMEM, "certificate check: out of memory");
		for (ep = strtok_r(list, ",", &save); ep; ep = strtok_r(NULL, ",", &save)) {
			char hp[300];
			while (*ep == ' ')
				ep++;
			/* Plain http endpoints have no certificate: skipped, no error. */
			if (strncmp(ep, "http://", 7) == 0 || *ep == '\0')
				continue;
			r = eb_certinfo_endpoint(ep, cacert, cert, key, timeout_ms, &ci, hp,
			                         sizeof hp, err);
			if (r == 0)
				eb_metrics_add_cert(m, "server", hp, ci.not_after);
			else if (!rc)
				rc = r;
		}
		free(list);
	}
	if (cert && *cert) {
		r = eb_certinfo_file(cert, &ci, err);
		if (r == 0)
			eb_metrics_add_cert(m, "client", "", ci.not_after);
		else if (!rc)
			rc = r;
	}
	return rc;
}
