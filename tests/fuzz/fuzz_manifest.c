/* tests/fuzz/fuzz_manifest.c - the JSON reader and the manifest decoder on
 * arbitrary bytes (a manifest is read from a store that anyone with write
 * access could have altered).  A valid manifest must survive a round trip;
 * anything else must be rejected without a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "storage/manifest.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_manifest m, back;
	eb_json *j = NULL;
	eb_err err;
	char *text = NULL;
	eb_err_init(&err);
	if (eb_json_parse(&j, (const char *)data, size, &err) == 0)
		eb_json_free(j);
	eb_err_init(&err);
	if (eb_manifest_from_json(&m, (const char *)data, size, &err) != 0)
		return 0;
	if (eb_manifest_to_json(&m, &text, &err) != 0 ||
	    eb_manifest_from_json(&back, text, strlen(text), &err) != 0)
		abort(); /* what we accepted we must be able to write and read back */
	if (strcmp(back.id, m.id) || back.revision != m.revision || back.ntags != m.ntags ||
	    !back.cp != !m.cp || (m.cp && (back.cp->nfiles != m.cp->nfiles || back.cp->ncerts != m.cp->ncerts)))
		abort();
	eb_manifest_dispose(&back);
	eb_manifest_dispose(&m);
	free(text);
	return 0;
}
