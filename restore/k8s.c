/* restore/k8s.c - see k8s.h. */
#include "restore/k8s.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cipher.h"
#include "common/crypto.h"
#include "common/fsutil.h"
#include "common/json.h"

#define REG "/registry/"

int
eb_k8s_split(const uint8_t *key, size_t len, eb_k8s_name *n)
{
	const char *p = (const char *)key + strlen(REG), *end = (const char *)key + len;
	const char *part[5] = {0};
	size_t plen[5] = {0}, np = 0;
	memset(n, 0, sizeof *n);
	if (len <= strlen(REG) || memcmp(key, REG, strlen(REG)))
		return 0;
	while (p < end && np < 5) {
		const char *s = memchr(p, '/', (size_t)(end - p));
		part[np] = p;
		plen[np++] = s ? (size_t)(s - p) : (size_t)(end - p);
		p = s ? s + 1 : end;
	}
	if (!np || !part[0])
		return 0;
	size_t r = 1; /* parts making the resource: group/resource when the first holds a dot */
	if (np >= 3 && memchr(part[0], '.', plen[0]))
		r = 2;
	snprintf(n->resource, sizeof n->resource, "%.*s%s%.*s", (int)plen[0], part[0], r == 2 ? "/" : "",
	         r == 2 ? (int)plen[1] : 0, r == 2 ? part[1] : "");
	if (np >= r + 2) {
		snprintf(n->ns, sizeof n->ns, "%.*s", (int)plen[r], part[r]);
		snprintf(n->name, sizeof n->name, "%.*s", (int)(end - part[r + 1]), part[r + 1]);
	} else if (np == r + 1) {
		snprintf(n->name, sizeof n->name, "%.*s", (int)plen[r], part[r]);
	}
	return 1;
}

int
eb_k8s_is_secret(const uint8_t *key, size_t len)
{
	static const char s[] = REG "secrets/";
	return len >= sizeof s - 1 && !memcmp(key, s, sizeof s - 1);
}

/* "k8s:enc:<provider>:v<N>:<key>:" -> provider, key name, body */
static void
describe_encrypted(const uint8_t *v, size_t len, eb_k8s_value *o)
{
	const char *p = (const char *)v + 8, *end = (const char *)v + len;
	const char *c1 = memchr(p, ':', (size_t)(end - p));
	o->enc = EB_K8S_ENCRYPTED;
	if (!c1)
		return;
	snprintf(o->provider, sizeof o->provider, "%.*s", (int)(c1 - p < 31 ? c1 - p : 31), p);
	const char *ver = c1 + 1, *c2 = memchr(ver, ':', (size_t)(end - ver));
	if (!c2)
		return;
	o->body = (const uint8_t *)c2 + 1;
	o->body_len = (size_t)(end - c2 - 1);
	if (!strcmp(o->provider, "aescbc") || !strcmp(o->provider, "aesgcm") ||
	    !strcmp(o->provider, "secretbox")) {
		const char *kn = c2 + 1, *c3 = memchr(kn, ':', (size_t)(end - kn));
		if (!c3 || c3 - kn > 127)
			return;
		snprintf(o->key_name, sizeof o->key_name, "%.*s", (int)(c3 - kn), kn);
		o->body = (const uint8_t *)c3 + 1;
		o->body_len = (size_t)(end - c3 - 1);
	}
}

static void
describe_proto(const uint8_t *v, size_t len, eb_k8s_value *o)
{
	eb_rd r, t;
	unsigned f, wt;
	uint64_t x;
	const uint8_t *d;
	size_t dl;
	o->enc = EB_K8S_PROTO;
	eb_rd_init(&r, v + 4, len - 4);
	while (eb_pb_next(&r, &f, &wt, &x, &d, &dl)) {
		if (f == 2 && wt == 2) {
			o->body = d;
			o->body_len = dl;
		}
		if (f != 1 || wt != 2)
			continue;
		eb_rd_init(&t, d, dl);
		while (eb_pb_next(&t, &f, &wt, &x, &d, &dl))
			if (wt == 2 && (f == 1 || f == 2))
				snprintf(f == 1 ? o->api_version : o->kind, 128, "%.*s", (int)(dl < 127 ? dl : 127),
				         (const char *)d);
	}
}

void
eb_k8s_describe(const uint8_t *v, size_t len, eb_k8s_value *o)
{
	memset(o, 0, sizeof *o);
	o->enc = EB_K8S_RAW;
	if (len >= 8 && !memcmp(v, "k8s:enc:", 8)) {
		describe_encrypted(v, len, o);
		return;
	}
	if (len >= 4 && !memcmp(v, "k8s\0", 4)) {
		describe_proto(v, len, o);
		return;
	}
	size_t i = 0;
	while (i < len && isspace(v[i]))
		i++;
	if (i < len && v[i] == '{') {
		eb_json *j = NULL;
		eb_err e;
		eb_err_init(&e);
		if (eb_json_parse(&j, (const char *)v, len, &e) == 0) {
			o->enc = EB_K8S_JSON;
			eb_json_get_strcpy(j, "apiVersion", o->api_version, sizeof o->api_version, &e);
			eb_json_get_strcpy(j, "kind", o->kind, sizeof o->kind, &e);
		}
		eb_json_free(j);
	}
}

/* ---- the EncryptionConfiguration's keys ---- */

struct ekey {
	char provider[16], name[128];
	uint8_t secret[32];
	size_t len;
};

struct eb_k8s_keys {
	struct ekey *v;
	size_t n, cap;
	char provider[16]; /* the provider being read */
	char name[128];    /* the key whose secret comes next */
};

/* The YAML the API server reads, line by line: a provider's line
 * ("- aescbc:"), then its keys' "name:" and "secret:" (block or flow
 * style within one line is not needed: kubeadm and the docs write these
 * one per line). */
static int
enc_line(void *ctx, const char *line, eb_err *err)
{
	eb_k8s_keys *k = ctx;
	const char *p = line;
	char word[64];
	while (*p == ' ' || *p == '\t' || *p == '-')
		p++;
	size_t wl = strcspn(p, ":");
	if (!p[wl] || wl == 0 || wl >= sizeof word)
		return 0;
	memcpy(word, p, wl);
	word[wl] = '\0';
	const char *val = p + wl + 1;
	while (*val == ' ' || *val == '\t')
		val++;
	size_t vl = strcspn(val, " \t#\r");
	if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
		val++;
		vl -= 2;
	}
	if (!strcmp(word, "aescbc") || !strcmp(word, "aesgcm") || !strcmp(word, "secretbox") ||
	    !strcmp(word, "identity") || !strcmp(word, "kms")) {
		snprintf(k->provider, sizeof k->provider, "%.15s", word);
		k->name[0] = '\0';
	} else if (!strcmp(word, "name")) {
		snprintf(k->name, sizeof k->name, "%.*s", (int)(vl < 127 ? vl : 127), val);
	} else if (!strcmp(word, "secret") && k->name[0] &&
	           (!strcmp(k->provider, "aescbc") || !strcmp(k->provider, "aesgcm"))) {
		void *t = k->v;
		if (eb_array_grow(&t, &k->cap, k->n + 1, sizeof *k->v) < 0)
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		k->v = t;
		struct ekey *e = &k->v[k->n];
		memset(e, 0, sizeof *e);
		if (eb_base64_dec(val, vl, e->secret, sizeof e->secret, &e->len, 1) < 0 ||
		    (e->len != 16 && e->len != 24 && e->len != 32))
			return eb_err_set(err, EB_EINVAL, "the %s key '%s' is not the base64 of 16, 24 or 32 bytes",
			                  k->provider, k->name);
		snprintf(e->provider, sizeof e->provider, "%s", k->provider);
		snprintf(e->name, sizeof e->name, "%s", k->name);
		k->n++;
		k->name[0] = '\0';
	}
	return 0;
}

int
eb_k8s_keys_load(eb_k8s_keys **out, const char *path, eb_err *err)
{
	eb_k8s_keys *k = calloc(1, sizeof *k);
	size_t lines;
	int rc;
	*out = NULL;
	if (!k)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	rc = eb_each_line(path, 1 << 20, enc_line, k, &lines, err);
	if (rc == 0 && k->n == 0)
		rc = eb_err_set(err, EB_EINVAL, "%s has no aescbc or aesgcm key (an API server's "
		                "--encryption-provider-config file is expected)", path);
	if (rc) {
		eb_k8s_keys_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void
eb_k8s_keys_free(eb_k8s_keys *k)
{
	if (!k)
		return;
	if (k->v)
		eb_wipe(k->v, k->cap * sizeof *k->v);
	free(k->v);
	free(k);
}

int
eb_k8s_decrypt(const eb_k8s_keys *k, const uint8_t *ekey, size_t ekl, const eb_k8s_value *v,
               eb_wbuf *out, eb_err *err)
{
	const struct ekey *e = NULL;
	int gcm = !strcmp(v->provider, "aesgcm");
	size_t n = 0;
	int rc;
	eb_wbuf_reset(out);
	if (v->enc != EB_K8S_ENCRYPTED)
		return eb_err_set(err, EB_EINVAL, "the value is not encrypted at rest");
	if (!gcm && strcmp(v->provider, "aescbc"))
		return eb_err_set(err, EB_EINVAL, "values encrypted with the %s provider cannot be read here "
		                  "(aescbc and aesgcm can)", v->provider[0] ? v->provider : "unknown");
	for (size_t i = 0; k && i < k->n && !e; i++)
		if (!strcmp(k->v[i].provider, v->provider) && !strcmp(k->v[i].name, v->key_name))
			e = &k->v[i];
	if (!e)
		return eb_err_set(err, EB_ENOTFOUND, "the %s key '%s' is not in the encryption config (an "
		                  "older config, from an older backup's control-plane bundle, may have it)",
		                  v->provider, v->key_name);
	size_t iv = gcm ? 12 : 16;
	if (v->body_len < iv)
		return eb_err_set(err, EB_ECORRUPT, "an encrypted value of %zu bytes is cut short", v->body_len);
	if (eb_wbuf_reserve(out, v->body_len))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	rc = gcm ? eb_aes_gcm_decrypt(e->secret, e->len, v->body, ekey, ekl, v->body + iv, v->body_len - iv,
	                              out->p, &n, err)
	         : eb_aes_cbc_decrypt(e->secret, e->len, v->body, v->body + iv, v->body_len - iv, out->p, &n,
	                              err);
	if (rc == 0)
		out->len = n;
	return rc;
}
