/* storage/azure/azblob.h - the Azure Blob Storage REST client under the
 * azblob:// store: where the account lives, how a request is authorized
 * (Shared Key or a SAS token), and one call with its retries.
 *
 *   azblob://ACCOUNT/CONTAINER[/prefix]
 *
 * Endpoint: https://ACCOUNT.blob.<suffix> (suffix core.windows.net, or
 * --azure-endpoint-suffix / the connection string's EndpointSuffix for the
 * sovereign clouds), or a whole blob endpoint (--azure-endpoint, the
 * connection string's BlobEndpoint: Azurite's http://127.0.0.1:10000/ACCOUNT).
 *
 * Credentials, in the Azure SDK's order (the first that is set wins):
 *   AZURE_STORAGE_CONNECTION_STRING  AccountName, AccountKey or
 *                                    SharedAccessSignature, BlobEndpoint,
 *                                    EndpointSuffix, DefaultEndpointsProtocol
 *   AZURE_STORAGE_KEY                the account key (Shared Key signing)
 *   AZURE_STORAGE_SAS_TOKEN          a SAS token (container or account)
 *   workload identity, else managed identity: Entra ID tokens (aztoken.h)
 * Keys and tokens never reach a message or a log, and are wiped at free.
 *
 * Shared Key (Azure's "Authorize with Shared Key"): HMAC-SHA256 with the decoded
 * account key over
 *   VERB \n Content-Encoding \n Content-Language \n Content-Length (empty
 *   for 0) \n Content-MD5 \n Content-Type \n Date \n If-Modified-Since \n
 *   If-Match \n If-None-Match \n If-Unmodified-Since \n Range \n
 *   x-ms-* headers, lower case, sorted, "name:value\n" each,
 *   "/" ACCOUNT URL-path, then "\nname:value" per query parameter (sorted,
 *   decoded), sent as "Authorization: SharedKey ACCOUNT:base64(mac)". */
#ifndef EB_AZBLOB_H
#define EB_AZBLOB_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/s3/http.h"
#include "storage/store.h"

typedef struct eb_az eb_az;

/* What the store needs of the client's settings. */
typedef struct eb_az_info {
	const char *account, *container, *prefix; /* prefix "" or "p/" */
	const char *endpoint;                     /* blob endpoint, no trailing / */
	const char *ca_file;
	const char *source;                       /* where the credentials come from */
	int list_max;                             /* List Blobs page size, 0: the service's */
} eb_az_info;

enum { EB_AZ_MAXQ = 8 };

/* One request.  Query parameters are raw (encoded here). */
typedef struct eb_az_call {
	const char *op;     /* "PutBlob", "GetBlob"... for messages */
	const char *method;
	const char *blob;   /* full blob name (prefix + name); NULL: the container */
	const char *qn[EB_AZ_MAXQ], *qv[EB_AZ_MAXQ]; /* NULL-terminated names */
	const uint8_t *body;
	size_t body_len;
	const char *content_type;
	int block_blob;     /* x-ms-blob-type: BlockBlob (Put Blob) */
	int if_none_match;  /* only when no blob has the name (EB_EEXIST) */
	/* GET: stream a 2xx body; a retry resumes with x-ms-range at the first
	 * byte not yet delivered, pinned to the first answer's ETag. */
	int (*on_data)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
	int cleanup;        /* not stopped by SIGINT/SIGTERM */
	const int *cancel;  /* stop (no retry) once *cancel is set; may be NULL */
} eb_az_call;

int eb_az_new(eb_az **out, const char *url, const eb_store_opts *opts, eb_err *err);
void eb_az_free(eb_az *a);
void eb_az_info_of(const eb_az *a, eb_az_info *out);

/* Authorizes, sends and retries one request (connection errors, 5xx, 429,
 * ServerBusy, OperationTimedOut; bounded attempts and time; never auth or
 * permission errors).  0 on a 2xx answer (resp owns the body: dispose it),
 * otherwise a negative code with a message naming the operation, the blob,
 * Azure's error code and the fix. */
int eb_az_call_do(eb_az *a, eb_http *h, const eb_az_call *c, eb_http_resp *resp, eb_err *err);

/* Parses "DefaultEndpointsProtocol=...;AccountName=...;..." into its
 * parts (malloc'd, NULL when absent); for tests and eb_az_new. */
typedef struct eb_az_connstr {
	char *account, *key, *sas, *blob_endpoint, *suffix, *protocol;
} eb_az_connstr;
int eb_az_connstr_parse(const char *s, eb_az_connstr *out, eb_err *err);
void eb_az_connstr_dispose(eb_az_connstr *c);

/* The Shared Key string to sign of one request (tests check it against
 * the documented layout).  headers: "name:value" lines of the x-ms-*
 * headers in any order, NULL-terminated.  Malloc'd, NULL on no memory. */
char *eb_az_string_to_sign(const char *method, const char *content_length,
                           const char *content_type, const char *if_match,
                           const char *if_none_match, const char *const *headers,
                           const char *account, const char *path,
                           const char *const *qn, const char *const *qv);

#endif
