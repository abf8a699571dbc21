/* agent/backup.h - one backup run: etcd stream -> verify -> compress ->
 * (encrypt) -> store.
 *
 *   Snapshot RPC --> etcd trailer check --> sha256 (snapshot) --> zstd
 *       --> age (with recipients) --> sha256 (stored object)
 *       --> store sink (file / S3 multipart)
 *
 * The store object commits only after the trailer check passed at finish;
 * then the control-plane bundle (--control-plane) is stored, and the
 * manifest is written, last.  Any failure frees the chain, which
 * aborts the sink: no object, no manifest, no temp file. */
#ifndef EB_BACKUP_H
#define EB_BACKUP_H

#include "agent/cluster.h"
#include "agent/control_plane.h"
#include "crypt/age.h"
#include "crypt/sshsig.h"
#include "storage/manifest.h"
#include "storage/store.h"

typedef struct eb_backup_opts {
	const char *compression;  /* "zstd" or "none" */
	int level;
	const char *const *tags;
	size_t ntags;
	eb_etcd_progress_fn progress;
	void *progress_arg;
	eb_cluster *cluster;      /* members to compare HashKV with; may be NULL */
	const eb_age_recipients *age; /* encrypt to these; NULL or none: plain */
	const eb_ssh_signer *signer;  /* sign the manifest; NULL: unsigned */
	const char *origin;       /* manifest "origin" ("replicate"); NULL: a plain snapshot */
	eb_cp_bundle *cp;         /* the control-plane files to store beside it; NULL: none */
} eb_backup_opts;

typedef struct eb_backup_result {
	double seconds;           /* stream + store time */
} eb_backup_result;

/* Takes a snapshot of member m into st and fills out (caller disposes). */
int eb_backup_run(eb_member *m, eb_store *st, const eb_backup_opts *o,
                  eb_manifest *out, eb_backup_result *res, eb_err *err);

#define EB_TOOL_VERSION "0.1.0"

#endif
