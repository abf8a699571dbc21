/* storage/manifest.h - the JSON record that makes a backup exist.
 *
 * A backup is two objects in a store (three when signed):
 *     <id>.snapshot.db.zst   (or .snapshot.db when --compression none;
 *                            ".age" appended when age-encrypted)
 *     <id>.manifest.json.sig SSHSIG of the manifest's bytes (--sign-key),
 *                            written before the manifest
 *     <id>.manifest.json     written LAST: the commit point
 * An object without a manifest is debris from a failed run, never a backup.
 *
 * The stored object decrypts (age) and decompresses to exactly what
 * `etcdctl snapshot save` writes: the bbolt database followed by etcd's
 * 32-byte sha256 trailer.
 */
#ifndef EB_MANIFEST_H
#define EB_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/cpman.h"

#define EB_MANIFEST_SUFFIX ".manifest.json"
#define EB_MANIFEST_FORMAT 1
#define EB_ORIGIN_REPLICATE "replicate" /* eb_manifest.origin */
#define EB_MANIFEST_MAX (1024 * 1024) /* a manifest larger than this is corrupt (one
                                        * with a control-plane list is ~0.3 KiB per file) */

typedef struct eb_manifest {
	int format;              /* EB_MANIFEST_FORMAT */
	char id[96];             /* "20261121T044315Z-r12345-<cluster>-<random>" */
	char created[32];        /* UTC, "2026-11-21T04:43:15Z" */
	int64_t created_unix;
	uint64_t cluster_id;
	uint64_t member_id;
	char endpoint[256];      /* member it was streamed from */
	char etcd_version[32];
	char storage_version[16];/* 3.6+: the storage version the stream named */
	int64_t revision;        /* Status/HashKV revision right before streaming */
	int64_t revision_bound;  /* > 0: the snapshot holds no revision above it (the
	                          * cluster's revision once the stream ended; writes
	                          * during the stream put the content in revision..bound) */
	uint64_t raft_term;
	uint64_t raft_index;
	uint64_t db_size;        /* bbolt bytes, trailer excluded */
	uint64_t snapshot_size;  /* db_size + 32: the etcdctl file size */
	char snapshot_sha256[65];/* hex sha256 of the etcdctl-equivalent file */
	char db_sha256[65];      /* hex sha256 of the db = etcd's trailer */
	char object[256];        /* stored object name, relative to the store */
	uint64_t stored_size;
	char stored_sha256[65];  /* hex sha256 of the stored object bytes */
	char compression[16];    /* "zstd" or "none" */
	int compression_level;
	char tool_version[32];
	char encryption[16];     /* "none" or "age" */
	char **recipients;       /* age1... public keys it was encrypted to, owned */
	size_t nrecipients;
	/* HashKV at hashkv_revision, asked of the member streamed from right
	 * after the stream (has_hashkv 0: not recorded, older manifests) */
	int has_hashkv;
	uint32_t hashkv;
	int64_t hashkv_revision, hashkv_compact_revision;
	char hashkv_disagreement[512]; /* members whose HashKV differs, "" if none */
	char **tags;             /* --tag labels, owned */
	size_t ntags;
	/* "replicate" when `etcd-backup replicate` took it to start a chain of
	 * segments, "" for a plain snapshot (field absent).  Prune and a
	 * restarting replicate tell the chain replicate continues by it. */
	char origin[16];
	/* --control-plane: the bundle of the node's control-plane files (owned;
	 * NULL: the backup has none) */
	eb_cp_manifest *cp;
} eb_manifest;

void eb_manifest_init(eb_manifest *m);
void eb_manifest_dispose(eb_manifest *m);
int eb_manifest_add_tag(eb_manifest *m, const char *tag, eb_err *err);
int eb_manifest_add_recipient(eb_manifest *m, const char *r, eb_err *err);
/* A deep copy (dst is disposed separately). */
int eb_manifest_copy(eb_manifest *dst, const eb_manifest *src, eb_err *err);
/* 1 when the stored object is age-encrypted. */
int eb_manifest_encrypted(const eb_manifest *m);

/* Serialises to a malloc'd JSON text (pretty, one field per line). */
int eb_manifest_to_json(const eb_manifest *m, char **out, eb_err *err);
/* Parses and validates; rejects missing fields and bad values with
 * EB_ECORRUPT naming the field. */
int eb_manifest_from_json(eb_manifest *m, const char *json, size_t len,
                          eb_err *err);

/* "<id>.manifest.json" into out (size >= 128). */
void eb_manifest_name(const char *id, char *out, size_t out_len);
/* "<id>.manifest.json.sig" into out (size >= 128). */
void eb_manifest_sig_name(const char *id, char *out, size_t out_len);
/* The one object name a backup may have: "<id>.snapshot.db", plus ".zst"
 * when compressed, plus ".age" when encrypted.  A manifest naming any other object is refused, so no
 * manifest can point at (and have prune delete) another backup's data. */
void eb_manifest_object_name(const eb_manifest *m, char *out, size_t out_len);

/* A segment's manifest (docs/formats/segment.md): `<base>.seg.<first>-<last>
 * .segment.json`, the commit point of a segment of continuous backup. */
typedef struct eb_segman {
	char base[96];          /* the full backup's id */
	char object[192];
	uint64_t cluster_id;
	int64_t prev_rev, first_rev, last_rev;
	uint64_t events, leases;
	int64_t first_ms, last_ms; /* wall time the first / last revision arrived */
	char compression[8];    /* "zstd" */
	char encryption[8];     /* "none" / "age" */
	char plain_sha256[65], stored_sha256[65];
	uint64_t plain_size, stored_size;
	int has_hashkv;         /* live HashKV at last_rev, when etcd had it */
	uint32_t hashkv;
	int64_t hashkv_compact_rev;
} eb_segman;

/* "<base>.seg.<first>-<last>.segment.json" */
void eb_segman_name(const char *base, int64_t first, int64_t last, char *out, size_t cap);
/* 1 and the parts when name is a segment manifest's, else 0. */
int eb_segman_parse_name(const char *name, char *base, size_t cap, int64_t *first,
                         int64_t *last);
int eb_segman_to_json(const eb_segman *m, char **out, eb_err *err);
int eb_segman_from_json(eb_segman *m, const char *json, size_t len, eb_err *err);
#endif
