/* storage/file_sink.h - a sink stage that writes a local file durably.
 *
 * Bytes go to a temp file beside `path` (".NAME.part.XXXXXX"), created at
 * the first write.  finish():
 * flush, fsync, rename (or link when no_replace) to `path`, fsync the folder.
 * free() without finish: the temp file is removed; `path` is untouched. */
#ifndef EB_FILE_SINK_H
#define EB_FILE_SINK_H

#include "common/stream.h"

/* EB_FILE_SCRATCH (or-ed in): a working copy its caller deletes (a
 * snapshot staged for reading): neither written back nor fsynced. */
enum { EB_FILE_REPLACE = 0, EB_FILE_NO_REPLACE = 1, EB_FILE_SCRATCH = 2 };

int eb_file_sink_new(eb_stream **out, const char *path, int mode,
                     eb_err *err);
/* Same; with mkdir, the folder (and parents, mode 0700) is created when
 * the first byte arrives, so a run that fails before any data creates
 * nothing at all. */
int eb_file_sink_new2(eb_stream **out, const char *path, int mode, int mkdir,
                      eb_err *err);

/* Reads a local file in bounded chunks into s (does not finish s). */
int eb_file_push(const char *path, eb_stream *s, eb_err *err);

#endif
