/*
 * json.h - the one helper layer over cJSON: strict parsing (the whole
 * input, nothing after it, bounded nesting, valid UTF-8), typed getters
 * that tolerate absent keys, and compact printing into a malloc'd string.
 */
#ifndef AS_JSON_H
#define AS_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "alertsink/module.h"

#define AS_JSON_MAX_DEPTH 64

/* Parse exactly len bytes: trailing non-space bytes, nesting deeper than
 * AS_JSON_MAX_DEPTH and invalid UTF-8 are errors with the byte offset. */
cJSON *as_json_parse(const char *data, size_t len, as_err_t *err);
/* Is s valid UTF-8 (no overlongs, no surrogates)? */
int as_utf8_valid(const char *s, size_t len);
/* The code point at s (len > 0 bytes) in *cp and its length in bytes; an
 * invalid sequence gives *cp = -1 and length 1, as Go's utf8.DecodeRune. */
size_t as_utf8_decode(const char *s, size_t len, long *cp);

/* Getters: NULL / dflt when absent or of another type. */
const char *as_json_str(const cJSON *obj, const char *key);
const cJSON *as_json_obj(const cJSON *obj, const char *key);
const cJSON *as_json_arr(const cJSON *obj, const char *key);
double as_json_num(const cJSON *obj, const char *key, double dflt);
int as_json_bool(const cJSON *obj, const char *key, int dflt);

/* Make item (which obj then owns) the member key of obj: in place of the
 * one of that name (compared case-sensitively), else added at the end. */
void as_json_set(cJSON *obj, const char *key, cJSON *item);

/* The members of obj sorted bytewise by name (Go's sort.Strings), one per
 * name: the first, as cJSON_GetObjectItemCaseSensitive() finds it.  A
 * malloc'd array of *n (NULL when obj has no members).  dup (may be NULL):
 * set to a name that occurs more than once, or NULL.  n log n, where a
 * lookup by name per member would be n squared on a large object. */
cJSON **as_json_sorted(const cJSON *obj, size_t *n, const char **dup);

/* Compact JSON, malloc'd (free with cJSON_free / free). */
char *as_json_print(const cJSON *item);

#endif
