/* storage/store.h - where backups live.
 *
 * A store is a flat namespace of objects under a root: a local folder
 * ("/var/backups/etcd", "file:///var/backups/etcd"), an S3 prefix
 * ("s3://bucket/prefix") or an Azure Blob container's prefix
 * ("azblob://account/container/prefix").  Object names are relative to the root and never
 * contain "..": "20261121T044315Z-r12345.manifest.json".
 *
 * Commit rules every backend keeps:
 *   - put_stream returns a sink stage: finish() makes the object visible
 *     atomically (rename / CompleteMultipartUpload); freeing it unfinished
 *     leaves nothing behind (temp file removed / multipart upload aborted).
 *   - put_bytes writes a small object atomically (manifests).
 *   - get pushes the object's bytes into `sink` with bounded memory; it does
 *     NOT finish the sink (the caller decides once every check passed).
 */
#ifndef EB_STORE_H
#define EB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/stream.h"

typedef struct eb_store eb_store;

/* Options for remote stores; zero/NULL means "use the default / env". */
typedef struct eb_store_opts {
	const char *s3_endpoint;  /* --s3-endpoint */
	const char *s3_region;    /* --s3-region */
	int s3_path_style;        /* -1 auto, 0 virtual-hosted, 1 path-style */
	const char *s3_ca_file;   /* --s3-ca-file */
	const char *s3_compat;    /* --s3-compat switches, comma separated */
	/* S3 tuning; 0 = default (the binaries read the EB_S3_* variables
	 * into these: eb_store_opts_tuning_from_env) */
	int s3_max_attempts;        /* per request (8) */
	long s3_retry_budget_s;     /* time one request may spend retrying (180) */
	size_t s3_part_size;        /* first part size (8 MiB; 5..512 MiB) */
	int s3_part_double_every;   /* parts per size step (2000) */
	int s3_buffers;             /* part buffers in memory (4) */
	int s3_list_max_keys;       /* ListObjectsV2 page size (server's) */
	/* New objects (--s3-object-lock-mode/-days, --s3-sse, --s3-sse-kms-key-id) */
	const char *s3_lock_mode;   /* "GOVERNANCE" / "COMPLIANCE", NULL: none */
	int s3_lock_days;           /* retention from the write, with lock_mode */
	const char *s3_sse;         /* "AES256" / "aws:kms", NULL: bucket default */
	const char *s3_sse_kms_key; /* with aws:kms: the key id, NULL: the default key */
	/* Azure Blob (azblob://): --azure-endpoint (a whole blob endpoint, as
	 * Azurite's or a private endpoint's), --azure-endpoint-suffix (the
	 * sovereign clouds: core.chinacloudapi.cn ...) */
	const char *azure_endpoint;
	const char *azure_endpoint_suffix;
	const char *azure_ca_file; /* --azure-ca-file: CA bundle for HTTPS */
	/* Called, possibly from a worker thread, before a remote request is
	 * retried, with one line saying what failed and what happens next, so
	 * the binary can log it (libraries never print).  May be NULL. */
	void (*on_retry)(void *arg, const char *msg);
	void *on_retry_arg;
} eb_store_opts;

void eb_store_opts_init(eb_store_opts *o);

/* The --s3-* flags both binaries take, by name without the dashes
 * ("s3-endpoint", ...); arg is the flag's value (NULL for a bare
 * --s3-path-style).  1 if name is not one of them, 0 when applied,
 * EB_EINVAL with a message for a bad value. */
int eb_store_opts_flag(eb_store_opts *o, const char *name, const char *arg, eb_err *err);

/* The EB_S3_* tuning variables (EB_S3_MAX_ATTEMPTS, EB_S3_RETRY_BUDGET_S,
 * EB_S3_PART_SIZE, EB_S3_PART_DOUBLE_EVERY, EB_S3_BUFFERS,
 * EB_S3_LIST_MAX_KEYS): tests and benchmarks set them. */
int eb_store_opts_tuning_from_env(eb_store_opts *o, eb_err *err);

typedef struct eb_store_entry {
	char *name;      /* relative to the root */
	uint64_t size;
	int64_t mtime;   /* unix seconds, 0 when unknown */
} eb_store_entry;

typedef struct eb_store_list {
	eb_store_entry *v;
	size_t n, cap;
} eb_store_list;

void eb_store_list_dispose(eb_store_list *l);
int eb_store_list_add(eb_store_list *l, const char *name, uint64_t size,
                      int64_t mtime, eb_err *err);

typedef struct eb_store_ops {
	const char *kind; /* "local", "s3" */
	int (*put_stream)(eb_store *st, const char *name, eb_stream **out,
	                  eb_err *err);
	int (*put_bytes)(eb_store *st, const char *name, const void *buf,
	                 size_t len, eb_err *err);
	int (*get)(eb_store *st, const char *name, eb_stream *sink, eb_err *err);
	int (*list)(eb_store *st, eb_store_list *out, eb_err *err);
	int (*del)(eb_store *st, const char *name, eb_err *err);
	/* Removes (or with dry_run only counts) the debris of writes that
	 * never committed and started more than older_than_s seconds ago:
	 * temp files of a killed run, multipart uploads never completed. */
	int (*clean_incomplete)(eb_store *st, int64_t older_than_s, int dry_run, int *n,
	                        eb_err *err);
	/* The time (unix seconds) until which Object Lock retention keeps
	 * `name` from being deleted, 0 when none.  NULL: the store has no
	 * retention (local folders). */
	int (*retained_until)(eb_store *st, const char *name, int64_t *until, eb_err *err);
	/* The names whose current version is a delete marker over an older
	 * version still kept (a versioned bucket: a plain DELETE hides an
	 * object, and Object Lock may keep it).  NULL: no versions (folders). */
	int (*list_hidden)(eb_store *st, eb_store_list *out, eb_err *err);
	/* What the store is, however it was spelled: the resolved folder
	 * ("local:/var/backups/etcd": DIR, DIR/, file://DIR and a symlink to
	 * DIR are one), or "s3:bucket/prefix/@host[:port]".  Writers that must
	 * not share a store (replicate's lock) compare this. */
	int (*identity)(eb_store *st, char *out, size_t cap, eb_err *err);
	void (*free)(eb_store *st);
} eb_store_ops;

struct eb_store {
	const eb_store_ops *ops;
	char *url; /* as the operator wrote it, for messages (no secrets) */
};

/* Opens the store named by url; a missing local folder is created only by
 * the first put.  Fails with EB_EINVAL on an unknown scheme. */
int eb_store_open(eb_store **out, const char *url, const eb_store_opts *opts,
                  eb_err *err);
void eb_store_free(eb_store *st);

int eb_store_put_stream(eb_store *st, const char *name, eb_stream **out,
                        eb_err *err);
int eb_store_put_bytes(eb_store *st, const char *name, const void *buf,
                       size_t len, eb_err *err);
int eb_store_get(eb_store *st, const char *name, eb_stream *sink,
                 eb_err *err);
/* Reads a small object into a malloc'd NUL-terminated buffer; fails with
 * EB_ECORRUPT when it is larger than max_len. */
int eb_store_get_bytes(eb_store *st, const char *name, size_t max_len,
                       char **out, size_t *out_len, eb_err *err);
/* Whether the small object `name` holds exactly buf (a retried write that
 * finds the name taken asks whether its own lost first answer took it). */
int eb_store_holds(eb_store *st, const char *name, const void *buf, size_t len);
int eb_store_list_all(eb_store *st, eb_store_list *out, eb_err *err);
int eb_store_delete(eb_store *st, const char *name, eb_err *err);
/* See eb_store_ops.identity. */
int eb_store_identity(eb_store *st, char *out, size_t cap, eb_err *err);
/* Hidden objects: see eb_store_ops.list_hidden (none for stores without). */
int eb_store_list_hidden(eb_store *st, eb_store_list *out, eb_err *err);
/* Object Lock: see eb_store_ops.retained_until (0 for stores without). */
int eb_store_retained_until(eb_store *st, const char *name, int64_t *until, eb_err *err);
int eb_store_clean_incomplete(eb_store *st, int64_t older_than_s, int dry_run, int *n,
                              eb_err *err);

/* Backend constructors (store.c dispatches on the url). */
int eb_local_store_open(eb_store **out, const char *url, const char *path,
                        eb_err *err);
int eb_s3_store_open(eb_store **out, const char *url,
                     const eb_store_opts *opts, eb_err *err);
int eb_az_store_open(eb_store **out, const char *url,
                     const eb_store_opts *opts, eb_err *err);

#endif
