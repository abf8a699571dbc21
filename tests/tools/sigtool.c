/* sigtool - crypt/sshsig on files, for tests.
 *
 *   sigtool sign KEY FILE          prints the SSHSIG of FILE (namespace
 *                                  etcd-backup) to stdout
 *   sigtool verify TRUSTED FILE SIG  exit 0 and the signer's fingerprint
 *
 * Exits as the binaries do (docs/exit-codes.md); the error on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/exitcodes.h"
#include "common/fsutil.h"
#include "crypt/sshsig.h"

int
main(int argc, char **argv)
{
	eb_ssh_signer s;
	eb_ssh_keys k = {0};
	char *msg = NULL, *sig = NULL, fp[EB_SSH_FP_MAX] = "";
	size_t ml = 0, sl = 0;
	eb_err err;
	int rc;
	eb_err_init(&err);
	if (argc == 4 && !strcmp(argv[1], "sign")) {
		rc = eb_ssh_signer_load(&s, argv[2], &err);
		if (rc == 0)
			rc = eb_read_file(argv[3], 64 << 20, &msg, &ml, &err);
		if (rc == 0)
			rc = eb_sshsig_sign(&s, EB_SSHSIG_NAMESPACE, msg, ml, &sig, &err);
		if (rc == 0)
			fputs(sig, stdout);
		eb_ssh_signer_dispose(&s);
	} else if (argc == 5 && !strcmp(argv[1], "verify")) {
		rc = eb_ssh_keys_load(&k, argv[2], &err);
		if (rc == 0)
			rc = eb_read_file(argv[3], 64 << 20, &msg, &ml, &err);
		if (rc == 0)
			rc = eb_read_file(argv[4], 1 << 20, &sig, &sl, &err);
		if (rc == 0)
			rc = eb_sshsig_verify(sig, sl, EB_SSHSIG_NAMESPACE, msg, ml, &k, fp, &err);
		if (rc == 0)
			printf("good signature by %s\n", fp);
	} else {
		fprintf(stderr, "usage: sigtool sign KEY FILE | verify TRUSTED FILE SIG\n");
		return 2;
	}
	free(msg);
	free(sig);
	eb_ssh_keys_dispose(&k);
	if (rc < 0) {
		fprintf(stderr, "sigtool: %s\n", err.msg);
		return eb_exit_code(rc);
	}
	return 0;
}
