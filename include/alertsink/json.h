/*
 * alertsink/json.h - the one helper layer over cJSON: strict parsing (the
 * whole input, nothing after it, bounded nesting, valid UTF-8), typed
 * getters that tolerate absent keys, and compact printing.
 *
 * A notification's data (as_notification_t.data, .context) is a cJSON
 * tree that belongs to the core: read it with these getters or cJSON's
 * own, never change it.  Memory cJSON hands out (cJSON_Print, a tree to
 * delete) goes back with cJSON_free / cJSON_Delete, never free().
 */
#ifndef ALERTSINK_JSON_H
#define ALERTSINK_JSON_H

#include <cjson/cJSON.h>

#include "alertsink/api.h"

/* Parse exactly len bytes: trailing non-space bytes, nesting deeper than
 * 64 levels and invalid UTF-8 are errors with the byte offset. */
AS_API cJSON *as_json_parse(const char *data, size_t len, as_err_t *err);
/* Is s[0..len) valid UTF-8 (no overlongs, no surrogates)? */
AS_API int as_utf8_valid(const char *s, size_t len);

/* The member key of obj, compared case-sensitively (as
 * cJSON_GetObjectItemCaseSensitive, faster); NULL when absent. */
AS_API cJSON *as_json_get(const cJSON *obj, const char *key);
/* Getters: NULL / dflt when absent or of another type. */
AS_API const char *as_json_str(const cJSON *obj, const char *key);
AS_API const cJSON *as_json_obj(const cJSON *obj, const char *key);
AS_API const cJSON *as_json_arr(const cJSON *obj, const char *key);
AS_API double as_json_num(const cJSON *obj, const char *key, double dflt);
AS_API int as_json_bool(const cJSON *obj, const char *key, int dflt);
/* A number within [min, max] (|bounds| at most 2^62), cut to an integer;
 * dflt when absent, not a number or out of range (casting such a double
 * would be undefined). */
AS_API int64_t as_json_int(const cJSON *obj, const char *key, int64_t dflt, int64_t min,
                           int64_t max);

/* Make item (which obj then owns) the member key of obj: in place of the
 * one of that name (compared case-sensitively), else added at the end. */
AS_API void as_json_set(cJSON *obj, const char *key, cJSON *item);

/* Compact JSON, allocated as cJSON allocates: free it with cJSON_free
 * (alertsink gives cJSON its own allocator, so what cJSON allocates is
 * never passed to free()). */
AS_API char *as_json_print(const cJSON *item);

#endif /* ALERTSINK_JSON_H */
