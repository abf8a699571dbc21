/* tests/unit/test_log.c - text and JSON log lines, escaping, level filter. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static int nfail;

static void
check(const char *name, int ok, const char *why, const char *got)
{
	if (ok) {
		printf("PASS %s\n", name);
	} else {
		printf("FAIL %s: %s; got '%s'\n", name, why, got ? got : "(null)");
		nfail++;
	}
}

/* Runs the logger into a temp file and returns what it wrote. */
static FILE *cap;
static void
cap_start(int format, int level)
{
	cap = tmpfile();
	eb_log_set_stream(cap);
	eb_log_set_format(format);
	eb_log_set_level(level);
}

static char *
cap_end(void)
{
	long n;
	char *s;
	fflush(cap);
	n = ftell(cap);
	s = calloc(1, (size_t)n + 1);
	rewind(cap);
	if (fread(s, 1, (size_t)n, cap) != (size_t)n)
		s[0] = '\0';
	fclose(cap);
	eb_log_set_stream(NULL);
	return s;
}

static int
matches(const char *s, const char *re)
{
	regex_t r;
	int ok;
	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

static int evaluated;
static const char *
side_effect(void)
{
	evaluated = 1;
	return "x";
}

int
main(void)
{
	char *s;

	cap_start(EB_LOG_TEXT, EB_LOG_INFO);
	EB_LOG(EB_LOG_INFO, "snapshot", "done id=%s rev=%d", "abc", 42);
	s = cap_end();
	check("log__text_line",
	      matches(s, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z INFO snapshot done id=abc rev=42\n$"),
	      "text line format", s);
	free(s);

	cap_start(EB_LOG_TEXT, EB_LOG_INFO);
	EB_LOGKV(EB_LOG_WARN, "upload", "retrying", "part", "3", "why", "HTTP 503 Slow Down",
	         "empty", "", "q", "a\"b", NULL);
	s = cap_end();
	check("log__text_kv",
	      matches(s, "Z WARN upload retrying part=3 why=\"HTTP 503 Slow Down\" empty=\"\" q=\"a\\\\\"b\"\n$"),
	      "kv fields quoted when needed", s);
	free(s);

	cap_start(EB_LOG_TEXT, EB_LOG_INFO);
	EB_LOG(EB_LOG_ERROR, "restore", "line1\nline2\x01");
	s = cap_end();
	check("log__text_one_line", matches(s, "ERROR restore line1\\\\nline2\\\\x01\n$") &&
	      strchr(s, '\n') == s + strlen(s) - 1, "newline escaped", s);
	free(s);

	cap_start(EB_LOG_TEXT, EB_LOG_WARN);
	evaluated = 0;
	EB_LOG(EB_LOG_INFO, "x", "%s", side_effect());
	EB_LOG(EB_LOG_DEBUG, "x", "%s", side_effect());
	s = cap_end();
	check("log__level_filter_no_eval", s[0] == '\0' && !evaluated,
	      "filtered events must print nothing and not evaluate args", s);
	free(s);

	cap_start(EB_LOG_JSON, EB_LOG_DEBUG);
	EB_LOGKV(EB_LOG_DEBUG, "snapshot", "done \"q\" \\ \t\x01 \xc3\xa9 \xff",
	         "id", "abc", "msg", "shadow", "bad key", "v", NULL);
	s = cap_end();
	check("log__json_line",
	      matches(s, "^\\{\"time\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z\",\"level\":\"debug\","
	                 "\"event\":\"snapshot\",\"msg\":\"done \\\\\"q\\\\\" \\\\\\\\ \\\\t\\\\u0001 \xc3\xa9 \\\\ufffd\","
	                 "\"id\":\"abc\",\"field_msg\":\"shadow\",\"bad_key\":\"v\"\\}\n$"),
	      "json escaping", s);
	free(s);

	/* The JSON line must parse with a real JSON parser: write it to a
	 * file and let python check it (python3 is one of make deps'
	 * packages: its absence is a failure, not a skip). */
	{
		char path[] = "/tmp/eblogXXXXXX";
		int fd = mkstemp(path);
		FILE *f = fdopen(fd, "w+");
		char cmd[256];
		eb_log_set_stream(f);
		eb_log_set_format(EB_LOG_JSON);
		eb_log_set_level(EB_LOG_INFO);
		eb_log(EB_LOG_ERROR, "e\"v", "%s", "ctl \x1f \x7f utf8 \xe2\x82\xac bad \xe2\x82 \xed\xa0\x80 end");
		EB_LOGKV(EB_LOG_INFO, "kv", "m", "a", NULL, NULL);
		fclose(f);
		eb_log_set_stream(NULL);
		snprintf(cmd, sizeof cmd,
		         "python3 -c 'import json,sys\n"
		         "for l in open(sys.argv[1], encoding=\"utf-8\"): json.loads(l)' %s", path);
		if (system("command -v python3 >/dev/null 2>&1") != 0)
			check("log__json_parses", 0, "python3 is missing (make deps installs it)", path);
		else
			check("log__json_parses", system(cmd) == 0, "python json.loads failed", path);
		unlink(path);
	}

	{
		/* A very long message is dropped to a short valid line, not cut
		 * in the middle of a JSON string. */
		size_t n = 100 * 1024;
		char *big = malloc(n + 1);
		memset(big, 'a', n);
		big[n] = '\0';
		cap_start(EB_LOG_JSON, EB_LOG_INFO);
		eb_log(EB_LOG_INFO, "big", "%s", big);
		s = cap_end();
		check("log__too_long", matches(s, "\"msg\":\"\\(log line too long, dropped\\)\"\\}\n$"),
		      "long line replaced", strlen(s) > 200 ? "(long)" : s);
		free(s);
		free(big);
	}

	check("log__parse_flags",
	      eb_log_parse_format("json") == EB_LOG_JSON && eb_log_parse_format("TEXT") == EB_LOG_TEXT &&
	      eb_log_parse_format("yaml") == -1 && eb_log_parse_level("warning") == EB_LOG_WARN &&
	      eb_log_parse_level("debug") == EB_LOG_DEBUG && eb_log_parse_level("x") == -1,
	      "parsers", "");
	return nfail ? 1 : 0;
}
