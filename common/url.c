#include "common/url.h"

#include <stdio.h>
#include <string.h>

/* The userinfo of url: [*start, *end) is "user:pw@", or NULL. */
static const char *
userinfo(const char *url, const char **end)
{
	const char *s = strstr(url, "://"), *host, *at;
	size_t n;
	host = s ? s + 3 : url;
	n = strcspn(host, "/?#");
	at = memchr(host, '@', n);
	if (!at)
		return NULL;
	/* the last '@' before the path ends the userinfo */
	while (memchr(at + 1, '@', n - (size_t)(at + 1 - host)))
		at = memchr(at + 1, '@', n - (size_t)(at + 1 - host));
	*end = at + 1;
	return host;
}

void
eb_url_redact(const char *url, char *out, size_t out_len)
{
	const char *end = NULL, *ui = userinfo(url, &end);
	if (!ui)
		snprintf(out, out_len, "%s", url);
	else
		snprintf(out, out_len, "%.*s%s", (int)(ui - url), url, end);
}

int
eb_url_has_userinfo(const char *url)
{
	const char *end;
	return userinfo(url, &end) != NULL;
}
