/* common/clock.h - the monotonic clock used for deadlines, retries and
 * throughput figures (never for timestamps shown to people). */
#ifndef EB_CLOCK_H
#define EB_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t eb_mono_ms(void);

/* Seconds on CLOCK_MONOTONIC, with sub-second precision. */
double eb_mono_s(void);

#endif
