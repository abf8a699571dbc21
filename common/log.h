/* common/log.h - the logger of the two binaries (libraries never log).
 *
 * One line per event on stderr (or the stream set with eb_log_set_stream).
 *
 *   text (default):  2026-11-21T04:43:15Z INFO snapshot done id=abc rev=42
 *                    <time> <LEVEL> <event> <message> [key=value ...]
 *   json:            {"time":"2026-11-21T04:43:15.123Z","level":"info",
 *                     "event":"snapshot","msg":"done","id":"abc","rev":"42"}
 *
 * `event` is a short stable word a log pipeline can filter on ("snapshot",
 * "upload", "prune", "restore"...); the message is printf-formatted text for
 * humans.  Control characters in text mode are escaped so an event is always
 * one line; JSON strings are escaped per RFC 8259 and invalid UTF-8 becomes
 * U+FFFD.  Each line goes out in a single write(2), so lines from threads do
 * not interleave.  Never log secrets (keys, tokens, signatures, presigned
 * URLs): the logger cannot know what is secret.
 *
 * Use the EB_LOG / EB_LOGKV macros: they check the level BEFORE evaluating
 * the arguments (so debug arguments cost nothing when debug is off). */
#ifndef EB_LOG_H
#define EB_LOG_H

#include <stdio.h>

enum { EB_LOG_DEBUG = 0, EB_LOG_INFO = 1, EB_LOG_WARN = 2, EB_LOG_ERROR = 3 };
enum { EB_LOG_TEXT = 0, EB_LOG_JSON = 1 };

/* Process-wide settings; set them once at startup, before any thread. */
void eb_log_set_format(int format);  /* EB_LOG_TEXT (default) or EB_LOG_JSON */
void eb_log_set_level(int level);    /* minimum level, default EB_LOG_INFO */
void eb_log_set_stream(FILE *f);     /* default stderr; NULL = stderr */
int eb_log_format(void);             /* the format set */

/* Flag parsers: "text"/"json" and "debug"/"info"/"warn"/"error" (case-
 * insensitive, "warning" accepted).  Return the enum value or -1. */
int eb_log_parse_format(const char *s);
int eb_log_parse_level(const char *s);

/* Non-zero when an event at `level` would be written. */
int eb_log_enabled(int level);

/* One event: message from fmt (printf).  Prefer the EB_LOG macro. */
void eb_log(int level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One event with structured fields: msg is a plain string (not a format),
 * followed by (const char *key, const char *value) pairs ending with a NULL
 * key.  A NULL value prints as an empty string.  In text mode the fields are
 * appended as key=value (value quoted when it holds spaces, quotes, '=' or
 * is empty); in JSON mode each becomes a string member.  Keys must be plain
 * identifiers ([A-Za-z0-9_.-]); the reserved names time, level, event and msg
 * are prefixed with "field_".  Prefer the EB_LOGKV macro.
 *
 *   EB_LOGKV(EB_LOG_INFO, "snapshot", "done", "id", id, "rev", revbuf, NULL);
 */
void eb_logkv(int level, const char *event, const char *msg, ...)
	__attribute__((sentinel));

#define EB_LOG(level, event, ...)                                     \
	do {                                                          \
		if (eb_log_enabled(level))                            \
			eb_log((level), (event), __VA_ARGS__);        \
	} while (0)

#define EB_LOGKV(level, event, ...)                                   \
	do {                                                          \
		if (eb_log_enabled(level))                            \
			eb_logkv((level), (event), __VA_ARGS__);      \
	} while (0)

#endif
