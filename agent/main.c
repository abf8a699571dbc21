/* etcd-backup: entry point.  argv -> subcommand; no logic here. */
#include <stdio.h>
#include <string.h>

#include "agent/backup.h"
#include "agent/cmds.h"
#include "agent/etcd.h"
#include "common/interrupt.h"
#include "common/exitcodes.h"

static const char usage[] =
"Usage: etcd-backup COMMAND [flags]\n"
"\n"
"Verified, streaming backups of etcd (the Kubernetes state store).\n"
"\n"
"Commands:\n"
"  snapshot   take a backup: etcd -> sha256 check -> zstd -> store\n"
"  replicate  continuous backup: a full backup, then every change as segments\n"
"  status     health of every member: alarms, revisions, HashKV agreement\n"
"  list       backups in a store, newest first\n"
"  get        fetch a backup as a plain snapshot file (etcdctl-compatible)\n"
"  verify     re-read a backup and check every digest\n"
"  prune      delete backups a --keep-* policy does not keep\n"
"  inspect    what a snapshot holds: revision, keys, hash, structure check\n"
"\n"
"A STORE is a folder, file:///path, s3://bucket/prefix or\n"
"azblob://account/container/prefix.\n"
"Run 'etcd-backup COMMAND --help' for the flags of a command.\n"
"Restore with etcd-restore (see 'etcd-restore --help').\n";

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
		int grpc;
	} cmds[] = {
		{"snapshot", cmd_snapshot, 1}, {"status", cmd_status, 1},
		{"list", cmd_list, 0},         {"get", cmd_get, 0},
		{"verify", cmd_verify, 0},     {"prune", cmd_prune, 0},
		{"inspect", cmd_inspect, 0},   {"replicate", cmd_replicate, 1},
		{"keys", cmd_keys, 0},         {"get-key", cmd_get_key, 0},
		{"history", cmd_history, 0},   {"diff", cmd_diff, 1},
		{"drill", cmd_drill, 1},
	};
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EB_EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("etcd-backup %s\n", EB_TOOL_VERSION);
		return 0;
	}
	eb_interrupt_install();
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (cmds[i].grpc)
			eb_etcd_global_init();
		rc = cmds[i].fn(argc - 1, argv + 1);
		if (cmds[i].grpc)
			eb_etcd_global_shutdown();
		return rc;
	}
	fprintf(stderr, "etcd-backup: unknown command '%s'\n\n%s", argv[1], usage);
	return EB_EXIT_USAGE;
}
