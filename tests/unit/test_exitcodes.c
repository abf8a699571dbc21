/* tests/unit/test_exitcodes.c - the EB_E* -> exit code table, and that it
 * matches the table in docs/exit-codes.md. */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/exitcodes.h"
#include "common/interrupt.h"
#include <signal.h>

static int nfail;

static void
expect(int code, int want)
{
	char name[64];
	snprintf(name, sizeof name, "exitcodes__%s", eb_err_name(code));
	if (eb_exit_code(code) == want) {
		printf("PASS %s\n", name);
	} else {
		printf("FAIL %s: got %d want %d\n", name, eb_exit_code(code), want);
		nfail++;
	}
}

int
main(void)
{
	FILE *f;
	char line[512];
	int rows = 0, bad = 0;

	expect(EB_OK, 0);
	expect(-99, 1);
	expect(EB_ENOMEM, 1);
	expect(EB_EINVAL, 2);
	expect(EB_EUNAVAIL, 3);
	expect(EB_ETIMEOUT, 3);
	expect(EB_EAUTH, 4);
	expect(EB_ECORRUPT, 5);
	expect(EB_EIO, 6);
	expect(EB_EREMOTE, 6);
	expect(EB_EEXIST, 6);
	expect(EB_EUNHEALTHY, 7);
	expect(EB_ENOTFOUND, 8);
	expect(EB_EINTR, 130); /* no signal recorded: as for SIGINT */
	/* a real SIGTERM through the installed handler: 143, and the
	 * interrupt check names it */
	eb_interrupt_install();
	raise(SIGTERM);
	{
		eb_err e;
		eb_err_init(&e);
		if (eb_exit_code(EB_EINTR) == 143 && eb_interrupt_check(&e, "testing") == EB_EINTR &&
		    strstr(e.msg, "SIGTERM"))
			printf("PASS exitcodes__sigterm\n");
		else {
			printf("FAIL exitcodes__sigterm: exit %d, message '%s'\n", eb_exit_code(EB_EINTR), e.msg);
			nfail++;
		}
	}
	eb_interrupt_reset();

	/* docs/exit-codes.md lists each code as "| N | `name` |": the names
	 * there must be eb_exit_name's (run from the top of the tree). */
	f = fopen("docs/exit-codes.md", "r");
	if (!f) {
		printf("FAIL exitcodes__doc: docs/exit-codes.md not found (run from the top folder)\n");
		return 1;
	}
	while (fgets(line, sizeof line, f)) {
		int n;
		char nm[32];
		if (sscanf(line, "| %d | `%31[a-z]` |", &n, nm) == 2) {
			rows++;
			if (strcmp(eb_exit_name(n), nm) != 0) {
				printf("FAIL exitcodes__doc: row %d says %s, code says %s\n", n, nm, eb_exit_name(n));
				bad++;
			}
		}
	}
	fclose(f);
	if (!bad && rows == 11)
		printf("PASS exitcodes__doc\n");
	else if (!bad)
		printf("FAIL exitcodes__doc: %d rows, want 11\n", rows), bad++;
	return nfail || bad ? 1 : 0;
}
