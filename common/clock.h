/* common/clock.h - the monotonic clock used for deadlines, retries and
 * throughput figures (never for timestamps shown to people); the wall
 * clock and RFC 3339 times for what is recorded and asked by people. */
#ifndef EB_CLOCK_H
#define EB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t eb_mono_ms(void);

/* Seconds on CLOCK_MONOTONIC, with sub-second precision. */
double eb_mono_s(void);

/* Milliseconds since the Unix epoch on CLOCK_REALTIME. */
int64_t eb_wall_ms(void);

/* "2026-12-01T13:36:53Z", "...53.250Z", "...53+01:00" (RFC 3339; the
 * zone is required) -> Unix milliseconds.  -1 when malformed, without a
 * zone, or an impossible date (February 30). */
int eb_rfc3339_ms(const char *s, int64_t *out_ms);

/* Unix milliseconds -> "2026-12-01T13:36:53.250Z" (cap >= 25). */
void eb_fmt_rfc3339_ms(int64_t ms, char *out, size_t cap);

#endif
