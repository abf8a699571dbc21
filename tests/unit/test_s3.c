/* tests/unit/test_s3.c - the S3 backend's pure parts, no server: SigV4
 * against AWS's published example, URI/query encoding, the XML reader on
 * good and hostile input (random mutations must never crash), ISO 8601
 * times, store URL / endpoint / addressing resolution, compat switches. */
#include <time.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "storage/s3/creds.h"
#include "storage/s3/s3.h"
#include "storage/s3/sigv4.h"
#include "storage/s3/xml.h"
#include "tests/unit/harness.h"

/* AWS S3 documentation, "Signature Calculations for the Authorization
 * Header", example GET Object. */
static void
sigv4_aws_example(void)
{
	eb_s3_hdr h[] = {
		{"host", "examplebucket.s3.amazonaws.com"},
		{"range", "bytes=0-9"},
		{"x-amz-content-sha256", EB_S3_EMPTY_SHA256},
		{"x-amz-date", "20130524T000000Z"},
	};
	char auth[1024];
	eb_err e;
	eb_err_init(&e);
	ASSERT_OK(eb_sigv4_sign("GET", "/test.txt", "", h, 4, EB_S3_EMPTY_SHA256,
	                        "20130524T000000Z", "us-east-1", "s3",
	                        "AKIAIOSFODNN7EXAMPLE",
	                        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", auth,
	                        sizeof auth, NULL, &e), &e);
	ASSERT_STR(auth, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
	                 "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
	                 "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void
encoding(void)
{
	eb_buf b = {0};
	eb_s3_query q = {0};
	char *qs = NULL;
	const char *k = "a b+c=d/ü~._-*";
	ASSERT_EQ(eb_s3_uri_encode(&b, k, strlen(k), 1), 0);
	ASSERT_STR(b.p, "a%20b%2Bc%3Dd/%C3%BC~._-%2A");
	eb_buf_dispose(&b);
	ASSERT_EQ(eb_s3_uri_encode(&b, "x/y", 3, 0), 0);
	ASSERT_STR(b.p, "x%2Fy");
	eb_buf_dispose(&b);
	ASSERT_EQ(eb_s3_query_add(&q, "uploadId", "a/b+c"), 0);
	ASSERT_EQ(eb_s3_query_add(&q, "partNumber", "2"), 0);
	ASSERT_EQ(eb_s3_query_add(&q, "uploads", NULL), 0);
	ASSERT_EQ(eb_s3_query_build(&q, &qs), 0);
	ASSERT_STR(qs, "partNumber=2&uploadId=a%2Fb%2Bc&uploads=");
	free(qs);
	eb_s3_query_dispose(&q);
}

static void
xml_reader(void)
{
	const char *doc =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<IsTruncated>true</IsTruncated>"
		"<Contents><Key>a &amp; b &lt;c&gt; &#252;&#x20AC;</Key><Size>12</Size></Contents>"
		"<Contents><Key>second</Key><Size>0</Size></Contents>"
		"<NextContinuationToken>tok/+=</NextContinuationToken>"
		"<Empty/></ListBucketResult>";
	eb_xml_span d = {doc, strlen(doc)}, r, c, k;
	size_t pos = 0;
	char *t, buf[64];
	ASSERT_EQ(eb_xml_find(d, "ListBucketResult", &r), 1);
	ASSERT_EQ(eb_xml_next(r, &pos, "Contents", &c), 1);
	ASSERT_EQ(eb_xml_find(c, "Key", &k), 1);
	t = eb_xml_text(k);
	ASSERT(t != NULL);
	ASSERT_STR(t, "a & b <c> \xc3\xbc\xe2\x82\xac");
	free(t);
	ASSERT_EQ(eb_xml_next(r, &pos, "Contents", &c), 1);
	ASSERT_EQ(eb_xml_next(r, &pos, "Contents", &c), 0);
	eb_xml_get(r, "NextContinuationToken", buf, sizeof buf);
	ASSERT_STR(buf, "tok/+=");
	eb_xml_get(r, "IsTruncated", buf, sizeof buf);
	ASSERT_STR(buf, "true");
	ASSERT_EQ(eb_xml_find(r, "Empty", &c), 1);
	ASSERT_EQ(c.len, 0);
	ASSERT_EQ(eb_xml_find(r, "Missing", &c), 0);
	/* malformed */
	{
		const char *bad[] = {"<a>unterminated", "<a><b>x</a", "<a", "<Key>&bogus;</Key>",
		                     "<Key>&#0;</Key>", "<Key>&#x110000;</Key>", "<Key>&#xZZ;</Key>",
		                     "<Key>&amp</Key>", "<Key>a<b/>c</Key>"};
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			eb_xml_span s = {bad[i], strlen(bad[i])}, o;
			int f = eb_xml_find(s, i < 3 ? "a" : "Key", &o);
			if (f == 1) {
				t = eb_xml_text(o);
				if (t)
					T_FAIL("'%s' decoded to '%s'", bad[i], t);
			}
		}
	}
}

/* Random mutations of a real answer: any result is fine, a crash or an
 * out-of-bounds read (ASan build) is not. */
static void
xml_mutations(void)
{
	const char *base =
		"<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
		"<NextKeyMarker>k&amp;1</NextKeyMarker><Upload><Key>p/a b</Key>"
		"<UploadId>2~x</UploadId><Initiated>2026-11-21T04:43:15.000Z</Initiated></Upload>"
		"</ListMultipartUploadsResult>";
	size_t n = strlen(base);
	for (int it = 0; it < 20000; it++) {
		char *m = malloc(n);
		eb_xml_span d, u, k;
		size_t pos = 0;
		size_t len = (size_t)(t_rand() % (n + 1));
		memcpy(m, base, n);
		for (int j = 0; j < 4; j++)
			m[t_rand() % n] = "<>/&;#x0aZ"[t_rand() % 10];
		d.p = m;
		d.len = len;
		/* whatever the damage: every span found lies inside the input,
		 * decoded text is bounded by its span, a copied value is
		 * NUL-terminated inside its buffer (ASan checks the reads) */
		while (eb_xml_next(d, &pos, "Upload", &u) == 1) {
			ASSERT(u.p >= d.p && u.p + u.len <= d.p + d.len);
			if (eb_xml_find(u, "Key", &k) == 1) {
				char *t = eb_xml_text(k);
				ASSERT(k.p >= u.p && k.p + k.len <= u.p + u.len);
				ASSERT(!t || strlen(t) <= k.len);
				free(t);
			}
		}
		ASSERT(pos <= d.len);
		{
			char b[32];
			memset(b, 'x', sizeof b);
			eb_xml_get(d, "NextKeyMarker", b, sizeof b);
			ASSERT(memchr(b, '\0', sizeof b) != NULL);
		}
		free(m);
	}
	/* and the undamaged document reads back exactly */
	{
		eb_xml_span d = {base, n}, u, k;
		size_t pos = 0;
		char b[32];
		char *t;
		ASSERT_EQ(eb_xml_next(d, &pos, "Upload", &u), 1);
		ASSERT_EQ(eb_xml_find(u, "Key", &k), 1);
		t = eb_xml_text(k);
		ASSERT_STR(t, "p/a b");
		free(t);
		eb_xml_get(d, "NextKeyMarker", b, sizeof b);
		ASSERT_STR(b, "k&1");
	}
}

static void
iso8601(void)
{
	ASSERT_EQ(eb_s3_parse_iso8601("1970-01-01T00:00:00Z"), 0);
	ASSERT_EQ(eb_s3_parse_iso8601("2026-11-21T04:43:15.000Z"), 1795236195);
	ASSERT_EQ(eb_s3_parse_iso8601("2026-11-21T04:43:15+00:00"), 1795236195);
	ASSERT_EQ(eb_s3_parse_iso8601("2026-13-21T04:43:15Z"), -1);
	ASSERT_EQ(eb_s3_parse_iso8601("yesterday"), -1);
	/* an offset is converted (common/clock.c's one RFC 3339 parser) */
	ASSERT_EQ(eb_s3_parse_iso8601("2026-11-21T04:43:15+02:00"), 1795236195 - 7200);
	ASSERT_EQ(eb_s3_parse_iso8601("2026-11-21T04:43:15-01:30"), 1795236195 + 5400);
	ASSERT_EQ(eb_s3_parse_iso8601("2026-11-21T04:43:15+0200"), -1);
	ASSERT_EQ(eb_s3_parse_iso8601("2026-11-21T04:43:15Zjunk"), -1);
	{
		int64_t ms = 0;
		ASSERT_EQ(eb_rfc3339_ms("2026-11-21T04:43:15.25Z", &ms), 0);
		ASSERT_EQ(ms, 1795236195250LL);
		ASSERT_EQ(eb_rfc3339_ms("2026-11-21t04:43:15.123456789z", &ms), 0);
		ASSERT_EQ(ms, 1795236195123LL);
		/* no zone: refused (a different instant on every machine) */
		ASSERT_EQ(eb_rfc3339_ms("2026-11-21T04:43:15", &ms), -1);
		ASSERT_EQ(eb_rfc3339_ms("2026-11-21T04:43:15.5", &ms), -1);
		ASSERT_EQ(eb_rfc3339_ms("2026-11-21", &ms), -1);
		/* impossible dates are refused, not rolled over */
		ASSERT_EQ(eb_rfc3339_ms("2026-02-30T00:00:00Z", &ms), -1);
		ASSERT_EQ(eb_rfc3339_ms("2026-04-31T00:00:00Z", &ms), -1);
		ASSERT_EQ(eb_rfc3339_ms("2026-02-29T00:00:00Z", &ms), -1);
		ASSERT_EQ(eb_rfc3339_ms("2028-02-29T00:00:00Z", &ms), 0);
		ASSERT_EQ(eb_rfc3339_ms("2100-02-29T00:00:00Z", &ms), -1);
		ASSERT_EQ(eb_rfc3339_ms("2000-02-29T00:00:00Z", &ms), 0);
		ASSERT_EQ(eb_rfc3339_ms("2026-12-31T23:59:59+01:00", &ms), 0);
		ASSERT_EQ(ms, 1798757999000LL); /* 22:59:59Z */
	}
}

static void
resolve(void)
{
	eb_store_opts o;
	eb_s3 *s = NULL;
	eb_err e;
	setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_ENDPOINT_URL");
	setenv("AWS_REGION", "eu-west-3", 1);
	eb_store_opts_init(&o);
	eb_err_init(&e);
	ASSERT_OK(eb_s3_new(&s, "s3://my-bucket/etcd/prod/", &o, &e), &e);
	ASSERT_STR(s->base, "https://my-bucket.s3.eu-west-3.amazonaws.com");
	ASSERT_STR(s->host, "my-bucket.s3.eu-west-3.amazonaws.com");
	ASSERT_STR(s->prefix, "etcd/prod/");
	ASSERT_EQ(s->path_style, 0);
	eb_s3_free(s);

	setenv("AWS_ENDPOINT_URL", "http://10.0.0.5:7480", 1);
	ASSERT_OK(eb_s3_new(&s, "s3://bucket", &o, &e), &e);
	ASSERT_STR(s->base, "http://10.0.0.5:7480");
	ASSERT_EQ(s->path_style, 1); /* IP endpoint */
	ASSERT_STR(s->prefix, "");
	eb_s3_free(s);

	setenv("AWS_ENDPOINT_URL_S3", "https://minio.example.com:443/", 1);
	o.s3_region = "us-west-2";
	o.s3_compat = "md5,unsigned-payload";
	ASSERT_OK(eb_s3_new(&s, "s3://bucket/p", &o, &e), &e);
	ASSERT_STR(s->host, "bucket.minio.example.com"); /* default port dropped */
	ASSERT_STR(s->region, "us-west-2");
	ASSERT_EQ(s->compat, EB_S3_COMPAT_MD5 | EB_S3_COMPAT_UNSIGNED);
	eb_s3_free(s);

	o.s3_endpoint = "https://r2.example.com";
	o.s3_path_style = 1;
	o.s3_compat = NULL;
	ASSERT_OK(eb_s3_new(&s, "s3://bucket.with.dots/p", &o, &e), &e);
	ASSERT_STR(s->base, "https://r2.example.com");
	eb_s3_free(s);

	o.s3_path_style = -1;
	ASSERT(eb_s3_new(&s, "s3://Bad_Bucket!/p", &o, &e) == EB_EINVAL);
	eb_err_init(&e);
	o.s3_endpoint = "ftp://x";
	ASSERT(eb_s3_new(&s, "s3://bucket/p", &o, &e) == EB_EINVAL);
	eb_err_init(&e);
	o.s3_endpoint = "https://x/with/path";
	ASSERT(eb_s3_new(&s, "s3://bucket/p", &o, &e) == EB_EINVAL);
	eb_err_init(&e);
	o.s3_endpoint = NULL;
	o.s3_compat = "nope";
	ASSERT(eb_s3_new(&s, "s3://bucket/p", &o, &e) == EB_EINVAL);
	ASSERT(strstr(e.msg, "unknown switch 'nope'") != NULL);
	eb_err_init(&e);
	o.s3_compat = NULL;
	unsetenv("AWS_SECRET_ACCESS_KEY");
	ASSERT(eb_s3_new(&s, "s3://bucket/p", &o, &e) == EB_EAUTH);
	ASSERT(strstr(e.msg, "AWS_SECRET_ACCESS_KEY is not") != NULL);
}

static void
base64_md5(void)
{
	uint8_t m[EB_MD5_LEN];
	char b[32];
	eb_md5_buf("", 0, m);
	eb_base64(m, sizeof m, b);
	ASSERT_STR(b, "1B2M2Y8AsgTpgAmY7PhCfg==");
	eb_base64((const uint8_t *)"ab", 2, b);
	ASSERT_STR(b, "YWI=");
	eb_base64((const uint8_t *)"abc", 3, b);
	ASSERT_STR(b, "YWJj");
}

int
main(void)
{
	t_seed();
	RUN(sigv4_aws_example);
	RUN(encoding);
	RUN(xml_reader);
	RUN(xml_mutations);
	RUN(iso8601);
	RUN(resolve);
	RUN(base64_md5);
	return t_nfail ? 1 : 0;
}
