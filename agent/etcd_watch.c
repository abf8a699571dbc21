/* agent/etcd_watch.c - the watch of every key (replicate), leases and the
 * replicate lock (a key under a lease), over agent/etcd_call.c. */
#include "agent/etcd.h"

#include "agent/etcd_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- leases ---- */

int
eb_etcd_lease_ttl(eb_etcd *c, int64_t id, int64_t *granted_ttl, int64_t *ttl, eb_err *err)
{
	Etcdserverpb__LeaseTimeToLiveRequest req = ETCDSERVERPB__LEASE_TIME_TO_LIVE_REQUEST__INIT;
	ProtobufCMessage *out;
	Etcdserverpb__LeaseTimeToLiveResponse *r;
	int rc;
	req.id = id;
	rc = eb_etcd_unary(c, "/etcdserverpb.Lease/LeaseTimeToLive", "LeaseTimeToLive", &req.base,
	           &etcdserverpb__lease_time_to_live_response__descriptor, &out, err);
	if (rc < 0)
		return rc;
	r = (Etcdserverpb__LeaseTimeToLiveResponse *)out;
	*granted_ttl = r->grantedttl;
	*ttl = r->ttl;
	protobuf_c_message_free_unpacked(out, NULL);
	return 0;
}

/* ---- watch stream ---- */

/* Decodes one WatchResponse and hands it to fn. */
static int
watch_deliver(eb_etcd *c, grpc_byte_buffer *bb, eb_watch_fn fn, void *arg, eb_err *err)
{
	Etcdserverpb__WatchResponse *m = (Etcdserverpb__WatchResponse *)eb_etcd_unpack(
		&etcdserverpb__watch_response__descriptor, bb);
	eb_watch_event *ev = NULL;
	eb_watch_resp r;
	int rc;
	if (!m)
		return eb_err_set(err, EB_ECORRUPT, "etcd %s: undecodable watch message", c->endpoint);
	memset(&r, 0, sizeof r);
	if (m->n_events && !(ev = calloc(m->n_events, sizeof *ev))) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m->n_events; i++) {
		const Mvccpb__Event *e = m->events[i];
		const Mvccpb__KeyValue *kv = e->kv;
		if (!kv) {
			free(ev);
			protobuf_c_message_free_unpacked(&m->base, NULL);
			return eb_err_set(err, EB_ECORRUPT, "etcd %s: watch event without a key", c->endpoint);
		}
		ev[i].is_delete = e->type == MVCCPB__EVENT__EVENT_TYPE__DELETE;
		ev[i].key = kv->key.data;
		ev[i].key_len = kv->key.len;
		ev[i].value = kv->value.data;
		ev[i].value_len = kv->value.len;
		ev[i].create_revision = kv->create_revision;
		ev[i].mod_revision = kv->mod_revision;
		ev[i].version = kv->version;
		ev[i].lease = kv->lease;
	}
	r.header_revision = m->header ? m->header->revision : 0;
	r.created = m->created;
	r.canceled = m->canceled;
	r.compact_revision = m->compact_revision;
	r.cancel_reason = m->cancel_reason ? m->cancel_reason : "";
	r.fragment = m->fragment;
	r.n = m->n_events;
	r.events = ev;
	rc = fn(arg, &r, err);
	free(ev);
	protobuf_c_message_free_unpacked(&m->base, NULL);
	return rc;
}

typedef struct {
	eb_etcd *c;
	eb_watch_fn fn;
	void *arg;
} watch_read;

static int
watch_msg(void *arg, grpc_byte_buffer *bb, eb_err *err)
{
	watch_read *w = arg;
	return watch_deliver(w->c, bb, w->fn, w->arg, err);
}

static int
watch_tick(void *arg, eb_err *err)
{
	watch_read *w = arg;
	return w->fn(w->arg, NULL, err);
}

int
eb_etcd_watch(eb_etcd *c, int64_t start_rev, eb_watch_fn fn, void *arg, eb_err *err)
{
	Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
	Etcdserverpb__WatchCreateRequest cr = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
	static uint8_t zero = 0;
	watch_read w = {c, fn, arg};
	/* our side stays open: etcd's clients never half-close a watch */
	eb_etcd_reader rd = {.on_msg = watch_msg, .on_tick = watch_tick, .arg = &w};
	eb_etcd_stream_end end;
	int rc;
	cr.key.data = &zero; /* key "\0" .. range_end "\0": every key */
	cr.key.len = 1;
	cr.range_end.data = &zero;
	cr.range_end.len = 1;
	cr.start_revision = start_rev;
	cr.progress_notify = 1;
	/* a backlog comes as messages of about --max-request-bytes each, not as
	 * one response of every revision since start_rev (etcd 3.4+) */
	cr.fragment = 1;
	req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
	req.create_request = &cr;
	rc = eb_etcd_stream(c, "/etcdserverpb.Watch/Watch", "watch", &req.base, &rd, &end, err);
	if (rc != 0)
		return rc > 0 ? 0 : rc; /* fn asked to stop, or failed */
	return eb_etcd_status_error(c, "watch", end.code == GRPC_STATUS_OK ? GRPC_STATUS_UNAVAILABLE : end.code,
	                            end.details[0] ? end.details : "the member ended the watch stream", err);
}

/* ---- the replicate lock: a key under a lease ---- */

int
eb_etcd_lease_grant(eb_etcd *c, int64_t ttl, int64_t *id, eb_err *err)
{
	Etcdserverpb__LeaseGrantRequest req = ETCDSERVERPB__LEASE_GRANT_REQUEST__INIT;
	ProtobufCMessage *out;
	int rc;
	req.ttl = ttl;
	rc = eb_etcd_unary(c, "/etcdserverpb.Lease/LeaseGrant", "LeaseGrant", &req.base,
	           &etcdserverpb__lease_grant_response__descriptor, &out, err);
	if (rc < 0)
		return rc;
	*id = ((Etcdserverpb__LeaseGrantResponse *)out)->id;
	protobuf_c_message_free_unpacked(out, NULL);
	return *id ? 0 : eb_err_set(err, EB_EREMOTE, "etcd %s: LeaseGrant returned no lease", c->endpoint);
}

int
eb_etcd_lease_revoke(eb_etcd *c, int64_t id, eb_err *err)
{
	Etcdserverpb__LeaseRevokeRequest req = ETCDSERVERPB__LEASE_REVOKE_REQUEST__INIT;
	ProtobufCMessage *out;
	int rc;
	req.id = id;
	rc = eb_etcd_unary(c, "/etcdserverpb.Lease/LeaseRevoke", "LeaseRevoke", &req.base,
	           &etcdserverpb__lease_revoke_response__descriptor, &out, err);
	if (rc == 0)
		protobuf_c_message_free_unpacked(out, NULL);
	return rc;
}

/* on_msg of a keep-alive: the first answer is the one wanted */
static int
keepalive_msg(void *arg, grpc_byte_buffer *bb, eb_err *err)
{
	Etcdserverpb__LeaseKeepAliveResponse **m = arg;
	(void)err;
	*m = (Etcdserverpb__LeaseKeepAliveResponse *)eb_etcd_unpack(
		&etcdserverpb__lease_keep_alive_response__descriptor, bb);
	return 1;
}

/* a keep-alive runs on its own thread: a signal is the main thread's to act on */
static int
keepalive_tick(void *arg, eb_err *err)
{
	(void)arg;
	(void)err;
	return 0;
}

/* One keep-alive round trip on its own stream (what `etcdctl lease
 * keep-alive --once` does): *ttl <= 0 when the lease is gone. */
int
eb_etcd_lease_keepalive(eb_etcd *c, int64_t id, int64_t *ttl, eb_err *err)
{
	Etcdserverpb__LeaseKeepAliveRequest req = ETCDSERVERPB__LEASE_KEEP_ALIVE_REQUEST__INIT;
	Etcdserverpb__LeaseKeepAliveResponse *m = NULL;
	eb_etcd_reader rd = {.on_msg = keepalive_msg, .on_tick = keepalive_tick, .arg = &m,
	                     .idle_ms = c->o.command_timeout_ms, .idle_why = "no keep-alive answer",
	                     .half_close = 1};
	eb_etcd_stream_end end;
	int rc;
	req.id = id;
	rc = eb_etcd_stream(c, "/etcdserverpb.Lease/LeaseKeepAlive", "lease keep-alive", &req.base, &rd, &end, err);
	if (rc < 0)
		return rc;
	if (m) {
		*ttl = m->ttl;
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return 0;
	}
	return eb_etcd_status_error(c, "lease keep-alive", end.code == GRPC_STATUS_OK ? GRPC_STATUS_UNAVAILABLE : end.code,
	                            end.details[0] ? end.details : "no answer", err);
}

int
eb_etcd_create_key(eb_etcd *c, const char *key, const char *val, int64_t lease, int *created,
                   char *holder, size_t cap, eb_err *err)
{
	Etcdserverpb__TxnRequest req = ETCDSERVERPB__TXN_REQUEST__INIT;
	Etcdserverpb__Compare cmp = ETCDSERVERPB__COMPARE__INIT, *cmps[1] = {&cmp};
	Etcdserverpb__RequestOp put_op = ETCDSERVERPB__REQUEST_OP__INIT, get_op = ETCDSERVERPB__REQUEST_OP__INIT;
	Etcdserverpb__RequestOp *succ[1] = {&put_op}, *fail[1] = {&get_op};
	Etcdserverpb__PutRequest put = ETCDSERVERPB__PUT_REQUEST__INIT;
	Etcdserverpb__RangeRequest get = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__TxnResponse *r;
	ProtobufCMessage *out;
	int rc;
	cmp.result = 0; /* EQUAL */
	cmp.target = 1; /* CREATE */
	cmp.key.data = (uint8_t *)key;
	cmp.key.len = strlen(key);
	cmp.target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_CREATE_REVISION;
	cmp.create_revision = 0;
	put.key = cmp.key;
	put.value.data = (uint8_t *)val;
	put.value.len = strlen(val);
	put.lease = lease;
	put_op.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
	put_op.request_put = &put;
	get.key = cmp.key;
	get_op.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE;
	get_op.request_range = &get;
	req.n_compare = 1;
	req.compare = cmps;
	req.n_success = 1;
	req.success = succ;
	req.n_failure = 1;
	req.failure = fail;
	rc = eb_etcd_unary(c, "/etcdserverpb.KV/Txn", "Txn", &req.base, &etcdserverpb__txn_response__descriptor,
	           &out, err);
	if (rc < 0)
		return rc;
	r = (Etcdserverpb__TxnResponse *)out;
	*created = r->succeeded;
	holder[0] = 0;
	if (!r->succeeded && r->n_responses && r->responses[0]->response_case ==
	                                             ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE) {
		Etcdserverpb__RangeResponse *g = r->responses[0]->response_range;
		if (g->n_kvs)
			snprintf(holder, cap, "%.*s", (int)g->kvs[0]->value.len, (const char *)g->kvs[0]->value.data);
	}
	protobuf_c_message_free_unpacked(out, NULL);
	return 0;
}
