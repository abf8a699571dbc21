/* agent/control_plane.h - the control-plane bundle of a backup: the files a
 * new control-plane node needs besides etcd's data (docs/formats/
 * control-plane.md).
 *
 *   collect:  ROOT/pki (all of it), the kubeconfigs ROOT/NAME.conf, ROOT/manifests, and every file
 *             a static pod manifest names in a --*file= / --*config= flag
 *             (inside ROOT or not: the encryption provider config, audit,
 *             authentication, authorization, admission configs)
 *             -> read whole (8 MiB each, 64 MiB in all), sha256, certificates
 *   store:    ustar -> sha256 (tar) -> zstd -> age -> sha256 -> the store
 *             object <id>.control-plane.tar.zst[.age], committed at finish
 *
 * Collection runs before the snapshot streams, so a folder that cannot be
 * read fails the run before anything is stored.  The bytes read are wiped
 * when the bundle is disposed: they hold the cluster's private keys. */
#ifndef EB_AGENT_CONTROL_PLANE_H
#define EB_AGENT_CONTROL_PLANE_H

#include "common/metrics.h"
#include "crypt/age.h"
#include "storage/cpman.h"
#include "storage/store.h"

typedef struct eb_cp_bundle {
	eb_cp_manifest man;   /* root, files, certs; object and digests once stored */
	char **data;          /* data[i]: the bytes of man.files[i] (wiped on dispose) */
	size_t capdata;
	char skipped[512];    /* names a flag file that was not there ("" none) */
} eb_cp_bundle;

/* Reads root's control-plane files into b.  EB_EINVAL naming the cause
 * when root is not a folder with pki/ and manifests/, or a file cannot be
 * read or is too large. */
int eb_cp_collect(const char *root, eb_cp_bundle *b, eb_err *err);
/* Writes the bundle of backup `id` to st, encrypted to rcpt (NULL or none:
 * plain), and fills the object name and digests of b->man. */
int eb_cp_store(eb_store *st, const char *id, const eb_age_recipients *rcpt, eb_cp_bundle *b,
                eb_err *err);
void eb_cp_bundle_dispose(eb_cp_bundle *b);

/* --control-plane's first step: refuses (EB_EINVAL, exit 2) without a
 * recipient unless plain_ok, collects, logs what it found and each
 * certificate's lifetime (a warning within 30 days of expiry). */
int eb_cp_prepare(const char *root, int have_recipient, int plain_ok, eb_cp_bundle *b, eb_err *err);
/* Logs each certificate: subject, issuer, expiry; warns within 30 days. */
void eb_cp_log_certs(const eb_cp_manifest *m, int64_t now);

/* The certificates' lifetimes as metrics (cert="control-plane", file=path). */
void eb_cp_metrics(const eb_cp_manifest *m, eb_metrics *mx);

#endif
