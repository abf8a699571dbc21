/* eb_load ENDPOINT COUNT SIZE [PREFIX] - writes COUNT keys PREFIX<i> with
 * SIZE-byte values (random bytes: incompressible) through our gRPC client.
 * Fast enough to build a database of hundreds of MiB for tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/etcd.h"
#include "common/crypto.h"

int
main(int argc, char **argv)
{
	eb_etcd_opts o;
	eb_etcd *c = NULL;
	eb_err err;
	long count, size;
	const char *prefix = argc > 4 ? argv[4] : "load/";
	uint8_t *val;
	int rc = 0;
	if (argc < 4) {
		fprintf(stderr, "usage: eb_load ENDPOINT COUNT SIZE [PREFIX]\n");
		return 2;
	}
	count = atol(argv[2]);
	size = atol(argv[3]);
	val = malloc((size_t)size + 1);
	eb_err_init(&err);
	eb_etcd_global_init();
	eb_etcd_opts_init(&o);
	o.command_timeout_ms = 30000;
	if (eb_etcd_open(&c, argv[1], &o, &err) < 0) {
		fprintf(stderr, "eb_load: %s\n", err.msg);
		return 1;
	}
	for (long i = 0; i < count && rc == 0; i++) {
		char key[256];
		int kl = snprintf(key, sizeof key, "%s%08ld", prefix, i);
		eb_random(val, (size_t)size, &err);
		rc = eb_etcd_put(c, key, (size_t)kl, val, (size_t)size, &err);
	}
	if (rc < 0)
		fprintf(stderr, "eb_load: %s\n", err.msg);
	eb_etcd_close(c);
	eb_etcd_global_shutdown();
	free(val);
	return rc < 0 ? 1 : 0;
}
