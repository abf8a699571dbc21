/* storage/azure/azconn.c - Azure Storage connection strings (azblob.h):
 *
 *   Name=value;Name=value;...   names case-insensitive, values may hold '=',
 *                               empty parts (a trailing ';') allowed
 *
 * Pure string work (no network), so that it can be fuzzed alone. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/crypto.h"
#include "storage/azure/azblob.h"

void
eb_az_connstr_dispose(eb_az_connstr *c)
{
	if (c->key)
		eb_wipe_str(c->key);
	if (c->sas)
		eb_wipe_str(c->sas);
	free(c->account);
	free(c->key);
	free(c->sas);
	free(c->blob_endpoint);
	free(c->suffix);
	free(c->protocol);
	memset(c, 0, sizeof *c);
}

int
eb_az_connstr_parse(const char *s, eb_az_connstr *out, eb_err *err)
{
	static const char *const names[] = {"AccountName", "AccountKey", "SharedAccessSignature",
	                                    "BlobEndpoint", "EndpointSuffix", "DefaultEndpointsProtocol"};
	char **slots[] = {&out->account, &out->key, &out->sas, &out->blob_endpoint, &out->suffix,
	                  &out->protocol};
	memset(out, 0, sizeof *out);
	while (s && *s) {
		const char *end = strchr(s, ';'), *eq;
		size_t n = end ? (size_t)(end - s) : strlen(s);
		eq = memchr(s, '=', n);
		if (n && !eq) {
			eb_az_connstr_dispose(out);
			return eb_err_set(err, EB_EINVAL, "AZURE_STORAGE_CONNECTION_STRING: a part without '=' "
			                  "(want Name=value;Name=value...)");
		}
		for (size_t i = 0; eq && i < sizeof names / sizeof names[0]; i++) {
			if (strlen(names[i]) != (size_t)(eq - s) || strncasecmp(s, names[i], (size_t)(eq - s)))
				continue;
			free(*slots[i]);
			if (!(*slots[i] = strndup(eq + 1, n - (size_t)(eq - s) - 1))) {
				eb_az_connstr_dispose(out);
				return eb_err_set(err, EB_ENOMEM, "out of memory");
			}
		}
		s = end ? end + 1 : NULL;
	}
	return 0;
}

