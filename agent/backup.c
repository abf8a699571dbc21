#include "agent/backup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/deep.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "storage/digest.h"
#include "storage/pipeline.h"
#include "storage/signed.h"

/* "20261121T044315Z-r12345-<cluster id>-<random>": says when, at which
 * revision and of which cluster; 32 random bits make two runs in the same
 * second at the same revision distinct.  (Stores also refuse to replace an
 * object, so even a collision could not overwrite a backup.) */
static int
make_id(eb_manifest *m, time_t t, eb_err *err)
{
	struct tm tm;
	char ts[32];
	uint32_t rnd;
	int rc = eb_random(&rnd, sizeof rnd, err);
	if (rc < 0)
		return rc;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(m->id, sizeof m->id, "%s-r%" PRId64 "-%016" PRIx64 "-%08" PRIx32, ts,
	         m->revision, m->cluster_id, rnd);
	strftime(m->created, sizeof m->created, "%Y-%m-%dT%H:%M:%SZ", &tm);
	m->created_unix = (int64_t)t;
	return 0;
}

static int
fill_from_status(eb_member *m, eb_manifest *man, eb_err *err)
{
	/* Status right before streaming: the revision the snapshot holds at
	 * least (3.4 sends no header in the stream). */
	int rc = eb_etcd_status_get(m->conn, &m->st, err);
	if (rc < 0)
		return rc;
	man->cluster_id = m->st.cluster_id;
	man->member_id = m->st.member_id;
	snprintf(man->endpoint, sizeof man->endpoint, "%s", m->endpoint);
	snprintf(man->etcd_version, sizeof man->etcd_version, "%s", m->st.version);
	man->revision = m->st.revision;
	man->raft_term = m->st.raft_term;
	man->raft_index = m->st.raft_index;
	return 0;
}

/* Step 1: what the manifest says before the stream: the member's status,
 * compression, recipients, id and object name, tags. */
static int
describe(eb_member *m, const eb_backup_opts *o, eb_manifest *man, eb_err *err)
{
	int zstd = strcmp(o->compression, "zstd") == 0;
	int rc = fill_from_status(m, man, err);
	if (rc < 0)
		return rc;
	snprintf(man->compression, sizeof man->compression, "%s", zstd ? "zstd" : "none");
	if (o->age && o->age->n) {
		snprintf(man->encryption, sizeof man->encryption, "age");
		for (size_t i = 0; i < o->age->n && rc == 0; i++)
			rc = eb_manifest_add_recipient(man, o->age->v[i].text, err);
		if (rc < 0)
			return rc;
	}
	if ((rc = make_id(man, time(NULL), err)) < 0)
		return rc;
	eb_manifest_object_name(man, man->object, sizeof man->object);
	man->compression_level = zstd ? o->level : 0;
	snprintf(man->tool_version, sizeof man->tool_version, "%s", EB_TOOL_VERSION);
	if (o->origin)
		snprintf(man->origin, sizeof man->origin, "%s", o->origin);
	for (size_t i = 0; i < o->ntags && rc == 0; i++)
		rc = eb_manifest_add_tag(man, o->tags[i], err);
	return rc;
}

/* The digests and sizes the stream measured, into the manifest. */
static void
record_digests(eb_manifest *man, eb_stream *trailer, eb_stream *stored)
{
	uint8_t d[EB_SHA256_LEN];
	man->db_size = eb_trailer_stage_db_size(trailer);
	man->snapshot_size = man->db_size + EB_SHA256_LEN;
	eb_trailer_stage_db_digest(trailer, d);
	eb_hex(d, EB_SHA256_LEN, man->db_sha256);
	eb_trailer_stage_file_digest(trailer, d);
	eb_hex(d, EB_SHA256_LEN, man->snapshot_sha256);
	eb_sha256_stage_digest(stored, d);
	eb_hex(d, EB_SHA256_LEN, man->stored_sha256);
	man->stored_size = stored->nbytes_in;
}

/* Step 2: etcd's snapshot -> trailer check -> [compress, encrypt on a
 * worker thread] -> sha256 -> the object.  0 when the object is committed
 * (every check passed first); on failure nothing is left of it. */
static int
store_snapshot(eb_member *m, eb_store *st, const eb_backup_opts *o, eb_manifest *man, eb_err *err)
{
	eb_pipe_opts po = {
		.zstd = strcmp(man->compression, "zstd") == 0 ? EB_PIPE_ZSTD : EB_PIPE_PLAIN,
		.level = o->level,
		.rcpt = eb_manifest_encrypted(man) ? o->age : NULL,
		.async = 1, /* receive + hash here, compress + encrypt + store on a worker */
		.own_tail = 1,
	};
	eb_pipe pipe = {0};
	eb_stream *sink = NULL, *trailer = NULL;
	uint64_t db_size = 0;
	int rc = eb_store_put_stream(st, man->object, &sink, err);
	if (rc == 0)
		rc = eb_pipe_encode(&pipe, &po, sink, err);
	if (rc == 0)
		rc = eb_trailer_stage_new(&trailer, pipe.head, err);
	if (rc == 0)
		rc = eb_etcd_snapshot(m->conn, trailer, o->progress, o->progress_arg, &db_size, err);
	/* every check before the commit: a failed check must leave nothing */
	if (rc == 0 && trailer->nbytes_in != db_size + EB_SHA256_LEN)
		rc = eb_err_set(err, EB_ECORRUPT,
		                "snapshot size mismatch: etcd announced %llu database bytes, %llu arrived",
		                (unsigned long long)db_size, (unsigned long long)trailer->nbytes_in);
	if (rc == 0)
		rc = eb_stream_finish(trailer, err); /* trailer check, then commit */
	if (rc == 0)
		record_digests(man, trailer, pipe.stored);
	/* free the chain: aborts the sink unless finish committed it */
	if (trailer)
		trailer->ops->free(trailer);
	eb_pipe_dispose(&pipe);
	return rc;
}

/* Step 3 (--control-plane): the bundle, as a second object of the backup,
 * encrypted like the snapshot; its list goes into the manifest.  On
 * failure the snapshot object is removed too: no half backup. */
static int
store_control_plane(eb_store *st, const eb_backup_opts *o, eb_manifest *man, eb_err *err)
{
	int rc = eb_cp_store(st, man->id, eb_manifest_encrypted(man) ? o->age : NULL, o->cp, err);
	if (rc == 0)
		rc = eb_cp_manifest_copy(&man->cp, &o->cp->man, err);
	if (rc < 0) {
		eb_err e2;
		eb_err_init(&e2);
		if (o->cp->man.object[0])
			eb_store_delete(st, o->cp->man.object, &e2);
		eb_store_delete(st, man->object, &e2);
	}
	return rc;
}

int
eb_backup_run(eb_member *m, eb_store *st, const eb_backup_opts *o, eb_manifest *man,
              eb_backup_result *res, eb_err *err)
{
	char mname[128], *json = NULL;
	double t0 = eb_mono_s();
	int rc;

	eb_manifest_init(man);
	rc = describe(m, o, man, err);
	if (rc == 0)
		rc = store_snapshot(m, st, o, man, err);
	if (rc == 0 && o->cp)
		rc = store_control_plane(st, o, man, err);
	if (rc < 0) {
		eb_manifest_dispose(man);
		return rc;
	}
	/* the object is committed: prove it equals the cluster (HashKV of
	 * every member at the revision), then write the manifest */
	snprintf(man->storage_version, sizeof man->storage_version, "%s",
	         eb_etcd_snapshot_storage_version(m->conn));
	eb_deep_record(o->cluster, m, man);
	eb_manifest_name(man->id, mname, sizeof mname);
	if ((rc = eb_manifest_to_json(man, &json, err)) == 0)
		/* signature, then the manifest: the COMMIT POINT of the backup;
		 * a failure removes the signature and the object */
		rc = eb_store_commit_signed(st, mname, json, o->signer, man->object, err);
	else {
		eb_err e2;
		eb_err_init(&e2);
		eb_store_delete(st, man->object, &e2); /* no manifest: debris */
	}
	if (rc < 0 && man->cp) {
		eb_err e2;
		eb_err_init(&e2);
		eb_store_delete(st, man->cp->object, &e2);
	}
	free(json);
	res->seconds = eb_mono_s() - t0;
	if (rc < 0)
		eb_manifest_dispose(man);
	return rc;
}
