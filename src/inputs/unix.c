/*
 * unix.c - the Unix socket input: one alert a line (CONTRACT §5.2).
 *
 * This file holds the module's configuration; the server arrives with the
 * ingest issue.
 */
#include <stddef.h>

#include "alertsink/module.h"

typedef struct {
    char *path;
    int mode;
    int64_t max_clients;
} as_unix_conf_t;

static const as_conf_key_t as_unix_keys[] = {
    {"path", &as_conf_string, offsetof(as_unix_conf_t, path), 0, "/run/alertsink/alertsink.sock",
     NULL},
    {"mode", &as_conf_mode, offsetof(as_unix_conf_t, mode), 0, "0660", NULL},
    {"max_clients", &as_conf_int, offsetof(as_unix_conf_t, max_clients), 0, "256", NULL},
    AS_CONF_END};

static int as_unix_init(void **instance, const void *conf, as_err_t *err)
{
    const as_unix_conf_t *c = conf;
    if (c->max_clients < 1)
        return as_err_set(err, "unix.max_clients: must be at least 1");
    *instance = (void *)conf;
    return 0;
}

static int as_unix_start(void *instance, void *prev, as_err_t *err)
{
    return 0;
}

const as_module_t as_unix_module = {
    .abi = AS_ABI_VERSION,
    .name = "unix",
    .kind = AS_MODULE_INPUT,
    .conf_key = "unix",
    .conf_keys = as_unix_keys,
    .conf_size = sizeof(as_unix_conf_t),
    .init = as_unix_init,
    .start = as_unix_start,
};
