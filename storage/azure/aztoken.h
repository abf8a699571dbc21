/* storage/azure/aztoken.h - Microsoft Entra ID tokens for Azure Storage
 * (Authorization: Bearer), when no key or SAS is given:
 *
 *   workload identity  AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID +
 *                      AZURE_TENANT_ID (AKS's webhook sets them): the
 *                      file's token (re-read at every exchange: kubelet
 *                      rotates it) is exchanged at AZURE_AUTHORITY_HOST
 *                      (default https://login.microsoftonline.com/)
 *                      TENANT/oauth2/v2.0/token for a storage token
 *                      (client_credentials with a jwt-bearer assertion,
 *                      scope https://storage.azure.com/.default)
 *   managed identity   the instance metadata endpoint (IMDS):
 *                      http://169.254.169.254/metadata/identity/oauth2/token
 *                      (host from AZURE_POD_IDENTITY_AUTHORITY_HOST), with
 *                      AZURE_CLIENT_ID for a user-assigned identity
 *
 * A token is fetched on first use and again 5 minutes before it expires
 * (also in the middle of an upload); the provider is shared by threads.
 * Tokens never reach a message or a log. */
#ifndef EB_AZTOKEN_H
#define EB_AZTOKEN_H

#include <stddef.h>

#include "common/err.h"

typedef struct eb_az_tokens eb_az_tokens;

/* Decides the source from the environment: workload identity when
 * AZURE_FEDERATED_TOKEN_FILE is set (then the client and tenant must be),
 * else managed identity.  Nothing is fetched yet. */
int eb_az_tokens_new(eb_az_tokens **out, const char *ca_file, eb_err *err);
void eb_az_tokens_free(eb_az_tokens *t);

/* "workload identity (AZURE_FEDERATED_TOKEN_FILE)" / "managed identity (IMDS)" */
const char *eb_az_tokens_source(const eb_az_tokens *t);

/* "Authorization: Bearer TOKEN" into line (the caller wipes it). */
int eb_az_tokens_header(eb_az_tokens *t, char *line, size_t cap, eb_err *err);

/* The service refused the current token: the next header fetches anew.
 * Returns 1 when this is the first time (a retry may help), else 0. */
int eb_az_tokens_expire(eb_az_tokens *t);

#endif
