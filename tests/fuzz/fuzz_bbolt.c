/* tests/fuzz/fuzz_bbolt.c - the validating bbolt reader on arbitrary bytes:
 * must return an error or walk, never crash, hang or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "restore/bbolt_read.h"

static int kv(void *c, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, eb_err *e)
{ (void)c; (void)e; volatile uint8_t x = 0; if (kl) x ^= k[kl - 1]; if (vl) x ^= v[vl - 1]; (void)x; return 0; }

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0) close(fd);
		return 0;
	}
	eb_err err;
	eb_err_init(&err);
	eb_bolt *b;
	if (eb_bolt_open(&b, fd, size, &err) == 0) {
		eb_bolt_visitor v = {.kv = kv};
		eb_bolt_stats st;
		eb_bolt_walk(b, &v, &st, &err);
		eb_bolt_close(b);
	}
	close(fd);
	return 0;
}
