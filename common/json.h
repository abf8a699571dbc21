/* common/json.h - just enough JSON for manifests and machine output.
 *
 * Writer: eb_buf_json_str (common/buf.h) appends a string literal.
 * Reader: parses a whole document (caller caps its size) into a tree of
 * eb_json nodes; depth and size are bounded, bad input is an error with
 * the byte offset, never a crash.  Numbers keep their text so 64-bit
 * integers survive exactly. */
#ifndef EB_JSON_H
#define EB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

typedef enum {
	EB_JSON_NULL, EB_JSON_BOOL, EB_JSON_NUM, EB_JSON_STR, EB_JSON_ARR, EB_JSON_OBJ
} eb_json_type;

typedef struct eb_json eb_json;
struct eb_json {
	eb_json_type type;
	char *key;       /* member name when inside an object */
	char *str;       /* STR: decoded text; NUM: the number's text */
	int boolean;
	eb_json *child;  /* ARR/OBJ: first element */
	eb_json *next;   /* next sibling */
};

int eb_json_parse(eb_json **out, const char *text, size_t len, eb_err *err);
void eb_json_free(eb_json *j);

/* Member lookup in an object; NULL when absent or j is not an object. */
const eb_json *eb_json_get(const eb_json *obj, const char *key);
/* Typed getters: 0 on success, EB_ECORRUPT naming the key otherwise. */
int eb_json_get_str(const eb_json *obj, const char *key, const char **out,
                    eb_err *err);
/* The string into dst (cap bytes); EB_ECORRUPT when it does not fit. */
int eb_json_get_strcpy(const eb_json *obj, const char *key, char *dst, size_t cap,
                       eb_err *err);
int eb_json_get_i64(const eb_json *obj, const char *key, int64_t *out,
                    eb_err *err);
int eb_json_get_u64(const eb_json *obj, const char *key, uint64_t *out,
                    eb_err *err);

#endif
