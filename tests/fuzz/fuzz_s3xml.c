/* tests/fuzz/fuzz_s3xml.c - the S3 XML reader on arbitrary answers, walked
 * the way storage/s3 walks ListObjectsV2, ListMultipartUploads, errors and
 * STS documents, and storage/azure walks List Blobs answers.  Any result is fine; a crash or an out-of-bounds read is
 * not. */
#include <stdint.h>
#include <stdlib.h>

#include "storage/s3/xml.h"

static void
walk(eb_xml_span d, const char *list, const char *const *fields)
{
	eb_xml_span e, f;
	size_t pos = 0;
	int n = 0;
	while (n++ < 1000 && eb_xml_next(d, &pos, list, &e) == 1)
		for (const char *const *k = fields; *k; k++)
			if (eb_xml_find(e, *k, &f) == 1)
				free(eb_xml_text(f));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_xml_span d = {(const char *)data, size}, r;
	static const char *const contents[] = {"Key", "Size", "LastModified", NULL};
	static const char *const uploads[] = {"Key", "UploadId", "Initiated", NULL};
	static const char *const creds[] = {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", NULL};
	static const char *const blobs[] = {"Name", "Properties", NULL};
	char b[128];
	if (eb_xml_find(d, "EnumerationResults", &r) == 1 && eb_xml_find(r, "Blobs", &r) == 1) {
		eb_xml_span e, p;
		size_t pos = 0;
		walk(r, "Blob", blobs);
		if (eb_xml_next(r, &pos, "Blob", &e) == 1 && eb_xml_find(e, "Properties", &p) == 1) {
			eb_xml_get(p, "Content-Length", b, sizeof b);
			eb_xml_get(p, "Last-Modified", b, sizeof b);
		}
	}
	eb_xml_get(d, "NextMarker", b, sizeof b);
	if (eb_xml_find(d, "ListBucketResult", &r) == 1)
		walk(r, "Contents", contents);
	if (eb_xml_find(d, "ListMultipartUploadsResult", &r) == 1)
		walk(r, "Upload", uploads);
	walk(d, "Credentials", creds);
	eb_xml_get(d, "Code", b, sizeof b);
	eb_xml_get(d, "NextContinuationToken", b, sizeof b);
	if (eb_xml_find(d, "UploadId", &r) == 1)
		free(eb_xml_text(r));
	return 0;
}
