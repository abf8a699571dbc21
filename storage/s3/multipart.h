/* storage/s3/multipart.h - the S3 upload sink stage.
 *
 * Data written to the stage fills a part buffer; a full buffer goes to a
 * small pool of upload threads while the next one fills, so the upload runs
 * concurrently with the producer and memory stays at nbufs * part_size.
 * The multipart upload is only created once the first part is full: an
 * object smaller than one part goes up in a single PUT at finish.
 *   finish: waits for every part, then CompleteMultipartUpload (or the
 *           single PUT): the object becomes visible only here.
 *   free without a successful finish: stops the threads and aborts the
 *           multipart upload, so nothing partial remains.
 * Every part carries its own sha256 in x-amz-content-sha256. */
#ifndef EB_S3_MULTIPART_H
#define EB_S3_MULTIPART_H

#include "storage/s3/s3.h"
#include "common/stream.h"

int eb_s3_upload_new(eb_s3 *s, const char *key, eb_stream **out, eb_err *err);

/* Parts uploaded by the stage (for tests and logs); 0 for a single PUT. */
int eb_s3_upload_parts(const eb_stream *st);

#endif
