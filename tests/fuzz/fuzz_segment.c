/* tests/fuzz/fuzz_segment.c - the segment reader (storage/segment.c), and
 * each event's key-value through the key-bucket record check the restore
 * applies before writing it: input = a segment. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "restore/records.h"
#include "storage/segment.h"

static int
on_event(void *arg, int is_delete, int64_t rev, int64_t sub, int64_t ms, const uint8_t *kv,
         size_t kl, eb_err *err)
{
	uint8_t k[18];
	(void)arg;
	(void)ms;
	eb_st_be64(k, (uint64_t)rev);
	k[8] = '_';
	eb_st_be64(k + 9, (uint64_t)sub);
	k[17] = 't';
	eb_record_check((const uint8_t *)"key", 3, k, is_delete ? 18 : 17, kv, kl, err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_seg_visitor v = {on_event, NULL, NULL};
	eb_seg_info info;
	eb_err err;
	eb_err_init(&err);
	eb_seg_read(data, size, &v, &info, &err);
	return 0;
}
