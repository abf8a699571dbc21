/* restore/fetch.c - see fetch.h. */
#include "restore/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypt/age.h"
#include "storage/catalog.h"
#include "storage/file_sink.h"
#include "storage/manifest.h"
#include "storage/store.h"
#include "storage/pipeline.h"

int
eb_fetch_backup_m(const char *url, const eb_store_opts *opts, const eb_read_keys *keys, const char *id,
                  const char *path, eb_manifest *m, const eb_progress_cb *pr, eb_err *err)
{
	eb_store *st = NULL;
	eb_store_opts so;
	int rc;

	eb_store_opts_init(&so);
	eb_manifest_init(m);
	if ((rc = eb_store_open(&st, url, opts ? opts : &so, err)) == 0 &&
	    (rc = eb_catalog_find(st, id, keys, m, err)) == 0)
		rc = eb_fetch_manifest(st, m, keys, path, pr, err);
	if (st)
		eb_store_free(st);
	return rc;
}

int
eb_fetch_backup(const char *url, const eb_store_opts *opts, const eb_read_keys *keys,
                const char *id, const char *path, char *id_out, size_t id_out_len,
                uint64_t *cluster_out, const eb_progress_cb *pr, eb_err *err)
{
	eb_manifest m;
	int rc = eb_fetch_backup_m(url, opts, keys, id, path, &m, pr, err);
	if (id_out && m.id[0])
		snprintf(id_out, id_out_len, "%s", m.id);
	if (cluster_out)
		*cluster_out = m.cluster_id;
	eb_manifest_dispose(&m);
	return rc;
}

/* pr's counting stage in front of *s (which it then owns), when asked */
static int
with_progress(eb_stream **s, const eb_progress_cb *pr, uint64_t total, eb_err *err)
{
	eb_stream *p;
	int rc;
	if (!pr || !pr->fn)
		return 0;
	if ((rc = eb_progress_stage_new(&p, pr, total, *s, err)) == 0)
		*s = p;
	return rc;
}

int
eb_fetch_manifest(eb_store *st, const eb_manifest *m, const eb_read_keys *keys, const char *path,
                  const eb_progress_cb *pr, eb_err *err)
{
	eb_stream *sink = NULL;
	int rc = eb_file_sink_new(&sink, path, EB_FILE_NO_REPLACE | EB_FILE_SCRATCH, err);
	if (rc == 0)
		rc = with_progress(&sink, pr, m->snapshot_size, err);
	if (rc == 0)
		rc = eb_catalog_fetch_proven(st, m, keys, sink, err);
	if (sink)
		eb_stream_free_chain(sink); /* aborts (removes the file) unless finished */
	return rc;
}

int
eb_local_needs_decoding(const char *in, eb_err *err)
{
	static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
	static const char armour[] = "-----BEGIN AGE ENCRYPTED FILE-----";
	uint8_t head[128];
	ssize_t n;
	size_t sp = 0;
	int fd = open(in, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return eb_err_sys(err, errno == ENOENT ? EB_ENOTFOUND : EB_EIO, errno,
		                  "cannot open %s", in);
	n = read(fd, head, sizeof head);
	close(fd);
	if (n < 0)
		return eb_err_sys(err, EB_EIO, errno, "cannot read %s", in);
	while (sp < (size_t)n && (head[sp] == ' ' || head[sp] == '\t' || head[sp] == '\r' || head[sp] == '\n'))
		sp++; /* age allows blanks around the armour */
	if ((size_t)n - sp >= sizeof armour - 1 && memcmp(head + sp, armour, sizeof armour - 1) == 0)
		return eb_err_set(err, EB_EINVAL, "%s is an ASCII-armoured age file (age -a), which is not "
		                  "supported: decrypt it first (age -d -i KEY %s > snapshot.db) and restore that, "
		                  "or encrypt without -a", in, in);
	return eb_age_sniff(head, (size_t)n) || (n >= 4 && memcmp(head, zstd_magic, 4) == 0);
}

int
eb_decode_local_into(const char *in, const eb_read_keys *keys, eb_stream *sink, const eb_progress_cb *pr,
                     eb_err *err)
{
	struct stat sb;
	eb_stream *top;
	eb_pipe_opts po = {.zstd = EB_PIPE_ZSTD_AUTO, .no_digest = 1, .async = 1};
	eb_pipe pipe = {0};
	uint8_t head[32];
	int rc, fd, is_age = 0;
	ssize_t n;
	if ((fd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
		return eb_err_sys(err, EB_EIO, errno, "cannot open %s", in);
	n = read(fd, head, sizeof head);
	close(fd);
	is_age = n > 0 && eb_age_sniff(head, (size_t)n);
	if (is_age && !eb_read_keys_can_decrypt(keys))
		return eb_err_set(err, EB_EINVAL, "%s is age-encrypted: pass --age-identity FILE (or "
		                  "--age-passphrase-file for age -p files)", in);
	po.ids = is_age ? keys->age : NULL;
	rc = eb_pipe_decode(&pipe, &po, sink, err);
	top = pipe.head;
	if (rc == 0 && pr && pr->fn) /* the file's bytes read, against its size */
		rc = eb_progress_stage_new(&top, pr, stat(in, &sb) == 0 ? (uint64_t)sb.st_size : 0, pipe.head, err);
	if (rc == 0)
		rc = eb_file_push(in, top, err);
	if (rc == 0)
		rc = eb_stream_finish(top, err);
	if (rc < 0 && is_age)
		eb_err_set(err, rc, "decrypting %s", in);
	if (top && top != pipe.head)
		top->ops->free(top);
	eb_pipe_dispose(&pipe); /* our stages only: the sink is the caller's */
	return rc;
}

int
eb_decode_local(const char *in, const eb_read_keys *keys, const char *path, const eb_progress_cb *pr,
                eb_err *err)
{
	eb_stream *sink = NULL;
	int rc = eb_file_sink_new(&sink, path, EB_FILE_NO_REPLACE | EB_FILE_SCRATCH, err);
	if (rc == 0)
		rc = eb_decode_local_into(in, keys, sink, pr, err);
	if (sink)
		eb_stream_free_chain(sink); /* aborts (removes the file) unless finished */
	return rc;
}
