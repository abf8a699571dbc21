/* tests/unit/test_certinfo.c - certificate lifetimes against certificates
 * this test makes with known dates (OpenSSL API), read from PEM files and
 * from a TLS handshake with a server the test runs on 127.0.0.1. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/certinfo.h"
#include "common/metrics.h"
#include "tests/unit/harness.h"

static char dir[] = "/tmp/ebcertXXXXXX";

/* Known dates. */
#define CA_NOT_AFTER 1924991999LL      /* 2030-12-31T23:59:59Z */
#define SRV_NOT_BEFORE 1700000000LL    /* 2023-11-14T22:13:20Z */
#define SRV_NOT_AFTER 1944000000LL     /* 2031-08-08T... */
#define CLI_NOT_AFTER 1893456000LL     /* 2030-01-01T00:00:00Z */
#define OLD_NOT_AFTER 1600000000LL     /* 2020-09-13: expired */

static EVP_PKEY *
newkey(void)
{
	return EVP_EC_gen("P-256");
}

static X509 *
mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
       int64_t nb, int64_t na, int is_ca, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	                          is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!is_ca) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

static void
save(const char *name, X509 *x, EVP_PKEY *k)
{
	char p[256];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s.crt", dir, name);
	f = fopen(p, "w");
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(p, sizeof p, "%s/%s.key", dir, name);
	f = fopen(p, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static const char *
path(const char *name)
{
	static char p[8][256];
	static int i;
	i = (i + 1) % 8;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

/* ---- a TLS server that wants a client certificate ------------------------- */

typedef struct {
	SSL_CTX *ctx;
	int lfd;
	int conns; /* connections to serve, then exit */
} server;

static void *
serve(void *arg)
{
	server *s = arg;
	int i;
	sigset_t set;
	/* Session tickets written to a client that already left raise
	 * SIGPIPE in this thread: keep it blocked here. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < s->conns; i++) {
		int fd = accept(s->lfd, NULL, NULL);
		SSL *ssl;
		char buf[64];
		if (fd < 0)
			break;
		ssl = SSL_new(s->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1)
			(void)SSL_read(ssl, buf, sizeof buf); /* until the client closes */
		SSL_free(ssl);
		close(fd);
	}
	return NULL;
}

static int
start_server(server *s, const char *crt, const char *key, const char *ca,
             int conns, pthread_t *th)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	s->ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate_file(s->ctx, crt, SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey_file(s->ctx, key, SSL_FILETYPE_PEM);
	SSL_CTX_load_verify_locations(s->ctx, ca, NULL);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 8) != 0)
		return -1;
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->conns = conns;
	pthread_create(th, NULL, serve, s);
	return ntohs(a.sin_port);
}

int
main(void)
{
	EVP_PKEY *cak, *sk, *ck, *ok;
	X509 *ca, *srv, *cli, *old;
	eb_certinfo ci;
	eb_err err;
	int rc, port;
	server s;
	pthread_t th;
	char portstr[16], ep[64], hp[64];
	time_t now = time(NULL);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(dir)) {
		printf("FAIL certinfo__setup: mkdtemp\n");
		return 1;
	}
	cak = newkey();
	sk = newkey();
	ck = newkey();
	ok = newkey();
	ca = mkcert("test-ca", cak, NULL, NULL, SRV_NOT_BEFORE, CA_NOT_AFTER, 1, 1);
	srv = mkcert("kube-etcd", sk, ca, cak, SRV_NOT_BEFORE, SRV_NOT_AFTER, 0, 2);
	cli = mkcert("kube-etcd-healthcheck-client", ck, ca, cak, SRV_NOT_BEFORE, CLI_NOT_AFTER, 0, 3);
	old = mkcert("expired", ok, ca, cak, 1500000000LL, OLD_NOT_AFTER, 0, 4);
	save("ca", ca, cak);
	save("server", srv, sk);
	save("client", cli, ck);
	save("old", old, ok);

	/* PEM files */
	eb_err_init(&err);
	rc = eb_certinfo_file(path("client.crt"), &ci, &err);
	CHECK("certinfo__file_dates", rc == 0 && ci.not_after == CLI_NOT_AFTER &&
	      ci.not_before == SRV_NOT_BEFORE,
	      "rc=%d na=%lld nb=%lld msg=%s", rc, (long long)ci.not_after,
	      (long long)ci.not_before, err.msg);
	CHECK("certinfo__file_subject", strstr(ci.subject, "kube-etcd-healthcheck-client") != NULL,
	      "subject '%s'", ci.subject);

	eb_err_init(&err);
	rc = eb_certinfo_file(path("old.crt"), &ci, &err);
	CHECK("certinfo__file_expired", rc == 0 && ci.not_after == OLD_NOT_AFTER &&
	      ci.not_after - (int64_t)now < 0, "rc=%d na=%lld", rc, (long long)ci.not_after);

	eb_err_init(&err);
	rc = eb_certinfo_file(path("nope.crt"), &ci, &err);
	CHECK("certinfo__file_missing", rc == EB_EIO && strstr(err.msg, "nope.crt"),
	      "rc=%d msg=%s", rc, err.msg);

	eb_err_init(&err);
	rc = eb_certinfo_file(path("client.key"), &ci, &err);
	CHECK("certinfo__file_not_a_cert", rc == EB_EINVAL && strstr(err.msg, "no PEM certificate"),
	      "rc=%d msg=%s", rc, err.msg);

	{
		/* A 2049 notAfter is GeneralizedTime in X.509 (after 2049 UTC
		 * time is not allowed): it must parse as well. */
		X509 *far = mkcert("far", ok, ca, cak, SRV_NOT_BEFORE, 2556143999LL, 0, 5);
		BIO *b = BIO_new(BIO_s_mem());
		char *pem;
		long n;
		PEM_write_bio_X509(b, far);
		n = BIO_get_mem_data(b, &pem);
		eb_err_init(&err);
		rc = eb_certinfo_pem(pem, (size_t)n, &ci, &err);
		CHECK("certinfo__generalized_time", rc == 0 && ci.not_after == 2556143999LL,
		      "rc=%d na=%lld %s", rc, (long long)ci.not_after, err.msg);
		BIO_free(b);
		X509_free(far);
	}

	/* TLS handshake with client-certificate auth (like etcd's
	 * --client-cert-auth): the server certificate's dates come back. */
	port = start_server(&s, path("server.crt"), path("server.key"), path("ca.crt"), 3, &th);
	snprintf(portstr, sizeof portstr, "%d", port);
	eb_err_init(&err);
	memset(&ci, 0, sizeof ci);
	rc = eb_certinfo_server("127.0.0.1", portstr, path("ca.crt"), path("client.crt"),
	                        path("client.key"), 5000, &ci, &err);
	CHECK("certinfo__server_mtls", rc == 0 && ci.not_after == SRV_NOT_AFTER &&
	      ci.not_before == SRV_NOT_BEFORE && ci.verified == 1,
	      "rc=%d na=%lld verified=%d (%s) msg=%s", rc, (long long)ci.not_after,
	      ci.verified, ci.verify_msg, err.msg);

	/* Wrong CA: still the dates, verified = 0. */
	eb_err_init(&err);
	memset(&ci, 0, sizeof ci);
	snprintf(ep, sizeof ep, "https://127.0.0.1:%d", port);
	rc = eb_certinfo_endpoint(ep, path("client.crt"), path("client.crt"), path("client.key"),
	                          5000, &ci, hp, sizeof hp, &err);
	CHECK("certinfo__endpoint_unverified", rc == 0 && ci.not_after == SRV_NOT_AFTER &&
	      ci.verified == 0, "rc=%d na=%lld verified=%d msg=%s", rc,
	      (long long)ci.not_after, ci.verified, err.msg);
	snprintf(ep, sizeof ep, "127.0.0.1:%d", port);
	CHECK("certinfo__endpoint_hostport", strcmp(hp, ep) == 0, "got '%s' want '%s'", hp, ep);

	/* The metrics carry the figures: remaining = notAfter - now. */
	{
		eb_metrics m;
		char *text = NULL, want[256];
		eb_metrics_init(&m);
		eb_metrics_add_cert(&m, "server", hp, ci.not_after);
		eb_metrics_add_cert(&m, "client", "", CLI_NOT_AFTER);
		eb_metrics_finish(&m, 0);
		eb_err_init(&err);
		rc = eb_metrics_render(&m, 1800000000LL, &text, NULL, &err);
		snprintf(want, sizeof want,
		         "etcd_backup_certificate_remaining_seconds{cert=\"server\",endpoint=\"%s\"} %lld\n",
		         hp, SRV_NOT_AFTER - 1800000000LL);
		CHECK("certinfo__metrics_server_remaining", rc == 0 && strstr(text, want), "want %s in\n%s", want, text);
		snprintf(want, sizeof want,
		         "etcd_backup_certificate_expiry_timestamp_seconds{cert=\"client\",endpoint=\"\"} %lld\n",
		         CLI_NOT_AFTER);
		CHECK("certinfo__metrics_client_expiry", rc == 0 && strstr(text, want), "want %s in\n%s", want, text);
		free(text);
	}

	/* An endpoint given as plain http has no certificate. */
	eb_err_init(&err);
	rc = eb_certinfo_endpoint("http://127.0.0.1:2379", NULL, NULL, NULL, 1000, &ci, NULL, 0, &err);
	CHECK("certinfo__http_endpoint", rc == EB_EINVAL, "rc=%d msg=%s", rc, err.msg);

	eb_err_init(&err);
	rc = eb_certinfo_endpoint("https://127.0.0.1", NULL, NULL, NULL, 1000, &ci, NULL, 0, &err);
	CHECK("certinfo__endpoint_no_port", rc == EB_EINVAL, "rc=%d msg=%s", rc, err.msg);

	/* Nothing listening: EB_EUNAVAIL. */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a;
		socklen_t al = sizeof a;
		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&a, sizeof a);
		getsockname(fd, (struct sockaddr *)&a, &al);
		snprintf(ep, sizeof ep, "https://127.0.0.1:%d", ntohs(a.sin_port));
		close(fd); /* bound then closed: nothing listens there */
		eb_err_init(&err);
		rc = eb_certinfo_endpoint(ep, NULL, NULL, NULL, 2000, &ci, NULL, 0, &err);
		CHECK("certinfo__refused", rc == EB_EUNAVAIL, "rc=%d msg=%s", rc, err.msg);
	}

	/* A listener that never answers the handshake: EB_ETIMEOUT in time. */
	{
		int lfd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a;
		socklen_t al = sizeof a;
		struct timespec t0, t1;
		double took;
		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(lfd, (struct sockaddr *)&a, sizeof a);
		listen(lfd, 4);
		getsockname(lfd, (struct sockaddr *)&a, &al);
		snprintf(portstr, sizeof portstr, "%d", ntohs(a.sin_port));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		eb_err_init(&err);
		rc = eb_certinfo_server("127.0.0.1", portstr, NULL, NULL, NULL, 700, &ci, &err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		CHECK("certinfo__handshake_timeout", rc == EB_ETIMEOUT && took < 3.0,
		      "rc=%d took=%.2fs msg=%s", rc, took, err.msg);
		close(lfd);
	}

	/* Let the server thread finish its last accept. */
	{
		eb_err_init(&err);
		snprintf(portstr, sizeof portstr, "%d", port);
		(void)eb_certinfo_server("127.0.0.1", portstr, path("ca.crt"), path("client.crt"),
		                         path("client.key"), 5000, &ci, &err);
		pthread_join(th, NULL);
		close(s.lfd);
		SSL_CTX_free(s.ctx);
	}

	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	X509_free(old);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(ok);
	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", dir);
	}
	return t_nfail ? 1 : 0;
}
