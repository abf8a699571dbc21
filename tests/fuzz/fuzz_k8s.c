/* tests/fuzz/fuzz_k8s.c - what looking inside a backup decodes from
 * untrusted bytes: a key-bucket value as an mvccpb.KeyValue (restore/
 * records.c), a key as a Kubernetes name, a value as Kubernetes stores it
 * (JSON, the protobuf envelope, an encrypted-at-rest prefix) and its
 * decryption with a fixed aescbc/aesgcm key (restore/k8s.c).  Input: a
 * KeyValue, or 'C' + an EncryptionConfiguration file's text. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/k8s.h"
#include "restore/records.h"

static eb_k8s_keys *keys;

static void
load_fixed_keys(void)
{
	char path[] = "/tmp/fuzz_k8s_XXXXXX";
	int fd = mkstemp(path);
	eb_err err;
	static const char cfg[] =
	    "resources:\n  - resources: [secrets]\n    providers:\n"
	    "      - aescbc:\n          keys:\n            - name: key1\n"
	    "              secret: QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n"
	    "      - aesgcm:\n          keys:\n            - name: key1\n"
	    "              secret: QkJCQkJCQkJCQkJCQkJCQg==\n";
	if (fd < 0)
		abort();
	if (write(fd, cfg, sizeof cfg - 1) != (ssize_t)(sizeof cfg - 1))
		abort();
	close(fd);
	eb_err_init(&err);
	if (eb_k8s_keys_load(&keys, path, &err))
		abort();
	unlink(path);
}

static void
config(const uint8_t *p, size_t n)
{
	char path[] = "/tmp/fuzz_k8s_XXXXXX";
	int fd = mkstemp(path);
	eb_k8s_keys *k = NULL;
	eb_err err;
	if (fd < 0)
		return;
	if (write(fd, p, n) == (ssize_t)n) {
		eb_err_init(&err);
		if (eb_k8s_keys_load(&k, path, &err) == 0)
			eb_k8s_keys_free(k);
	}
	close(fd);
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_kv_fields f;
	eb_k8s_name n;
	eb_k8s_value v;
	eb_wbuf out = {0};
	eb_err err;
	if (!keys)
		load_fixed_keys();
	if (size && data[0] == 'C') {
		config(data + 1, size - 1);
		return 0;
	}
	eb_err_init(&err);
	if (eb_kv_decode(data, size, &f, &err) == 0) {
		eb_k8s_split(f.key, f.key_len, &n);
		eb_k8s_is_secret(f.key, f.key_len);
		eb_k8s_describe(f.value, f.value_len, &v);
		if (v.enc == EB_K8S_ENCRYPTED)
			eb_k8s_decrypt(keys, f.key, f.key_len, &v, &out, &err);
	}
	/* the raw input as a value and as a key too */
	eb_k8s_split(data, size, &n);
	eb_k8s_describe(data, size, &v);
	eb_wbuf_dispose(&out);
	return 0;
}
