/* common/tar.h - POSIX ustar archives (POSIX.1-1988 as pax and GNU tar read
 * them), written and read in a stream: the format the control-plane
 * bundle is stored in, so that `age -d | tar -x` opens it anywhere.
 *
 * An archive is a run of 512-byte blocks:
 *
 *   header block                    one per member (layout below)
 *   data blocks                     size bytes, zero-padded to 512
 *   ... more members ...
 *   two zero blocks                 the end; only zero blocks may follow
 *
 *   header:  off  len  field
 *              0  100  name       NUL-padded (the last part of the path)
 *            100    8  mode       octal, NUL/space-terminated
 *            108    8  uid        octal
 *            116    8  gid        octal
 *            124   12  size       octal (< 8 GiB)
 *            136   12  mtime      octal, unix seconds
 *            148    8  chksum     octal sum of the 512 bytes, this field
 *                                 counted as 8 spaces
 *            156    1  typeflag   '0' (or NUL) file, '5' folder
 *            157  100  linkname   (unused here)
 *            257    6  magic      "ustar\0"
 *            263    2  version    "00"
 *            265   32  uname      (empty here: owners are numeric)
 *            297   32  gname
 *            329    8  devmajor
 *            337    8  devminor
 *            345  155  prefix     the path before the last '/' of name
 *            500   12  (zero)
 *
 * The reader takes regular files and folders only, with relative names
 * without "." or ".." parts or control characters, and checks every
 * field: what it passes on can be laid down under a folder safely.
 */
#ifndef EB_TAR_H
#define EB_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/stream.h"

#define EB_TAR_BLOCK 512
#define EB_TAR_NAME_MAX 255 /* prefix (155) + '/' + name (100), minus one spare */

typedef struct eb_tar_entry {
	char name[EB_TAR_NAME_MAX + 2]; /* folders end with '/' */
	char type;                      /* '0' file, '5' folder */
	uint32_t mode;                  /* permission bits (07777) */
	uint32_t uid, gid;
	uint64_t size;                  /* 0 for a folder */
	int64_t mtime;
} eb_tar_entry;

/* The header block of e (out: EB_TAR_BLOCK bytes).  EB_EINVAL naming the
 * member when its name does not fit ustar or is not a safe relative name,
 * or its size is 8 GiB or more. */
int eb_tar_header(const eb_tar_entry *e, uint8_t *out, eb_err *err);
/* Zero bytes that follow size bytes of data. */
size_t eb_tar_pad(uint64_t size);
/* Writes e's header, data[0..e->size) and its padding to out. */
int eb_tar_write(eb_stream *out, const eb_tar_entry *e, const void *data, eb_err *err);
/* Writes the end of the archive (two zero blocks). */
int eb_tar_end(eb_stream *out, eb_err *err);

/* Parses one header block: 0, 1 for a zero block (an end marker), or
 * EB_ECORRUPT saying which field is wrong. */
int eb_tar_parse_header(const uint8_t *h, eb_tar_entry *e, eb_err *err);

/* What the reading sink calls: each member's header, its data in pieces
 * (files only), and its end.  Any may be NULL; a negative return stops the
 * stream with that error. */
typedef struct eb_tar_visitor {
	int (*entry)(void *arg, const eb_tar_entry *e, eb_err *err);
	int (*data)(void *arg, const uint8_t *p, size_t n, eb_err *err);
	int (*entry_end)(void *arg, const eb_tar_entry *e, eb_err *err);
	void *arg;
} eb_tar_visitor;

/* A sink that reads an archive as it arrives: members larger than
 * max_entry bytes, more than max_entries members, a damaged header or an
 * archive that does not end properly fail with EB_ECORRUPT.  finish checks
 * the end marker came.  v is copied. */
int eb_tar_sink_new(eb_stream **out, const eb_tar_visitor *v, uint64_t max_entry,
                    size_t max_entries, eb_err *err);

#endif
