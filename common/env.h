/* common/env.h - environment variables as the tools read them. */
#ifndef EB_ENV_H
#define EB_ENV_H

#include <stdlib.h>

/* The value of variable name when it is set and not empty, else NULL: an
 * exported empty variable (FOO= in a manifest) counts as unset, as in the
 * AWS SDKs and etcdctl. */
static inline const char *
eb_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

#endif
