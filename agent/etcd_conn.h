/* agent/etcd_conn.h - a connection to one etcd member: its options, open
 * and close (agent/etcd_call.c).  agent/etcd.h has the calls made on it. */
#ifndef EB_ETCD_CONN_H
#define EB_ETCD_CONN_H

#include "common/err.h"

typedef struct eb_etcd_opts {
	const char *cacert;       /* PEM file; NULL = system roots for https */
	const char *cert, *key;   /* client certificate (mTLS) */
	int insecure_skip_verify; /* https without checking the server cert */
	const char *user;         /* "name" or "name:password" */
	const char *password;     /* used when user has no ":password" */
	int dial_timeout_ms;      /* connection set-up, default 2000 */
	int command_timeout_ms;   /* each unary call, default 5000 */
	int stream_idle_ms;       /* snapshot: max silence between messages */
	int keepalive_ms;         /* HTTP/2 ping interval, >= 5000 */
} eb_etcd_opts;

void eb_etcd_opts_init(eb_etcd_opts *o);

/* Call once per process, before and after all connections. */
void eb_etcd_global_init(void);
void eb_etcd_global_shutdown(void);

typedef struct eb_etcd eb_etcd;

/* Parses the endpoint ("https://host:port", "http://...", "host:port"),
 * reads the PEM files and creates the channel.  Does not contact the
 * member yet (the first call does, within the dial timeout). */
int eb_etcd_open(eb_etcd **out, const char *endpoint, const eb_etcd_opts *o,
                 eb_err *err);
void eb_etcd_close(eb_etcd *c);
const char *eb_etcd_endpoint(const eb_etcd *c);

#endif
