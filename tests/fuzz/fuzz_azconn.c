/* tests/fuzz/fuzz_azconn.c - Azure Storage connection strings
 * (storage/azure/azconn.c) from arbitrary bytes: parsed, disposed, no
 * crash, no leak, no read past the string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/azure/azblob.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	eb_az_connstr c;
	eb_err e;
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	eb_err_init(&e);
	if (eb_az_connstr_parse(s, &c, &e) == 0)
		eb_az_connstr_dispose(&c);
	free(s);
	return 0;
}
