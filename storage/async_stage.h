/* storage/async_stage.h - hands the rest of the chain to a worker thread.
 *
 *   producer --write--> [async: NBUF x BUF_SIZE queue] ==thread==> next...
 *
 * write() copies into a bounded queue (it blocks when the queue is full, so
 * memory stays at NBUF buffers and a slow sink slows the producer through
 * gRPC flow control); the worker writes each buffer to `next`.  This lets
 * the etcd stream be received and hashed while earlier data is compressed
 * and written: two cores instead of one.
 *
 * finish(): waits until the worker has written everything, joins it, then
 * finishes `next` in the calling thread.  free() without finish: stops the
 * worker, discards queued data, joins.  A worker error is sticky: the next
 * write() or finish() returns it with the worker's message. */
#ifndef EB_ASYNC_STAGE_H
#define EB_ASYNC_STAGE_H

#include "common/stream.h"

int eb_async_stage_new(eb_stream **out, eb_stream *next, eb_err *err);

#endif
