/* crypt/keys.c - see keys.h. */
#include "crypt/keys.h"

#include <string.h>

#include "common/env.h"

int
eb_keys_flag(eb_keys *k, const char *name, const char *arg, eb_err *err)
{
	int rc;
	if (strcmp(name, "age-recipient") == 0)
		rc = eb_age_recipients_add(&k->rcpt, arg, err);
	else if (strcmp(name, "age-recipients-file") == 0)
		rc = eb_age_recipients_load(&k->rcpt, arg, err);
	else if (strcmp(name, "age-identity") == 0)
		rc = eb_age_identities_load(&k->ids, arg, err);
	else if (strcmp(name, "age-passphrase-file") == 0)
		rc = eb_age_identities_passphrase(&k->ids, arg, err);
	else if (strcmp(name, "trusted-keys") == 0) {
		rc = eb_ssh_keys_load(&k->trusted, arg, err);
		k->have_trusted = 1;
	} else if (strcmp(name, "sign-key") == 0) {
		if (k->have_signer)
			return eb_err_set(err, EB_EINVAL, "--sign-key given twice");
		rc = eb_ssh_signer_load(&k->signer, arg, err);
		k->have_signer = rc == 0;
	} else
		return 1;
	return rc < 0 ? EB_EINVAL : 0; /* a bad key file is a usage error */
}

int
eb_keys_read_env(eb_keys *k, int trust_only, eb_err *err)
{
	const char *v;
	int rc = 0;
	if (!trust_only && !k->ids.n && !k->ids.passphrase && (v = eb_env("ETCD_BACKUP_AGE_IDENTITY")))
		rc = eb_keys_flag(k, "age-identity", v, err);
	if (rc == 0 && !k->have_trusted && (v = eb_env("ETCD_BACKUP_TRUSTED_KEYS")))
		rc = eb_keys_flag(k, "trusted-keys", v, err);
	return rc;
}

eb_read_keys
eb_keys_read(const eb_keys *k)
{
	eb_read_keys r = {&k->ids, k->have_trusted ? &k->trusted : NULL};
	return r;
}

void
eb_keys_dispose(eb_keys *k)
{
	eb_age_recipients_dispose(&k->rcpt);
	eb_age_identities_dispose(&k->ids);
	eb_ssh_keys_dispose(&k->trusted);
	eb_ssh_signer_dispose(&k->signer);
	memset(k, 0, sizeof *k);
}
