/* common/exitcodes.c - EB_E* to exit code; see docs/exit-codes.md. */
#include "common/exitcodes.h"

#include <signal.h>

#include "common/err.h"
#include "common/interrupt.h"

int
eb_exit_code(int err_code)
{
	switch (err_code) {
	case EB_OK: return EB_EXIT_OK;
	case EB_EINVAL: return EB_EXIT_USAGE;
	case EB_ETIMEOUT:
	case EB_EUNAVAIL: return EB_EXIT_UNAVAILABLE;
	case EB_EAUTH: return EB_EXIT_AUTH;
	case EB_ECORRUPT: return EB_EXIT_INTEGRITY;
	case EB_EIO:
	case EB_EREMOTE:
	case EB_EEXIST: return EB_EXIT_STORAGE;
	case EB_EUNHEALTHY: return EB_EXIT_UNHEALTHY;
	case EB_ENOTFOUND: return EB_EXIT_NOTFOUND;
	case EB_EINTR: return eb_interrupted() == SIGTERM ? EB_EXIT_SIGTERM : EB_EXIT_SIGINT;
	default: return EB_EXIT_FAILURE; /* EB_ENOMEM and anything unknown */
	}
}

const char *
eb_exit_name(int exit_code)
{
	switch (exit_code) {
	case EB_EXIT_OK: return "ok";
	case EB_EXIT_USAGE: return "usage";
	case EB_EXIT_UNAVAILABLE: return "unavailable";
	case EB_EXIT_AUTH: return "auth";
	case EB_EXIT_INTEGRITY: return "integrity";
	case EB_EXIT_STORAGE: return "storage";
	case EB_EXIT_UNHEALTHY: return "unhealthy";
	case EB_EXIT_NOTFOUND: return "notfound";
	case EB_EXIT_SIGINT:
	case EB_EXIT_SIGTERM: return "interrupted";
	default: return "failure";
	}
}
