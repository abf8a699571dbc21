/* common/certinfo.c - see certinfo.h.  One of the few OpenSSL users (X509
 * and SSL); nothing here is kept between calls. */
#include "common/certinfo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/clock.h"

static void
ssl_errstr(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "no OpenSSL detail");
	ERR_clear_error();
}

static int
asn1_to_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* X509_NAME as one line ("CN = kubernetes") into out */
static void
name_line(X509_NAME *name, char *out, size_t cap)
{
	BIO *b = name ? BIO_new(BIO_s_mem()) : NULL;
	out[0] = '\0';
	if (b) {
		int n;
		X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
		n = BIO_read(b, out, (int)cap - 1);
		out[n > 0 ? n : 0] = '\0';
		BIO_free(b);
	}
}

static int
fill(X509 *x, eb_certinfo *out, const char *what, eb_err *err)
{
	memset(out, 0, sizeof *out);
	if (asn1_to_unix(X509_get0_notBefore(x), &out->not_before) != 0 ||
	    asn1_to_unix(X509_get0_notAfter(x), &out->not_after) != 0)
		return eb_err_set(err, EB_EINVAL, "%s: certificate has unreadable validity dates",
		                  what);
	name_line(X509_get_subject_name(x), out->subject, sizeof out->subject);
	name_line(X509_get_issuer_name(x), out->issuer, sizeof out->issuer);
	return 0;
}

static int
from_bio(BIO *b, const char *what, eb_certinfo *out, eb_err *err)
{
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	int rc;
	if (!x) {
		ERR_clear_error();
		return eb_err_set(err, EB_EINVAL, "%s: no PEM certificate found", what);
	}
	rc = fill(x, out, what, err);
	X509_free(x);
	return rc;
}

int
eb_certinfo_pem(const char *pem, size_t len, eb_certinfo *out, eb_err *err)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	int rc;
	if (!b)
		return eb_err_set(err, EB_ENOMEM, "certificate: out of memory");
	rc = from_bio(b, "certificate", out, err);
	BIO_free(b);
	return rc;
}

int
eb_certinfo_file(const char *path, eb_certinfo *out, eb_err *err)
{
	BIO *b;
	int rc;
	FILE *f = fopen(path, "r");
	if (!f)
		return eb_err_sys(err, EB_EIO, errno, "certificate %s", path);
	b = BIO_new_fp(f, BIO_CLOSE);
	if (!b) {
		fclose(f);
		return eb_err_set(err, EB_ENOMEM, "certificate %s: out of memory", path);
	}
	rc = from_bio(b, path, out, err);
	BIO_free(b);
	return rc;
}

/* ---- the handshake -------------------------------------------------------- */

/* Non-blocking connect bounded by the deadline; returns a blocking fd with
 * send/receive timeouts set to what is left, or -1 with err set. */
static int
connect_to(const char *host, const char *port, int64_t deadline, eb_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, gai, last_errno = 0, timed_out = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0) {
		eb_err_set(err, EB_EUNAVAIL, "resolve %s: %s", host, gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd p;
		int so = 0, left;
		socklen_t sl = sizeof so;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		            ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			last_errno = errno;
			goto next;
		}
		left = (int)(deadline - eb_mono_ms());
		p.fd = fd;
		p.events = POLLOUT;
		if (left <= 0 || poll(&p, 1, left) <= 0) {
			timed_out = 1;
			goto next;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0 || so != 0) {
			last_errno = so ? so : errno;
			goto next;
		}
		break;
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (timed_out && !last_errno)
			eb_err_set(err, EB_ETIMEOUT, "connect %s:%s: timed out", host, port);
		else
			eb_err_sys(err, EB_EUNAVAIL, last_errno, "connect %s:%s", host, port);
		return -1;
	}
	{
		int64_t left = deadline - eb_mono_ms();
		struct timeval tv;
		if (left < 1)
			left = 1;
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	return fd;
}

static int
is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int server_cert(const char *host, const char *port, const char *cacert,
                       const char *cert, const char *key, int timeout_ms,
                       eb_certinfo *out, eb_err *err);

/* OpenSSL writes to the socket with write(2): a peer that has closed raises
 * SIGPIPE, which would kill a process that did not ignore it.  Block it in
 * this thread for the call and swallow one raised meanwhile (what libcurl
 * does), so the library is safe whatever the program's signal setup. */
int
eb_certinfo_server(const char *host, const char *port, const char *cacert,
                   const char *cert, const char *key, int timeout_ms,
                   eb_certinfo *out, eb_err *err)
{
	sigset_t pipe_set, old, pending;
	int rc, was_pending;
	struct timespec zero = { 0, 0 };

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	rc = server_cert(host, port, cacert, cert, key, timeout_ms, out, err);
	if (!was_pending) {
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			(void)sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int
server_cert(const char *host, const char *port, const char *cacert,
            const char *cert, const char *key, int timeout_ms,
            eb_certinfo *out, eb_err *err)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	X509 *peer = NULL;
	int fd = -1, rc = 0;
	int64_t deadline;
	char where[300], ebuf[256];
	long vr;

	if (!host || !*host || !port || !*port)
		return eb_err_set(err, EB_EINVAL, "certificate check: empty host or port");
	snprintf(where, sizeof where, "TLS handshake with %s:%s", host, port);
	if (timeout_ms <= 0)
		timeout_ms = 5000;
	deadline = eb_mono_ms() + timeout_ms;

	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		ssl_errstr(ebuf, sizeof ebuf);
		return eb_err_set(err, EB_ENOMEM, "%s: SSL_CTX_new: %s", where, ebuf);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Verify, but never abort on it: see certinfo.h. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (cacert && *cacert) {
		if (SSL_CTX_load_verify_locations(ctx, cacert, NULL) != 1) {
			ssl_errstr(ebuf, sizeof ebuf);
			rc = eb_err_set(err, EB_EIO, "%s: CA file %s: %s", where, cacert, ebuf);
			goto out;
		}
	} else {
		SSL_CTX_set_default_verify_paths(ctx);
	}
	if (cert && *cert) {
		if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
			ssl_errstr(ebuf, sizeof ebuf);
			rc = eb_err_set(err, EB_EIO, "%s: client certificate %s: %s", where, cert, ebuf);
			goto out;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key && *key ? key : cert, SSL_FILETYPE_PEM) != 1) {
			ssl_errstr(ebuf, sizeof ebuf);
			/* The key path is not secret, its content is never shown. */
			rc = eb_err_set(err, EB_EIO, "%s: client key %s: %s", where,
			                key && *key ? key : cert, ebuf);
			goto out;
		}
	}
	fd = connect_to(host, port, deadline, err);
	if (fd < 0) {
		rc = err ? err->code : EB_EUNAVAIL;
		goto out;
	}
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		rc = eb_err_set(err, EB_ENOMEM, "%s: SSL_new failed", where);
		goto out;
	}
	if (!is_ip(host))
		SSL_set_tlsext_host_name(ssl, host);
	/* etcd serves gRPC: offer h2 like a gRPC client would. */
	SSL_set_alpn_protos(ssl, (const unsigned char *)"\x02h2", 3);
	if (SSL_connect(ssl) != 1) {
		int e = errno;
		ssl_errstr(ebuf, sizeof ebuf);
		if (e == EAGAIN || e == EWOULDBLOCK || eb_mono_ms() >= deadline)
			rc = eb_err_set(err, EB_ETIMEOUT, "%s: timed out", where);
		else
			rc = eb_err_set(err, EB_EUNAVAIL, "%s: %s", where, ebuf);
		goto out;
	}
	peer = SSL_get1_peer_certificate(ssl);
	if (!peer) {
		rc = eb_err_set(err, EB_EUNAVAIL, "%s: server sent no certificate", where);
		goto out;
	}
	rc = fill(peer, out, where, err);
	if (rc)
		goto out;
	vr = SSL_get_verify_result(ssl);
	out->verified = vr == X509_V_OK;
	snprintf(out->verify_msg, sizeof out->verify_msg, "%s",
	         X509_verify_cert_error_string(vr));
out:
	if (peer)
		X509_free(peer);
	/* No SSL_shutdown: a close_notify written to a socket the server has
	 * already closed would raise SIGPIPE; the server sees a plain EOF. */
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int
eb_certinfo_endpoint(const char *endpoint, const char *cacert,
                     const char *cert, const char *key, int timeout_ms,
                     eb_certinfo *out, char *hostport_out,
                     size_t hostport_len, eb_err *err)
{
	char host[256], port[16];
	const char *p = endpoint, *end, *colon;
	size_t hl;

	if (!endpoint || !*endpoint)
		return eb_err_set(err, EB_EINVAL, "certificate check: empty endpoint");
	if (strncmp(p, "http://", 7) == 0)
		return eb_err_set(err, EB_EINVAL,
		                  "certificate check: endpoint %s is not TLS", endpoint);
	if (strncmp(p, "https://", 8) == 0)
		p += 8;
	else if (strstr(p, "://"))
		return eb_err_set(err, EB_EINVAL,
		                  "certificate check: unsupported scheme in %s", endpoint);
	end = p + strcspn(p, "/");
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb || rb[1] != ':')
			return eb_err_set(err, EB_EINVAL,
			                  "certificate check: bad endpoint %s", endpoint);
		hl = (size_t)(rb - p - 1);
		if (hl >= sizeof host)
			return eb_err_set(err, EB_EINVAL, "certificate check: host too long");
		memcpy(host, p + 1, hl);
		host[hl] = '\0';
		colon = rb + 1;
	} else {
		colon = NULL;
		for (const char *q = p; q < end; q++)
			if (*q == ':')
				colon = q;
		if (!colon)
			return eb_err_set(err, EB_EINVAL,
			                  "certificate check: endpoint %s has no port", endpoint);
		hl = (size_t)(colon - p);
		if (hl == 0 || hl >= sizeof host)
			return eb_err_set(err, EB_EINVAL,
			                  "certificate check: bad host in %s", endpoint);
		memcpy(host, p, hl);
		host[hl] = '\0';
	}
	if ((size_t)(end - colon - 1) == 0 || (size_t)(end - colon - 1) >= sizeof port)
		return eb_err_set(err, EB_EINVAL, "certificate check: bad port in %s", endpoint);
	memcpy(port, colon + 1, (size_t)(end - colon - 1));
	port[end - colon - 1] = '\0';
	if (hostport_out && hostport_len) {
		if (strchr(host, ':'))
			snprintf(hostport_out, hostport_len, "[%s]:%s", host, port);
		else
			snprintf(hostport_out, hostport_len, "%s:%s", host, port);
	}
	return eb_certinfo_server(host, port, cacert, cert, key, timeout_ms, out, err);
}
