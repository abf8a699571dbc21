/* tests/unit/harness.h - tiny test harness: one test function per case,
 * each prints "PASS name" or "FAIL name: why" (tests/run.sh counts them).
 * Assertions print both operands (libuv style).  Seeds are printed and can
 * be forced with EB_TEST_SEED. */
#ifndef EB_TEST_HARNESS_H
#define EB_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* unused in files that only CHECK (no RUN) */
static int t_failed_case __attribute__((unused));
static int t_nfail;
static const char *t_case __attribute__((unused)) = "(outside RUN)";

#define T_FAIL(...)                                                         \
	do {                                                                \
		printf("FAIL %s: %s:%d: ", t_case, __FILE__, __LINE__);      \
		printf(__VA_ARGS__);                                        \
		printf("\n");                                               \
		t_failed_case = 1;                                          \
		return;                                                     \
	} while (0)

#define ASSERT(c) do { if (!(c)) T_FAIL("assertion failed: %s", #c); } while (0)
#define ASSERT_EQ(a, b)                                                    \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);       \
		if (a_ != b_) T_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_); \
	} while (0)
#define ASSERT_STR(a, b)                                                   \
	do {                                                               \
		const char *a_ = (a), *b_ = (b);                           \
		if (strcmp(a_, b_) != 0) T_FAIL("%s: '%s' != '%s'", #a, a_, b_); \
	} while (0)
#define ASSERT_OK(rc, err)                                                 \
	do {                                                               \
		int r_ = (rc);                                             \
		if (r_ != 0) T_FAIL("%s returned %d: %s", #rc, r_, (err)->msg); \
	} while (0)

/* CHECK: one named check that does not end the test, for tables of checks
 * (no RUN around it).  Prints "PASS name" or "FAIL name: (cond) message"
 * and counts failures in t_nfail; main returns t_nfail != 0. */
#define CHECK(name, cond, ...)                                             \
	do {                                                               \
		if (cond) {                                                \
			printf("PASS %s\n", (name));                       \
		} else {                                                   \
			printf("FAIL %s: (%s)", (name), #cond);             \
			printf(" " __VA_ARGS__);                            \
			printf("\n");                                      \
			t_nfail++;                                         \
		}                                                          \
	} while (0)

#define RUN(fn)                                                            \
	do {                                                               \
		t_case = #fn;                                              \
		t_failed_case = 0;                                         \
		fn();                                                      \
		if (t_failed_case) t_nfail++;                              \
		else printf("PASS %s\n", #fn);                             \
		fflush(stdout);                                            \
	} while (0)

static uint64_t t_rng;
static inline uint64_t
t_rand(void)
{
	t_rng ^= t_rng << 13;
	t_rng ^= t_rng >> 7;
	t_rng ^= t_rng << 17;
	return t_rng;
}

static inline void
t_seed(void)
{
	const char *s = getenv("EB_TEST_SEED");
	t_rng = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + 1;
	if (!t_rng)
		t_rng = 1;
	printf("# seed %" PRIu64 " (EB_TEST_SEED to repeat)\n", t_rng);
}

#endif
