/* storage/catalog.h - backups as a set: list, find, fetch, delete, prune.
 *
 * Works on any store.  Only objects with a manifest are backups; the list
 * is newest first (ids sort by creation time).
 */
#ifndef EB_CATALOG_H
#define EB_CATALOG_H

#include <stddef.h>

#include "common/err.h"
#include "storage/manifest.h"
#include "storage/store.h"
#include "storage/stream.h"

typedef struct eb_catalog {
	eb_manifest *v; /* newest first */
	size_t n;
	size_t nbad;    /* manifests that did not parse (skipped) */
	char bad_example[256]; /* name of one of them, for a warning */
} eb_catalog;

int eb_catalog_load(eb_catalog *out, eb_store *st, eb_err *err);
void eb_catalog_dispose(eb_catalog *c);

/* Finds a backup by exact id or "latest" and copies its manifest into out
 * (caller disposes).  EB_ENOTFOUND with a message listing what exists. */
int eb_catalog_find(eb_store *st, const char *id, eb_manifest *out,
                    eb_err *err);

/* Streams the backup's snapshot (db + trailer, as etcdctl saves it) into
 * sink: GET -> sha256 of stored bytes -> zstd decompress -> etcd trailer
 * check -> sha256 of the snapshot -> sink.  Finishes sink only when every
 * check against the manifest passed; on failure sink is left unfinished
 * (the caller frees it, which aborts it). */
int eb_catalog_fetch(eb_store *st, const eb_manifest *m, eb_stream *sink,
                     eb_err *err);

/* Deletes the manifest first, then the object: a half-deleted backup is
 * never listed. */
int eb_catalog_delete(eb_store *st, const eb_manifest *m, eb_err *err);

#endif
