/*
 * alertsink/conf.h - configuration described by tables of keys, parsed by
 * the core (nginx's ngx_command_t and its ngx_conf_set_*_slot setters).
 *
 * A module never sees YAML: it declares the keys of its section (and of
 * its channel inside a receiver) with a type, an offset into its struct, a
 * default and flags; the core's loader parses, validates, reports errors
 * as FILE:LINE:COL: message, and prints the effective value for
 * `alertsink -T`.  A key flagged AS_CONF_SECRET also takes the NAME_file
 * form, is redacted in logs and printed as <redacted>.
 *
 * The generic types below cover what modules need; a module may declare a
 * type of its own (as_conf_type_t) with a parse and a print function.
 */
#ifndef ALERTSINK_CONF_H
#define ALERTSINK_CONF_H

#include <stdio.h>

#include "alertsink/api.h"
#include "alertsink/mem.h"

typedef struct as_node_s as_node_t; /* a YAML node and where it was written */
typedef struct as_conf_s as_conf_t; /* the loader: pool, error list */
typedef struct as_conf_key_s as_conf_key_t;

typedef struct as_conf_type_s {
    const char *name; /* "duration": used in "expected a duration" */
    /* Parse node into field; on error call as_conf_error() and return -1. */
    int (*parse)(as_conf_t *cf, const as_conf_key_t *key, const as_node_t *node, void *field);
    /* Print field as YAML for `alertsink -T`: what follows "key:", with the
     * newline; nested lines indented past indent. */
    void (*print)(FILE *out, const as_conf_key_t *key, const void *field, int indent);
    unsigned flags; /* AS_CONF_TYPE_* */
} as_conf_type_t;

/* parse() also runs for an absent key, with node NULL (sections: defaults). */
#define AS_CONF_TYPE_ALWAYS 1u

enum {
    AS_CONF_REQUIRED = 1 << 0, /* absent is an error */
    AS_CONF_SECRET = 1 << 1,   /* printed as <redacted>, never logged, has a NAME_file form */
};

struct as_conf_key_s {
    const char *name;
    const as_conf_type_t *type;
    size_t offset;    /* of the field in the section's struct */
    unsigned flags;   /* AS_CONF_* */
    const char *dflt; /* default, in YAML spelling, parsed by type->parse; NULL = zero */
    const void *data; /* type-specific: as_conf_section_t, as_conf_enum_t[], ... */
};

#define AS_CONF_END                                                                                \
    {                                                                                              \
        NULL, NULL, 0, 0, NULL, NULL                                                               \
    }

/* A nested map stored inline (section) or a list of them (section list). */
typedef struct as_conf_section_s {
    const as_conf_key_t *keys;
    size_t size; /* of one element, for lists */
} as_conf_section_t;

/* Names of an enum type, ends with {NULL, 0}. */
typedef struct as_conf_enum_s {
    const char *name;
    int value;
} as_conf_enum_t;

/* Value types the generic types fill in. */
typedef struct as_strv_s { /* a list of strings */
    size_t n;
    char **v;
} as_strv_t;

/* A map of strings whose keys are the user's, not a table's (HTTP header
 * names, say): keys[i] maps to values[i], in the order written; a key
 * written twice is an error, a value that is not a scalar too. */
typedef struct as_strmap_s {
    size_t n;
    char **keys;
    char **values;
} as_strmap_t;

typedef struct as_array_s { /* a list of sections */
    size_t n;
    void *elts;
} as_array_t;

typedef struct as_rate_s { /* "30/m": count per period; count 0 = unlimited */
    uint32_t count;
    int64_t period_ms;
} as_rate_t;

typedef struct as_listen_s { /* "127.0.0.1:9095", "[::1]:9095", ":9095"; "" = off */
    char *text;
    char *host; /* NULL = any address */
    int port;
} as_listen_t;

/* The generic types (nginx's ngx_conf_set_*_slot).  Field C types:      */
AS_API extern const as_conf_type_t as_conf_string;   /* char *            */
AS_API extern const as_conf_type_t as_conf_int;      /* int64_t           */
AS_API extern const as_conf_type_t as_conf_bool;     /* int               */
AS_API extern const as_conf_type_t as_conf_duration; /* int64_t, ms       */
AS_API extern const as_conf_type_t as_conf_size;     /* int64_t, bytes    */
AS_API extern const as_conf_type_t as_conf_rate;     /* as_rate_t         */
AS_API extern const as_conf_type_t as_conf_strings;  /* as_strv_t         */
AS_API extern const as_conf_type_t as_conf_strmap;   /* as_strmap_t: {name: value, ...} */
AS_API extern const as_conf_type_t as_conf_phone;    /* char *, digits    */
AS_API extern const as_conf_type_t as_conf_phones;   /* as_strv_t, digits */
AS_API extern const as_conf_type_t as_conf_listen;   /* as_listen_t       */
AS_API extern const as_conf_type_t as_conf_mode;     /* int, "0660"       */
AS_API extern const as_conf_type_t as_conf_enum;     /* int, data: as_conf_enum_t[] */
AS_API extern const as_conf_type_t as_conf_section;  /* struct inline, data: as_conf_section_t */
AS_API extern const as_conf_type_t as_conf_sections; /* as_array_t, data: as_conf_section_t */

/* A list type of a module's own scalar type: parse() of a list type
 * calls this with its item type (a YAML list, or one value standing for a
 * list of one, into an as_strv_t); print it with as_conf_strings.print. */
AS_API int as_conf_list_parse(as_conf_t *cf, const as_conf_key_t *key, const as_node_t *node,
                              void *field, const as_conf_type_t *item);
/* The scalar of a node, or an error "expected <what>, got a map" and NULL:
 * for the parse() of a module's own scalar type. */
AS_API const char *as_conf_scalar(as_conf_t *cf, const as_node_t *node, const char *what);

/* Report an error at a node's position: "FILE:LINE:COL: message". */
AS_API void as_conf_error(as_conf_t *cf, const as_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
AS_API as_pool_t *as_conf_pool(as_conf_t *cf);

/* Helpers shared by types and the command line. */
AS_API int as_parse_duration(const char *s, int64_t *ms);
AS_API int as_parse_size(const char *s, int64_t *bytes);
AS_API int as_parse_rate(const char *s, as_rate_t *rate);
AS_API int as_parse_phone(const char *s, char *digits, size_t len); /* "+90 555..." -> "90555..." */

#endif /* ALERTSINK_CONF_H */
