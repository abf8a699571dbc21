/* agent/etcd_call.c - the gRPC call layer (see etcd_call.h): connection,
 * unary calls, one server-stream loop.
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
#include "agent/etcd_call.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/fsutil.h"
#include "common/interrupt.h"
#include "common/log.h"

#define MAX_PEM (1u << 20)

void
eb_etcd_opts_init(eb_etcd_opts *o)
{
	memset(o, 0, sizeof *o);
	o->dial_timeout_ms = 2000;
	o->command_timeout_ms = 5000;
	o->stream_idle_ms = 30000;
	o->keepalive_ms = 10000;
}

static void
grpc_log_sink(gpr_log_func_args *a)
{
	/* gRPC's own chatter (handshake failures...) is repeated in our error
	 * messages; keep it for --log-level debug only. */
	EB_LOG(EB_LOG_DEBUG, "grpc", "%s:%d %s", a->file, a->line, a->message);
}

void
eb_etcd_global_init(void)
{
	gpr_set_log_function(grpc_log_sink);
	gpr_set_log_verbosity(GPR_LOG_SEVERITY_DEBUG);
	grpc_init();
}

void
eb_etcd_global_shutdown(void)
{
	grpc_shutdown_blocking();
}

const char *
eb_etcd_endpoint(const eb_etcd *c)
{
	return c->endpoint;
}

static int
read_pem(const char *path, const char *flag, char **out, eb_err *err)
{
	char *buf;
	size_t n;
	eb_err e;
	eb_err_init(&e);
	if (eb_read_file(path, MAX_PEM, &buf, &n, &e) < 0)
		return eb_err_set(err, EB_EINVAL, "cannot read %s: %s", flag, e.msg);
	if (n == 0 || !strstr(buf, "-----BEGIN")) {
		eb_wipe(buf, n);
		free(buf);
		return eb_err_set(err, EB_EINVAL, "%s %s is not a PEM file", flag, path);
	}
	*out = buf;
	return 0;
}

/* https + --insecure-skip-tls-verify: the TLS credentials API with no chain
 * and no host name check (what etcdctl's flag does). */
static grpc_channel_credentials *
insecure_tls_creds(const char *cert, const char *key)
{
	/* The options take their own reference to the verifier and the
	 * provider; ours is released here (grpc_security.h: "the creator ...
	 * is responsible for its release"). */
	grpc_tls_credentials_options *o = grpc_tls_credentials_options_create();
	grpc_tls_certificate_verifier *v = grpc_tls_certificate_verifier_no_op_create();
	grpc_tls_credentials_options_set_verify_server_cert(o, 0);
	grpc_tls_credentials_options_set_check_call_host(o, 0);
	grpc_tls_credentials_options_set_certificate_verifier(o, v);
	grpc_tls_certificate_verifier_release(v);
	if (cert && key) {
		grpc_tls_identity_pairs *p = grpc_tls_identity_pairs_create();
		grpc_tls_certificate_provider *pv;
		grpc_tls_identity_pairs_add_pair(p, key, cert);
		pv = grpc_tls_certificate_provider_static_data_create(NULL, p);
		grpc_tls_credentials_options_set_certificate_provider(o, pv);
		grpc_tls_certificate_provider_release(pv);
		grpc_tls_credentials_options_watch_identity_key_cert_pairs(o);
	}
	return grpc_tls_credentials_create(o);
}

static int
parse_endpoint(eb_etcd *c, const char *ep, eb_err *err)
{
	const char *hostport = ep;
	size_t n;
	if (strncmp(ep, "https://", 8) == 0) {
		c->tls = 1;
		hostport = ep + 8;
	} else if (strncmp(ep, "http://", 7) == 0) {
		hostport = ep + 7;
	} else if (strstr(ep, "://")) {
		return eb_err_set(err, EB_EINVAL,
		                  "endpoint %s: only http:// and https:// are supported", ep);
	}
	n = strcspn(hostport, "/");
	if (n == 0 || n >= sizeof c->target || !memchr(hostport, ':', n))
		return eb_err_set(err, EB_EINVAL,
		                  "endpoint '%s' is not host:port (e.g. https://127.0.0.1:2379)", ep);
	memcpy(c->target, hostport, n);
	c->target[n] = '\0';
	snprintf(c->endpoint, sizeof c->endpoint, "%s", ep);
	return 0;
}

static int
split_user(eb_etcd *c, const eb_etcd_opts *o, eb_err *err)
{
	const char *colon;
	if (!o->user || !*o->user)
		return 0;
	colon = strchr(o->user, ':');
	c->user = colon ? strndup(o->user, (size_t)(colon - o->user)) : strdup(o->user);
	if (colon)
		c->password = strdup(colon + 1);
	else if (o->password)
		c->password = strdup(o->password);
	else
		return eb_err_set(err, EB_EINVAL,
		                  "--user %s has no password: pass --user name:password or --password (ETCDCTL_PASSWORD)",
		                  o->user);
	if (!c->user || !c->password)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	return 0;
}

int
eb_etcd_open(eb_etcd **out, const char *endpoint, const eb_etcd_opts *o,
             eb_err *err)
{
	eb_etcd *c = calloc(1, sizeof *c);
	char *ca = NULL, *cert = NULL, *key = NULL;
	grpc_channel_credentials *cr = NULL;
	int rc;
	int keepalive = o->keepalive_ms < 5000 ? 5000 : o->keepalive_ms;
	grpc_arg args[] = {
		{GRPC_ARG_INTEGER, (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = -1}},
		{GRPC_ARG_INTEGER, (char *)GRPC_ARG_KEEPALIVE_TIME_MS, {.integer = keepalive}},
		{GRPC_ARG_INTEGER, (char *)GRPC_ARG_KEEPALIVE_TIMEOUT_MS, {.integer = 5000}},
		{GRPC_ARG_INTEGER, (char *)GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, {.integer = 0}},
		{GRPC_ARG_INTEGER, (char *)GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, {.integer = o->dial_timeout_ms}},
		{GRPC_ARG_INTEGER, (char *)GRPC_ARG_ENABLE_RETRIES, {.integer = 0}},
		/* Bounded receive buffering: without this the BDP estimator grows
		 * the HTTP/2 window while we compress slower than etcd sends, and
		 * the agent's RSS grows with the database. */
		{GRPC_ARG_INTEGER, (char *)GRPC_ARG_HTTP2_BDP_PROBE, {.integer = 0}},
		{GRPC_ARG_INTEGER, (char *)GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, {.integer = 4 << 20}},
	};
	grpc_channel_args cargs = {sizeof args / sizeof args[0], args};

	*out = NULL;
	if (!c)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	c->o = *o;
	rc = parse_endpoint(c, endpoint, err);
	if (rc == 0)
		rc = split_user(c, o, err);
	if (rc == 0 && (!o->cert) != (!o->key))
		rc = eb_err_set(err, EB_EINVAL, "--cert and --key go together: give both or neither");
	if (rc == 0 && !c->tls && (o->cacert || o->cert))
		rc = eb_err_set(err, EB_EINVAL,
		                "endpoint %s is http:// but TLS files were given: use https://%s",
		                endpoint, c->target);
	if (rc == 0 && o->cacert)
		rc = read_pem(o->cacert, "--cacert", &ca, err);
	if (rc == 0 && o->cert)
		rc = read_pem(o->cert, "--cert", &cert, err);
	if (rc == 0 && o->key)
		rc = read_pem(o->key, "--key", &key, err);
	if (rc == 0) {
		if (!c->tls) {
			cr = grpc_insecure_credentials_create();
		} else if (o->insecure_skip_verify) {
			cr = insecure_tls_creds(cert, key);
		} else {
			grpc_ssl_pem_key_cert_pair kp = {key, cert};
			cr = grpc_ssl_credentials_create(ca, cert ? &kp : NULL, NULL, NULL);
		}
		if (!cr)
			rc = eb_err_set(err, EB_EINVAL, "endpoint %s: cannot set up TLS", endpoint);
	}
	if (rc == 0) {
		c->ch = grpc_channel_create(c->target, cr, &cargs);
		c->cq = grpc_completion_queue_create_for_pluck(NULL);
		if (!c->ch || !c->cq)
			rc = eb_err_set(err, EB_ENOMEM, "endpoint %s: cannot create a gRPC channel", endpoint);
	}
	if (cr)
		grpc_channel_credentials_release(cr);
	free(ca);
	free(cert);
	if (key) {
		eb_wipe_str(key); /* private key material */
		free(key);
	}
	if (rc < 0) {
		eb_etcd_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
eb_etcd_close(eb_etcd *c)
{
	if (!c)
		return;
	if (c->cq) {
		grpc_completion_queue_shutdown(c->cq);
		while (grpc_completion_queue_pluck(c->cq, NULL,
		                                   gpr_inf_future(GPR_CLOCK_REALTIME),
		                                   NULL).type != GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(c->cq);
	}
	if (c->ch)
		grpc_channel_destroy(c->ch);
	if (c->password) {
		eb_wipe_str(c->password);
		free(c->password);
	}
	if (c->token) {
		eb_wipe_str(c->token);
		free(c->token);
	}
	free(c->user);
	free(c);
}

static gpr_timespec
deadline_in(int ms)
{
	return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
	                    gpr_time_from_millis(ms, GPR_TIMESPAN));
}

int
eb_etcd_is_token_error(const char *msg)
{
	return strstr(msg, "invalid auth token") || strstr(msg, "auth token is expired") ||
	       strstr(msg, "revision of auth store is old");
}

static int
is_auth_error(int code, const char *msg)
{
	return code == GRPC_STATUS_UNAUTHENTICATED || code == GRPC_STATUS_PERMISSION_DENIED ||
	       strstr(msg, "auth:") || strstr(msg, "authentication failed") ||
	       strstr(msg, "permission denied") || strstr(msg, "user name is empty") ||
	       strstr(msg, "invalid auth token") || strstr(msg, "user not found") ||
	       strstr(msg, "user name not found");
}

const char *
eb_etcd_code_name(grpc_status_code code)
{
	static const char *names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
		"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
		"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
	return (unsigned)code < sizeof names / sizeof names[0] ? names[code] : "UNKNOWN";
}

/* One line naming the endpoint, the call and the cause, with a hint for
 * the causes operators meet most. */
int
eb_etcd_status_error(eb_etcd *c, const char *what, grpc_status_code code,
             const char *details, eb_err *err)
{
	const char *hint = "";
	int ec = EB_EREMOTE;
	if (code == GRPC_STATUS_DEADLINE_EXCEEDED) {
		ec = EB_ETIMEOUT;
		hint = " (member down, frozen or overloaded; raise --command-timeout if it is just slow)";
	} else if (is_auth_error((int)code, details)) {
		ec = EB_EAUTH;
		if (strstr(details, "user name is empty"))
			hint = " (auth is enabled on this cluster: pass --user and --password)";
		else if (strstr(details, "authentication failed"))
			hint = " (check --user and --password)";
		else if (strstr(details, "permission denied"))
			hint = " (snapshots and hashes need the root role)";
		else if (strstr(details, "user not found") || strstr(details, "user name not found"))
			hint = c->user ? " (check --user)"
			               : " (auth is enabled: without --user, etcd takes the user from the client certificate's CN; pass --user and --password)";
	} else if (code == GRPC_STATUS_UNAVAILABLE) {
		ec = EB_EUNAVAIL;
		if (strstr(details, "certificate verify failed"))
			hint = " (the server certificate is not signed by the CA in --cacert)";
		else if (strstr(details, "not in peer certificate"))
			hint = " (the endpoint's host name is not in the server certificate)";
		else if (strstr(details, "Connection refused"))
			hint = " (nothing listens there: is etcd running, is the port right?)";
		else if (strstr(details, "Socket closed") || strstr(details, "Endpoint read failed"))
			hint = c->tls ? " (TLS refused: wrong scheme, or the server wants a client certificate: --cert/--key)"
			              : " (the member may serve TLS only: try https://)";
	}
	return eb_err_set(err, ec, "etcd %s: %s failed: %s%s", c->endpoint, what,
	                  details && *details ? details : eb_etcd_code_name(code), hint);
}

typedef struct {
	grpc_status_code code;
	char details[512];
	grpc_byte_buffer *resp;
} call_result;

static void
copy_details(grpc_slice s, char *out, size_t cap)
{
	size_t n = GRPC_SLICE_LENGTH(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, GRPC_SLICE_START_PTR(s), n);
	out[n] = '\0';
}

static grpc_byte_buffer *
pack(const ProtobufCMessage *req)
{
	grpc_slice s = grpc_slice_malloc(protobuf_c_message_get_packed_size(req));
	grpc_byte_buffer *bb;
	protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

/* One unary call; the result's code/details are gRPC's, resp is owned by
 * the caller when code is OK.  Fails (returns <0) only when the call could
 * not be started. */
static int
raw_unary(eb_etcd *c, const char *method, const ProtobufCMessage *req,
          int with_token, call_result *r, eb_err *err)
{
	grpc_call *call;
	grpc_byte_buffer *send = pack(req);
	grpc_metadata md;
	grpc_metadata_array imd, tmd;
	grpc_slice details = grpc_empty_slice();
	const char *dbg = NULL;
	grpc_op ops[6];
	grpc_call_error ce;
	int tag = 0;

	memset(r, 0, sizeof *r);
	memset(ops, 0, sizeof ops);
	grpc_metadata_array_init(&imd);
	grpc_metadata_array_init(&tmd);
	call = grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
	                                grpc_slice_from_static_string(method), NULL,
	                                deadline_in(c->o.command_timeout_ms), NULL);
	md.key = grpc_slice_from_static_string("token");
	md.value = with_token && c->token ? grpc_slice_from_copied_string(c->token)
	                                  : grpc_empty_slice();
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = with_token && c->token ? 1 : 0;
	ops[0].data.send_initial_metadata.metadata = &md;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &imd;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &r->resp;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &tmd;
	ops[5].data.recv_status_on_client.status = &r->code;
	ops[5].data.recv_status_on_client.status_details = &details;
	ops[5].data.recv_status_on_client.error_string = &dbg;
	ce = grpc_call_start_batch(call, ops, 6, &tag, NULL);
	if (ce == GRPC_CALL_OK)
		grpc_completion_queue_pluck(c->cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	copy_details(details, r->details, sizeof r->details);
	if (dbg)
		EB_LOG(EB_LOG_DEBUG, "grpc", "%s %s: %s", c->endpoint, method, dbg);
	grpc_slice_unref(details);
	gpr_free((void *)dbg);
	grpc_slice_unref(md.value);
	grpc_metadata_array_destroy(&imd);
	grpc_metadata_array_destroy(&tmd);
	grpc_byte_buffer_destroy(send);
	grpc_call_unref(call);
	if (ce != GRPC_CALL_OK) {
		if (r->resp)
			grpc_byte_buffer_destroy(r->resp);
		r->resp = NULL;
		return eb_err_set(err, EB_EREMOTE, "etcd %s: cannot start %s (grpc error %d)",
		                  c->endpoint, method, (int)ce);
	}
	if (r->code != GRPC_STATUS_OK && r->resp) {
		grpc_byte_buffer_destroy(r->resp);
		r->resp = NULL;
	}
	if (!r->details[0])
		snprintf(r->details, sizeof r->details, "%s", eb_etcd_code_name(r->code));
	return 0;
}

ProtobufCMessage *
eb_etcd_unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader rd;
	grpc_slice all;
	ProtobufCMessage *m;
	if (!bb || !grpc_byte_buffer_reader_init(&rd, bb))
		return NULL;
	all = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	m = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
	grpc_slice_unref(all);
	return m;
}

int
eb_etcd_authenticate(eb_etcd *c, eb_err *err)
{
	Etcdserverpb__AuthenticateRequest req = ETCDSERVERPB__AUTHENTICATE_REQUEST__INIT;
	Etcdserverpb__AuthenticateResponse *resp;
	call_result r;
	int rc;
	req.name = c->user;
	req.password = c->password;
	rc = raw_unary(c, "/etcdserverpb.Auth/Authenticate", &req.base, 0, &r, err);
	if (rc < 0)
		return rc;
	if (r.code != GRPC_STATUS_OK)
		return eb_etcd_status_error(c, "authentication", r.code, r.details, err);
	resp = (Etcdserverpb__AuthenticateResponse *)eb_etcd_unpack(
		&etcdserverpb__authenticate_response__descriptor, r.resp);
	grpc_byte_buffer_destroy(r.resp);
	if (!resp || !resp->token || !*resp->token) {
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
		return eb_err_set(err, EB_EREMOTE, "etcd %s: Authenticate returned no token", c->endpoint);
	}
	free(c->token);
	c->token = strdup(resp->token);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	if (!c->token)
		return eb_err_set(err, EB_ENOMEM, "out of memory");
	EB_LOG(EB_LOG_DEBUG, "etcd", "%s: authenticated as %s", c->endpoint, c->user);
	return 0;
}

/* A unary call with authentication: token obtained on first use and
 * renewed once when the member rejects it. */
int
eb_etcd_unary(eb_etcd *c, const char *method, const char *what, const ProtobufCMessage *req,
      const ProtobufCMessageDescriptor *rd, ProtobufCMessage **out, eb_err *err)
{
	call_result r;
	int rc;
	*out = NULL;
	if (c->user && !c->token && (rc = eb_etcd_authenticate(c, err)) < 0)
		return rc;
	rc = raw_unary(c, method, req, 1, &r, err);
	if (rc == 0 && r.code != GRPC_STATUS_OK && c->user && eb_etcd_is_token_error(r.details)) {
		EB_LOG(EB_LOG_INFO, "etcd", "%s: token rejected (%s), authenticating again",
		       c->endpoint, r.details);
		if ((rc = eb_etcd_authenticate(c, err)) < 0)
			return rc;
		rc = raw_unary(c, method, req, 1, &r, err);
	}
	if (rc < 0)
		return rc;
	if (r.code != GRPC_STATUS_OK)
		return eb_etcd_status_error(c, what, r.code, r.details, err);
	*out = eb_etcd_unpack(rd, r.resp);
	grpc_byte_buffer_destroy(r.resp);
	if (!*out)
		return eb_err_set(err, EB_EREMOTE, "etcd %s: %s: cannot decode the response", c->endpoint, what);
	return 0;
}

/* ---- server streams: one loop for Snapshot, Watch and LeaseKeepAlive ---- */

typedef struct {
	grpc_call *call;
	grpc_status_code code;
	grpc_slice details;
	const char *dbg;
	grpc_metadata_array imd, tmd;
	int tag_a, tag_b, tag_m;
} stream_call;

static void
stream_call_init(stream_call *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->details = grpc_empty_slice();
	grpc_metadata_array_init(&sc->imd);
	grpc_metadata_array_init(&sc->tmd);
}

/* Releases what stream_call_init and start_stream made, and send. */
static void
stream_call_dispose(eb_etcd *c, stream_call *sc, const char *what, grpc_byte_buffer *send)
{
	if (sc->dbg) {
		EB_LOG(EB_LOG_DEBUG, "grpc", "%s %s: %s", c->endpoint, what, sc->dbg);
		gpr_free((void *)sc->dbg);
	}
	grpc_slice_unref(sc->details);
	grpc_metadata_array_destroy(&sc->imd);
	grpc_metadata_array_destroy(&sc->tmd);
	grpc_byte_buffer_destroy(send);
	if (sc->call)
		grpc_call_unref(sc->call);
}

/* Starts the RECV_MESSAGE batch that fills *bb; 0 when it cannot start
 * (the call is over). */
static int
recv_start(stream_call *sc, grpc_byte_buffer **bb)
{
	grpc_op op;
	memset(&op, 0, sizeof op);
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = bb;
	return grpc_call_start_batch(sc->call, &op, 1, &sc->tag_m, NULL) == GRPC_CALL_OK;
}

/* Waits for one started RECV_MESSAGE batch, waking every 200 ms: the
 * reader's tick, or (without one) SIGINT/SIGTERM (common/interrupt.h), and
 * the idle limit.  1 when the batch completed (a message, or the end of
 * the stream); 0 when the wait ended the call (*rc: what the tick said),
 * the batch collected even then (every started batch must be plucked). */
static int
wait_msg(eb_etcd *c, stream_call *sc, const eb_etcd_reader *rd, eb_etcd_stream_end *end, int *rc,
         eb_err *err)
{
	gpr_timespec idle_end = deadline_in(rd->idle_ms > 0 ? rd->idle_ms : 0);
	grpc_status_code code = GRPC_STATUS_CANCELLED;
	const char *why;
	grpc_event ev;
	for (;;) {
		ev = grpc_completion_queue_pluck(c->cq, &sc->tag_m, deadline_in(200), NULL);
		if (ev.type != GRPC_QUEUE_TIMEOUT)
			return ev.success;
		if (rd->on_tick ? (*rc = rd->on_tick(rd->arg, err)) != 0 : eb_interrupted()) {
			why = rd->on_tick ? "stopped" : "interrupted";
			break;
		}
		if (rd->idle_ms > 0 && gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), idle_end) >= 0) {
			end->timed_out = 1;
			code = GRPC_STATUS_DEADLINE_EXCEEDED;
			why = rd->idle_why ? rd->idle_why : "no message within the idle timeout";
			break;
		}
	}
	grpc_call_cancel_with_status(sc->call, code, why, NULL);
	grpc_completion_queue_pluck(c->cq, &sc->tag_m, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	return 0;
}

/* Starts a streaming call: token, the one request, and (half_close) the
 * end of our side; the status batch is left in flight (tag_b).  1 when
 * the headers came, 0 when the call failed at once (the status says why). */
static int
start_stream(eb_etcd *c, stream_call *sc, const char *method, const char *what,
             grpc_byte_buffer *send, int half_close, eb_err *err)
{
	grpc_metadata md;
	grpc_op ops[4], st;
	grpc_event ev;
	size_t nops = 0;
	memset(ops, 0, sizeof ops);
	memset(&st, 0, sizeof st);
	sc->call = grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
	                                    grpc_slice_from_static_string(method),
	                                    NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
	md.key = grpc_slice_from_static_string("token");
	md.value = c->token ? grpc_slice_from_copied_string(c->token) : grpc_empty_slice();
	ops[nops].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[nops].data.send_initial_metadata.count = c->token ? 1 : 0;
	ops[nops++].data.send_initial_metadata.metadata = &md;
	ops[nops].op = GRPC_OP_SEND_MESSAGE;
	ops[nops++].data.send_message.send_message = send;
	if (half_close)
		ops[nops++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[nops].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[nops++].data.recv_initial_metadata.recv_initial_metadata = &sc->imd;
	st.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	st.data.recv_status_on_client.trailing_metadata = &sc->tmd;
	st.data.recv_status_on_client.status = &sc->code;
	st.data.recv_status_on_client.status_details = &sc->details;
	st.data.recv_status_on_client.error_string = &sc->dbg;
	if (grpc_call_start_batch(sc->call, ops, nops, &sc->tag_a, NULL) != GRPC_CALL_OK) {
		grpc_slice_unref(md.value);
		return eb_err_set(err, EB_EREMOTE, "etcd %s: cannot start the %s call", c->endpoint, what);
	}
	if (grpc_call_start_batch(sc->call, &st, 1, &sc->tag_b, NULL) != GRPC_CALL_OK) {
		/* batch A is in flight: collect it before giving up */
		grpc_call_cancel(sc->call, NULL);
		grpc_completion_queue_pluck(c->cq, &sc->tag_a, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		grpc_slice_unref(md.value);
		return eb_err_set(err, EB_EREMOTE, "etcd %s: cannot start the %s call", c->endpoint, what);
	}
	/* headers must come within dial + command timeout */
	ev = grpc_completion_queue_pluck(c->cq, &sc->tag_a,
	                                 deadline_in(c->o.dial_timeout_ms + c->o.command_timeout_ms), NULL);
	if (ev.type == GRPC_QUEUE_TIMEOUT) {
		grpc_call_cancel_with_status(sc->call, GRPC_STATUS_DEADLINE_EXCEEDED,
		                             "the stream did not start in time", NULL);
		ev = grpc_completion_queue_pluck(c->cq, &sc->tag_a, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	}
	grpc_slice_unref(md.value);
	return ev.success ? 1 : 0;
}

int
eb_etcd_stream(eb_etcd *c, const char *method, const char *what, const ProtobufCMessage *req,
               const eb_etcd_reader *rd, eb_etcd_stream_end *end, eb_err *err)
{
	stream_call sc;
	grpc_byte_buffer *send;
	int rc = 0, ok;
	memset(end, 0, sizeof *end);
	if (c->user && !c->token && (rc = eb_etcd_authenticate(c, err)) < 0)
		return rc;
	stream_call_init(&sc);
	send = pack(req);
	ok = start_stream(c, &sc, method, what, send, rd->half_close, err);
	if (ok < 0) {
		stream_call_dispose(c, &sc, what, send);
		return ok;
	}
	while (ok && rc == 0) {
		grpc_byte_buffer *bb = NULL;
		if (!recv_start(&sc, &bb))
			break;
		if (!wait_msg(c, &sc, rd, end, &rc, err) || !bb) {
			if (bb)
				grpc_byte_buffer_destroy(bb);
			break; /* end of stream, clean or not: the status says which */
		}
		rc = rd->on_msg(rd->arg, bb, err);
		grpc_byte_buffer_destroy(bb);
	}
	if (rc != 0) /* the reader stopped or failed: end the call on both sides */
		grpc_call_cancel_with_status(sc.call, rc < 0 ? GRPC_STATUS_ABORTED : GRPC_STATUS_CANCELLED,
		                             rc < 0 ? "client aborted" : "stopped", NULL);
	grpc_completion_queue_pluck(c->cq, &sc.tag_b, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	end->code = sc.code;
	copy_details(sc.details, end->details, sizeof end->details);
	stream_call_dispose(c, &sc, what, send);
	return rc;
}
