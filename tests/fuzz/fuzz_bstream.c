/* tests/fuzz/fuzz_bstream.c - the streaming bbolt reader on arbitrary bytes,
 * split into writes at arbitrary points: must hand on records, ask for the
 * staged reader (1), or fail, never crash, hang or read out of bounds.
 * Byte 0 picks the options and the write size. */
#include <stddef.h>
#include <stdint.h>

#include "restore/bolt_stream.h"

static int
rec(void *c, int64_t rev, int64_t sub, int tomb, const eb_kv_fields *f, eb_err *e)
{
	(void)c; (void)rev; (void)sub; (void)tomb; (void)e;
	volatile uint8_t x = 0;
	if (f->key_len)
		x ^= f->key[f->key_len - 1];
	if (f->value && f->value_len)
		x ^= f->value[f->value_len - 1];
	(void)x;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_stream *s = NULL;
	eb_err err;
	eb_bstream_info info;
	if (size < 1)
		return 0;
	eb_bstream_opts o = {.values = data[0] & 1, .hash_values = data[0] >> 1 & 1,
	                     .key = (const uint8_t *)"/w/", .key_len = 3, .prefix = data[0] >> 2 & 1,
	                     .upto = data[0] >> 3 & 1 ? 5 : 0};
	size_t chunk = 1 + (size_t)(data[0] >> 4) * 257;
	eb_err_init(&err);
	if (!(data[0] >> 2 & 1) && data[0] >> 3 & 1)
		o.key = NULL;
	if (eb_bstream_new(&s, &o, &err))
		return 0;
	int rc = 0;
	for (size_t off = 1; off < size && rc == 0; off += chunk)
		rc = eb_stream_write(s, data + off, size - off < chunk ? size - off : chunk, &err);
	if (rc == 0 && eb_stream_finish(s, &err) == 0)
		eb_bstream_emit(s, rec, NULL, &info, &err);
	eb_stream_free_chain(s);
	return 0;
}
