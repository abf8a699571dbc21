/* common/exitcodes.h - process exit codes of etcd-backup and etcd-restore,
 * one per failure class (docs/exit-codes.md is the user-facing table). */
#ifndef EB_EXITCODES_H
#define EB_EXITCODES_H

enum {
	EB_EXIT_OK = 0,
	EB_EXIT_FAILURE = 1,     /* generic / unknown failure */
	EB_EXIT_USAGE = 2,       /* bad flags or configuration */
	EB_EXIT_UNAVAILABLE = 3, /* etcd (or the store) unreachable, timeout */
	EB_EXIT_AUTH = 4,        /* authentication or permission refused */
	EB_EXIT_INTEGRITY = 5,   /* hash mismatch, corrupt data, trailer missing */
	EB_EXIT_STORAGE = 6,     /* local I/O or S3 error */
	EB_EXIT_UNHEALTHY = 7,   /* cluster check failed (alarm, HashKV mismatch) */
	EB_EXIT_NOTFOUND = 8,    /* no such backup */
	/* stopped by a signal: 128 + its number, as a shell reports it */
	EB_EXIT_SIGINT = 130,
	EB_EXIT_SIGTERM = 143
};

/* Exit code for a run that ended with err_code (0 or an EB_E* code);
 * EB_EINTR gives 128 + the signal that stopped the run (common/interrupt.h). */
int eb_exit_code(int err_code);

/* Short name of an exit code ("usage", "unavailable"...), for logs. */
const char *eb_exit_name(int exit_code);

#endif
