/* common/url.h - URLs as they may appear in output.
 *
 * An operator may write credentials into a URL (http://user:pw@host,
 * https://AKID:SECRET@s3.example).  Nothing we print, log or store in a
 * manifest carries them: every URL shown goes through eb_url_redact. */
#ifndef EB_URL_H
#define EB_URL_H

#include <stddef.h>

/* url without its "user:password@" part, into out ("scheme://host..."). */
void eb_url_redact(const char *url, char *out, size_t out_len);

/* Non-zero when url has a "user[:password]@" part before its host. */
int eb_url_has_userinfo(const char *url);

#endif
