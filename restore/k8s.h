/* restore/k8s.h - what Kubernetes keeps in etcd, read without an API server
 * (docs/formats/kubernetes.md).
 *
 *   key     /registry/<resource>/<namespace>/<name>, /registry/<resource>/<name>
 *           (cluster-scoped), /registry/<group>/<resource>/... when the first
 *           part names an API group (it holds a dot)
 *   value   JSON ('{': custom resources), protobuf ("k8s\0" + runtime.Unknown:
 *           1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding,
 *           4 contentType), or encrypted at rest:
 *           "k8s:enc:aescbc:v1:<key>:" iv(16) | AES-CBC(PKCS#7)
 *           "k8s:enc:aesgcm:v1:<key>:" nonce(12) | AES-GCM | tag(16), aad = etcd key
 *           "k8s:enc:secretbox:v1:", "k8s:enc:kms:v1:", "k8s:enc:kms:v2:" (named,
 *           not read: secretbox is XSalsa20, KMS needs the plugin)
 */
#ifndef EB_RESTORE_K8S_H
#define EB_RESTORE_K8S_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"

typedef struct eb_k8s_name {
	char resource[256], ns[256], name[256];
} eb_k8s_name;

/* 1 when key is under /registry/ (n filled: ns "" when cluster-scoped). */
int eb_k8s_split(const uint8_t *key, size_t len, eb_k8s_name *n);
/* 1 for a key whose value must not be shown unless asked for that key:
 * Secrets (/registry/secrets/). */
int eb_k8s_is_secret(const uint8_t *key, size_t len);

enum { EB_K8S_RAW, EB_K8S_JSON, EB_K8S_PROTO, EB_K8S_ENCRYPTED };

typedef struct eb_k8s_value {
	int enc;                    /* EB_K8S_* */
	char api_version[128], kind[128];   /* JSON and protobuf ("" unknown) */
	char provider[32], key_name[128];   /* encrypted */
	const uint8_t *body;        /* protobuf: the raw object; encrypted: the data after the prefix */
	size_t body_len;
} eb_k8s_value;

/* Never fails: a value it does not know is EB_K8S_RAW. */
void eb_k8s_describe(const uint8_t *v, size_t len, eb_k8s_value *out);

/* The keys of an API server's EncryptionConfiguration (--encryption-
 * provider-config): aescbc and aesgcm keys by name.  Wiped when freed. */
typedef struct eb_k8s_keys eb_k8s_keys;
int eb_k8s_keys_load(eb_k8s_keys **out, const char *path, eb_err *err);
void eb_k8s_keys_free(eb_k8s_keys *k);
/* The plaintext of an encrypted value (etcd key: gcm's aad) into out
 * (reset first; the caller wipes it).  Fails for a provider not read
 * here (EB_EINVAL), a key name the config lacks (EB_ENOTFOUND), a
 * value that does not decrypt (EB_ECORRUPT). */
int eb_k8s_decrypt(const eb_k8s_keys *k, const uint8_t *ekey, size_t ekl, const eb_k8s_value *v,
                   eb_wbuf *out, eb_err *err);

#endif
