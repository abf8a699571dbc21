/* common/log.c - see log.h.  A line is built in memory, then written with
 * one write(2) so concurrent events never interleave. */
#include "common/log.h"

#include "common/buf.h"

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
int eb_log_format(void) { return g_format; }
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

/* A line is an eb_buf capped at LINE_MAX_LEN: past it (or out of memory)
 * its sticky oom flag is set and the line is replaced by a short one. */
typedef eb_buf line;

static void put(line *l, const char *s, size_t n) { eb_buf_add(l, s, n); }
static void puts_(line *l, const char *s) { eb_buf_puts(l, s); }
static void put_json_str(line *l, const char *s) { eb_buf_json(l, s, EB_JSON_UTF8); }

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
	line l = {.max = LINE_MAX_LEN};
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
	if (l.oom) {
		/* Cut or out of memory: say so in a line that is always valid. */
		eb_buf_dispose(&l);
		l.max = LINE_MAX_LEN;
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
