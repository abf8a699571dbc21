/* storage/cpman.h - the control-plane part of a backup's manifest
 * (docs/formats/control-plane.md).
 *
 * A backup taken with --control-plane has one more object,
 *     <id>.control-plane.tar.zst      (".age" appended when encrypted)
 * a ustar archive (common/tar.h) of the node's control-plane files, named
 * by their absolute path without the leading '/' ("etc/kubernetes/pki/
 * ca.crt"), compressed with zstd and age-encrypted like the snapshot.  The
 * manifest, written last and signed, lists every file with its mode, owner,
 * size and sha256, the archive's digest, and the certificates found:
 *
 *   "control_plane": {
 *     "object": "<id>.control-plane.tar.zst.age",
 *     "root": "/etc/kubernetes",
 *     "tar_size": 40960, "tar_sha256": "...",
 *     "stored_size": 12345, "stored_sha256": "...",
 *     "files": [{"path": "/etc/kubernetes/pki/ca.crt", "mode": "0644",
 *                "uid": 0, "gid": 0, "size": 1107, "sha256": "..."}, ...],
 *     "certs": [{"path": "/etc/kubernetes/pki/ca.crt", "subject": "CN = kubernetes",
 *                "issuer": "CN = kubernetes", "not_before": 1, "not_after": 2}, ...]
 *   }
 */
#ifndef EB_STORAGE_CPMAN_H
#define EB_STORAGE_CPMAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"

#define EB_CP_MAX_FILES 1000
#define EB_CP_PATH_MAX 255
#define EB_CP_SUFFIX ".control-plane.tar.zst"

typedef struct eb_cp_file {
	char path[EB_CP_PATH_MAX + 1]; /* absolute, normalised */
	uint32_t mode;                 /* permission bits (07777) */
	uint32_t uid, gid;
	uint64_t size;
	char sha256[65];
} eb_cp_file;

typedef struct eb_cp_cert {
	char path[EB_CP_PATH_MAX + 1]; /* the PEM file, or the kubeconfig holding it */
	char subject[256], issuer[256];
	int64_t not_before, not_after; /* unix seconds */
} eb_cp_cert;

typedef struct eb_cp_manifest {
	char object[256];
	char root[EB_CP_PATH_MAX + 1];
	uint64_t tar_size, stored_size;
	char tar_sha256[65], stored_sha256[65];
	eb_cp_file *files;
	size_t nfiles, capfiles;
	eb_cp_cert *certs;
	size_t ncerts, capcerts;
} eb_cp_manifest;

void eb_cp_manifest_dispose(eb_cp_manifest *m);
int eb_cp_add_file(eb_cp_manifest *m, const eb_cp_file *f, eb_err *err);
int eb_cp_add_cert(eb_cp_manifest *m, const eb_cp_cert *c, eb_err *err);
/* A deep copy into a new allocation (*out NULL when src is NULL). */
int eb_cp_manifest_copy(eb_cp_manifest **out, const eb_cp_manifest *src, eb_err *err);

/* 1 when path is absolute, at most EB_CP_PATH_MAX bytes, without empty,
 * "." or ".." parts or control characters. */
int eb_cp_path_ok(const char *path);
/* The one object name of backup id's bundle. */
void eb_cp_object_name(const char *id, int encrypted, char *out, size_t cap);

/* Appends `  "control_plane": {...},\n` to b. */
void eb_cp_manifest_json(eb_buf *b, const eb_cp_manifest *m);
/* Reads the "control_plane" member j of backup id's manifest into a new
 * allocation; EB_ECORRUPT naming the field when anything is off. */
int eb_cp_manifest_read(const eb_json *j, const char *id, int encrypted, eb_cp_manifest **out,
                        eb_err *err);

/* The file entry for path, or NULL. */
const eb_cp_file *eb_cp_find(const eb_cp_manifest *m, const char *path);

#endif
