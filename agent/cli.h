/* agent/cli.h - flags and environment of etcd-backup subcommands.
 *
 * Flags follow etcdctl (--endpoints, --cacert, --cert, --key, --user,
 * --password, --dial-timeout, --command-timeout, -w/--write-out) and read the
 * same ETCDCTL_* variables when the flag is absent; S3 flags follow the AWS
 * CLI's variables (see storage/s3).  A flag always beats its variable. */
#ifndef EB_CLI_H
#define EB_CLI_H

#include <stddef.h>

#include "agent/etcd.h"
#include "crypt/keys.h"
#include "restore/view.h"
#include "storage/store.h"

/* Which flag groups a subcommand takes. */
enum {
	CLI_ETCD = 1 << 0,     /* connection to etcd */
	CLI_STORE = 1 << 1,    /* --to/--from and S3 options */
	CLI_SNAPSHOT = 1 << 2, /* compression, tags, member choice */
	CLI_BACKUP = 1 << 3,   /* --backup ID|latest */
	CLI_OUTFILE = 1 << 4,  /* --output FILE */
	CLI_KEEP = 1 << 5,     /* retention --keep-* */
	CLI_PRUNE = 1 << 6,    /* --dry-run, --cluster-id, --abort-incomplete-after */
	CLI_METRICS = 1 << 7,  /* --metrics-file, --pushgateway-url */
	CLI_FORMAT = 1 << 8,   /* -o/-w table|json */
	CLI_FILEARG = 1 << 9,  /* one positional FILE */
	CLI_TMPDIR = 1 << 10,  /* --tmp-dir DIR */
	CLI_DEEP = 1 << 11,    /* verify --deep */
	CLI_READKEYS = 1 << 12,  /* --age-identity, --age-passphrase-file, --trusted-keys */
	CLI_WRITEKEYS = 1 << 13, /* --age-recipient(s-file), --sign-key */
	CLI_REPLICATE = 1 << 14, /* --segment-interval, --segment-max-bytes, --full-interval */
	CLI_TRUST = 1 << 15,     /* --trusted-keys alone (prune, snapshot --keep-*) */
	CLI_CPLANE = 1 << 16,    /* --control-plane DIR (snapshot, replicate) */
	CLI_CPGET = 1 << 17,     /* --control-plane (get: the bundle, not the snapshot) */
	CLI_VIEW = 1 << 18,      /* --at-revision, --at-time, --prefix, --values, --print-value,
	                          * --encryption-config, --since-revision: looking inside */
	CLI_ARGS2 = 1 << 19,     /* up to two positionals (diff A B) */
	CLI_POINT = 1 << 20,     /* --at-revision, --at-time */
	CLI_DRILL = 1 << 21      /* --etcd-binary, --boot-timeout */
};

#define CLI_MAX_ENDPOINTS 16

/* The embedded default store: a local folder, used when neither --to/--from
 * nor ETCD_BACKUP_STORE names one. */
#define EB_DEFAULT_STORE "/var/backups/etcd"
#define CLI_MAX_TAGS 16

typedef struct cli_keep {
	int last, hourly, daily, weekly, monthly; /* -1 = not given */
} cli_keep;

typedef struct cli {
	const char *cmd;
	/* etcd */
	char *endpoints_buf;
	const char *endpoints[CLI_MAX_ENDPOINTS];
	size_t nendpoints;
	eb_etcd_opts etcd;
	/* store */
	const char *store;
	int store_given;          /* --to/--from or ETCD_BACKUP_STORE, not the default */
	eb_store_opts store_opts;
	/* snapshot */
	const char *compression;  /* "zstd" | "none" */
	int compression_level;
	const char *tags[CLI_MAX_TAGS];
	size_t ntags;
	const char *member;       /* "auto" | "leader" | "follower" | endpoint */
	/* get / verify / restore */
	const char *backup;
	const char *output;
	const char *file;
	const char *tmp_dir;      /* $TMPDIR or /tmp unless --tmp-dir */
	/* retention */
	cli_keep keep;
	int dry_run;
	uint64_t cluster_id;      /* --cluster-id HEX: prune, get, verify, inspect; 0 = not given */
	long abort_incomplete_s;  /* -1 = default */
	int delete_untrusted;     /* prune: remove backups that are not proven */
	/* reporting */
	const char *metrics_file;
	const char *pushgateway_url;
	int json;                 /* -o json */
	int progress;             /* 1 = always, 0 = never, -1 = on a tty or with JSON logs */
	int deep;                 /* verify --deep, snapshot --verify-deep */
	eb_keys keys;             /* age and signature keys (crypt/keys.h) */
	/* the control-plane bundle */
	const char *control_plane;     /* --control-plane DIR ("" for get's flag) */
	int cp_plain;                  /* --control-plane-store-private-keys-unencrypted */
	/* looking inside a backup (keys, get-key, history, diff) */
	const char *args[2];           /* positionals: FILE, KEY, or diff's A and B */
	int nargs;
	long long at_rev;              /* --at-revision, 0 = not given */
	long long at_ms;               /* --at-time (Unix ms), 0 = not given */
	long long since_rev;           /* history --since-revision */
	int prefix;                    /* --prefix */
	const char *prefix_val;        /* diff --prefix P */
	int values;                    /* --values */
	int print_value;               /* --print-value */
	const char *encryption_config; /* --encryption-config FILE */
	/* drill */
	const char *etcd_binary;       /* --etcd-binary (default: etcd in PATH) */
	long long boot_timeout_ms;     /* --boot-timeout (default 60s) */
	int drill_phase;               /* --phase restore|check (0: both) */
	const char *work;              /* --work DIR: the phases' folder */
	const char *drill_endpoint;    /* --etcd-endpoint URL (check phase) */
	/* replicate */
	long long segment_interval_ms; /* 10s */
	long long segment_max_bytes;   /* 8 MiB */
	long long full_interval_ms;    /* 24h, 0 = never */
} cli;

/* Parses argv (argv[0] is the subcommand) for a command that takes the
 * flag groups in `mask`.  Prints help and returns 1 for --help; returns 0
 * when ready; on a usage error prints the message and returns 2. */
int cli_parse(cli *c, int argc, char **argv, unsigned mask, const char *usage);
void cli_dispose(cli *c);

/* What a store reader brings: --age-identity, --trusted-keys, --cluster-id. */
eb_read_keys cli_read_keys(const cli *c);

/* The store of --to/--from (or the default), with the S3 flags. */
int cli_open_store(cli *c, eb_store **st, eb_err *err);
/* Ends a store command: logs err when rc failed, frees st and c, returns
 * the exit code for rc. */
int cli_finish(cli *c, eb_store *st, int rc, eb_err *err);

/* 1 when p is an existing regular file. */
int cli_is_file(const char *p);
/* The store, its settings, the keys and --tmp-dir, as a view's source. */
eb_view_src cli_view_base(cli *c, const eb_read_keys *k);
/* The point of keys, get-key, history and drill from the flags: --from
 * FILE (--at-revision: earlier in it), --backup ID (--at-revision),
 * --at-revision/--at-time alone (a point of a continuous backup), or the
 * latest backup.  2 after saying why (a usage error). */
int cli_point(cli *c, const eb_read_keys *k, eb_view_src *s);

/* Parses "5s", "500ms", "2m", "1h", "3d" or plain seconds into ms. */
int cli_duration_ms(const char *s, long long *out_ms);

#endif
