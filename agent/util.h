/* agent/util.h - help text shared by subcommands, and small formatting. */
#ifndef EB_AGENT_UTIL_H
#define EB_AGENT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "common/progress.h" /* eb_fmt_bytes */

#define ETCD_FLAGS_HELP \
"  --endpoints URLS             comma-separated etcd client URLs, http:// or\n" \
"                               https:// (ETCDCTL_ENDPOINTS; default\n" \
"                               http://127.0.0.1:2379)\n" \
"  --cacert FILE                CA bundle that signed the etcd server cert\n" \
"                               (ETCDCTL_CACERT)\n" \
"  --cert FILE, --key FILE      client certificate and key for mTLS\n" \
"                               (ETCDCTL_CERT, ETCDCTL_KEY)\n" \
"  --insecure-skip-tls-verify   do not verify the server certificate (unsafe)\n" \
"  --user NAME[:PASSWORD]       etcd user when auth is enabled (ETCDCTL_USER)\n" \
"  --password PASSWORD          its password (ETCDCTL_PASSWORD)\n" \
"  --dial-timeout DUR           connection set-up limit (default 2s)\n" \
"  --command-timeout DUR        limit for each request (default 5s)\n"

#define STORE_FLAGS_HELP \
"  STORE is a folder, file:///path, s3://bucket/prefix or\n" \
"  azblob://account/container/prefix (Azure Blob Storage); default\n" \
"  /var/backups/etcd (or ETCD_BACKUP_STORE).\n" \
"  --s3-endpoint URL            S3 endpoint (AWS_ENDPOINT_URL_S3,\n" \
"                               AWS_ENDPOINT_URL; default: AWS for the region)\n" \
"  --s3-region REGION           (AWS_REGION, AWS_DEFAULT_REGION)\n" \
"  --s3-path-style[=BOOL]       path-style addressing (automatic for IPs)\n" \
"  --s3-ca-file FILE            CA bundle for HTTPS (AWS_CA_BUNDLE)\n" \
"  --s3-compat LIST             switches for S3-compatible servers (README)\n" \
"  Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN],\n" \
"  AWS_PROFILE and the shared files, web identity (IRSA), container and\n" \
"  instance-metadata credentials, in the AWS SDK order.\n" \
"  --azure-endpoint URL         a whole blob endpoint (Azurite, private\n" \
"                               endpoints; default https://ACCOUNT.blob.SUFFIX)\n" \
"  --azure-endpoint-suffix S    sovereign clouds (default core.windows.net)\n" \
"  --azure-ca-file FILE         CA bundle for an HTTPS endpoint\n" \
"  Azure credentials: AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY\n" \
"  (the account key), AZURE_STORAGE_SAS_TOKEN, workload identity\n" \
"  (AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID), then the\n" \
"  managed identity (IMDS), in that order.\n"

#define READ_KEYS_HELP \
"  --age-identity FILE          decrypt age-encrypted backups with this\n" \
"                               identity file (age-keygen; repeatable)\n" \
"  --age-passphrase-file FILE   ... or with the passphrase on FILE's first\n" \
"                               line (files that age -p wrote)\n" \
"  --trusted-keys FILE          refuse any backup whose manifest is not\n" \
"                               signed by one of these ssh-ed25519 public\n" \
"                               keys (authorized_keys or allowed_signers)\n" \
"  (ETCD_BACKUP_AGE_IDENTITY and ETCD_BACKUP_TRUSTED_KEYS name the files\n" \
"  when the flags are not given)\n"
/* the commands that take --backup ID|latest */
#define CLUSTER_ID_HELP \
"  --cluster-id HEX             only backups of this cluster (as 'list' prints\n" \
"                               it); needed for 'latest' in a store that holds\n" \
"                               several clusters, and refuses a backup ID of\n" \
"                               another cluster\n"
#define WRITE_KEYS_HELP \
"  --age-recipient age1...      encrypt to this age public key (repeatable;\n" \
"                               the private key need not be on the cluster)\n" \
"  --age-recipients-file FILE   recipients, one per line, # comments (age -R)\n" \
"  --sign-key FILE              sign the manifest with this OpenSSH ed25519\n" \
"                               private key (ssh-keygen -t ed25519 -N \"\"):\n" \
"                               writes <id>.manifest.json.sig (SSHSIG,\n" \
"                               namespace etcd-backup) before the manifest\n"
/* the commands that take --control-plane DIR (snapshot, replicate) */
#define CONTROL_PLANE_HELP \
"  --control-plane DIR          also store the control plane's files (kubeadm:\n" \
"                               /etc/kubernetes): pki/, the kubeconfigs,\n" \
"                               manifests/ and every file their --*-file /\n" \
"                               --*-config flags name (encryption provider\n" \
"                               config, audit, authentication, authorization,\n" \
"                               admission), as <id>.control-plane.tar.zst.age;\n" \
"                               they hold the cluster's private keys, so an\n" \
"                               --age-recipient is required (env\n" \
"                               ETCD_BACKUP_CONTROL_PLANE)\n" \
"  --control-plane-store-private-keys-unencrypted\n" \
"                               store the bundle without --age-recipient\n" \
"                               (anyone who can read the store then holds\n" \
"                               the cluster's CA and service-account keys)\n"

#define POINT_HELP \
"Which backup and which point (default: the latest backup in the store):\n" \
"  --from FILE|STORE            a snapshot file (plain, or as stored: zstd\n" \
"                               and/or age), or a store (default\n" \
"                               /var/backups/etcd, or ETCD_BACKUP_STORE)\n" \
"  --backup ID|latest           a backup of the store\n" \
"  --at-revision R              the keys as of revision R: with --backup or a\n" \
"                               FILE, an earlier revision the snapshot still\n" \
"                               holds (not compacted away); else a point of\n" \
"                               a continuous backup (a full backup and its\n" \
"                               segments, as etcd-restore --to-revision)\n" \
"  --at-time RFC3339            the newest revision recorded at or before\n" \
"                               that time (continuous backup)\n" \
"  --tmp-dir DIR                where the snapshot is staged while read\n" \
"                               (default $TMPDIR or /tmp; removed after)\n"

#define COMMON_FLAGS_HELP \
"  --log-format text|json       log lines on stderr (default text)\n" \
"  --log-level LEVEL            debug, info (default), warn, error\n" \
"  -h, --help                   this help\n"


#endif
