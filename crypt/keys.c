/* crypt/keys.c - see keys.h. */
#include "crypt/keys.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/env.h"

/* A private key or passphrase file others can read: a warning, as ssh
 * gives ("UNPROTECTED PRIVATE KEY FILE"); the run goes on. */
static void
check_private_mode(eb_keys *k, const char *flag, const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0 || !(sb.st_mode & 077) || k->nwarn >= 4)
		return;
	snprintf(k->warn[k->nwarn++], sizeof k->warn[0], "--%s %.200s is readable by %s (mode %04o): it holds a "
	         "secret; chmod 600 it", flag, path, sb.st_mode & 044 ? "others" : "its group",
	         (unsigned)(sb.st_mode & 07777));
}

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
	if (rc == 0 && (!strcmp(name, "age-identity") || !strcmp(name, "age-passphrase-file") ||
	                !strcmp(name, "sign-key")))
		check_private_mode(k, name, arg);
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

int
eb_read_keys_can_decrypt(const eb_read_keys *k)
{
	return k && k->age && (k->age->n || k->age->passphrase);
}
