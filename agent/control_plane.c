/* agent/control_plane.c - see control_plane.h. */
#include "agent/control_plane.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/certinfo.h"
#include "common/crypto.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/tar.h"
#include "storage/digest.h"
#include "storage/pipeline.h"

#define FILE_MAX (8u << 20)
#define BUNDLE_MAX (64u << 20)
#define PKI_DEPTH 4

static uint64_t
bundle_bytes(const eb_cp_bundle *b)
{
	uint64_t n = 0;
	for (size_t i = 0; i < b->man.nfiles; i++)
		n += b->man.files[i].size;
	return n;
}

/* ---- certificates ------------------------------------------------------ */

static int
add_cert(eb_cp_bundle *b, const char *path, const char *pem, size_t len, eb_err *err)
{
	eb_certinfo ci;
	eb_cp_cert c;
	eb_err e2;
	eb_err_init(&e2);
	if (eb_certinfo_pem(pem, len, &ci, &e2) < 0)
		return 0; /* not a certificate after all: nothing to report */
	memset(&c, 0, sizeof c);
	snprintf(c.path, sizeof c.path, "%s", path);
	snprintf(c.subject, sizeof c.subject, "%s", ci.subject);
	snprintf(c.issuer, sizeof c.issuer, "%s", ci.issuer);
	c.not_before = ci.not_before;
	c.not_after = ci.not_after;
	return eb_cp_add_cert(&b->man, &c, err);
}

/* A kubeconfig's "client-certificate-data: <base64 PEM>" lines. */
static int
kubeconfig_certs(eb_cp_bundle *b, const char *path, const char *text, eb_err *err)
{
	static const char key[] = "client-certificate-data:";
	int rc = 0;
	for (const char *p = strstr(text, key); p && rc == 0; p = strstr(p + 1, key)) {
		const char *v = p + sizeof key - 1, *end;
		size_t n, cap;
		uint8_t *pem;
		while (*v == ' ' || *v == '"')
			v++;
		end = v;
		while (*end && *end != '\n' && *end != '\r' && *end != '"' && *end != ' ')
			end++;
		n = (size_t)(end - v);
		cap = n / 4 * 3 + 3;
		if (n == 0 || !(pem = malloc(cap)))
			continue;
		if (eb_base64_dec(v, n, pem, cap, &n, 1) == 0)
			rc = add_cert(b, path, (const char *)pem, n, err);
		free(pem);
	}
	return rc;
}

static int
find_certs(eb_cp_bundle *b, const eb_cp_file *f, const char *data, eb_err *err)
{
	if (strstr(data, "-----BEGIN CERTIFICATE-----"))
		return add_cert(b, f->path, data, f->size, err);
	if (strstr(data, "client-certificate-data:"))
		return kubeconfig_certs(b, f->path, data, err);
	return 0;
}

/* ---- files ------------------------------------------------------------- */

/* Reads path into the bundle (once; a second mention is skipped). */
static int
add_file(eb_cp_bundle *b, const char *path, eb_err *err)
{
	struct stat sb;
	eb_cp_file f;
	char *data = NULL;
	size_t len = 0;
	uint8_t d[EB_SHA256_LEN];
	int rc;
	if (eb_cp_find(&b->man, path))
		return 0;
	if (!eb_cp_path_ok(path))
		return eb_err_set(err, EB_EINVAL, "control plane: %.200s is not a plain absolute path", path);
	if (stat(path, &sb) != 0)
		return eb_err_sys(err, EB_EINVAL, errno, "control plane: %s", path);
	if (sb.st_size > FILE_MAX || bundle_bytes(b) + (uint64_t)sb.st_size > BUNDLE_MAX)
		return eb_err_set(err, EB_EINVAL, "control plane: %s is too large for the bundle (%u MiB a file, "
		                  "%u MiB in all)", path, FILE_MAX >> 20, BUNDLE_MAX >> 20);
	if ((rc = eb_read_file(path, FILE_MAX, &data, &len, err)) < 0)
		return rc;
	memset(&f, 0, sizeof f);
	snprintf(f.path, sizeof f.path, "%s", path);
	f.mode = (uint32_t)(sb.st_mode & 07777);
	f.uid = (uint32_t)sb.st_uid;
	f.gid = (uint32_t)sb.st_gid;
	f.size = len;
	eb_sha256_buf(data, len, d);
	eb_hex(d, sizeof d, f.sha256);
	if (eb_array_grow((void **)&b->data, &b->capdata, b->man.nfiles + 1, sizeof *b->data) < 0)
		rc = eb_err_set(err, EB_ENOMEM, "out of memory");
	if (rc == 0)
		rc = eb_cp_add_file(&b->man, &f, err);
	if (rc < 0) {
		eb_wipe(data, len);
		free(data);
		return rc;
	}
	b->data[b->man.nfiles - 1] = data;
	return find_certs(b, &f, data, err);
}

/* Regular files of dir (recursing depth levels), in name order; names
 * ending in suffix only when suffix is given. */
static int
add_folder(eb_cp_bundle *b, const char *dir, const char *suffix, int depth, eb_err *err)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort), rc = 0;
	if (n < 0)
		return eb_err_sys(err, EB_EINVAL, errno, "control plane: folder %s", dir);
	for (int i = 0; i < n; i++) {
		char path[EB_CP_PATH_MAX + 2];
		const char *nm = ents[i]->d_name;
		size_t nl = strlen(nm), sl = suffix ? strlen(suffix) : 0;
		struct stat sb;
		if (rc < 0 || nm[0] == '.' || (size_t)snprintf(path, sizeof path, "%s/%s", dir, nm) >= sizeof path ||
		    stat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode) && depth > 0)
			rc = add_folder(b, path, suffix, depth - 1, err);
		else if (S_ISREG(sb.st_mode) && (!suffix || (nl > sl && strcmp(nm + nl - sl, suffix) == 0)))
			rc = add_file(b, path, err);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

/* 1 when a flag of this name names a file a node needs: --*file, --*config
 * (--kubeconfig, --encryption-provider-config, --audit-policy-file,
 * --tls-cert-file ...), never a log file. */
static int
file_flag(const char *name, size_t n)
{
	if (memmem(name, n, "log", 3))
		return 0;
	return (n >= 4 && memcmp(name + n - 4, "file", 4) == 0) ||
	       (n >= 6 && memcmp(name + n - 6, "config", 6) == 0);
}

/* The files a static pod manifest names in --flag=/path (YAML or JSON). */
static int
manifest_files(eb_cp_bundle *b, const char *text, eb_err *err)
{
	int rc = 0;
	for (const char *p = strstr(text, "--"); p && rc == 0; p = strstr(p + 2, "--")) {
		const char *name = p + 2, *eq = name, *v, *end;
		char path[EB_CP_PATH_MAX + 1];
		struct stat sb;
		while ((*eq >= 'a' && *eq <= 'z') || (*eq >= '0' && *eq <= '9') || *eq == '-')
			eq++;
		if (*eq != '=' || !file_flag(name, (size_t)(eq - name)) || eq[1] != '/')
			continue;
		v = eq + 1;
		for (end = v; *end && *end != '"' && *end != '\'' && *end != '\n' && *end != ' ' && *end != ',';)
			end++;
		if ((size_t)(end - v) > EB_CP_PATH_MAX)
			continue;
		memcpy(path, v, (size_t)(end - v));
		path[end - v] = '\0';
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			rc = add_file(b, path, err);
		else if (stat(path, &sb) != 0 && !b->skipped[0])
			snprintf(b->skipped, sizeof b->skipped, "%.*s names %s, which is not there (%s)",
			         (int)(eq - p), p, path, strerror(errno));
	}
	return rc;
}

static int
is_dir(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int
eb_cp_collect(const char *root, eb_cp_bundle *b, eb_err *err)
{
	char pki[EB_CP_PATH_MAX + 16], man[EB_CP_PATH_MAX + 16];
	size_t nman, n = strlen(root);
	int rc;
	memset(b, 0, sizeof *b);
	while (n > 1 && root[n - 1] == '/')
		n--;
	snprintf(b->man.root, sizeof b->man.root, "%.*s", (int)n, root);
	root = b->man.root;
	if (!eb_cp_path_ok(root) || n > EB_CP_PATH_MAX - 20)
		return eb_err_set(err, EB_EINVAL, "--control-plane %.200s: give the folder as an absolute path "
		                  "(kubeadm: /etc/kubernetes)", root);
	snprintf(pki, sizeof pki, "%s/pki", root);
	snprintf(man, sizeof man, "%s/manifests", root);
	if (!is_dir(pki) || !is_dir(man)) {
		rc = eb_err_set(err, EB_EINVAL, "--control-plane %s is not a control-plane folder: it has "
		                "no pki/ or no manifests/ (no static pod manifest; kubeadm: /etc/kubernetes)",
		                root);
		goto fail;
	}
	if ((rc = add_folder(b, pki, NULL, PKI_DEPTH, err)) < 0 ||
	    (rc = add_folder(b, root, ".conf", 0, err)) < 0)
		goto fail;
	nman = b->man.nfiles;
	if ((rc = add_folder(b, man, NULL, 0, err)) < 0)
		goto fail;
	/* the manifests name more files: their flags, read from the bytes kept */
	for (size_t i = nman, end = b->man.nfiles; i < end && rc == 0; i++)
		rc = manifest_files(b, b->data[i], err);
	if (rc == 0 && b->man.nfiles == nman)
		rc = eb_err_set(err, EB_EINVAL, "--control-plane %s: %s holds no static pod manifest "
		                "(is this a control-plane node?)", root, man);
	if (rc == 0)
		return 0;
fail:
	eb_cp_bundle_dispose(b);
	return rc;
}

void
eb_cp_bundle_dispose(eb_cp_bundle *b)
{
	for (size_t i = 0; i < b->man.nfiles && b->data; i++) {
		if (b->data[i])
			eb_wipe(b->data[i], b->man.files[i].size);
		free(b->data[i]);
	}
	free(b->data);
	eb_cp_manifest_dispose(&b->man);
	memset(b, 0, sizeof *b);
}

/* ---- storing ----------------------------------------------------------- */

static int
write_tar(eb_stream *out, const eb_cp_bundle *b, eb_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < b->man.nfiles && rc == 0; i++) {
		const eb_cp_file *f = &b->man.files[i];
		eb_tar_entry e;
		memset(&e, 0, sizeof e);
		snprintf(e.name, sizeof e.name, "%s", f->path + 1);
		e.type = '0';
		e.mode = f->mode;
		e.uid = f->uid;
		e.gid = f->gid;
		e.size = f->size;
		rc = eb_tar_write(out, &e, b->data[i], err);
	}
	return rc == 0 ? eb_tar_end(out, err) : rc;
}

int
eb_cp_store(eb_store *st, const char *id, const eb_age_recipients *rcpt, eb_cp_bundle *b,
            eb_err *err)
{
	eb_pipe_opts po = {.zstd = EB_PIPE_ZSTD, .level = 3, .rcpt = rcpt, .own_tail = 1};
	eb_pipe pipe = {0};
	eb_stream *sink = NULL, *tarsha = NULL;
	uint8_t d[EB_SHA256_LEN];
	int rc;
	eb_cp_object_name(id, rcpt && rcpt->n, b->man.object, sizeof b->man.object);
	rc = eb_store_put_stream(st, b->man.object, &sink, err);
	if (rc == 0)
		rc = eb_pipe_encode(&pipe, &po, sink, err);
	if (rc == 0)
		rc = eb_sha256_stage_new(&tarsha, pipe.head, err);
	if (rc == 0)
		rc = write_tar(tarsha, b, err);
	if (rc == 0)
		rc = eb_stream_finish(tarsha, err); /* commits the object */
	if (rc == 0) {
		eb_sha256_stage_digest(tarsha, d);
		eb_hex(d, sizeof d, b->man.tar_sha256);
		b->man.tar_size = tarsha->nbytes_in;
		eb_sha256_stage_digest(pipe.stored, d);
		eb_hex(d, sizeof d, b->man.stored_sha256);
		b->man.stored_size = pipe.stored->nbytes_in;
	}
	if (tarsha)
		tarsha->ops->free(tarsha);
	eb_pipe_dispose(&pipe);
	return rc;
}

void
eb_cp_metrics(const eb_cp_manifest *m, eb_metrics *mx)
{
	for (size_t i = 0; i < m->ncerts; i++)
		eb_metrics_add_cert_file(mx, m->certs[i].path, m->certs[i].not_after);
}

void
eb_cp_log_certs(const eb_cp_manifest *m, int64_t now)
{
	for (size_t i = 0; i < m->ncerts; i++) {
		const eb_cp_cert *c = &m->certs[i];
		int64_t left = c->not_after - now;
		char when[32];
		struct tm tm;
		time_t t = (time_t)c->not_after;
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (left < 30 * 86400)
			EB_LOG(EB_LOG_WARN, "control-plane", "certificate %s (%s, issued by %s) %s %s (%" PRId64
			       " days): renew it before a restore needs it ('kubeadm certs renew all')",
			       c->path, c->subject, c->issuer, left < 0 ? "EXPIRED on" : "expires", when,
			       left / 86400);
		else
			EB_LOG(EB_LOG_INFO, "control-plane", "certificate %s (%s, issued by %s) expires %s "
			       "(%" PRId64 " days)", c->path, c->subject, c->issuer, when, left / 86400);
	}
}

int
eb_cp_prepare(const char *root, int have_recipient, int plain_ok, eb_cp_bundle *b, eb_err *err)
{
	int rc;
	if (!have_recipient && !plain_ok)
		return eb_err_set(err, EB_EINVAL, "--control-plane stores the cluster's private keys (CA, "
		                  "service-account and encryption keys); give --age-recipient (the identity "
		                  "stays off the cluster), or --control-plane-store-private-keys-unencrypted "
		                  "if the store itself is the only protection you want");
	if ((rc = eb_cp_collect(root, b, err)) < 0)
		return rc;
	if (!have_recipient)
		EB_LOG(EB_LOG_WARN, "control-plane", "the bundle of %s is stored UNENCRYPTED: whoever "
		       "reads the store holds the cluster's CA and service-account keys", root);
	if (b->skipped[0])
		EB_LOG(EB_LOG_WARN, "control-plane", "%s: not in the bundle", b->skipped);
	EB_LOG(EB_LOG_INFO, "control-plane", "%zu files of %s (and the files its manifests name), "
	       "%zu certificates", b->man.nfiles, root, b->man.ncerts);
	eb_cp_log_certs(&b->man, (int64_t)time(NULL));
	return 0;
}
