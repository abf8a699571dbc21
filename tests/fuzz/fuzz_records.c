/* tests/fuzz/fuzz_records.c - the boot-time record checks (restore/records.c)
 * and the lease set's KeyValue reader (restore/leaseset.c), twice over the
 * value so a key is seen again: input = bucket selector byte, key length
 * byte, key, value. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "restore/leaseset.h"
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
	{
		eb_leaseset ls = {0};
		eb_leaseset_version(&ls, data + 2 + kl, size - 2 - kl, data[0] & 1, &err);
		eb_leaseset_version(&ls, data + 2 + kl, size - 2 - kl, 0, &err);
		if (eb_leaseset_seal(&ls, &err) == 0)
			eb_leaseset_named(&ls, 1);
		eb_leaseset_dispose(&ls);
	}
	return 0;
}
