/*
 * json.h - the JSON layer's functions that only the core uses, beside the
 * public ones of alertsink/json.h: UTF-8 decoding and the members of an
 * object in name order.
 */
#ifndef AS_LIB_JSON_H
#define AS_LIB_JSON_H

#include "alertsink/json.h"
#include "alertsink/mem.h"

#define AS_JSON_MAX_DEPTH 64

/* Make pool (NULL: the heap) where cJSON allocates on this thread, until
 * the next call; returns the pool used before.  Keep the scope short and
 * restore the previous one: a tree built in a pool is released with it,
 * and nothing meant to outlive the pool may be built meanwhile. */
as_pool_t *as_json_use_pool(as_pool_t *pool);

/* A node standing for item without copying it: one of cJSON's references
 * for what has children or a string (item must outlive it), a new scalar
 * otherwise. */
cJSON *as_json_ref(const cJSON *item);

/* An instant in ms, past any real one: the bound of as_json_int() for
 * the spool's times. */
#define AS_JSON_MS_MAX (1LL << 52)

/* as_json_parse(), also saying (*ctl = 1) whether a string held a raw
 * control character, which the text cannot be stored on one line with. */
cJSON *as_json_parse_raw(const char *data, size_t len, int *ctl, as_err_t *err);

/* A spool entry holds a payload one level down ("payload") or two (a
 * digest's "members"): it may nest that much deeper than an input may,
 * so that whatever was accepted reads back. */
#define AS_JSON_ENTRY_DEPTH (AS_JSON_MAX_DEPTH + 2)
cJSON *as_json_parse_entry(const char *data, size_t len, as_err_t *err);

/* s[0..len) with every byte that is not part of valid UTF-8 replaced by
 * U+FFFD; malloc'd and NUL-terminated. */
char *as_utf8_repair(const char *s, size_t len);

/* The code point at s (len > 0 bytes) in *cp and its length in bytes; an
 * invalid sequence gives *cp = -1 and length 1, as Go's utf8.DecodeRune. */
size_t as_utf8_decode(const char *s, size_t len, long *cp);

/* The members of obj sorted bytewise by name (Go's sort.Strings), one per
 * name: the first, as cJSON_GetObjectItemCaseSensitive() finds it.  A
 * malloc'd array of *n (NULL when obj has no members).  dup (may be NULL):
 * set to a name that occurs more than once, or NULL.  n log n, where a
 * lookup by name per member would be n squared on a large object. */
cJSON **as_json_sorted(const cJSON *obj, size_t *n, const char **dup);

#endif
