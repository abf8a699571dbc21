#include "agent/util.h"

#include <stdio.h>

void
eb_fmt_bytes_si(uint64_t n, char *out, size_t out_len)
{
	static const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, out_len, "%llu B", (unsigned long long)n);
	else
		snprintf(out, out_len, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void
eb_fmt_bytes(uint64_t n, char *out, size_t out_len)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, out_len, "%llu B", (unsigned long long)n);
	else
		snprintf(out, out_len, "%.1f %s", v, units[u]);
}
