#include "agent/backup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/deep.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "crypt/age_stage.h"
#include "storage/async_stage.h"
#include "storage/digest.h"
#include "storage/zstd_stage.h"

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

/* <id>.manifest.json.sig: the SSHSIG of the manifest's exact bytes */
static int
put_signature(eb_store *st, const eb_ssh_signer *s, const char *id, const char *json,
              int *written, eb_err *err)
{
	char name[128];
	int rc;
	eb_manifest_name(id, name, sizeof name);
	rc = eb_store_put_signature(st, s, name, json, err);
	*written = rc == 0;
	return rc;
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

int
eb_backup_run(eb_member *m, eb_store *st, const eb_backup_opts *o, eb_manifest *man,
              eb_backup_result *res, eb_err *err)
{
	eb_stream *sink = NULL, *stored = NULL, *age = NULL, *zs = NULL, *async = NULL,
		*trailer = NULL;
	uint8_t d[EB_SHA256_LEN];
	uint64_t db_size = 0;
	char mname[128], *json = NULL;
	int zstd = strcmp(o->compression, "zstd") == 0, committed = 0, signed_obj = 0;
	double t0 = eb_mono_s();
	int rc;

	eb_manifest_init(man);
	rc = fill_from_status(m, man, err);
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
	rc = make_id(man, time(NULL), err);
	if (rc < 0)
		return rc;
	eb_manifest_object_name(man, man->object, sizeof man->object);
	man->compression_level = zstd ? o->level : 0;
	snprintf(man->tool_version, sizeof man->tool_version, "%s", EB_TOOL_VERSION);
	if (o->origin)
		snprintf(man->origin, sizeof man->origin, "%s", o->origin);
	for (size_t i = 0; i < o->ntags && rc == 0; i++)
		rc = eb_manifest_add_tag(man, o->tags[i], err);

	/* built back to front; every stage forwards to the one built before */
	if (rc == 0)
		rc = eb_store_put_stream(st, man->object, &sink, err);
	if (rc == 0)
		rc = eb_sha256_stage_new(&stored, sink, err);
	if (rc == 0 && eb_manifest_encrypted(man))
		rc = eb_age_encrypt_new(&age, o->age, stored, err);
	if (rc == 0 && zstd)
		rc = eb_zstd_compress_new(&zs, o->level, age ? age : stored, err);
	/* receive + hash here, compress + encrypt + store on a worker thread */
	if (rc == 0)
		rc = eb_async_stage_new(&async, zs ? zs : age ? age : stored, err);
	if (rc == 0)
		rc = eb_trailer_stage_new(&trailer, async, err);
	if (rc == 0)
		rc = eb_etcd_snapshot(m->conn, trailer, o->progress, o->progress_arg, &db_size, err);
	/* every check before the commit: a failed check must leave nothing */
	if (rc == 0 && trailer->nbytes_in != db_size + EB_SHA256_LEN)
		rc = eb_err_set(err, EB_ECORRUPT,
		                "snapshot size mismatch: etcd announced %llu database bytes, %llu arrived",
		                (unsigned long long)db_size,
		                (unsigned long long)trailer->nbytes_in);
	if (rc == 0)
		rc = eb_stream_finish(trailer, err); /* trailer check, then commit */
	committed = rc == 0;
	if (rc == 0) {
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
	/* free the chain: aborts the sink unless finish committed it */
	if (trailer) trailer->ops->free(trailer);
	if (async) async->ops->free(async);
	if (zs) zs->ops->free(zs);
	if (age) age->ops->free(age);
	if (stored) stored->ops->free(stored);
	if (sink) sink->ops->free(sink);
	/* the object is committed: prove it equals the cluster (HashKV of
	 * every member at the revision), then write the manifest */
	if (rc == 0) {
		snprintf(man->storage_version, sizeof man->storage_version, "%s",
		         eb_etcd_snapshot_storage_version(m->conn));
		eb_deep_record(o->cluster, m, man);
	}
	if (rc == 0)
		rc = eb_manifest_to_json(man, &json, err);
	/* the signature before the manifest: a signed backup never exists
	 * unsigned, not even for a moment */
	if (rc == 0 && o->signer)
		rc = put_signature(st, o->signer, man->id, json, &signed_obj, err);
	/* COMMIT POINT: the manifest makes the backup exist */
	if (rc == 0) {
		eb_manifest_name(man->id, mname, sizeof mname);
		rc = eb_store_put_bytes(st, mname, json, strlen(json), err);
	}
	if (rc < 0 && man->object[0] && committed) {
		/* no manifest = no backup: remove the signature and the object so
		 * they are not debris */
		eb_err e2;
		char sname[160];
		eb_err_init(&e2);
		if (signed_obj) {
			eb_manifest_sig_name(man->id, sname, sizeof sname);
			eb_store_delete(st, sname, &e2);
		}
		eb_store_delete(st, man->object, &e2);
	}
	free(json);
	res->seconds = eb_mono_s() - t0;
	if (rc < 0)
		eb_manifest_dispose(man);
	return rc;
}
