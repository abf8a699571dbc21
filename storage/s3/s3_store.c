/* Placeholder until the S3 store lands (issue 3): s3:// is recognised and
 * refused with a clear message instead of being mistaken for a folder. */
#include "storage/store.h"

int
eb_s3_store_open(eb_store **out, const char *url, const eb_store_opts *opts,
                 eb_err *err)
{
	(void)opts;
	*out = NULL;
	return eb_err_set(err, EB_EINVAL,
	                  "store %s: S3 stores are not supported by this build yet",
	                  url);
}
