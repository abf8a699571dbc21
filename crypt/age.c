/* crypt/age.c - the age v1 format (C2SP age), header and keys.
 *
 * An age file (docs/formats/age.md):
 *
 *   age-encryption.org/v1\n                       version line
 *   -> X25519 <share, b64 32 B>\n                 one stanza per recipient:
 *   <body: b64 of the wrapped file key, 32 B>\n     "-> " type args, then the
 *   -> <other type> <args>...\n                     body in lines of exactly
 *   <body lines of 64 chars>...<last line <64>\n    64 chars, the last shorter
 *   --- <b64 HMAC-SHA-256, 32 B>\n                MAC over the bytes up to "---"
 *   <nonce, 16 B>                                 payload: STREAM
 *   <chunk 0: 64 KiB + 16 B tag> ...              ChaCha20-Poly1305 of 64 KiB
 *   <last chunk: 1..64 KiB + 16 B tag>            chunks, nonce = 11-byte
 *                                                 big-endian counter || last
 *
 *   b64 is standard base64 without padding, canonical (unused bits zero).
 *   Arguments are non-empty runs of VCHAR (0x21-0x7e) split by one space.
 *
 *   X25519 stanza:  share = X25519(e, 9) for a fresh e;
 *     wrap key = HKDF-SHA-256(ikm = X25519(e, recipient), salt = share ||
 *                recipient, info = "age-encryption.org/v1/X25519")
 *     body     = ChaCha20-Poly1305(wrap key, nonce 0, file key)
 *   scrypt stanza ("-> scrypt <salt b64 16 B> <log2 N>", alone in a header):
 *     wrap key = scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt,
 *                N, r = 8, p = 1)
 *   header MAC key  = HKDF-SHA-256(file key, salt "", info "header")
 *   payload key     = HKDF-SHA-256(file key, salt nonce, info "payload")
 *   Stanzas of other types are ignored (age writes random "grease" ones).
 *
 * Keys are bech32 (BIP 173): "age1" + data for a recipient, upper-case
 * "AGE-SECRET-KEY-1" + data for an identity. */
#include "crypt/age.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cipher.h"
#include "common/crypto.h"
#include "common/fsutil.h"
#include "common/bytes.h"

/* ---- bech32 ---------------------------------------------------------- */

static const char b32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t
polymod_step(uint32_t c, unsigned v)
{
	static const uint32_t g[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
	uint32_t top = c >> 25;
	c = (c & 0x1ffffff) << 5 ^ v;
	for (int i = 0; i < 5; i++)
		if (top >> i & 1)
			c ^= g[i];
	return c;
}

static uint32_t
hrp_polymod(const char *hrp)
{
	uint32_t c = 1;
	for (const char *p = hrp; *p; p++)
		c = polymod_step(c, (unsigned)*p >> 5);
	c = polymod_step(c, 0);
	for (const char *p = hrp; *p; p++)
		c = polymod_step(c, (unsigned)*p & 31);
	return c;
}

/* hrp (lower case) + '1' + data + checksum; upper = upper-case output */
static void
bech32_encode(const char *hrp, const uint8_t *data, size_t len, int upper, char *out)
{
	uint8_t v[128];
	size_t nv = 0, o = 0;
	uint32_t acc = 0, c;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = acc << 8 | data[i];
		for (bits += 8; bits >= 5; bits -= 5)
			v[nv++] = (uint8_t)(acc >> (bits - 5) & 31);
	}
	if (bits)
		v[nv++] = (uint8_t)(acc << (5 - bits) & 31);
	c = hrp_polymod(hrp);
	for (size_t i = 0; i < nv; i++)
		c = polymod_step(c, v[i]);
	for (int i = 0; i < 6; i++)
		c = polymod_step(c, 0);
	c ^= 1;
	for (const char *p = hrp; *p; p++)
		out[o++] = upper ? (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p) : *p;
	out[o++] = '1';
	for (size_t i = 0; i < nv; i++)
		out[o++] = b32[v[i]];
	for (int i = 0; i < 6; i++)
		out[o++] = b32[c >> 5 * (5 - i) & 31];
	for (size_t i = 0; upper && i < o; i++)
		if (out[i] >= 'a' && out[i] <= 'z')
			out[i] = (char)(out[i] - 32);
	out[o] = '\0';
}

/* Decodes a bech32 string of HRP hrp (lower case) carrying exactly 32
 * bytes.  Mixed case is refused, as BIP 173 requires. */
static int
bech32_decode32(const char *s, const char *hrp, uint8_t out[32])
{
	size_t n = strlen(s), hl = strlen(hrp), o = 0;
	int lower = 0, upper = 0, bits = 0;
	uint32_t c, acc = 0;
	char low[EB_AGE_RECIPIENT_MAX];
	if (n >= sizeof low || n < hl + 1 + 6)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch < 33 || ch > 126)
			return -1;
		lower |= ch >= 'a' && ch <= 'z';
		upper |= ch >= 'A' && ch <= 'Z';
		low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	low[n] = '\0';
	if ((lower && upper) || strncmp(low, hrp, hl) != 0 || low[hl] != '1')
		return -1;
	c = hrp_polymod(hrp);
	for (size_t i = hl + 1; i < n; i++) {
		const char *p = strchr(b32, low[i]);
		if (!p)
			return -1;
		unsigned v = (unsigned)(p - b32);
		c = polymod_step(c, v);
		if (i >= n - 6)
			continue;
		acc = acc << 5 | v;
		bits += 5;
		if (bits >= 8) {
			if (o == 32)
				return -1;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (c != 1 || o != 32 || bits >= 5 || (acc & ((1u << bits) - 1)))
		return -1;
	return 0;
}

/* ---- keys ------------------------------------------------------------ */

void
eb_age_recipient_text(const uint8_t pk[32], char *out)
{
	bech32_encode("age", pk, 32, 0, out);
}

void
eb_age_identity_text(const uint8_t sk[32], char *out)
{
	bech32_encode("age-secret-key-", sk, 32, 1, out);
}

/* 1 when text looks like secret material of any kind, whatever its case,
 * blanks or byte-order mark: an age identity, a private key, a passphrase
 * line cannot be told apart from junk, so nothing typed is ever echoed;
 * this only picks the better message. */
static int
looks_secret(const char *text)
{
	return strcasestr(text, "SECRET-KEY") || strcasestr(text, "PRIVATE KEY") ||
	       strcasestr(text, "AGE-PLUGIN-");
}

int
eb_age_recipients_add(eb_age_recipients *r, const char *text, eb_err *err)
{
	eb_age_recipient *v, one;
	/* Nothing of the input is ever put in a message: a recipient flag or
	 * file that holds an identity, a passphrase or a private key by
	 * mistake must not send it to the logs.  The caller names the flag,
	 * or the file and line. */
	if (looks_secret(text))
		return eb_err_set(err, EB_EINVAL,
		                  "this is an age identity or a private key (not shown), given where a "
		                  "recipient belongs: give its public key (age-keygen -y FILE prints it), "
		                  "and keep the identity off the cluster");
	if (strncmp(text, "ssh-", 4) == 0)
		return eb_err_set(err, EB_EINVAL,
		                  "SSH keys are not supported as age recipients; use an age1... key from "
		                  "age-keygen");
	if (bech32_decode32(text, "age", one.pk) < 0 || strncmp(text, "age1", 4) != 0)
		return eb_err_set(err, EB_EINVAL,
		                  "not an age recipient (age1... as age-keygen -y prints it; the value "
		                  "is not shown, as it may be a secret)");
	eb_age_recipient_text(one.pk, one.text);
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->v[i].pk, one.pk, 32) == 0)
			return 0; /* the same key twice: one stanza */
	v = realloc(r->v, (r->n + 1) * sizeof *v);
	if (!v)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	r->v = v;
	r->v[r->n++] = one;
	return 0;
}

static int
add_recipient_line(void *ctx, const char *line, eb_err *err)
{
	return eb_age_recipients_add(ctx, line, err);
}

int
eb_age_recipients_load(eb_age_recipients *r, const char *path, eb_err *err)
{
	size_t n;
	int rc = eb_each_line(path, 1 << 20, add_recipient_line, r, &n, err);
	if (rc == 0 && n == 0)
		rc = eb_err_set(err, EB_EINVAL, "age recipients file %s names no recipient", path);
	return rc;
}

void
eb_age_recipients_dispose(eb_age_recipients *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

int
eb_age_identities_add(eb_age_identities *ids, const char *line, eb_err *err)
{
	uint8_t sk[32], (*v)[32];
	if (strncmp(line, "AGE-SECRET-KEY-PQ-1", 19) == 0 || strncmp(line, "AGE-PLUGIN-", 11) == 0)
		return eb_err_set(err, EB_EINVAL,
		                  "post-quantum and plugin age identities are not supported: use an "
		                  "X25519 identity (age-keygen without -pq)");
	if (strncmp(line, "AGE-SECRET-KEY-1", 16) != 0 ||
	    bech32_decode32(line, "age-secret-key-", sk) < 0) {
		eb_wipe(sk, sizeof sk);
		/* never echo the line: it may be a damaged secret */
		return eb_err_set(err, EB_EINVAL,
		                  "a line is not an age identity (AGE-SECRET-KEY-1... as "
		                  "age-keygen writes it)");
	}
	v = realloc(ids->sk, (ids->n + 1) * sizeof *v);
	if (!v) {
		eb_wipe(sk, sizeof sk);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	/* realloc may have moved the old keys: the old block is gone unwiped,
	 * which we accept for a handful of keys read once at start */
	ids->sk = v;
	memcpy(ids->sk[ids->n++], sk, 32);
	eb_wipe(sk, sizeof sk);
	return 0;
}

static int
add_identity_line(void *ctx, const char *line, eb_err *err)
{
	return eb_age_identities_add(ctx, line, err);
}

int
eb_age_identities_load(eb_age_identities *ids, const char *path, eb_err *err)
{
	size_t n;
	int rc = eb_each_line(path, 1 << 20, add_identity_line, ids, &n, err);
	if (rc == 0 && n == 0)
		rc = eb_err_set(err, EB_EINVAL, "age identity file %s holds no identity", path);
	return rc;
}

int
eb_age_identities_passphrase(eb_age_identities *ids, const char *path, eb_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = eb_read_file(path, 64 * 1024, &text, &len, err);
	if (rc < 0)
		return eb_err_set(err, rc, "cannot read the passphrase file %s", path);
	text[strcspn(text, "\r\n")] = '\0';
	if (!*text) {
		eb_wipe(text, len);
		free(text);
		return eb_err_set(err, EB_EINVAL, "passphrase file %s: the first line is empty", path);
	}
	if (ids->passphrase) {
		eb_wipe_str(ids->passphrase);
		free(ids->passphrase);
	}
	ids->passphrase = text;
	return 0;
}

void
eb_age_identities_dispose(eb_age_identities *ids)
{
	if (ids->sk)
		eb_wipe(ids->sk, ids->n * sizeof *ids->sk);
	free(ids->sk);
	if (ids->passphrase)
		eb_wipe_str(ids->passphrase);
	free(ids->passphrase);
	memset(ids, 0, sizeof *ids);
}

/* ---- header ---------------------------------------------------------- */

static const uint8_t zero_nonce[EB_AEAD_NONCE_LEN];

/* file key sealed under a 32-byte wrap key with the zero nonce */
static int
wrap_file_key(const uint8_t wrap[32], const uint8_t fk[EB_AGE_FILE_KEY_LEN],
              uint8_t body[EB_AGE_FILE_KEY_LEN + 16], eb_err *err)
{
	eb_aead *a = NULL;
	int rc = eb_aead_new(&a, wrap, err);
	if (rc == 0)
		rc = eb_aead_seal(a, zero_nonce, fk, EB_AGE_FILE_KEY_LEN, body, err);
	eb_aead_free(a);
	return rc;
}

/* 1 and fk when body opens under wrap; 0 when it does not */
static int
unwrap_file_key(const uint8_t wrap[32], const uint8_t *body,
                uint8_t fk[EB_AGE_FILE_KEY_LEN], eb_err *err)
{
	eb_aead *a = NULL;
	eb_err e;
	int rc = eb_aead_new(&a, wrap, err);
	eb_err_init(&e);
	if (rc == 0)
		rc = eb_aead_open(a, zero_nonce, body, EB_AGE_FILE_KEY_LEN + 16, fk, &e) == 0;
	eb_aead_free(a);
	return rc;
}

static int
x25519_wrap_key(const uint8_t shared[32], const uint8_t share[32], const uint8_t pk[32],
                uint8_t wrap[32], eb_err *err)
{
	uint8_t salt[64];
	memcpy(salt, share, 32);
	memcpy(salt + 32, pk, 32);
	return eb_hkdf_sha256(shared, 32, salt, 64, "age-encryption.org/v1/X25519", wrap, 32, err);
}

static int
header_mac(const uint8_t fk[EB_AGE_FILE_KEY_LEN], const uint8_t *hdr, size_t len,
           uint8_t mac[32], eb_err *err)
{
	uint8_t k[32];
	int rc = eb_hkdf_sha256(fk, EB_AGE_FILE_KEY_LEN, NULL, 0, "header", k, 32, err);
	if (rc == 0)
		eb_hmac_sha256(k, 32, hdr, len, mac);
	eb_wipe(k, sizeof k);
	return rc;
}

/* body as base64 lines of 64 characters, the last one shorter (maybe empty) */
static void
put_body(eb_wbuf *b, const uint8_t *body, size_t len)
{
	char enc[4 * ((EB_AGE_FILE_KEY_LEN + 16 + 2) / 3) + 1];
	size_t n = eb_base64_enc(body, len, enc, 0);
	for (size_t off = 0;; off += 64) {
		size_t k = n - off < 64 ? n - off : 64;
		eb_wbuf_put(b, enc + off, k);
		eb_wbuf_u8(b, '\n');
		if (k < 64)
			break;
	}
}

int
eb_age_header_write(const eb_age_recipients *r, const uint8_t fk[EB_AGE_FILE_KEY_LEN],
                    uint8_t **out, size_t *len, eb_err *err)
{
	eb_wbuf b = {0};
	uint8_t e[32], share[32], shared[32], wrap[32], body[EB_AGE_FILE_KEY_LEN + 16], mac[32];
	char enc[64];
	int rc = 0;
	if (r->n == 0)
		return eb_err_set(err, EB_EINVAL, "age encryption needs at least one recipient");
	eb_wbuf_str(&b, EB_AGE_MAGIC);
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		/* a fresh ephemeral key per recipient, as age does */
		rc = eb_random(e, sizeof e, err);
		if (rc == 0)
			rc = eb_x25519(share, e, NULL, err);
		if (rc == 0)
			rc = eb_x25519(shared, e, r->v[i].pk, err);
		if (rc == 0)
			rc = x25519_wrap_key(shared, share, r->v[i].pk, wrap, err);
		if (rc == 0)
			rc = wrap_file_key(wrap, fk, body, err);
		if (rc == 0) {
			eb_base64_enc(share, 32, enc, 0);
			eb_wbuf_fmt(&b, "-> X25519 %s\n", enc);
			put_body(&b, body, sizeof body);
		}
	}
	eb_wbuf_str(&b, "---");
	if (rc == 0)
		rc = eb_wbuf_check(&b, err);
	if (rc == 0)
		rc = header_mac(fk, b.p, b.len, mac, err);
	if (rc == 0) {
		eb_base64_enc(mac, 32, enc, 0);
		eb_wbuf_fmt(&b, " %s\n", enc);
		rc = eb_wbuf_check(&b, err);
	}
	eb_wipe(e, sizeof e);
	eb_wipe(shared, sizeof shared);
	eb_wipe(wrap, sizeof wrap);
	if (rc < 0) {
		eb_wbuf_dispose(&b);
		return rc;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

int
eb_age_sniff(const uint8_t *p, size_t len)
{
	static const char pre[] = "age-encryption.org/";
	size_t n = sizeof pre - 1;
	return len >= n && memcmp(p, pre, n) == 0;
}

/* One parsed stanza: up to 4 arguments (more make a stanza we do not know,
 * which is ignored), and its decoded body. */
#define MAX_ARGS 4
typedef struct stanza {
	const char *arg[MAX_ARGS];
	size_t arglen[MAX_ARGS];
	size_t nargs;
	uint8_t *body;
	size_t blen;
} stanza;

typedef struct hdr_rd {
	const uint8_t *p;
	size_t len, off;
	stanza *st;
	size_t nst;
} hdr_rd;

/* next line [*l, *l + *n) without its '\n'; 1 = need more data */
static int
next_line(hdr_rd *h, const char **l, size_t *n)
{
	const uint8_t *nl = memchr(h->p + h->off, '\n', h->len - h->off);
	if (!nl)
		return 1;
	*l = (const char *)h->p + h->off;
	*n = (size_t)(nl - (h->p + h->off));
	h->off += *n + 1;
	return 0;
}

static int
is_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static int
bad(eb_err *err, const char *why)
{
	return eb_err_set(err, EB_ECORRUPT, "age header is malformed: %s", why);
}

/* a stanza from its "-> " line on: arguments, then body lines */
static int
read_stanza(hdr_rd *h, const char *l, size_t n, eb_err *err)
{
	stanza s = {0};
	stanza *v;
	const char *body0 = NULL;
	size_t bchars = 0, a0 = 3;
	int rc;
	for (size_t i = 3; i <= n; i++) {
		if (i < n && l[i] != ' ') {
			if (l[i] < 33 || l[i] > 126)
				return bad(err, "a stanza argument holds an invalid character");
			continue;
		}
		if (i == a0)
			return bad(err, "a stanza has an empty argument");
		if (s.nargs < MAX_ARGS) {
			s.arg[s.nargs] = l + a0;
			s.arglen[s.nargs] = i - a0;
		}
		s.nargs++;
		a0 = i + 1;
	}
	if (s.nargs == 0)
		return bad(err, "a stanza has no type");
	/* body lines follow: every full line has 64 characters, the last fewer */
	for (;;) {
		const char *bl;
		size_t bn;
		if ((rc = next_line(h, &bl, &bn)))
			return rc;
		if (bn > 64)
			return bad(err, "a stanza body line is longer than 64 characters");
		for (size_t i = 0; i < bn; i++)
			if (!is_b64_char(bl[i]))
				return bad(err, "a stanza body is not unpadded base64");
		if (!body0)
			body0 = bl;
		bchars += bn;
		if (bn < 64)
			break;
	}
	/* the lines are contiguous in the buffer, separated by '\n' */
	{
		char *joined = malloc(bchars + 1);
		size_t j = 0;
		if (!joined)
			return eb_err_set(err, EB_ENOMEM, "out of memory");
		for (const char *c = body0; j < bchars; c++)
			if (*c != '\n')
				joined[j++] = *c;
		s.body = malloc(bchars * 3 / 4 + 1);
		rc = !s.body ? eb_err_set(err, EB_ENOMEM, "out of memory")
		     : eb_base64_dec(joined, bchars, s.body, bchars * 3 / 4 + 1, &s.blen, 0) < 0
		         ? bad(err, "a stanza body is not canonical base64")
		         : 0;
		free(joined);
	}
	if (rc == 0 && !(v = realloc(h->st, (h->nst + 1) * sizeof *v)))
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	if (rc < 0) {
		free(s.body);
		return rc;
	}
	h->st = v;
	h->st[h->nst++] = s;
	return 0;
}

static int
arg_is(const stanza *s, size_t i, const char *want)
{
	return i < s->nargs && s->arglen[i] == strlen(want) && memcmp(s->arg[i], want, s->arglen[i]) == 0;
}

/* decodes argument i into exactly n bytes */
static int
arg_bytes(const stanza *s, size_t i, uint8_t *out, size_t n)
{
	uint8_t tmp[64];
	size_t got;
	if (i >= s->nargs || s->arglen[i] > 86 ||
	    eb_base64_dec(s->arg[i], s->arglen[i], tmp, sizeof tmp, &got, 0) < 0 || got != n)
		return -1;
	memcpy(out, tmp, n);
	return 0;
}

/* X25519 stanza against every identity: 1 with fk, 0 none matched */
static int
try_x25519(const stanza *s, const eb_age_identities *ids, uint8_t fk[EB_AGE_FILE_KEY_LEN],
           eb_err *err)
{
	uint8_t share[32], pk[32], shared[32], wrap[32];
	int rc = 0;
	if (s->nargs != 2 || arg_bytes(s, 1, share, 32) < 0 || s->blen != EB_AGE_FILE_KEY_LEN + 16)
		return bad(err, "an X25519 stanza must carry a 32-byte share and a 32-byte body");
	for (size_t i = 0; i < ids->n && rc == 0; i++) {
		rc = eb_x25519(pk, ids->sk[i], NULL, err);
		if (rc == 0)
			rc = eb_x25519(shared, ids->sk[i], share, err);
		if (rc == 0)
			rc = x25519_wrap_key(shared, share, pk, wrap, err);
		if (rc == 0)
			rc = unwrap_file_key(wrap, s->body, fk, err);
	}
	eb_wipe(shared, sizeof shared);
	eb_wipe(wrap, sizeof wrap);
	if (rc < 0)
		return eb_err_set(err, EB_ECORRUPT, "age header: X25519 stanza refused");
	return rc;
}

/* decimal without sign, leading zeros or garbage */
static int
work_factor(const stanza *s, unsigned *log_n)
{
	unsigned v = 0;
	if (s->arglen[2] == 0 || s->arglen[2] > 2 || s->arg[2][0] == '0')
		return -1;
	for (size_t i = 0; i < s->arglen[2]; i++) {
		char c = s->arg[2][i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (unsigned)(c - '0');
	}
	*log_n = v;
	return 0;
}

#define SCRYPT_MAX_LOG_N 22 /* as age: 4 GiB of memory, a few seconds */

static int
try_scrypt(const stanza *s, size_t nst, const eb_age_identities *ids,
           uint8_t fk[EB_AGE_FILE_KEY_LEN], eb_err *err)
{
	static const char label[] = "age-encryption.org/v1/scrypt";
	uint8_t salt[sizeof label - 1 + 16], wrap[32];
	unsigned log_n;
	int rc;
	if (nst != 1)
		return bad(err, "an scrypt stanza must be the only one");
	if (s->nargs != 3 || arg_bytes(s, 1, salt + sizeof label - 1, 16) < 0 ||
	    work_factor(s, &log_n) < 0 || s->blen != EB_AGE_FILE_KEY_LEN + 16)
		return bad(err, "an scrypt stanza must carry a 16-byte salt, a work factor and a 32-byte body");
	if (log_n > SCRYPT_MAX_LOG_N)
		return bad(err, "the scrypt work factor is above 2^22");
	if (!ids->passphrase)
		return 0;
	memcpy(salt, label, sizeof label - 1);
	rc = eb_scrypt(ids->passphrase, strlen(ids->passphrase), salt, sizeof salt, log_n, wrap,
	               32, err);
	if (rc == 0)
		rc = unwrap_file_key(wrap, s->body, fk, err);
	eb_wipe(wrap, sizeof wrap);
	return rc;
}

/* reads up to the MAC line; 1 = need more; *mac_end = end of "---" */
static int
read_lines(hdr_rd *h, size_t *mac_end, uint8_t mac[32], eb_err *err)
{
	const char *l;
	size_t n;
	int rc;
	if (memmem(h->p, h->len < 128 ? h->len : 128, "-----BEGIN AGE ENCRYPTED FILE-----", 34))
		return eb_err_set(err, EB_ECORRUPT,
		                  "ASCII-armoured age file (age -a) is not supported: run "
		                  "`age -d` on it, or encrypt without -a");
	if ((rc = next_line(h, &l, &n)))
		return h->len >= sizeof EB_AGE_MAGIC - 1 &&
		               memcmp(h->p, EB_AGE_MAGIC, sizeof EB_AGE_MAGIC - 1) != 0
		           ? bad(err, "the first line is not \"age-encryption.org/v1\"")
		           : rc;
	if (n + 1 != sizeof EB_AGE_MAGIC - 1 || memcmp(l, EB_AGE_MAGIC, n) != 0) {
		if (eb_age_sniff(h->p, h->len))
			return eb_err_set(err, EB_ECORRUPT,
			                  "unsupported age format version \"%.*s\" (only v1 is known)",
			                  (int)(n < 40 ? n : 40), l);
		return bad(err, "the first line is not \"age-encryption.org/v1\"");
	}
	for (;;) {
		size_t start = h->off;
		if ((rc = next_line(h, &l, &n)))
			return rc;
		if (n >= 3 && memcmp(l, "-> ", 3) == 0) {
			if ((rc = read_stanza(h, l, n, err)))
				return rc;
			continue;
		}
		if (n >= 3 && memcmp(l, "---", 3) == 0) {
			size_t got;
			if (n != 4 + 43 || l[3] != ' ' ||
			    eb_base64_dec(l + 4, 43, mac, 32, &got, 0) < 0 || got != 32)
				return bad(err, "the MAC line is not \"--- \" and 43 base64 characters");
			*mac_end = start + 3;
			return 0;
		}
		return bad(err, "a line is neither a stanza nor the MAC line");
	}
}

int
eb_age_header_read(const uint8_t *p, size_t len, const eb_age_identities *ids,
                   uint8_t fk[EB_AGE_FILE_KEY_LEN], size_t *hdr_len, eb_err *err)
{
	hdr_rd h = {p, len, 0, NULL, 0};
	uint8_t mac[32], want[32];
	size_t mac_end = 0, nx = 0;
	int rc = read_lines(&h, &mac_end, mac, err), found = 0;
	if (rc == 1 && len > EB_AGE_HEADER_MAX)
		rc = bad(err, "no MAC line in the first 1 MiB");
	for (size_t i = 0; rc == 0 && i < h.nst && !found; i++) {
		stanza *s = &h.st[i];
		if (arg_is(s, 0, "X25519")) {
			nx++;
			rc = found = try_x25519(s, ids, fk, err);
		} else if (arg_is(s, 0, "scrypt")) {
			rc = found = try_scrypt(s, h.nst, ids, fk, err);
		}
	}
	/* a malformed stanza after the one that matched still fails */
	for (size_t i = 0; rc > 0 && i < h.nst; i++)
		if (arg_is(&h.st[i], 0, "scrypt") && h.nst != 1)
			rc = bad(err, "an scrypt stanza must be the only one");
	if (rc > 0)
		rc = 0;
	else if (rc == 0 && !found)
		rc = eb_err_set(err, EB_ECORRUPT,
		                "no age identity given matches this file (%zu X25519 recipient%s%s); "
		                "pass the identity (--age-identity) whose recipient the backup was "
		                "encrypted to",
		                nx, nx == 1 ? "" : "s",
		                h.nst == 1 && arg_is(&h.st[0], 0, "scrypt")
		                    ? ", encrypted with a passphrase: pass --age-passphrase-file"
		                    : "");
	if (rc == 0)
		rc = header_mac(fk, p, mac_end, want, err);
	if (rc == 0 && !eb_ct_equal(mac, want, 32))
		rc = eb_err_set(err, EB_ECORRUPT, "age header MAC does not verify: the header was altered");
	if (rc == 0)
		*hdr_len = h.off;
	else if (rc < 0)
		eb_wipe(fk, EB_AGE_FILE_KEY_LEN);
	for (size_t i = 0; i < h.nst; i++)
		free(h.st[i].body);
	free(h.st);
	return rc;
}

int
eb_age_payload_key(const uint8_t fk[EB_AGE_FILE_KEY_LEN], const uint8_t nonce[EB_AGE_NONCE_LEN],
                   uint8_t key[32], eb_err *err)
{
	return eb_hkdf_sha256(fk, EB_AGE_FILE_KEY_LEN, nonce, EB_AGE_NONCE_LEN, "payload", key, 32,
	                      err);
}

void
eb_age_chunk_nonce(uint64_t counter, int last, uint8_t nonce[12])
{
	memset(nonce, 0, 3);
	for (int i = 0; i < 8; i++)
		nonce[3 + i] = (uint8_t)(counter >> (56 - 8 * i));
	nonce[11] = last ? 1 : 0;
}
