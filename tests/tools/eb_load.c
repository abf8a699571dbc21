/* eb_load ENDPOINT COUNT SIZE [PREFIX [text]] - writes COUNT keys
 * PREFIX<i> with SIZE-byte values through our gRPC client: random bytes
 * (incompressible) by default, or JSON-like text that compresses about as
 * well as Kubernetes objects with "text".  Fast enough to build a database
 * of a GiB for benchmarks.  EB_LOAD_RATE=N paces it to N writes per second
 * (a steady load for bench/replicate.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/etcd.h"
#include "common/crypto.h"

/* Object-like text: field names repeat, values vary. */
static void
fill_text(uint8_t *p, size_t n, long seed)
{
	static const char *words[] = {"\"apiVersion\":\"v1\",", "\"kind\":\"ConfigMap\",",
		"\"metadata\":{\"name\":\"", "\"namespace\":\"kube-system\",",
		"\"resourceVersion\":\"", "\"uid\":\"", "\"labels\":{\"app\":\"",
		"\"data\":{\"config.yaml\":\"", "\"creationTimestamp\":\"2026-11-21T04:43:15Z\","};
	uint64_t x = (uint64_t)seed * 2654435761u + 1;
	size_t i = 0;
	while (i < n) {
		const char *w;
		char num[32];
		size_t l;
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		w = words[x % (sizeof words / sizeof words[0])];
		l = strlen(w);
		if (i + l > n) l = n - i;
		memcpy(p + i, w, l);
		i += l;
		l = (size_t)snprintf(num, sizeof num, "%llx\",", (unsigned long long)(x >> 20));
		if (i + l > n) l = n - i;
		memcpy(p + i, num, l);
		i += l;
	}
}

int
main(int argc, char **argv)
{
	eb_etcd_opts o;
	eb_etcd *c = NULL;
	eb_err err;
	long count, size;
	const char *prefix = argc > 4 ? argv[4] : "load/";
	int text = argc > 5 && strcmp(argv[5], "text") == 0;
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
	/* EB_LOAD_USER=name:password: authenticate (tests of token renewal) */
	o.user = getenv("EB_LOAD_USER");
	if (eb_etcd_open(&c, argv[1], &o, &err) < 0) {
		fprintf(stderr, "eb_load: %s\n", err.msg);
		return 1;
	}
	double rate = getenv("EB_LOAD_RATE") ? atof(getenv("EB_LOAD_RATE")) : 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < count && rc == 0; i++) {
		char key[256];
		if (rate > 0) { /* write i is due at t0 + i / rate */
			struct timespec now;
			double due = (double)i / rate, el;
			clock_gettime(CLOCK_MONOTONIC, &now);
			el = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
			if (due > el) {
				struct timespec d = {(time_t)(due - el), (long)((due - el - (double)(time_t)(due - el)) * 1e9)};
				nanosleep(&d, NULL);
			}
		}
		int kl = snprintf(key, sizeof key, "%s%08ld", prefix, i);
		if (text)
			fill_text(val, (size_t)size, i);
		else
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
