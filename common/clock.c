#include "common/clock.h"

#include <ctype.h>
#include <stdio.h>
#include <time.h>

static int64_t
ms_on(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
eb_mono_ms(void)
{
	return ms_on(CLOCK_MONOTONIC);
}

double
eb_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t
eb_wall_ms(void)
{
	return ms_on(CLOCK_REALTIME);
}

int
eb_rfc3339_ms(const char *s, int64_t *out_ms)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, n = 0, oh, om, ms = 0, digits = 0;
	int64_t t;
	if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*s - '0');
	for (; digits > 0 && digits < 3; digits++)
		ms *= 10;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
		return -1;
	{ /* an impossible date (February 30, April 31) is refused, not rolled over */
		static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (d > mdays[mo - 1] + (mo == 2 && leap))
			return -1;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm) * 1000 + ms;
	/* the zone is required: a time without one means a different instant on
	 * every machine */
	if (*s == 'Z' || *s == 'z')
		s++;
	else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5 &&
	         oh < 24 && om < 60) {
		int64_t off = ((int64_t)oh * 60 + om) * 60000;
		t += *s == '+' ? -off : off;
		s += 6;
	} else
		return -1;
	if (*s)
		return -1;
	*out_ms = t;
	return 0;
}

void
eb_fmt_rfc3339_ms(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];
	gmtime_r(&t, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%.20s.%03dZ", s, (int)(ms % 1000));
}
