/* storage/s3/xml.h - just enough XML for S3 and STS answers.
 *
 * S3 responses are flat, namespace-free-in-practice documents.  We look up
 * elements by local name inside a byte range and decode the text of leaf
 * elements (the five named entities and &#N; / &#xN;).  Anything malformed
 * (unterminated tag, bad entity, element not closed) is an error, never a
 * read past the end: every function works on (ptr, len) ranges. */
#ifndef EB_S3_XML_H
#define EB_S3_XML_H

#include <stddef.h>

typedef struct eb_xml_span {
	const char *p; /* content between <tag ...> and </tag> */
	size_t len;
} eb_xml_span;

/* Finds the next element named tag (local name; "a:Key" matches "Key")
 * starting at *pos within in.  On success fills *out with its content and
 * advances *pos past the closing tag; returns 1.  Returns 0 when there is
 * none, -1 on malformed input.  Self-closing <tag/> gives an empty span. */
int eb_xml_next(eb_xml_span in, size_t *pos, const char *tag,
                eb_xml_span *out);

/* First element named tag anywhere in in: 1 found, 0 not, -1 malformed. */
int eb_xml_find(eb_xml_span in, const char *tag, eb_xml_span *out);

/* Decodes the text of a leaf into a malloc'd NUL-terminated string; NULL on
 * malformed entities, CDATA-free markup inside, or out of memory. */
char *eb_xml_text(eb_xml_span s);

/* Decoded text of the first element named tag, copied into buf (truncated
 * to size-1); "" when absent or malformed.  For short fields (codes). */
void eb_xml_get(eb_xml_span in, const char *tag, char *buf, size_t size);

#endif
