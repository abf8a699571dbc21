/* tests/fuzz/fuzz_records.c - the boot-time record checks (restore/records.c):
 * input = bucket selector byte, key length byte, key, value. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "restore/records.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const buckets[] = {"key", "meta", "lease", "alarm", "auth",
	                                      "authUsers", "authRoles", "cluster", "other"};
	const char *b;
	size_t kl;
	eb_err err;
	if (size < 2)
		return 0;
	b = buckets[data[0] % (sizeof buckets / sizeof buckets[0])];
	kl = data[1] <= size - 2 ? data[1] : size - 2;
	eb_err_init(&err);
	eb_record_check((const uint8_t *)b, strlen(b), data + 2, kl, data + 2 + kl, size - 2 - kl, &err);
	return 0;
}
