/*
 * config.h - alertsink's configuration: the top-level keys (docs and
 * alertsink.yaml(5)), the receivers, the route tree, and one section per
 * module.
 *
 * as_config_load() reads the file and its includes, loads the shared-object
 * modules it names, parses everything through the key tables and checks
 * what tables cannot (names that refer to each other).  Every error goes
 * to the as_conf_t as FILE:LINE:COL: message.  A loaded configuration is
 * immutable; all its memory belongs to its pool.
 */
#ifndef AS_CONFIG_H
#define AS_CONFIG_H

#include "alertsink/module.h"
#include "conf/module.h"
#include "lib/conf.h"
#include "route/route.h"
#include "route/timeinterval.h"

/* One configuration value owned by a module: its struct and where it was written. */
typedef struct as_slot_s {
    void *conf;
    const as_node_t *node;
} as_slot_t;

/* How a receiver uses its chain of channels (docs/delivery.md). */
typedef enum {
    AS_CHAIN_FALLBACK = 0, /* the first channel, then the next when it gives up */
    AS_CHAIN_ALL,          /* every channel ("all", or its old name "both") */
    AS_CHAIN_ONE,          /* mode: NAME, that channel alone */
} as_chain_mode_t;

#define AS_CHAIN_MAX 8 /* channels in one receiver */

typedef struct as_receiver_s {
    char *name;
    char *mode;                           /* as written: fallback, all, both or a channel */
    as_strv_t channels;                   /* as written: the chain's order, or none */
    int64_t fallback_after, dedup_window; /* defaults applied */
    as_slot_t channel[AS_MODULES_MAX];    /* by module index; conf NULL = none */
    const as_node_t *node;

    /* Resolved from the above when the configuration loads. */
    as_chain_mode_t chain_mode;
    size_t nchain;
    int chain[AS_CHAIN_MAX]; /* module indices in chain order (mode NAME: that one) */
} as_receiver_t;

typedef struct as_log_conf_s {
    int level;
    int format; /* AS_LOG_LOGFMT, AS_LOG_JSON */
} as_log_conf_t;

typedef struct as_spool_conf_s {
    char *dir;
    int64_t max_age, max_size;
} as_spool_conf_t;

typedef struct as_templates_conf_s {
    char *dir;
    const as_node_t *node; /* where dir is written (errors about it), NULL when not */
} as_templates_conf_t;

typedef struct as_defaults_conf_s {
    int64_t fallback_after, dedup_window;
} as_defaults_conf_t;

typedef struct as_config_s {
    as_pool_t *pool;
    char *file;
    as_modset_t mods;

    as_strv_t include;
    as_log_conf_t log;
    as_strv_t modules;
    int64_t workers;
    as_spool_conf_t spool;
    as_templates_conf_t templates;
    as_defaults_conf_t defaults;
    as_array_t receivers; /* as_receiver_t */
    /* Receivers by name: open addressing, FNV-1a, slots a power of two
     * (every delivery looks its receiver up). */
    const as_receiver_t **recv_slots;
    size_t nrecv_slots;
    as_array_t time_intervals;      /* as_time_interval_t */
    as_array_t mute_time_intervals; /* the same, Alertmanager's deprecated top-level key */
    as_route_t route;
    as_slot_t mconf[AS_MODULES_MAX]; /* module sections, by module index */

    const as_conf_key_t *keys; /* the table it was parsed with (for -T) */
} as_config_t;

/* Load and check path. NULL on error (errors in cf). */
/* Advice for an unknown key (Alertmanager's keys), given once at start. */
void as_config_advice(as_conf_hint_fn fn);

as_config_t *as_config_load(as_conf_t *cf, const char *path);
/* The same with AS_LOAD_* flags (lib/conf.h): AS_LOAD_NO_SEND for the
 * commands that never send. */
as_config_t *as_config_load_flags(as_conf_t *cf, const char *path, unsigned flags);
void as_config_free(as_config_t *cfg);
/* The effective configuration as YAML, secrets as "<redacted>". */
void as_config_print(FILE *out, const as_config_t *cfg);

const as_receiver_t *as_config_receiver(const as_config_t *cfg, const char *name);
const as_time_interval_t *as_config_time_interval(const as_config_t *cfg, const char *name);
/* The module conf of a named module ("http"), NULL if not loaded. */
void *as_config_module_conf(const as_config_t *cfg, const char *module);

/* A module's state directory: spool.dir/state/MODULE (not created). */
const char *as_config_state_dir(const as_config_t *cfg, const char *module);
/* The field of a setting by its dotted key ("unix.path"), and its type;
 * NULL when there is no such key.  For commands that read another
 * module's documented setting without knowing its struct. */
const void *as_config_field(const as_config_t *cfg, const char *key, const as_conf_type_t **type);
/* An integer setting (int, duration, size) by its dotted key ("http.max_body"). */
int as_config_setting(const as_config_t *cfg, const char *key, int64_t *value, as_err_t *err);

/* The default configuration path: $ALERTSINK_CONFIG or /etc/alertsink/alertsink.yaml. */
const char *as_config_default_path(void);

#endif
