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
 *     table of keys (alertsink/conf.h): the core parses, validates and
 *     prints them, a module never sees YAML;
 *   - for a sink, the key it owns inside a receiver ("whatsapp", "email",
 *     "file") with its own key table, and the templates it ships;
 *   - hooks: init (from a parsed configuration, no I/O), start and stop (an
 *     input binds and feeds notifications with as_submit()), deliver (a sink
 *     delivers one rendered notification and says how it went) and,
 *     optionally, deliver_batch (a sink delivers many at once).
 *
 * One configuration generation (a "cycle") gets one instance of every
 * module.  On reload the new instances are created and started while the
 * old ones still serve; start() receives the old instance so an input can
 * take over its listening socket.  Built-in modules are written against
 * exactly this header, as a loaded one is (docs/modules.md).
 *
 * This header includes the rest of the public API: errors (api.h), memory
 * (mem.h), buffers (buf.h), clocks (clock.h), JSON (json.h), logging
 * (log.h), configuration keys (conf.h), the HTTP client (http.h), metrics
 * (metrics.h), what inputs submit (input.h) and what sinks deliver
 * (sink.h).  Everything declared there with AS_API is exported by the
 * alertsink binary.
 */
#ifndef ALERTSINK_MODULE_H
#define ALERTSINK_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alertsink/api.h"
#include "alertsink/buf.h"
#include "alertsink/clock.h"
#include "alertsink/conf.h"
#include "alertsink/http.h"
#include "alertsink/input.h"
#include "alertsink/json.h"
#include "alertsink/log.h"
#include "alertsink/mem.h"
#include "alertsink/metrics.h"
#include "alertsink/sink.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The symbol a shared-object module exports: `as_module_t alertsink_module`. */
#define AS_MODULE_SYMBOL "alertsink_module"

/*
 * What a module's init() learns about its surroundings.  The strings live
 * as long as the instance.
 */
enum {
    AS_CTX_CHECK = 1 << 0, /* -t or a command that never delivers: check, do no I/O */
};

typedef struct as_module_ctx_s {
    const char *name;        /* the module's name */
    const char *config_file; /* the main configuration file */
    /* The module's own directory, spool.dir/state/NAME, for caches such as
     * a login token.  It may not exist yet: as_state_write() creates it
     * (mode 0700). */
    const char *state_dir;
    unsigned flags;      /* AS_CTX_* */
    const void *loading; /* the core's: the configuration being loaded */
} as_module_ctx_t;

/* Read an integer setting (int, duration in ms, size in bytes) of the
 * configuration being loaded, by its dotted key ("http.max_body"): for a
 * module whose behaviour follows another's documented setting.  -1 with
 * err when there is no such key or it is not a number. */
AS_API int as_module_setting(const as_module_ctx_t *ctx, const char *key, int64_t *value,
                             as_err_t *err);

/* The module's state directory: a whole file, written atomically (tmp,
 * fsync, rename) with mode 0600, the directory made (0700) when missing;
 * and read back (-1 with errno ENOENT when there is none). */
AS_API int as_state_write(const char *dir, const char *name, const void *data, size_t len,
                          as_err_t *err);
AS_API int as_state_read(const char *dir, const char *name, as_buf_t *out, as_err_t *err);

typedef enum { AS_MODULE_INPUT = 1, AS_MODULE_SINK = 2 } as_module_kind_t;

typedef struct as_module_s {
    uint32_t abi;     /* AS_ABI_VERSION */
    const char *name; /* unique, [a-z0-9_]: "http", "whatsapp" */
    as_module_kind_t kind;

    /* The top-level key this module owns; NULL = none.  The core allocates
     * conf_size bytes, applies the defaults and parses the section into it
     * (absent section: defaults only). */
    const char *conf_key;
    const as_conf_key_t *conf_keys;
    size_t conf_size;

    /* Sinks: the key inside a receiver, and its struct (starts with
     * as_channel_conf_t).  The key is also the channel's name in a
     * receiver's `channels:` and `mode:`, in notes and their journals: at
     * most AS_CHANNEL_KEY_MAX bytes of [a-z0-9_]. */
    const char *channel_key;
    const as_conf_key_t *channel_keys;
    size_t channel_size;
    /* The template rendered when the channel names none; NULL = none (the
     * message's text is then NULL unless the channel names one). */
    const char *default_template;
    const as_template_src_t *templates; /* shipped templates, or NULL */
    unsigned flags;                     /* AS_SINK_* */

    /* Create this cycle's instance from the parsed section.  No I/O beyond
     * reading files named by the configuration.  Also run by `-t`. */
    int (*init)(void **instance, const void *conf, const as_module_ctx_t *ctx, as_err_t *err);
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

    /* Sinks, optional: deliver a batch, blocking, filling each item's
     * res; called instead of deliver() when present (a sink needs one of
     * the two).  A worker takes the notifications a commit round (or
     * more) accepted, routes and renders them, and hands each sink all of
     * its own at once, so that what costs per call is paid per batch: the
     * file sink appends the lines with one write and one fdatasync.  A
     * sink without it is called once per notification, and its
     * notifications are spread over the workers (each waits for a peer).
     * Called from several worker threads at once, like deliver(). */
    void (*deliver_batch)(void *instance, as_delivery_t *items, size_t n);
} as_module_t;

#ifdef __cplusplus
}
#endif

#endif /* ALERTSINK_MODULE_H */
