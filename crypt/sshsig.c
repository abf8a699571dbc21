/* crypt/sshsig.c - OpenSSH keys and signatures (PROTOCOL.sshsig,
 * PROTOCOL.key in OpenSSH; docs/formats/signatures.md).
 *
 * All integers big-endian; string = uint32 length || bytes.
 *
 * ed25519 public key blob:       string "ssh-ed25519", string pub (32 B)
 *
 * SSHSIG (armoured as base64 lines of 70 between
 * "-----BEGIN SSH SIGNATURE-----" and "-----END SSH SIGNATURE-----"):
 *   byte[6] "SSHSIG"  uint32 version (1)  string public key blob
 *   string namespace  string reserved ("")  string hash ("sha512")
 *   string signature = string "ssh-ed25519", string sig (64 B)
 * what is signed:
 *   byte[6] "SSHSIG"  string namespace  string reserved
 *   string hash ("sha512")  string H(message)
 *
 * openssh-key-v1 private key (armoured "OPENSSH PRIVATE KEY", lines of 70):
 *   "openssh-key-v1\0"  string cipher ("none")  string kdf ("none")
 *   string kdf options ("")  uint32 number of keys (1)
 *   string public key blob
 *   string private section:
 *     uint32 check  uint32 check (equal)  string "ssh-ed25519"
 *     string pub (32 B)  string seed || pub (64 B)  string comment
 *     padding 1, 2, 3, ... to the cipher block size (8)
 * Fingerprint: "SHA256:" + unpadded base64 of SHA-256(public key blob). */
#include "crypt/sshsig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cipher.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/fsutil.h"
#include "common/bytes.h"

#define KEYTYPE "ssh-ed25519"
#define SIG_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define SIG_END "-----END SSH SIGNATURE-----"
#define KEY_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define KEY_END "-----END OPENSSH PRIVATE KEY-----"
#define MAX_ARMOUR (64 * 1024)

static void
pub_blob(eb_wbuf *b, const uint8_t pub[32])
{
	eb_wbuf_sshstr(b, KEYTYPE, strlen(KEYTYPE));
	eb_wbuf_sshstr(b, pub, 32);
}

static void
fingerprint(const uint8_t pub[32], char out[EB_SSH_FP_MAX])
{
	uint8_t blob[4 + 11 + 4 + 32], d[32];
	eb_wbuf b = {0};
	pub_blob(&b, pub);
	memcpy(blob, b.p, sizeof blob);
	eb_wbuf_dispose(&b);
	eb_sha256_buf(blob, sizeof blob, d);
	memcpy(out, "SHA256:", 7);
	eb_base64_enc(d, 32, out + 7, 0);
}

/* the ed25519 key of a public key blob */
static int
parse_pub_blob(const uint8_t *p, size_t n, uint8_t pub[32])
{
	eb_rd r;
	size_t tl, kl;
	const uint8_t *t, *k;
	eb_rd_init(&r, p, n);
	t = eb_rd_sshstr(&r, &tl);
	k = eb_rd_sshstr(&r, &kl);
	if (r.bad || eb_rd_left(&r) || tl != strlen(KEYTYPE) || memcmp(t, KEYTYPE, tl) || kl != 32)
		return -1;
	memcpy(pub, k, 32);
	return 0;
}

/* base64 between begin and end lines (whitespace-separated lines) into a
 * malloc'd buffer */
static int
dearmour(const char *text, size_t len, const char *begin, const char *end,
         uint8_t **out, size_t *out_len)
{
	const char *b = memmem(text, len, begin, strlen(begin)), *e;
	char *joined;
	size_t j = 0, cap;
	int rc;
	if (!b)
		return -1;
	b += strlen(begin);
	e = memmem(b, len - (size_t)(b - text), end, strlen(end));
	if (!e || e - b > MAX_ARMOUR)
		return -1;
	if (!(joined = malloc((size_t)(e - b) + 1)))
		return -1;
	for (const char *c = b; c < e; c++)
		if (*c != '\n' && *c != '\r' && *c != ' ' && *c != '\t')
			joined[j++] = *c;
	cap = j / 4 * 3 + 3;
	*out = malloc(cap);
	rc = *out && eb_base64_dec(joined, j, *out, cap, out_len, 1) == 0 ? 0 : -1;
	eb_wipe(joined, j);
	free(joined);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* base64 with padding in lines of 70, between begin and end */
static int
armour(const uint8_t *p, size_t n, const char *begin, const char *end,
       char **out, eb_err *err)
{
	char *enc = malloc(4 * ((n + 2) / 3) + 1);
	size_t el;
	eb_buf b;
	int rc;
	if (!enc)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	el = eb_base64_enc(p, n, enc, 1);
	eb_buf_init(&b);
	eb_buf_printf(&b, "%s\n", begin);
	for (size_t o = 0; o < el; o += 70) {
		eb_buf_add(&b, enc + o, el - o < 70 ? el - o : 70);
		eb_buf_puts(&b, "\n");
	}
	eb_buf_printf(&b, "%s\n", end);
	free(enc);
	if ((rc = eb_buf_status(&b)) < 0) {
		eb_buf_dispose(&b);
		return eb_err_set(err, rc, "out of memory");
	}
	*out = b.p;
	return 0;
}

/* ---- private key ---------------------------------------------------- */

int
eb_ssh_signer_parse(eb_ssh_signer *s, const char *text, size_t len, eb_err *err)
{
	static const char magic[] = "openssh-key-v1";
	uint8_t *raw = NULL, pub[32];
	size_t rl = 0, n, pl, cl;
	const uint8_t *cipher, *kdf, *priv, *t, *k, *sk;
	eb_rd r, q;
	int rc = 0;
	memset(s, 0, sizeof *s);
	if (memmem(text, len, "BEGIN ENCRYPTED PRIVATE KEY", 27) ||
	    memmem(text, len, "Proc-Type: 4,ENCRYPTED", 22))
		return eb_err_set(err, EB_EINVAL, "the signing key is encrypted: remove its passphrase "
		                  "(ssh-keygen -p -N \"\" -f KEY) or make one with ssh-keygen -t "
		                  "ed25519 -N \"\"");
	if (dearmour(text, len, KEY_BEGIN, KEY_END, &raw, &rl) < 0)
		return eb_err_set(err, EB_EINVAL, "the signing key is not an OpenSSH private key "
		                  "(-----BEGIN OPENSSH PRIVATE KEY-----, as ssh-keygen -t ed25519 writes)");
	eb_rd_init(&r, raw, rl);
	t = eb_rd_take(&r, sizeof magic);
	cipher = eb_rd_sshstr(&r, &cl);
	kdf = eb_rd_sshstr(&r, &n);
	if (r.bad || memcmp(t, magic, sizeof magic) != 0)
		rc = eb_err_set(err, EB_EINVAL, "the signing key is not an openssh-key-v1 key");
	else if (cl != 4 || memcmp(cipher, "none", 4) != 0 || n != 4 || memcmp(kdf, "none", 4) != 0)
		rc = eb_err_set(err, EB_EINVAL, "the signing key is encrypted with a passphrase: "
		                "remove it (ssh-keygen -p -N \"\" -f KEY); a CronJob cannot type it");
	if (rc == 0) {
		eb_rd_sshstr(&r, &n); /* kdf options */
		if (eb_rd_be32(&r) != 1)
			rc = eb_err_set(err, EB_EINVAL, "the signing key file must hold exactly one key");
	}
	if (rc == 0) {
		const uint8_t *blob = eb_rd_sshstr(&r, &n);
		if (!blob || parse_pub_blob(blob, n, pub) < 0)
			rc = eb_err_set(err, EB_EINVAL, "the signing key is not an ed25519 key (only "
			                "ssh-keygen -t ed25519 keys sign backups)");
	}
	if (rc == 0) {
		priv = eb_rd_sshstr(&r, &pl);
		eb_rd_init(&q, priv, priv ? pl : 0);
		uint32_t c1 = eb_rd_be32(&q), c2 = eb_rd_be32(&q);
		t = eb_rd_sshstr(&q, &n);
		size_t tn = n;
		k = eb_rd_sshstr(&q, &n);
		size_t kn = n;
		sk = eb_rd_sshstr(&q, &n);
		if (!priv || q.bad || c1 != c2 || tn != strlen(KEYTYPE) || memcmp(t, KEYTYPE, tn) ||
		    kn != 32 || n != 64 || memcmp(k, pub, 32) || memcmp(sk + 32, pub, 32))
			rc = eb_err_set(err, EB_EINVAL, "the signing key's private part is damaged");
		else
			memcpy(s->seed, sk, 32);
	}
	if (rc == 0) {
		/* the seed must give the public key: a swapped half is refused */
		rc = eb_ed25519_public(s->seed, s->pub, err);
		if (rc == 0 && memcmp(s->pub, pub, 32) != 0)
			rc = eb_err_set(err, EB_EINVAL, "the signing key's private and public halves "
			                "do not match");
	}
	if (raw) {
		eb_wipe(raw, rl);
		free(raw);
	}
	if (rc < 0) {
		eb_ssh_signer_dispose(s);
		return rc;
	}
	fingerprint(s->pub, s->fp);
	return 0;
}

int
eb_ssh_signer_load(eb_ssh_signer *s, const char *path, eb_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = eb_read_file(path, MAX_ARMOUR, &text, &len, err);
	if (rc < 0)
		return eb_err_set(err, rc, "cannot read the signing key %s", path);
	rc = eb_ssh_signer_parse(s, text, len, err);
	eb_wipe(text, len);
	free(text);
	return rc < 0 ? eb_err_set(err, rc, "signing key %s", path) : 0;
}

void
eb_ssh_signer_dispose(eb_ssh_signer *s)
{
	eb_wipe(s, sizeof *s);
}

/* ---- trusted public keys -------------------------------------------- */

/* Appends key (its fingerprint computed here) unless it is there already. */
static int
keys_add(eb_ssh_keys *k, eb_ssh_key *key, eb_err *err)
{
	eb_ssh_key *v;
	fingerprint(key->pub, key->fp);
	for (size_t i = 0; i < k->n; i++)
		if (memcmp(k->v[i].pub, key->pub, 32) == 0)
			return 0;
	if (!(v = realloc(k->v, (k->n + 1) * sizeof *v)))
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	k->v = v;
	k->v[k->n++] = *key;
	return 0;
}

int
eb_ssh_keys_add_signer(eb_ssh_keys *k, const eb_ssh_signer *s, eb_err *err)
{
	eb_ssh_key key;
	memset(&key, 0, sizeof key);
	memcpy(key.pub, s->pub, sizeof key.pub);
	snprintf(key.comment, sizeof key.comment, "the --sign-key of this run");
	return keys_add(k, &key, err);
}

/* 1 when b64 is a public key blob whose type string equals type: a key
 * type name followed by its key, as ssh-keygen reads a key off a line
 * (a principal or an option may also begin with "ssh-", "ecdsa-", "sk-"). */
static int
key_at(const char *type, const char *b64)
{
	uint8_t blob[1024];
	size_t bl, tl;
	const uint8_t *t;
	eb_rd r;
	if (!b64 || eb_base64_dec(b64, strlen(b64), blob, sizeof blob, &bl, 1) < 0)
		return 0;
	eb_rd_init(&r, blob, bl);
	t = eb_rd_sshstr(&r, &tl);
	return !r.bad && tl == strlen(type) && memcmp(t, type, tl) == 0;
}

/* As authorized_keys ("[options] type key [comment]") or allowed_signers
 * ("principals [options] type key [comment]"): the key is the first
 * "type key" pair whose blob names that type, wherever it stands. */
int
eb_ssh_keys_add_line(eb_ssh_keys *k, const char *line, eb_err *err)
{
	char buf[4096], *save = NULL, *tok, *prev = NULL;
	eb_ssh_key key = {0};
	uint8_t blob[256];
	size_t bl;
	snprintf(buf, sizeof buf, "%s", line);
	for (tok = strtok_r(buf, " \t", &save); tok; prev = tok, tok = strtok_r(NULL, " \t", &save)) {
		char b64[sizeof buf];
		const char *nx = save + strspn(save, " \t"); /* the next token, read in place */
		size_t nl = strcspn(nx, " \t");
		if (strncmp(tok, "ssh-", 4) && strncmp(tok, "ecdsa-", 6) && strncmp(tok, "sk-", 3))
			continue;
		snprintf(b64, sizeof b64, "%.*s", (int)nl, nx);
		if (!key_at(tok, b64))
			continue; /* a principal or an option that only looks like a type */
		if (strcmp(tok, KEYTYPE) != 0)
			return eb_err_set(err, EB_EINVAL, "trusted key of type %.40s: only ssh-ed25519 "
			                  "keys are supported", tok);
		if (eb_base64_dec(b64, strlen(b64), blob, sizeof blob, &bl, 1) < 0 ||
		    parse_pub_blob(blob, bl, key.pub) < 0)
			return eb_err_set(err, EB_EINVAL, "a trusted ssh-ed25519 key is damaged");
		tok = strtok_r(NULL, " \t", &save); /* the key */
		tok = strtok_r(NULL, "", &save);
		snprintf(key.comment, sizeof key.comment, "%s", tok ? tok : prev ? prev : "");
		return keys_add(k, &key, err);
	}
	/* the line is not echoed: it may be part of a private key given by
	 * mistake */
	if (strstr(line, "PRIVATE KEY"))
		return eb_err_set(err, EB_EINVAL, "this is a private key: give the public key (the .pub "
		                  "file, or ssh-keygen -y -f KEY)");
	return eb_err_set(err, EB_EINVAL, "the line holds no ssh-ed25519 public key (or a damaged one)");
}

static int
add_key_line(void *ctx, const char *line, eb_err *err)
{
	return eb_ssh_keys_add_line(ctx, line, err);
}

int
eb_ssh_keys_load(eb_ssh_keys *k, const char *path, eb_err *err)
{
	size_t n;
	int rc = eb_each_line(path, 1 << 20, add_key_line, k, &n, err);
	if (rc == 0 && k->n == 0)
		rc = eb_err_set(err, EB_EINVAL, "trusted keys file %s holds no ssh-ed25519 key", path);
	return rc;
}

void
eb_ssh_keys_dispose(eb_ssh_keys *k)
{
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

/* ---- SSHSIG --------------------------------------------------------- */

/* what is signed: the preamble, namespace, reserved, hash name, H(msg);
 * hash is "sha512" (what we and ssh-keygen write) or "sha256" */
static int
signed_data(eb_wbuf *b, const char *ns, const char *hash, const void *msg, size_t len)
{
	uint8_t h[EB_SHA512_LEN];
	size_t hn = strcmp(hash, "sha512") == 0 ? EB_SHA512_LEN : EB_SHA256_LEN;
	if (hn == EB_SHA512_LEN)
		eb_sha512_buf(msg, len, h);
	else
		eb_sha256_buf(msg, len, h);
	eb_wbuf_put(b, "SSHSIG", 6);
	eb_wbuf_sshstr(b, ns, strlen(ns));
	eb_wbuf_sshstr(b, "", 0);
	eb_wbuf_sshstr(b, hash, strlen(hash));
	eb_wbuf_sshstr(b, h, hn);
	return b->oom ? -1 : 0;
}

int
eb_sshsig_sign(const eb_ssh_signer *s, const char *ns, const void *msg, size_t len,
               char **out, eb_err *err)
{
	eb_wbuf td = {0}, sig = {0}, blob = {0}, inner = {0};
	uint8_t sg[EB_ED25519_SIG_LEN];
	int rc = signed_data(&td, ns, "sha512", msg, len) < 0 ? eb_err_set(err, EB_ENOMEM, "out of memory") : 0;
	if (rc == 0)
		rc = eb_ed25519_sign(s->seed, td.p, td.len, sg, err);
	if (rc == 0) {
		pub_blob(&blob, s->pub);
		eb_wbuf_sshstr(&inner, KEYTYPE, strlen(KEYTYPE));
		eb_wbuf_sshstr(&inner, sg, sizeof sg);
		eb_wbuf_put(&sig, "SSHSIG", 6);
		eb_wbuf_be32(&sig, 1);
		eb_wbuf_sshstr(&sig, blob.p, blob.len);
		eb_wbuf_sshstr(&sig, ns, strlen(ns));
		eb_wbuf_sshstr(&sig, "", 0);
		eb_wbuf_sshstr(&sig, "sha512", 6);
		eb_wbuf_sshstr(&sig, inner.p, inner.len);
		rc = eb_wbuf_check(&sig, err);
	}
	if (rc == 0)
		rc = eb_wbuf_check(&blob, err);
	if (rc == 0)
		rc = armour(sig.p, sig.len, SIG_BEGIN, SIG_END, out, err);
	eb_wbuf_dispose(&td);
	eb_wbuf_dispose(&sig);
	eb_wbuf_dispose(&blob);
	eb_wbuf_dispose(&inner);
	return rc;
}

static int
str_is(const uint8_t *p, size_t n, const char *want)
{
	return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

int
eb_sshsig_verify(const char *text, size_t text_len, const char *ns, const void *msg,
                 size_t len, const eb_ssh_keys *trusted, char *fp_out, eb_err *err)
{
	uint8_t *raw = NULL, pub[32];
	size_t rl = 0, bl, nl, hl, sl, tl, gl;
	const uint8_t *blob, *nsp, *hash, *sigp, *t, *g;
	const eb_ssh_key *key = NULL;
	char fp[EB_SSH_FP_MAX] = "";
	eb_wbuf td = {0};
	eb_rd r, q;
	int rc = 0;
	if (dearmour(text, text_len, SIG_BEGIN, SIG_END, &raw, &rl) < 0)
		return eb_err_set(err, EB_ECORRUPT, "the signature is not an armoured SSH signature");
	eb_rd_init(&r, raw, rl);
	t = eb_rd_take(&r, 6);
	uint32_t ver = eb_rd_be32(&r);
	blob = eb_rd_sshstr(&r, &bl);
	nsp = eb_rd_sshstr(&r, &nl);
	eb_rd_sshstr(&r, &tl); /* reserved */
	hash = eb_rd_sshstr(&r, &hl);
	sigp = eb_rd_sshstr(&r, &sl);
	if (r.bad || eb_rd_left(&r) || memcmp(t, "SSHSIG", 6) != 0 || ver != 1)
		rc = eb_err_set(err, EB_ECORRUPT, "the SSH signature is malformed");
	else if (parse_pub_blob(blob, bl, pub) < 0)
		rc = eb_err_set(err, EB_ECORRUPT, "the signature is not by an ssh-ed25519 key");
	if (rc == 0) {
		fingerprint(pub, fp);
		if (fp_out)
			snprintf(fp_out, EB_SSH_FP_MAX, "%s", fp);
		if (!str_is(nsp, nl, ns))
			rc = eb_err_set(err, EB_ECORRUPT, "the signature is for namespace \"%.*s\", not %s",
			                (int)(nl < 40 ? nl : 40), (const char *)nsp, ns);
		else if (!str_is(hash, hl, "sha512") && !str_is(hash, hl, "sha256"))
			rc = eb_err_set(err, EB_ECORRUPT, "the signature uses an unknown hash");
	}
	for (size_t i = 0; rc == 0 && trusted && i < trusted->n && !key; i++)
		if (memcmp(trusted->v[i].pub, pub, 32) == 0)
			key = &trusted->v[i];
	if (rc == 0 && !key)
		rc = eb_err_set(err, EB_EAUTH, "signed by %s, which is not one of the trusted keys", fp);
	if (rc == 0) {
		eb_rd_init(&q, sigp, sl);
		t = eb_rd_sshstr(&q, &tl);
		g = eb_rd_sshstr(&q, &gl);
		if (q.bad || eb_rd_left(&q) || !str_is(t, tl, KEYTYPE) || gl != EB_ED25519_SIG_LEN)
			rc = eb_err_set(err, EB_ECORRUPT, "the SSH signature blob is malformed");
	}
	if (rc == 0) {
		/* what was signed, with the hash the signature names */
		signed_data(&td, ns, str_is(hash, hl, "sha512") ? "sha512" : "sha256", msg, len);
		if ((rc = eb_wbuf_check(&td, err)) == 0 && !eb_ed25519_verify(pub, td.p, td.len, g))
			rc = eb_err_set(err, EB_ECORRUPT, "the signature by %s does not verify: the "
			                "manifest was altered after signing", fp);
	}
	eb_wbuf_dispose(&td);
	free(raw);
	return rc;
}
