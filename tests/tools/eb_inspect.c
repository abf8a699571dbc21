/* tests/tools/eb_inspect.c - runs cmd_inspect (agent/cmd_inspect.c) until
 * the lead wires `etcd-backup inspect` in agent/main.c. */
#include "agent/cmds.h"

int
main(int argc, char **argv)
{
	argv[0] = "inspect";
	return cmd_inspect(argc, argv);
}
