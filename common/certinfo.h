/* common/certinfo.h - how long certificates have left (OpenSSL X509).
 *
 * For the metrics (certificate_*{cert="client"|"server"}) and the status
 * command: kubeadm's etcd certificates live one year, and an expired server
 * or client certificate takes the control plane down.
 *
 *   eb_certinfo ci;
 *   eb_certinfo_file("/etc/kubernetes/pki/etcd/healthcheck-client.crt", &ci, &err);
 *   eb_certinfo_endpoint("https://127.0.0.1:2379", cacert, cert, key, 5000, &ci, &err);
 *   remaining = ci.not_after - time(NULL);
 *
 * The server certificate is read from a short TLS handshake of our own
 * (gRPC does not expose the peer chain).  That handshake does NOT require
 * the certificate to verify: an expired or untrusted certificate is exactly
 * what we want to report, so its dates are returned and the verification
 * outcome is put in `verified` / `verify_msg`. */
#ifndef EB_CERTINFO_H
#define EB_CERTINFO_H

#include <stdint.h>

#include "common/err.h"

typedef struct eb_certinfo {
	int64_t not_before;     /* unix seconds */
	int64_t not_after;      /* unix seconds */
	char subject[256];      /* one-line subject, e.g. "CN=kube-etcd" */
	char issuer[256];       /* one-line issuer, the same way */
	int verified;           /* endpoint only: 1 if the chain verified against
	                           the CA (or the system store without one) */
	char verify_msg[128];   /* endpoint only: OpenSSL's verify result text */
} eb_certinfo;

/* The first certificate in a PEM file.  EB_EIO when the file cannot be
 * read, EB_EINVAL when it holds no PEM certificate. */
int eb_certinfo_file(const char *path, eb_certinfo *out, eb_err *err);

/* The first certificate in a PEM buffer. */
int eb_certinfo_pem(const char *pem, size_t len, eb_certinfo *out, eb_err *err);

/* The certificate the server at host:port presents.  cacert, cert and key
 * are PEM files or NULL (cert and key are the client certificate for
 * servers that ask for one).  host may be a name (also used for SNI), an
 * IPv4 address or an IPv6 address without brackets.  timeout_ms bounds the
 * connect and the handshake.  Errors: EB_EUNAVAIL (resolve, connect, TLS
 * handshake failure), EB_ETIMEOUT, EB_EIO (a PEM file unreadable),
 * EB_EINVAL. */
int eb_certinfo_server(const char *host, const char *port, const char *cacert,
                       const char *cert, const char *key, int timeout_ms,
                       eb_certinfo *out, eb_err *err);

/* Same, from an endpoint URL as given to --endpoints: "https://h:p",
 * "h:p" or "[v6]:p".  An "http://" endpoint is EB_EINVAL (no TLS, no
 * certificate).  hostport_out (may be NULL) receives "host:port" for the
 * metrics label. */
int eb_certinfo_endpoint(const char *endpoint, const char *cacert,
                         const char *cert, const char *key, int timeout_ms,
                         eb_certinfo *out, char *hostport_out,
                         size_t hostport_len, eb_err *err);

#endif
