/* storage/catalog.h - backups as a set: list, find, fetch, delete, prune.
 *
 * Works on any store.  Only objects with a manifest are backups.
 */
#ifndef EB_CATALOG_H
#define EB_CATALOG_H

#include <stddef.h>

#include "common/err.h"
#include "crypt/keys.h"
#include "storage/manifest.h"
#include "storage/store.h"
#include "common/stream.h"
#include "storage/signed.h"

/* A manifest that could not be read: it is listed and verified as failed,
 * never skipped in silence. */
typedef struct eb_catalog_bad {
	char name[128]; /* the manifest's object name */
	char why[400];
	int hidden;     /* behind a delete marker (the store keeps its data) */
} eb_catalog_bad;

/* Order: backups of one cluster stay together, highest revision first (then
 * raft index, then creation time): the revision, not the wall clock, says
 * which backup is newer, so a clock that jumped cannot make an old backup
 * "latest".  Clusters come in the order of their newest backup's time. */
typedef struct eb_catalog {
	eb_manifest *v; /* see the order above */
	size_t n;
	unsigned char *clock_odd; /* [i]: v[i]'s creation time contradicts its
	                           * revision (a backup of the same cluster with
	                           * a higher revision was created earlier, or
	                           * one with a lower revision later) */
	eb_catalog_bad *bad;      /* manifests that did not parse */
	size_t nbad;
	eb_store_list names;      /* the listing it was read from (every object:
	                           * segments, signatures): list the store once */
} eb_catalog;

int eb_catalog_load(eb_catalog *out, eb_store *st, eb_err *err);

/* Backup `id`'s manifest, checked against its signature object
 * (<id>.manifest.json.sig) when trusted is not NULL: EB_EAUTH when it is
 * unsigned or signed by an untrusted key, EB_ECORRUPT when the signature
 * does not verify.  fp (EB_SSH_FP_MAX, may be NULL): the signer. */
int eb_catalog_load_signed(eb_store *st, const char *id, const eb_ssh_keys *trusted,
                           eb_manifest *out, char *fp, eb_err *err);
void eb_catalog_dispose(eb_catalog *c);

/* Which cluster "latest" and a point in time mean in cat (url for
 * messages): want when non-zero (EB_ENOTFOUND when cat holds no backup of
 * it), else the one cluster cat holds among the entries with ok[i] set
 * (ok NULL: all); EB_EINVAL naming them when it holds several: revisions
 * of two clusters are never compared.  0 in *out when cat is empty. */
int eb_catalog_cluster(const eb_catalog *cat, const char *url, uint64_t want, const unsigned char *ok,
                       uint64_t *out, eb_err *err);

/* Finds a backup by exact id or "latest" and copies its manifest into out
 * (caller disposes).  EB_ENOTFOUND with a message listing what exists.
 * "latest" is the newest backup of the cluster eb_catalog_cluster names
 * (k->cluster_id, or the store's only one), and fails with EB_ECORRUPT while
 * any manifest is unreadable: the unreadable one may be the newest, and an
 * older backup must not be taken for it in silence.  A backup named by id
 * of another cluster than k->cluster_id is refused (EB_EINVAL). */
int eb_catalog_find(eb_store *st, const char *id, const eb_read_keys *k,
                    eb_manifest *out, eb_err *err);

/* Streams the backup's snapshot (db + trailer, as etcdctl saves it) into
 * sink: GET -> sha256 of stored bytes -> age decrypt (k->age; EB_EINVAL
 * when the backup is encrypted and no identity was given) -> zstd
 * decompress -> etcd trailer
 * check -> sha256 of the snapshot -> sink.  Finishes sink only when every
 * check against the manifest passed; on failure sink is left unfinished
 * (the caller frees it, which aborts it). */
int eb_catalog_fetch(eb_store *st, const eb_manifest *m, const eb_read_keys *k,
                     eb_stream *sink, eb_err *err);
/* The same with one hashing pass, for restore and looking inside: the
 * stored object's sha256 (signed with the manifest) proves the bytes are
 * those the backup wrote after it checked etcd's trailer, and zstd's
 * content checksum (always on) the decompression; etcd's trailer is not
 * hashed a second time (verify does that). */
int eb_catalog_fetch_proven(eb_store *st, const eb_manifest *m, const eb_read_keys *k,
                          eb_stream *sink, eb_err *err);
/* Checks only the stored object's sha256 and size (verify of an encrypted
 * backup without an identity: the content stays unchecked). */
int eb_catalog_check_stored(eb_store *st, const eb_manifest *m, eb_err *err);

/* Whether backup m may count as a backup where counting decides what is
 * deleted (retention) or continued (replicate): the object its manifest
 * names is in names (eb_store_list_all) with the manifest's stored size,
 * and, with trusted keys, its manifest read again is signed by one of them
 * and says the same.  1 proven, 0 not (why, cap bytes, says why), or a
 * negative code when the store itself failed (not a verdict on m). */
int eb_catalog_prove(eb_store *st, const eb_manifest *m, const eb_store_list *names,
                     const eb_ssh_keys *trusted, char *why, size_t cap, eb_err *err);

/* Deletes the backup's segments' manifests first (newest first: what stays
 * is still a contiguous chain), then its manifest, its signature, its object,
 * and the segments' objects: a half-deleted backup is never listed.  The object's name is derived from the id (a manifest that
 * names another object never loads). */
int eb_catalog_delete(eb_store *st, const eb_manifest *m, eb_err *err);

#endif
