/* agetool - the age stages of crypt/ on files, for tests.
 *
 *   agetool decrypt [-i IDENTITY_FILE]... [-p PASSPHRASE_FILE] IN OUT
 *   agetool encrypt -r RECIPIENT... [-R RECIPIENTS_FILE]... IN OUT
 *
 * OUT is written through the file sink: it exists only when every check
 * passed.  Exits as the binaries do (docs/exit-codes.md); the error on
 * stderr. */
#include <stdio.h>
#include <string.h>

#include "common/exitcodes.h"
#include "crypt/age_stage.h"
#include "storage/file_sink.h"

int
main(int argc, char **argv)
{
	eb_age_recipients r = {0};
	eb_age_identities ids = {0};
	eb_stream *sink = NULL, *st = NULL;
	eb_err err;
	int rc = 0, i, enc;
	eb_err_init(&err);
	if (argc < 4 || (strcmp(argv[1], "decrypt") && strcmp(argv[1], "encrypt"))) {
		fprintf(stderr, "usage: agetool decrypt|encrypt [keys] IN OUT\n");
		return 2;
	}
	enc = strcmp(argv[1], "encrypt") == 0;
	for (i = 2; rc == 0 && i + 1 < argc - 2; i += 2) {
		const char *f = argv[i], *v = argv[i + 1];
		if (!strcmp(f, "-i"))
			rc = eb_age_identities_load(&ids, v, &err);
		else if (!strcmp(f, "-p"))
			rc = eb_age_identities_passphrase(&ids, v, &err);
		else if (!strcmp(f, "-r"))
			rc = eb_age_recipients_add(&r, v, &err);
		else if (!strcmp(f, "-R"))
			rc = eb_age_recipients_load(&r, v, &err);
		else
			rc = eb_err_set(&err, EB_EINVAL, "unknown flag %s", f);
	}
	if (rc == 0 && i != argc - 2)
		rc = eb_err_set(&err, EB_EINVAL, "want IN OUT after the flags");
	if (rc == 0)
		rc = eb_file_sink_new(&sink, argv[argc - 1], EB_FILE_NO_REPLACE, &err);
	if (rc == 0)
		rc = enc ? eb_age_encrypt_new(&st, &r, sink, &err)
		         : eb_age_decrypt_new(&st, &ids, sink, &err);
	if (rc == 0)
		sink = NULL; /* the chain owns it */
	if (rc == 0)
		rc = eb_file_push(argv[argc - 2], st, &err);
	if (rc == 0)
		rc = eb_stream_finish(st, &err);
	eb_stream_free_chain(st ? st : sink);
	eb_age_identities_dispose(&ids);
	eb_age_recipients_dispose(&r);
	if (rc < 0) {
		fprintf(stderr, "agetool: %s\n", err.msg);
		return eb_exit_code(rc);
	}
	return 0;
}
