/* tests/fuzz/fuzz_wal.c - the strict WAL record reader. */
#include <stddef.h>
#include <stdint.h>

#include "restore/wal.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_err err;
	eb_wal_info in;
	eb_err_init(&err);
	eb_wal_read(data, size, &in, &err);
	return 0;
}
