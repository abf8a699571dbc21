/* tests/fuzz/fuzz_sshsig.c - the OpenSSH parsers on arbitrary bytes: an
 * armoured SSHSIG checked against a trusted key (a signature object in a
 * store is attacker-controlled), an openssh-key-v1 private key, and a
 * trusted-keys line.  The seed signature is by a fixed key (seed 0x42...)
 * over the message "etcd-backup fuzz". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cipher.h"
#include "crypt/sshsig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char msg[] = "etcd-backup fuzz";
	eb_ssh_keys trusted = {0};
	eb_ssh_key key = {0};
	eb_ssh_signer s;
	char fp[EB_SSH_FP_MAX], *line;
	uint8_t seed[32];
	eb_err err;
	memset(seed, 0x42, sizeof seed);
	eb_err_init(&err);
	if (eb_ed25519_public(seed, key.pub, &err) != 0)
		abort();
	trusted.v = &key;
	trusted.n = 1;
	eb_sshsig_verify((const char *)data, size, EB_SSHSIG_NAMESPACE, msg, sizeof msg - 1, &trusted,
	                 fp, &err);
	eb_err_init(&err);
	if (eb_ssh_signer_parse(&s, (const char *)data, size, &err) == 0)
		eb_ssh_signer_dispose(&s);
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	eb_ssh_keys tk = {0};
	eb_err_init(&err);
	eb_ssh_keys_add_line(&tk, line, &err);
	eb_ssh_keys_dispose(&tk);
	free(line);
	return 0;
}
