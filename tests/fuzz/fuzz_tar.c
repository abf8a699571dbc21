/* tests/fuzz/fuzz_tar.c - the tar reader on arbitrary bytes (a bundle is
 * read after decryption, but the reader must hold on its own): any split,
 * no crash or leak, and every member it passes on has a safe name and a
 * header that re-encodes to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/tar.h"

static int
on_entry(void *arg, const eb_tar_entry *e, eb_err *err)
{
	uint8_t h[EB_TAR_BLOCK];
	eb_tar_entry back;
	(void)arg;
	size_t n = strlen(e->name);
	if (e->name[0] == '/' || !strcmp(e->name, "..") || !strncmp(e->name, "../", 3) || strstr(e->name, "/../") ||
	    (n >= 3 && !strcmp(e->name + n - 3, "/..")) || strstr(e->name, "//"))
		abort(); /* an unsafe name passed on */
	if (eb_tar_header(e, h, err) < 0 || eb_tar_parse_header(h, &back, err) != 0 ||
	    strcmp(back.name, e->name) || back.size != e->size || back.mode != e->mode || back.type != e->type)
		abort(); /* what we accepted must write and read back the same */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_tar_visitor v = {on_entry, NULL, NULL, NULL};
	eb_stream *s = NULL;
	eb_err err;
	size_t cut = size ? data[0] % 977 + 1 : 1;
	int rc;
	eb_err_init(&err);
	if (eb_tar_sink_new(&s, &v, 1 << 20, 64, &err) < 0)
		return 0;
	for (rc = 0; rc == 0 && size;) {
		size_t k = size < cut ? size : cut;
		rc = eb_stream_write(s, data, k, &err);
		data += k;
		size -= k;
	}
	if (rc == 0)
		(void)eb_stream_finish(s, &err);
	s->ops->free(s);
	return 0;
}
