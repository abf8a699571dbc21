/* tests/fuzz/fuzz_snapfile.c - the .snap file reader (CRC + protobuf). */
#include <stddef.h>
#include <stdint.h>

#include "restore/snapfile.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_err err;
	eb_snapfile_info in;
	eb_err_init(&err);
	eb_snapfile_read(data, size, &in, &err);
	return 0;
}
