/* common/log.c - see log.h.  A line is built in memory, then written with
 * one write(2) so concurrent events never interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN (64 * 1024) /* longer lines are cut, still well formed */

static int g_format = EB_LOG_TEXT;
static int g_level = EB_LOG_INFO;
static FILE *g_stream;

void eb_log_set_format(int format) { g_format = format == EB_LOG_JSON ? EB_LOG_JSON : EB_LOG_TEXT; }
void eb_log_set_level(int level) { g_level = level; }
void eb_log_set_stream(FILE *f) { g_stream = f; }
int eb_log_enabled(int level) { return level >= g_level; }

int
eb_log_parse_format(const char *s)
{
	if (!s)
		return -1;
	if (strcasecmp(s, "text") == 0)
		return EB_LOG_TEXT;
	if (strcasecmp(s, "json") == 0)
		return EB_LOG_JSON;
	return -1;
}

int
eb_log_parse_level(const char *s)
{
	if (!s)
		return -1;
	if (strcasecmp(s, "debug") == 0)
		return EB_LOG_DEBUG;
	if (strcasecmp(s, "info") == 0)
		return EB_LOG_INFO;
	if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
		return EB_LOG_WARN;
	if (strcasecmp(s, "error") == 0)
		return EB_LOG_ERROR;
	return -1;
}

/* ---- a small bounded line buffer ---------------------------------------- */

typedef struct {
	char *p;
	size_t len, cap;
	int full; /* sticky: the line hit LINE_MAX_LEN or malloc failed */
} line;

static void
put(line *l, const char *s, size_t n)
{
	if (l->full)
		return;
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 256;
		while (cap < l->len + n + 1)
			cap *= 2;
		if (cap > LINE_MAX_LEN)
			cap = LINE_MAX_LEN;
		if (l->len + n + 1 > cap) {
			l->full = 1;
			return;
		}
		char *np = realloc(l->p, cap);
		if (!np) {
			l->full = 1;
			return;
		}
		l->p = np;
		l->cap = cap;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

static void puts_(line *l, const char *s) { put(l, s, strlen(s)); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string literal, quotes included. */
static void
put_json_str(line *l, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s), i = 0;
	char esc[8];
	put(l, "\"", 1);
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		switch (c) {
		case '"': puts_(l, "\\\""); i++; continue;
		case '\\': puts_(l, "\\\\"); i++; continue;
		case '\n': puts_(l, "\\n"); i++; continue;
		case '\r': puts_(l, "\\r"); i++; continue;
		case '\t': puts_(l, "\\t"); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			puts_(l, esc);
			i++;
			continue;
		}
		k = utf8_seq(s + i, n - i);
		if (k == 0) {
			puts_(l, "\\ufffd");
			i++;
			continue;
		}
		put(l, (const char *)s + i, k);
		i += k;
	}
	put(l, "\"", 1);
}

/* Text mode: the message as is, control characters escaped (one line). */
static void
put_text_escaped(line *l, const char *str, int quote)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	char esc[8];
	for (; *s; s++) {
		if (*s == '\n')
			puts_(l, "\\n");
		else if (*s == '\t')
			puts_(l, "\\t");
		else if (*s == '\r')
			puts_(l, "\\r");
		else if (*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *s);
			puts_(l, esc);
		} else if (quote && (*s == '"' || *s == '\\')) {
			put(l, "\\", 1);
			put(l, (const char *)s, 1);
		} else {
			put(l, (const char *)s, 1);
		}
	}
}

static int
needs_quotes(const char *v)
{
	if (!v || !*v)
		return 1;
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || *v == '"' || *v == '=' ||
		    *v == '\\' || *v == 0x7f)
			return 1;
	return 0;
}

static const char *
level_name(int level, int upper)
{
	switch (level) {
	case EB_LOG_DEBUG: return upper ? "DEBUG" : "debug";
	case EB_LOG_INFO: return upper ? "INFO" : "info";
	case EB_LOG_WARN: return upper ? "WARN" : "warn";
	default: return upper ? "ERROR" : "error";
	}
}

static void
put_time(line *l, int millis)
{
	struct timespec ts;
	struct tm tm;
	char buf[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	puts_(l, buf);
	if (millis) {
		snprintf(buf, sizeof buf, ".%03ldZ", ts.tv_nsec / 1000000);
		puts_(l, buf);
	} else {
		put(l, "Z", 1);
	}
}

/* Keys are emitted as given when they are plain identifiers; anything else
 * is replaced by '_' so neither format can be broken by a key. */
static void
put_key(line *l, const char *key)
{
	static const char *reserved[] = { "time", "level", "event", "msg" };
	size_t i;
	for (i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (strcmp(key, reserved[i]) == 0)
			puts_(l, "field_");
	for (; *key; key++) {
		char c = *key;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		put(l, ok ? key : "_", 1);
	}
}

static void
emit(int level, const char *event, const char *msg, va_list *kv)
{
	line l = { 0 };
	const char *k, *v;
	FILE *f = g_stream ? g_stream : stderr;

	if (g_format == EB_LOG_JSON) {
		puts_(&l, "{\"time\":\"");
		put_time(&l, 1);
		puts_(&l, "\",\"level\":\"");
		puts_(&l, level_name(level, 0));
		puts_(&l, "\",\"event\":");
		put_json_str(&l, event);
		puts_(&l, ",\"msg\":");
		put_json_str(&l, msg);
		while (kv && (k = va_arg(*kv, const char *)) != NULL) {
			v = va_arg(*kv, const char *);
			put(&l, ",\"", 2);
			put_key(&l, k);
			put(&l, "\":", 2);
			put_json_str(&l, v);
		}
		put(&l, "}", 1);
	} else {
		put_time(&l, 0);
		put(&l, " ", 1);
		puts_(&l, level_name(level, 1));
		put(&l, " ", 1);
		put_text_escaped(&l, event, 0);
		if (msg && *msg) {
			put(&l, " ", 1);
			put_text_escaped(&l, msg, 0);
		}
		while (kv && (k = va_arg(*kv, const char *)) != NULL) {
			v = va_arg(*kv, const char *);
			put(&l, " ", 1);
			put_key(&l, k);
			put(&l, "=", 1);
			if (needs_quotes(v)) {
				put(&l, "\"", 1);
				put_text_escaped(&l, v, 1);
				put(&l, "\"", 1);
			} else {
				puts_(&l, v);
			}
		}
	}
	if (l.full) {
		/* Cut or out of memory: say so in a line that is always valid. */
		free(l.p);
		l = (line){ 0 };
		if (g_format == EB_LOG_JSON) {
			puts_(&l, "{\"time\":\"");
			put_time(&l, 1);
			puts_(&l, "\",\"level\":\"");
			puts_(&l, level_name(level, 0));
			puts_(&l, "\",\"event\":");
			put_json_str(&l, event);
			puts_(&l, ",\"msg\":\"(log line too long, dropped)\"}");
		} else {
			put_time(&l, 0);
			put(&l, " ", 1);
			puts_(&l, level_name(level, 1));
			put(&l, " ", 1);
			put_text_escaped(&l, event, 0);
			puts_(&l, " (log line too long, dropped)");
		}
	}
	put(&l, "\n", 1);
	if (l.p) {
		fflush(f);
		/* One write: a whole line or nothing (stderr is unbuffered anyway). */
		ssize_t off = 0, len = (ssize_t)l.len;
		int fd = fileno(f);
		while (off < len) {
			ssize_t w = write(fd, l.p + off, (size_t)(len - off));
			if (w <= 0)
				break;
			off += w;
		}
	}
	free(l.p);
}

void
eb_log(int level, const char *event, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	if (!eb_log_enabled(level))
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	emit(level, event, msg ? msg : fmt, NULL);
	free(msg);
}

void
eb_logkv(int level, const char *event, const char *msg, ...)
{
	va_list ap;
	if (!eb_log_enabled(level))
		return;
	va_start(ap, msg);
	emit(level, event, msg, &ap);
	va_end(ap);
}
