#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
eb_err_init(eb_err *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}

static int vset(eb_err *err, int code, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int
vset(eb_err *err, int code, int errnum, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	if (err->msg[0] != '\0')
		return err->code ? err->code : code;
	err->code = code;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	if (errnum) {
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof err->msg - n, ": %s",
		         strerror(errnum));
	}
	return code;
}

int
eb_err_set(eb_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	code = vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int
eb_err_sys(eb_err *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	code = vset(err, code, errnum, fmt, ap);
	va_end(ap);
	return code;
}

int
eb_err_context(eb_err *err, const char *fmt, ...)
{
	char ctx[sizeof err->msg], old[sizeof err->msg];
	va_list ap;
	if (!err)
		return EB_EIO;
	if (!err->code)
		err->code = EB_EIO;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	if (old[0]) {
		size_t n = strnlen(ctx, 500);
		memcpy(err->msg, ctx, n);
		memcpy(err->msg + n, ": ", 2);
		snprintf(err->msg + n + 2, sizeof err->msg - n - 2, "%s", old);
	} else
		memcpy(err->msg, ctx, sizeof ctx);
	return err->code;
}

const char *
eb_err_name(int code)
{
	switch (code) {
	case EB_OK: return "ok";
	case EB_EINVAL: return "invalid";
	case EB_EIO: return "io";
	case EB_ENOMEM: return "nomem";
	case EB_ECORRUPT: return "corrupt";
	case EB_ENOTFOUND: return "notfound";
	case EB_EAUTH: return "auth";
	case EB_ETIMEOUT: return "timeout";
	case EB_EUNAVAIL: return "unavailable";
	case EB_EEXIST: return "exists";
	case EB_EREMOTE: return "remote";
	case EB_EUNHEALTHY: return "unhealthy";
	case EB_EINTR: return "interrupted";
	default: return "error";
	}
}
