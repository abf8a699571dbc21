/* tests/unit/test_azure.c - the Azure Blob client's pure parts, no server:
 * the Shared Key string to sign in its documented layout, connection
 * strings, store URLs, endpoints and the credential order.  (Azurite checks
 * the signatures themselves in tests/it/t_az_store.sh.) */
#include <stdlib.h>
#include <string.h>

#include "storage/azure/azblob.h"
#include "tests/unit/harness.h"

static void
string_to_sign(void)
{
	const char *h[] = {"x-ms-version:2021-12-02", "x-ms-date:Tue, 08 Dec 2026 01:09:30 GMT",
	                   "x-ms-blob-type:BlockBlob", NULL};
	const char *qn[] = {"comp", "blockid", NULL}, *qv[] = {"block", "YWJj+/==", NULL};
	char *s = eb_az_string_to_sign("PUT", "11", "application/octet-stream", NULL, "*", h, "acct",
	                               "/acct/backups/prod/x.zst", qn, qv);
	ASSERT_STR(s, "PUT\n\n\n11\n\napplication/octet-stream\n\n\n\n*\n\n\n"
	              "x-ms-blob-type:BlockBlob\nx-ms-date:Tue, 08 Dec 2026 01:09:30 GMT\n"
	              "x-ms-version:2021-12-02\n"
	              "/acct/acct/backups/prod/x.zst\nblockid:YWJj+/==\ncomp:block");
	free(s);
	s = eb_az_string_to_sign("GET", "", NULL, "\"0x8D\"", NULL, NULL, "a", "/c", NULL, NULL);
	ASSERT_STR(s, "GET\n\n\n\n\n\n\n\n\"0x8D\"\n\n\n\n/a/c");
	free(s);
}

static void
connection_strings(void)
{
	eb_az_connstr c;
	eb_err e;
	eb_err_init(&e);
	ASSERT_EQ(eb_az_connstr_parse("DefaultEndpointsProtocol=http;AccountName=dev;"
	                              "AccountKey=a2V5PT0=;BlobEndpoint=http://127.0.0.1:10000/dev;", &c, &e), 0);
	ASSERT_STR(c.account, "dev");
	ASSERT_STR(c.key, "a2V5PT0="); /* '=' inside a value stays */
	ASSERT_STR(c.blob_endpoint, "http://127.0.0.1:10000/dev");
	ASSERT_STR(c.protocol, "http");
	ASSERT(c.sas == NULL && c.suffix == NULL);
	eb_az_connstr_dispose(&c);
	ASSERT_EQ(eb_az_connstr_parse("accountname=x;SharedAccessSignature=sv=1&sig=z;EndpointSuffix=core.chinacloudapi.cn",
	                              &c, &e), 0);
	ASSERT_STR(c.account, "x");
	ASSERT_STR(c.sas, "sv=1&sig=z");
	ASSERT_STR(c.suffix, "core.chinacloudapi.cn");
	eb_az_connstr_dispose(&c);
	ASSERT_EQ(eb_az_connstr_parse("AccountName=x;garbage", &c, &e), EB_EINVAL);
	ASSERT(strstr(e.msg, "without '='") != NULL);
}

/* eb_az_new with only the given variables set; 0 or the error code. */
static int
open_with(const char *url, const char *conn, const char *key, const char *sas, const eb_store_opts *o,
          eb_az_info *info, eb_err *e)
{
	eb_az *a = NULL;
	eb_store_opts def;
	int rc;
	eb_store_opts_init(&def);
	conn ? setenv("AZURE_STORAGE_CONNECTION_STRING", conn, 1) : unsetenv("AZURE_STORAGE_CONNECTION_STRING");
	key ? setenv("AZURE_STORAGE_KEY", key, 1) : unsetenv("AZURE_STORAGE_KEY");
	sas ? setenv("AZURE_STORAGE_SAS_TOKEN", sas, 1) : unsetenv("AZURE_STORAGE_SAS_TOKEN");
	eb_err_init(e);
	rc = eb_az_new(&a, url, o ? o : &def, e);
	if (rc == 0 && info) {
		static char ep[256], pre[256], src[128];
		eb_az_info_of(a, info);
		snprintf(ep, sizeof ep, "%s", info->endpoint);
		snprintf(pre, sizeof pre, "%s", info->prefix);
		snprintf(src, sizeof src, "%s", info->source);
		info->endpoint = ep;
		info->prefix = pre;
		info->source = src;
		info->account = info->container = info->ca_file = NULL;
	}
	eb_az_free(a);
	return rc;
}

static void
urls_and_credentials(void)
{
	eb_az_info i;
	eb_err e;
	eb_store_opts o;
	ASSERT_EQ(open_with("azblob://acct/backups/prod/eu", NULL, "a2V5", NULL, NULL, &i, &e), 0);
	ASSERT_STR(i.endpoint, "https://acct.blob.core.windows.net");
	ASSERT_STR(i.prefix, "prod/eu/");
	ASSERT_EQ(open_with("azblob://acct/backups", NULL, NULL, "?sv=1&sig=abc", NULL, &i, &e), 0);
	ASSERT_STR(i.prefix, "");
	eb_store_opts_init(&o);
	o.azure_endpoint_suffix = "core.usgovcloudapi.net";
	ASSERT_EQ(open_with("azblob://acct/backups/", NULL, "a2V5", NULL, &o, &i, &e), 0);
	ASSERT_STR(i.endpoint, "https://acct.blob.core.usgovcloudapi.net");
	o.azure_endpoint = "http://127.0.0.1:10000/acct/";
	ASSERT_EQ(open_with("azblob://acct/backups/", NULL, "a2V5", NULL, &o, &i, &e), 0);
	ASSERT_STR(i.endpoint, "http://127.0.0.1:10000/acct");
	/* the connection string comes first, and names its endpoint */
	ASSERT_EQ(open_with("azblob://dev/backups", "AccountName=dev;AccountKey=a2V5;BlobEndpoint=http://h:1/dev",
	                    NULL, "sv=1&sig=x", NULL, &i, &e), 0);
	ASSERT_STR(i.endpoint, "http://h:1/dev");
	ASSERT_EQ(open_with("azblob://other/backups", "AccountName=dev;AccountKey=a2V5", NULL, NULL, NULL, &i, &e),
	          EB_EINVAL);
	ASSERT(strstr(e.msg, "for account dev, the store for other") != NULL);
	/* nothing given: workload identity when its file is set, else the
	 * managed identity (fetched at the first request) */
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	ASSERT_EQ(open_with("azblob://acct/backups", NULL, NULL, NULL, NULL, &i, &e), 0);
	ASSERT_STR(i.source, "managed identity (IMDS)");
	setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token", 1);
	unsetenv("AZURE_CLIENT_ID");
	ASSERT_EQ(open_with("azblob://acct/backups", NULL, NULL, NULL, NULL, &i, &e), EB_EAUTH);
	ASSERT(strstr(e.msg, "AZURE_CLIENT_ID") != NULL);
	setenv("AZURE_CLIENT_ID", "c", 1);
	setenv("AZURE_TENANT_ID", "t", 1);
	ASSERT_EQ(open_with("azblob://acct/backups", NULL, NULL, NULL, NULL, &i, &e), 0);
	ASSERT_STR(i.source, "workload identity (AZURE_FEDERATED_TOKEN_FILE)");
	ASSERT_EQ(open_with("azblob://acct/backups", NULL, "a2V5", NULL, NULL, &i, &e), 0);
	ASSERT_STR(i.source, "AZURE_STORAGE_KEY"); /* a key comes first */
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	unsetenv("AZURE_CLIENT_ID");
	unsetenv("AZURE_TENANT_ID");
	ASSERT_EQ(open_with("azblob://acct/backups", NULL, "not base64!", NULL, NULL, &i, &e), EB_EINVAL);
	ASSERT(strstr(e.msg, "not base64") != NULL && strstr(e.msg, "not base64!") == NULL);
	ASSERT_EQ(open_with("azblob://acct/backups", NULL, NULL, "sv=1&se=2", NULL, &i, &e), EB_EINVAL);
	ASSERT_EQ(open_with("azblob://acct", NULL, "a2V5", NULL, NULL, &i, &e), EB_EINVAL);
	ASSERT_EQ(open_with("azblob://acct/Backups", NULL, "a2V5", NULL, NULL, &i, &e), EB_EINVAL);
	ASSERT_EQ(open_with("azblob://acct/ab", NULL, "a2V5", NULL, NULL, &i, &e), EB_EINVAL);
	ASSERT_EQ(open_with("azblob://acct/backups/a/../b", NULL, "a2V5", NULL, NULL, &i, &e), EB_EINVAL);
	o.azure_endpoint = "http://h/acct?sv=1&sig=x";
	ASSERT_EQ(open_with("azblob://acct/backups", NULL, "a2V5", NULL, &o, &i, &e), EB_EINVAL);
	unsetenv("AZURE_STORAGE_KEY");
	unsetenv("AZURE_STORAGE_SAS_TOKEN");
	unsetenv("AZURE_STORAGE_CONNECTION_STRING");
}

int
main(void)
{
	t_seed();
	RUN(string_to_sign);
	RUN(connection_strings);
	RUN(urls_and_credentials);
	return t_nfail ? 1 : 0;
}
