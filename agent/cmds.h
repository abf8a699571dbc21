/* agent/cmds.h - one function per etcd-backup subcommand.
 * Each lives in agent/cmd_<name>.c, parses its own flags (argv[0] is the
 * subcommand name), logs through common/log.h and returns the process exit
 * code (see "Exit codes" in README.md). */
#ifndef EB_CMDS_H
#define EB_CMDS_H

int cmd_status(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_replicate(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_get_key(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_drill(int argc, char **argv);

#endif
