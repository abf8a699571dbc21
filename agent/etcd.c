/* agent/etcd.c - the etcd v3 API the agent uses (see etcd.h): Maintenance
 * (Status, Alarm, HashKV, Snapshot) and Put; agent/etcd_call.c is the gRPC
 * call layer, agent/etcd_watch.c the watch, leases and the lock.
 *
 * gRPC facts this file relies on (measured against etcd 3.4.23, see
 * docs/formats/grpc.md):
 *   - TLS failures all arrive as UNAVAILABLE with the cause in the details.
 *   - Maintenance auth errors arrive as UNKNOWN "auth: ...", KV auth errors
 *     as real codes: message strings decide whether to re-authenticate.
 *   - A token whose ".N" suffix is above the member's raft index makes calls
 *     hang until the deadline: every call has one.
 *   - A snapshot arrives as 32 KiB blobs; the first message's
 *     remaining_bytes + len(blob) is the database size; one last message
 *     carries the 32-byte sha256 trailer.  3.4 sends no header.
 */
#include "agent/etcd.h"

#include "agent/etcd_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/interrupt.h"
#include "common/log.h"

int
eb_etcd_status_get(eb_etcd *c, eb_etcd_status *out, eb_err *err)
{
	Etcdserverpb__StatusRequest req = ETCDSERVERPB__STATUS_REQUEST__INIT;
	Etcdserverpb__StatusResponse *s;
	int rc = eb_etcd_unary(c, "/etcdserverpb.Maintenance/Status", "Status", &req.base,
	               &etcdserverpb__status_response__descriptor, (ProtobufCMessage **)&s, err);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof *out);
	if (s->header) {
		out->cluster_id = s->header->cluster_id;
		out->member_id = s->header->member_id;
		out->revision = s->header->revision;
	}
	out->leader = s->leader;
	out->raft_term = s->raftterm;
	out->raft_index = s->raftindex;
	out->raft_applied_index = s->raftappliedindex;
	out->db_size = s->dbsize;
	out->db_size_in_use = s->dbsizeinuse;
	out->is_learner = s->islearner;
	snprintf(out->version, sizeof out->version, "%s", s->version ? s->version : "");
	snprintf(out->storage_version, sizeof out->storage_version, "%s",
	         s->storageversion ? s->storageversion : "");
	out->db_size_quota = s->dbsizequota;
	if (s->downgradeinfo) {
		out->downgrade_enabled = s->downgradeinfo->enabled;
		snprintf(out->downgrade_target, sizeof out->downgrade_target, "%s",
		         s->downgradeinfo->targetversion ? s->downgradeinfo->targetversion : "");
	}
	for (size_t i = 0; i < s->n_errors; i++) {
		size_t n = strlen(out->errors);
		snprintf(out->errors + n, sizeof out->errors - n, "%s%s", n ? "; " : "", s->errors[i]);
	}
	protobuf_c_message_free_unpacked(&s->base, NULL);
	return 0;
}

const char *
eb_etcd_alarm_name(int alarm)
{
	return alarm == ETCDSERVERPB__ALARM_TYPE__NOSPACE ? "NOSPACE"
	       : alarm == ETCDSERVERPB__ALARM_TYPE__CORRUPT ? "CORRUPT" : "UNKNOWN";
}

int
eb_etcd_alarms(eb_etcd *c, eb_etcd_alarm *out, size_t cap, size_t *n, eb_err *err)
{
	Etcdserverpb__AlarmRequest req = ETCDSERVERPB__ALARM_REQUEST__INIT;
	Etcdserverpb__AlarmResponse *a;
	int rc;
	req.action = 0; /* GET */
	rc = eb_etcd_unary(c, "/etcdserverpb.Maintenance/Alarm", "Alarm", &req.base,
	           &etcdserverpb__alarm_response__descriptor, (ProtobufCMessage **)&a, err);
	if (rc < 0)
		return rc;
	*n = 0;
	for (size_t i = 0; i < a->n_alarms && *n < cap; i++) {
		if (a->alarms[i]->alarm == ETCDSERVERPB__ALARM_TYPE__NONE)
			continue;
		out[*n].member_id = a->alarms[i]->memberid;
		out[*n].alarm = a->alarms[i]->alarm;
		(*n)++;
	}
	protobuf_c_message_free_unpacked(&a->base, NULL);
	return 0;
}

int
eb_etcd_hashkv(eb_etcd *c, int64_t rev, uint32_t *hash, int64_t *compact_rev,
               int64_t *header_rev, eb_err *err)
{
	Etcdserverpb__HashKVRequest req = ETCDSERVERPB__HASH_KVREQUEST__INIT;
	Etcdserverpb__HashKVResponse *h;
	int rc;
	req.revision = rev;
	rc = eb_etcd_unary(c, "/etcdserverpb.Maintenance/HashKV", "HashKV", &req.base,
	           &etcdserverpb__hash_kvresponse__descriptor, (ProtobufCMessage **)&h, err);
	if (rc < 0)
		return rc;
	*hash = h->hash;
	if (compact_rev)
		*compact_rev = h->compact_revision;
	if (header_rev)
		*header_rev = h->header ? h->header->revision : 0;
	protobuf_c_message_free_unpacked(&h->base, NULL);
	return 0;
}

int
eb_etcd_put(eb_etcd *c, const void *key, size_t klen, const void *val, size_t vlen,
            eb_err *err)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	ProtobufCMessage *resp;
	int rc;
	req.key.data = (uint8_t *)key;
	req.key.len = klen;
	req.value.data = (uint8_t *)val;
	req.value.len = vlen;
	rc = eb_etcd_unary(c, "/etcdserverpb.KV/Put", "Put", &req.base,
	           &etcdserverpb__put_response__descriptor, &resp, err);
	if (rc == 0)
		protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

/* range_end of a prefix: the prefix with its last byte below 0xff
 * incremented (bytes after it dropped); "\0" (every key) when none is. */
static size_t
prefix_end(const uint8_t *k, size_t n, uint8_t *end)
{
	memcpy(end, k, n);
	while (n && end[n - 1] == 0xff)
		n--;
	if (!n) {
		end[0] = 0;
		return 1;
	}
	end[n - 1]++;
	return n;
}

int
eb_etcd_range_all(eb_etcd *c, const uint8_t *key, size_t key_len, int prefix, int64_t *rev,
                  eb_etcd_kv_fn fn, void *ctx, eb_err *err)
{
	Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
	uint8_t *from = malloc(key_len + 2), *end = malloc(key_len + 1);
	size_t fl = key_len, el = 0;
	int rc = 0, more = 1;
	if (!from || !end) {
		free(from);
		free(end);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	if (key_len)
		memcpy(from, key, key_len);
	if (!key_len) { /* every key: from "\0" to "\0" */
		from[0] = 0;
		fl = 1;
		end[0] = 0;
		el = 1;
	} else if (prefix) {
		el = prefix_end(key, key_len, end);
	}
	req.limit = 1000;
	while (more && rc == 0) {
		Etcdserverpb__RangeResponse *r;
		req.key.data = from;
		req.key.len = fl;
		req.range_end.data = end;
		req.range_end.len = el;
		req.revision = *rev;
		rc = eb_etcd_unary(c, "/etcdserverpb.KV/Range", "Range", &req.base,
		                   &etcdserverpb__range_response__descriptor, (ProtobufCMessage **)&r, err);
		if (rc < 0)
			break;
		if (!*rev && r->header)
			*rev = r->header->revision;
		more = r->more && r->n_kvs;
		for (size_t i = 0; i < r->n_kvs && rc == 0; i++) {
			const Mvccpb__KeyValue *k = r->kvs[i];
			eb_etcd_kv kv = {k->key.data, k->value.data, k->key.len, k->value.len, k->create_revision,
			                 k->mod_revision, k->version, k->lease};
			rc = fn(ctx, &kv, err);
		}
		if (more && rc == 0) { /* the next page starts after the last key */
			const ProtobufCBinaryData *last = &r->kvs[r->n_kvs - 1]->key;
			uint8_t *t = realloc(from, last->len + 1);
			if (!t)
				rc = eb_err_set(err, EB_ENOMEM, "out of memory");
			else {
				from = t;
				memcpy(from, last->data, last->len);
				from[last->len] = 0;
				fl = last->len + 1;
			}
		}
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	free(from);
	free(end);
	return rc;
}

int
eb_etcd_count(eb_etcd *c, int64_t *count, int64_t *rev, eb_err *err)
{
	Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__RangeResponse *r;
	uint8_t zero = 0;
	int rc;
	req.key.data = req.range_end.data = &zero;
	req.key.len = req.range_end.len = 1;
	req.count_only = 1;
	rc = eb_etcd_unary(c, "/etcdserverpb.KV/Range", "Range", &req.base,
	                   &etcdserverpb__range_response__descriptor, (ProtobufCMessage **)&r, err);
	if (rc < 0)
		return rc;
	*count = r->count;
	*rev = r->header ? r->header->revision : 0;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

/* ---- the snapshot stream ---- */

typedef struct {
	uint64_t got, expect_db;
	int have_first;
} snap_count;

/* Decodes one SnapshotResponse and forwards its blob to the sink. */
static int
on_message(eb_etcd *c, grpc_byte_buffer *bb, snap_count *n, eb_stream *sink,
           eb_etcd_progress_fn fn, void *arg, eb_err *err)
{
	Etcdserverpb__SnapshotResponse *m = (Etcdserverpb__SnapshotResponse *)eb_etcd_unpack(
		&etcdserverpb__snapshot_response__descriptor, bb);
	int rc;
	if (!m)
		return eb_err_set(err, EB_ECORRUPT, "etcd %s: undecodable snapshot message", c->endpoint);
	if (!n->have_first) {
		n->have_first = 1;
		n->expect_db = m->remaining_bytes + m->blob.len;
	}
	if (m->version && m->version[0]) /* 3.6+: the storage version */
		snprintf(c->snap_version, sizeof c->snap_version, "%s", m->version);
	rc = eb_stream_write(sink, m->blob.data, m->blob.len, err);
	n->got += m->blob.len;
	protobuf_c_message_free_unpacked(&m->base, NULL);
	if (rc == 0 && fn)
		fn(n->got, n->expect_db + 32, arg);
	return rc;
}

static int snapshot_once(eb_etcd *c, eb_stream *sink, eb_etcd_progress_fn fn, void *arg,
                         uint64_t *out_db_size, int *token_rejected, eb_err *err);

int
eb_etcd_snapshot(eb_etcd *c, eb_stream *sink, eb_etcd_progress_fn fn, void *arg,
                 uint64_t *out_db_size, eb_err *err)
{
	int rejected = 0, rc;
	eb_err first;
	eb_err_init(&first);
	rc = snapshot_once(c, sink, fn, arg, out_db_size, &rejected, &first);
	if (rc < 0 && rejected && c->user) {
		/* the member refused the token before sending any data (expired,
		 * or the member restarted): authenticate again, once */
		EB_LOG(EB_LOG_INFO, "etcd", "%s: token rejected (%s), authenticating again",
		       c->endpoint, first.msg);
		rc = eb_etcd_authenticate(c, err);
		if (rc == 0)
			rc = snapshot_once(c, sink, fn, arg, out_db_size, &rejected, err);
		return rc;
	}
	if (rc < 0)
		eb_err_set(err, rc, "%s", first.msg);
	return rc;
}

/* on_msg of the snapshot stream */
typedef struct {
	eb_etcd *c;
	snap_count n;
	eb_stream *sink;
	eb_etcd_progress_fn fn;
	void *arg;
} snap_read;

static int
snap_msg(void *arg, grpc_byte_buffer *bb, eb_err *err)
{
	snap_read *s = arg;
	return on_message(s->c, bb, &s->n, s->sink, s->fn, s->arg, err);
}

static int
snapshot_once(eb_etcd *c, eb_stream *sink, eb_etcd_progress_fn fn, void *arg,
              uint64_t *out_db_size, int *token_rejected, eb_err *err)
{
	Etcdserverpb__SnapshotRequest req = ETCDSERVERPB__SNAPSHOT_REQUEST__INIT;
	snap_read s = {.c = c, .sink = sink, .fn = fn, .arg = arg};
	eb_etcd_reader rd = {.on_msg = snap_msg, .arg = &s, .idle_ms = c->o.stream_idle_ms,
	                     .idle_why = "no snapshot data within the idle timeout", .half_close = 1};
	eb_etcd_stream_end end;
	const snap_count *n = &s.n;
	char what[96];
	int rc = eb_etcd_stream(c, "/etcdserverpb.Maintenance/Snapshot", "snapshot", &req.base, &rd, &end, err);
	if (rc < 0)
		return rc;
	if (eb_interrupted() && !end.timed_out && end.code != GRPC_STATUS_OK) {
		snprintf(what, sizeof what, "streaming the snapshot (after %llu bytes)", (unsigned long long)n->got);
		return eb_interrupt_check(err, what);
	}
	if (end.timed_out)
		return eb_err_set(err, EB_ETIMEOUT,
		                  "etcd %s: snapshot stalled: no data for %d s after %llu bytes (member frozen or overloaded; --snapshot-idle-timeout)",
		                  c->endpoint, c->o.stream_idle_ms / 1000, (unsigned long long)n->got);
	if (end.code != GRPC_STATUS_OK) {
		snprintf(what, sizeof what, "snapshot (after %llu bytes)", (unsigned long long)n->got);
		*token_rejected = n->got == 0 && eb_etcd_is_token_error(end.details);
		return eb_etcd_status_error(c, what, end.code, end.details[0] ? end.details : eb_etcd_code_name(end.code), err);
	}
	if (!n->have_first || n->got != n->expect_db + 32)
		return eb_err_set(err, EB_ECORRUPT,
		                  "etcd %s: snapshot stream ended with %llu bytes, but %llu database bytes plus the 32-byte trailer were announced",
		                  c->endpoint, (unsigned long long)n->got, (unsigned long long)n->expect_db);
	if (out_db_size)
		*out_db_size = n->expect_db;
	return 0;
}

const char *
eb_etcd_snapshot_storage_version(const eb_etcd *c)
{
	return c->snap_version;
}

