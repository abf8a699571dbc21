/* storage/parts.h - a stream cut into numbered parts that worker threads
 * send at once (the Azure store's blocks; S3's multipart has its own).
 *
 *   write --> [part 0][part 1]...[part nbufs-1]  (buffers, part_size each)
 *                 |      |
 *              worker 0  worker 1 ...  send(ctx, worker, num, buf, len)
 *
 * The producer fills one buffer at a time; a full one is queued and the
 * next free buffer is filled while workers send the queue in order.  When
 * every buffer waits, write blocks: memory is nbufs * part_size.  The first
 * error of a send is sticky: the workers take no more parts, cancel is set
 * (give it to eb_http_req.cancel), and every later write or flush fails
 * with that error.  Parts are numbered from 0 in stream order. */
#ifndef EB_PARTS_H
#define EB_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct eb_parts eb_parts;

/* Sends part num (len bytes); 0 or a negative code with err set.  Called
 * from worker thread `worker` (0..nworkers-1), one part at a time each. */
typedef int (*eb_parts_send)(void *ctx, int worker, int num, const uint8_t *buf, size_t len,
                             eb_err *err);

int eb_parts_new(eb_parts **out, size_t part_size, int nbufs, int nworkers, eb_parts_send send,
                 void *ctx, eb_err *err);
int eb_parts_write(eb_parts *p, const uint8_t *buf, size_t len, eb_err *err);
/* Queues what is left as the last part (if any), waits until every part
 * was sent; *nparts gets their number.  0 when all were sent. */
int eb_parts_flush(eb_parts *p, int *nparts, eb_err *err);
/* Non-zero once a send failed (or free began): in-flight sends stop. */
const int *eb_parts_cancel_flag(const eb_parts *p);
/* Stops the workers (the part in flight is cancelled) and frees. */
void eb_parts_free(eb_parts *p);

#endif
