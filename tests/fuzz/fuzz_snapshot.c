/* tests/fuzz/fuzz_snapshot.c - a whole snapshot file (trailer detection,
 * sha256 check, bbolt structure, status hash and HashKV) through
 * eb_inspect_file: errors are fine, crashes are not. */
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "restore/inspect.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", 0);
	char path[64];
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0) close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	eb_err err;
	eb_err_init(&err);
	eb_inspect_result r;
	eb_inspect_file(path, NULL, &r, &err);
	close(fd);
	return 0;
}
