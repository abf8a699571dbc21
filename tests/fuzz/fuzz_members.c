/* tests/fuzz/fuzz_members.c - --initial-cluster / advertise URL parsing:
 * input "cluster\ntoken\nadvertise". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restore/members.h"
#include "restore/snapfile.h"
#include "restore/wal.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	char *tok = strchr(s, '\n');
	if (tok) *tok++ = 0; else tok = "";
	char *adv = strchr(tok, '\n');
	if (adv) *adv++ = 0; else adv = "";
	eb_membership c;
	eb_err err;
	eb_err_init(&err);
	if (eb_membership_parse(&c, s, tok, &err) == 0) {
		eb_membership_check_advertise(&c, 0, adv, &err);
		eb_wbuf b = {0};
		eb_raft_form form;
	eb_raft_form_for(0, &form);
	eb_wal_build(&b, &c, 0, &form, &err);
		eb_wbuf_reset(&b);
		eb_snapfile_build(&b, &c, &form, &err);
		eb_wbuf_dispose(&b);
		eb_membership_dispose(&c);
	}
	free(s);
	return 0;
}
