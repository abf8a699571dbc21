/* common/err.h - the one error convention of the project.
 *
 * Every function that can fail returns 0 on success or a negative EB_E* code,
 * and fills the caller's eb_err with one line that says what failed and why.
 * The FIRST message wins: a caller that adds context must not overwrite the
 * cause found deeper down (eb_err_set is a no-op once a message is set).
 * Libraries never print; binaries log err.msg.  Secrets never go into msg. */
#ifndef EB_ERR_H
#define EB_ERR_H

#include <stddef.h>

enum {
	EB_OK = 0,
	EB_EINVAL = -1,     /* bad argument, flag or configuration */
	EB_EIO = -2,        /* local I/O failed */
	EB_ENOMEM = -3,
	EB_ECORRUPT = -4,   /* data failed a check: hash, structure, bounds */
	EB_ENOTFOUND = -5,  /* no such backup / object / key */
	EB_EAUTH = -6,      /* authentication or permission refused */
	EB_ETIMEOUT = -7,   /* deadline or inactivity timeout */
	EB_EUNAVAIL = -8,   /* peer unreachable or dropped the connection */
	EB_EEXIST = -9,     /* target exists and must not be overwritten */
	EB_EREMOTE = -10,   /* remote side answered with an error */
	EB_EUNHEALTHY = -11,/* cluster check found a problem (alarm, hash) */
	EB_EINTR = -12      /* stopped by SIGINT/SIGTERM */
};

typedef struct eb_err {
	int code;       /* first code set, 0 when none */
	char msg[1024]; /* first message set, "" when none */
} eb_err;

void eb_err_init(eb_err *err);

/* Sets code and message unless a message is already there.  Returns the code
 * that is now in err (so `return eb_err_set(err, EB_EIO, ...)` propagates
 * the first cause).  err may be NULL. */
int eb_err_set(eb_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, appending ": strerror(errnum)". */
int eb_err_sys(eb_err *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Puts context before the message already there ("segment 5-9 not
 * stored: <cause>"), keeping its code: the one way to add context, since
 * eb_err_set keeps the first message.  Returns err's code (EB_EIO when none
 * was set). */
int eb_err_context(eb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Short stable name of a code, for logs and metrics ("io", "corrupt"...). */
const char *eb_err_name(int code);

#endif
