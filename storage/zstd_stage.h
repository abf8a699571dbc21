/* storage/zstd_stage.h - zstd compress / decompress stages (the one place
 * that includes <zstd.h>).
 *
 * compress: output is one zstd frame with a content checksum; memory is
 * the zstd context for the level plus one ZSTD_CStreamOutSize() buffer.
 * decompress: accepts one or more concatenated frames; finish fails with
 * EB_ECORRUPT when the input ended inside a frame (truncated object). */
#ifndef EB_ZSTD_STAGE_H
#define EB_ZSTD_STAGE_H

#include "common/stream.h"

#define EB_ZSTD_LEVEL_DEFAULT 1
#define EB_ZSTD_LEVEL_MIN 1
#define EB_ZSTD_LEVEL_MAX 19

int eb_zstd_compress_new(eb_stream **out, int level, eb_stream *next,
                         eb_err *err);
int eb_zstd_decompress_new(eb_stream **out, eb_stream *next, eb_err *err);
/* Decompresses when the data starts with a zstd frame's magic, else
 * passes it through unchanged (a local file that may be either). */
int eb_zstd_auto_new(eb_stream **out, eb_stream *next, eb_err *err);

#endif
