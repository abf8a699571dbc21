/* agent/etcd_call.h - the gRPC call layer under agent/etcd.c (maintenance)
 * and agent/etcd_watch.c (watch, leases, the lock); no other module uses
 * it.  One connection (channel + completion queue), unary calls with the
 * auth token renewed once when the member rejects it, and one loop for
 * every server stream (Snapshot, Watch, LeaseKeepAlive).
 */
#ifndef EB_AGENT_ETCD_CALL_H
#define EB_AGENT_ETCD_CALL_H

#include <grpc/grpc.h>

#include "agent/etcd_conn.h"
#include "rpc.pb-c.h"

struct eb_etcd {
	char endpoint[256]; /* as given, for messages */
	char target[256];   /* host:port for gRPC */
	int tls;
	eb_etcd_opts o;
	char *user, *password, *token;
	grpc_channel *ch;
	grpc_completion_queue *cq;
	char snap_version[16]; /* SnapshotResponse.version of the last stream */
};

/* The member refused the token (expired, or it restarted): authenticate again. */
int eb_etcd_is_token_error(const char *msg);
const char *eb_etcd_code_name(grpc_status_code code);
/* One line naming the endpoint, the call and the cause, with a hint for
 * the causes operators meet most; the EB_E* code that fits. */
int eb_etcd_status_error(eb_etcd *c, const char *what, grpc_status_code code,
                         const char *details, eb_err *err);
/* NULL when bb is not a d. */
ProtobufCMessage *eb_etcd_unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb);
int eb_etcd_authenticate(eb_etcd *c, eb_err *err);
/* A unary call with authentication: *out is rd's message (the caller frees
 * it with protobuf_c_message_free_unpacked). */
int eb_etcd_unary(eb_etcd *c, const char *method, const char *what, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *rd, ProtobufCMessage **out, eb_err *err);

/* What reads a server stream.  on_msg and on_tick answer 0 to go on, > 0
 * to stop (the call is cancelled), < 0 to fail (err set). */
typedef struct eb_etcd_reader {
	int (*on_msg)(void *arg, grpc_byte_buffer *bb, eb_err *err);
	/* every 200 ms without a message; NULL: SIGINT/SIGTERM end the call */
	int (*on_tick)(void *arg, eb_err *err);
	void *arg;
	int idle_ms;          /* > 0: no message for this long ends the call */
	const char *idle_why; /* the status details it is cancelled with then */
	int half_close;       /* our side ends after the request (all but Watch) */
} eb_etcd_reader;

/* How a stream ended: the status the member (or our cancel) gave. */
typedef struct eb_etcd_stream_end {
	grpc_status_code code;
	char details[512];
	int timed_out; /* idle_ms passed without a message */
} eb_etcd_stream_end;

/* A server-streaming call from the request to its status: every message
 * to rd.  What a reader answered to stop (> 0) or fail (< 0); 0 when the
 * stream ended by itself, or by the idle limit or an interrupt (*end
 * says); < 0 also when the call could not start. */
int eb_etcd_stream(eb_etcd *c, const char *method, const char *what, const ProtobufCMessage *req,
                   const eb_etcd_reader *rd, eb_etcd_stream_end *end, eb_err *err);

#endif
