#include "agent/deep.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "restore/datadir.h"
#include "restore/inspect.h"
#include "storage/catalog.h"
#include "storage/file_sink.h"

void
eb_deep_record(eb_cluster *cl, eb_member *m, eb_manifest *man)
{
	int64_t rev = man->revision, crev = 0, hrev = 0;
	uint32_t h = 0;
	eb_err e;
	eb_err_init(&e);
	if (eb_etcd_hashkv(m->conn, rev, &h, &crev, &hrev, &e) < 0) {
		EB_LOG(EB_LOG_WARN, "snapshot", "HashKV at revision %" PRId64 " on %s failed, none recorded "
		       "(verify --deep cannot check this backup): %s", rev, m->endpoint, e.msg);
		return;
	}
	man->has_hashkv = 1;
	man->hashkv = h;
	man->hashkv_revision = rev;
	man->hashkv_compact_revision = crev;
	/* asked after the stream: nothing in the snapshot is newer than the
	 * revision this answer came at */
	if (hrev > man->revision)
		man->revision_bound = hrev;
	for (size_t i = 0; cl && i < cl->n; i++) {
		eb_member *o = &cl->m[i];
		uint32_t oh = 0;
		int64_t oc = 0, ohr = 0;
		size_t n;
		if (o == m || !o->ok || !o->conn)
			continue;
		eb_err_init(&e);
		if (eb_etcd_hashkv(o->conn, rev, &oh, &oc, &ohr, &e) < 0) {
			EB_LOG(EB_LOG_WARN, "snapshot", "HashKV at revision %" PRId64 " on %s failed, not compared: %s",
			       rev, o->endpoint, e.msg);
			continue;
		}
		if (oh == h)
			continue;
		n = strlen(man->hashkv_disagreement);
		snprintf(man->hashkv_disagreement + n, sizeof man->hashkv_disagreement - n,
		         "%s%s (member %016" PRIx64 ") HashKV %" PRIu32, n ? "; " : "", o->endpoint,
		         o->st.member_id, oh);
	}
}

int
eb_deep_verify(eb_store *st, const eb_manifest *man, const eb_read_keys *keys,
               const char *tmpdir, eb_err *err)
{
	char dir[4096], path[4200];
	eb_stream *sink = NULL;
	eb_inspect_opts io = {0}; /* every field: compact_rev_set must be 0 */
	eb_inspect_result r;
	int rc;
	if (!man->has_hashkv)
		return eb_err_set(err, EB_ECORRUPT, "backup %s records no HashKV (an older etcd-backup, or the "
		                  "member did not answer): --deep cannot check it", man->id);
	if (snprintf(dir, sizeof dir, "%s/etcd-backup-deep.XXXXXX", tmpdir) >= (int)sizeof dir || !mkdtemp(dir))
		return eb_err_set(err, EB_EIO, "cannot create a temp dir in %s (set --tmp-dir)", tmpdir);
	snprintf(path, sizeof path, "%s/snapshot.db", dir);
	/* the stored object, checked against every digest on the way in */
	rc = eb_file_sink_new(&sink, path, EB_FILE_NO_REPLACE, err);
	if (rc == 0)
		rc = eb_catalog_fetch(st, man, keys, sink, err);
	eb_stream_free_chain(sink);
	io.hashkv_rev = man->hashkv_revision;
	io.new_rules = eb_hashkv_new_rules_for(man->etcd_version);
	if (rc == 0)
		rc = eb_inspect_file(path, &io, &r, err);
	if (rc == 0 && !r.structure_ok)
		rc = eb_err_set(err, EB_ECORRUPT, "backup %s: %s", man->id, r.structure_msg);
	if (rc == 0 && r.hashkv != man->hashkv)
		rc = eb_err_set(err, EB_ECORRUPT,
		                "backup %s holds another keyspace than the cluster had: its HashKV at revision %"
		                PRId64 " is %" PRIu32 ", the member answered %" PRIu32 " when it was taken",
		                man->id, man->hashkv_revision, r.hashkv, man->hashkv);
	eb_dir_remove(dir);
	return rc;
}
