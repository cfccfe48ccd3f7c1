/*
 * alertsink/module.h - the one header an alertsink module needs.
 *
 * alertsink's core knows no input and no sink by name.  It walks one static
 * table of modules (as nginx walks ngx_modules[]) plus the shared objects
 * listed under "modules:", each exporting a single symbol, `alertsink_module`,
 * of type as_module_t.  A module declares:
 *
 *   - its name, the ABI version it was built against, and its kind;
 *   - the top-level configuration key it owns ("http", "smtp", ...) with a
 *     table of keys, as nginx's ngx_command_t arrays: the core's generic
 *     loader parses, validates and prints them, a module never sees YAML;
 *   - for a sink, the key it owns inside a receiver ("whatsapp", "email",
 *     "file") with its own key table;
 *   - hooks: init (from a parsed configuration, no I/O), start and stop (an
 *     input binds and feeds notifications with as_submit()), deliver (a sink
 *     delivers one rendered notification and says how it went).
 *
 * One configuration generation (a "cycle") gets one instance of every
 * module.  On reload the new instances are created and started while the
 * old ones still serve; start() receives the old instance so an input can
 * take over its listening socket.
 *
 * Everything declared here with AS_API is exported by the alertsink binary
 * (it is linked with -rdynamic), so a module links against nothing but the
 * libraries it uses itself.
 */
#ifndef ALERTSINK_MODULE_H
#define ALERTSINK_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bump on any change of a struct or a signature below. */
#define AS_ABI_VERSION 1

/* The symbol a shared-object module exports: `as_module_t alertsink_module`. */
#define AS_MODULE_SYMBOL "alertsink_module"

#define AS_API __attribute__((visibility("default")))

struct cJSON;

/* ---------------------------------------------------------------------- */
/* Errors are values: a function that can fail returns -1 and fills one.  */

typedef struct as_err_s {
    char msg[1024];
} as_err_t;

AS_API int as_err_set(as_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------------- */
/* Logging: one line an event, key=value fields, secrets redacted.         */

enum { AS_LOG_DEBUG = 0, AS_LOG_INFO, AS_LOG_WARN, AS_LOG_ERROR };

typedef struct as_kv_s {
    const char *key; /* NULL ends the list */
    char type;       /* 's' string, 'i' integer */
    const char *s;
    long long i;
} as_kv_t;

#define AS_S(k, v) ((as_kv_t){(k), 's', (v), 0})
#define AS_I(k, v) ((as_kv_t){(k), 'i', NULL, (long long)(v)})

AS_API void as_log_kv(int level, const char *msg, const as_kv_t *kv);
AS_API int as_log_enabled(int level);

/* as_log(AS_LOG_INFO, "delivered", AS_S("id", id), AS_I("latency_ms", ms));
 * The fields become a NULL-terminated array; the leading placeholder lets
 * GNU's ", ##__VA_ARGS__" drop its comma when there are no fields (and,
 * unlike __VA_OPT__, is understood by every C11 compiler and cppcheck). */
#define as_log(level, msg, ...)                                                                    \
    do {                                                                                           \
        if (as_log_enabled(level))                                                                 \
            as_log_kv((level), (msg),                                                              \
                      (const as_kv_t[]){{"", 0, NULL, 0}, ##__VA_ARGS__, {NULL, 0, NULL, 0}} + 1); \
    } while (0)

/* A value registered here is replaced by <redacted> in every log line. */
AS_API void as_log_secret(const char *value);

/* ---------------------------------------------------------------------- */
/* Memory: configuration lives in a pool freed whole with its cycle.       */

typedef struct as_pool_s as_pool_t;

AS_API void *as_palloc(as_pool_t *pool, size_t size); /* zeroed; aborts on OOM */
AS_API char *as_pstrdup(as_pool_t *pool, const char *s);
AS_API void as_pool_cleanup(as_pool_t *pool, void (*fn)(void *), void *data);

/* ---------------------------------------------------------------------- */
/* Configuration: keys declared in tables, parsed by the core.             */

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
AS_API extern const as_conf_type_t as_conf_phone;    /* char *, digits    */
AS_API extern const as_conf_type_t as_conf_phones;   /* as_strv_t, digits */
AS_API extern const as_conf_type_t as_conf_email;    /* char *, "Name <a@b>" or "a@b" */
AS_API extern const as_conf_type_t as_conf_emails;   /* as_strv_t         */
AS_API extern const as_conf_type_t as_conf_listen;   /* as_listen_t       */
AS_API extern const as_conf_type_t as_conf_mode;     /* int, "0660"       */
AS_API extern const as_conf_type_t as_conf_enum;     /* int, data: as_conf_enum_t[] */
AS_API extern const as_conf_type_t as_conf_section;  /* struct inline, data: as_conf_section_t */
AS_API extern const as_conf_type_t as_conf_sections; /* as_array_t, data: as_conf_section_t */

/* Report an error at a node's position: "FILE:LINE:COL: message". */
AS_API void as_conf_error(as_conf_t *cf, const as_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
AS_API as_pool_t *as_conf_pool(as_conf_t *cf);

/* Helpers shared by types and the command line. */
AS_API int as_parse_duration(const char *s, int64_t *ms);
AS_API int as_parse_size(const char *s, int64_t *bytes);
AS_API int as_parse_rate(const char *s, as_rate_t *rate);
AS_API int as_parse_phone(const char *s, char *digits, size_t len); /* "+90 555..." -> "90555..." */
AS_API int as_parse_email_addr(const char *s, char *addr, size_t len); /* "N <a@b>" -> "a@b" */

/* ---------------------------------------------------------------------- */
/* Notifications: what inputs submit and sinks deliver.                    */

/*
 * Inputs hand over a payload in the Alertmanager webhook v4 shape (see
 * as_payload_*() below to build one from other formats).  as_submit()
 * returns at once; done() is called, from a core thread, once the payload
 * is on disk (AS_SUBMIT_OK, id set) or refused.
 */
typedef enum {
    AS_SUBMIT_OK = 0,
    AS_SUBMIT_FULL,        /* spool.max_size reached: 503 / ERR spool full */
    AS_SUBMIT_STOPPING,    /* shutting down: 503 */
    AS_SUBMIT_NO_RECEIVER, /* submission named a receiver that does not exist: 404 */
    AS_SUBMIT_IO_ERROR,    /* the spool could not be written: 503 */
} as_submit_status_t;

enum {
    AS_SUB_GROUPED = 1 << 0, /* an Alertmanager group: never held back by group_wait */
};

typedef struct as_submission_s {
    const char *input;     /* "http", "unix", "stdin": for logs and metrics */
    struct cJSON *payload; /* owned by the core once submitted */
    const char *receiver;  /* deliver straight to it, skipping routing; NULL = route */
    unsigned flags;        /* AS_SUB_* */
} as_submission_t;

typedef void (*as_submit_done_pt)(void *arg, as_submit_status_t status, const char *id);

AS_API void as_submit(as_submission_t *sub, as_submit_done_pt done, void *arg);
AS_API const char *as_submit_status_text(as_submit_status_t status);

/* Payload helpers: parse and validate JSON into the Alertmanager shape.  */
/* Errors name the first bad field by its path: "alerts[2].labels: expected object". */
AS_API struct cJSON *as_payload_parse(const char *json, size_t len, int *grouped, as_err_t *err);

typedef struct as_notification_s {
    const char *id;           /* spool id, unique and time-ordered */
    const char *receiver;     /* receiver name */
    const char *status;       /* "firing" or "resolved" */
    const char *group_key;    /* receiver-scoped group key */
    int64_t accepted_ms;      /* when an input accepted it (ms since the epoch) */
    int attempt;              /* 1 on the first attempt on this channel */
    int in_doubt;             /* an earlier attempt may have succeeded before a crash */
    const struct cJSON *data; /* the Alertmanager-shaped payload, as rendered */
} as_notification_t;

typedef struct as_message_s {
    const char *text; /* the whole rendered text (not HTML-escaped) */
    size_t nparts;    /* text split at max_length; 1 part = text */
    const char *const *parts;
    const char *html;    /* HTML part, for sinks with AS_SINK_HTML; else NULL */
    const char *subject; /* one line, for sinks with AS_SINK_SUBJECT; else NULL */
} as_message_t;

typedef enum {
    AS_DELIVERED = 0,
    AS_TRANSIENT, /* retry later (backoff, or retry_after_ms if longer) */
    AS_PERMANENT, /* this channel will never deliver it: fallback, then dead/ */
} as_outcome_t;

typedef struct as_result_s {
    as_outcome_t outcome;
    int64_t retry_after_ms; /* transient: the peer asked to wait this long (Retry-After) */
    int status;             /* protocol status for logs (HTTP 200, SMTP 250), 0 = none */
    char reason[512];       /* why it failed, or a note (a rejected recipient); no secrets */
} as_result_t;

/* ---------------------------------------------------------------------- */
/* Channels: the part of a receiver a sink owns.                           */

/*
 * Every sink's per-receiver configuration struct starts with this header;
 * its keys "template", "subject" and "max_length" (when the sink declares
 * them) point into it.  The core compiles and renders the templates, so a
 * sink receives finished text.
 */
typedef struct as_channel_conf_s {
    char *template;     /* template name; NULL = the module's default_template */
    char *subject;      /* subject template source; NULL = the built-in one */
    int64_t max_length; /* split longer texts into numbered parts; 0 = never */
} as_channel_conf_t;

enum {
    AS_SINK_HTML = 1 << 0,    /* render an HTML part too */
    AS_SINK_SUBJECT = 1 << 1, /* render a subject line */
};

/* ---------------------------------------------------------------------- */
/* The module.                                                              */

typedef enum { AS_MODULE_INPUT = 1, AS_MODULE_SINK = 2 } as_module_kind_t;

typedef struct as_module_s {
    uint32_t abi;     /* AS_ABI_VERSION */
    const char *name; /* unique: "http", "whatsapp" */
    as_module_kind_t kind;

    /* The top-level key this module owns; NULL = none.  The core allocates
     * conf_size bytes, applies the defaults and parses the section into it
     * (absent section: defaults only). */
    const char *conf_key;
    const as_conf_key_t *conf_keys;
    size_t conf_size;

    /* Sinks: the key inside a receiver, and its struct (starts with
     * as_channel_conf_t). */
    const char *channel_key;
    const as_conf_key_t *channel_keys;
    size_t channel_size;
    const char *default_template; /* built-in template used when none is named */
    unsigned flags;               /* AS_SINK_* */

    /* Create this cycle's instance from the parsed section.  No I/O beyond
     * reading files named by the configuration.  Also run by `-t`. */
    int (*init)(void **instance, const void *conf, as_err_t *err);
    /* Sinks: check one receiver's channel section. */
    int (*channel_init)(void *instance, void *channel, const char *receiver, as_err_t *err);
    /* Inputs: bind and serve; prev is this module's instance of the cycle
     * being replaced (NULL at first start), to take over its sockets. */
    int (*start)(void *instance, void *prev, as_err_t *err);
    /* Inputs: stop taking new work (in-flight submissions still complete). */
    void (*stop)(void *instance);
    void (*fini)(void *instance);

    /* Sinks: deliver one notification, blocking; fill res. Called from
     * several worker threads at once. */
    void (*deliver)(void *instance, const void *channel, const as_notification_t *n,
                    const as_message_t *msg, as_result_t *res);
    /* Sinks, optional: the rate limit that applies to this channel and the
     * bucket it shares (e.g. per WhatsApp device).  Return 0 = no limit. */
    int (*rate_limit)(void *instance, const void *channel, char *key, size_t keylen,
                      as_rate_t *rate);
    /* Optional: reopen files (SIGUSR1, after logrotate). */
    void (*reopen)(void *instance);
} as_module_t;

#ifdef __cplusplus
}
#endif

#endif /* ALERTSINK_MODULE_H */
