#include "storage/signed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
eb_store_get_signed(eb_store *st, const char *name, size_t max, const eb_ssh_keys *trusted,
                    char **text, size_t *len, char *fp, eb_err *err)
{
	char *sig = NULL, signame[300];
	size_t slen = 0;
	eb_err e1;
	int rc = eb_store_get_bytes(st, name, max, text, len, err);
	if (fp)
		fp[0] = '\0';
	if (rc < 0 || !trusted)
		return rc;
	snprintf(signame, sizeof signame, "%s.sig", name);
	eb_err_init(&e1);
	rc = eb_store_get_bytes(st, signame, 64 * 1024, &sig, &slen, &e1);
	if (rc == EB_ENOTFOUND)
		rc = eb_err_set(err, EB_EAUTH, "%s is not signed (no %s), and --trusted-keys "
		                "demands a signature", name, signame);
	else if (rc < 0)
		rc = eb_err_set(err, rc, "%s", e1.msg);
	else
		rc = eb_sshsig_verify(sig, slen, EB_SSHSIG_NAMESPACE, *text, *len, trusted, fp, err);
	free(sig);
	if (rc < 0) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

int
eb_store_put_signature(eb_store *st, const eb_ssh_signer *s, const char *name, const char *text,
                       eb_err *err)
{
	char signame[300], *sig = NULL;
	int rc = eb_sshsig_sign(s, EB_SSHSIG_NAMESPACE, text, strlen(text), &sig, err);
	snprintf(signame, sizeof signame, "%s.sig", name);
	if (rc == 0)
		rc = eb_store_put_bytes(st, signame, sig, strlen(sig), err);
	free(sig);
	return rc;
}

int
eb_store_commit_signed(eb_store *st, const char *name, const char *text, const eb_ssh_signer *signer,
                       const char *object, eb_err *err)
{
	char signame[300];
	int rc = 0, signed_obj = 0;
	eb_err e2;
	/* the signature first: a signed backup never exists unsigned, not even
	 * for a moment */
	if (signer && (rc = eb_store_put_signature(st, signer, name, text, err)) == 0)
		signed_obj = 1;
	/* COMMIT POINT */
	if (rc == 0 && (rc = eb_store_put_bytes(st, name, text, strlen(text), err)) == 0)
		return 0;
	/* no manifest, no backup: what was written for it is debris */
	eb_err_init(&e2);
	snprintf(signame, sizeof signame, "%s.sig", name);
	if (signed_obj)
		eb_store_delete(st, signame, &e2);
	if (object)
		eb_store_delete(st, object, &e2);
	return rc;
}
