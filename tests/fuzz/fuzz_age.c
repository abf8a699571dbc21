/* tests/fuzz/fuzz_age.c - the age decoder on arbitrary bytes: the header
 * reader (stanzas, base64, MAC), the STREAM decrypting stage fed in uneven
 * pieces, and the key parsers (bech32 recipients and identities).  A
 * stored object or a local file is attacker-controlled input.  The
 * identity is fixed (32 bytes of 0x42), so seeds encrypted to its
 * recipient reach the payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/age.h"
#include "crypt/age_stage.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t sk[32] = {0};
	eb_age_identities ids = {0};
	eb_age_recipients r = {0};
	eb_stream *sink = NULL, *dec = NULL;
	uint8_t fk[EB_AGE_FILE_KEY_LEN];
	size_t hl, off = 0, step = 1;
	char line[256];
	eb_err err;
	memset(sk, 0x42, sizeof sk);
	ids.sk = &sk;
	ids.n = 1;
	ids.passphrase = (char *)"fuzz"; /* scrypt stanzas: kept cheap by the work factor cap */
	eb_err_init(&err);
	if (size > 0 && data[0] == 'S') {
		/* a work factor up to 2^22 would make one input take seconds:
		 * the scrypt path is reached through small work factors only */
		ids.passphrase = NULL;
	}
	eb_age_header_read(data, size, &ids, fk, &hl, &err);
	eb_err_init(&err);
	if (eb_null_sink_new(&sink, &err) == 0 && eb_age_decrypt_new(&dec, &ids, sink, &err) == 0) {
		/* uneven splits: 1, 2, 3... bytes, so every boundary is crossed */
		int rc = 0;
		while (off < size && rc == 0) {
			size_t k = size - off < step ? size - off : step;
			rc = eb_stream_write(dec, data + off, k, &err);
			off += k;
			step = step * 3 + 1;
		}
		if (rc == 0)
			eb_stream_finish(dec, &err);
		eb_stream_free_chain(dec);
	} else {
		eb_stream_free_chain(sink);
	}
	/* the key parsers on the first line */
	size_t n = size < sizeof line - 1 ? size : sizeof line - 1;
	memcpy(line, data, n);
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	eb_err_init(&err);
	eb_age_recipients_add(&r, line, &err);
	eb_age_recipients_dispose(&r);
	eb_age_identities tmp = {0};
	eb_err_init(&err);
	eb_age_identities_add(&tmp, line, &err);
	eb_age_identities_dispose(&tmp);
	return 0;
}
