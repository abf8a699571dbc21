/* storage/s3/s3_store.h - S3 specifics beyond the generic eb_store. */
#ifndef EB_S3_STORE_H
#define EB_S3_STORE_H

#include <stdint.h>

#include "storage/store.h"

/* Aborts the incomplete multipart uploads under the store's prefix that
 * were initiated more than older_than_s seconds ago (crashed or killed
 * uploads: invisible, but billed).  *n_aborted (may be NULL) gets how many.
 * Fails with EB_EINVAL on a store that is not S3. */
int eb_s3_abort_incomplete(eb_store *st, int64_t older_than_s, int *n_aborted,
                           eb_err *err);

/* Incomplete multipart uploads under the prefix (tests, `status`). */
int eb_s3_count_incomplete(eb_store *st, int *n, eb_err *err);

#endif
