/*
 * http.c - the HTTP input: Alertmanager webhooks and single alerts over
 * libmicrohttpd (CONTRACT §5.1).
 *
 * This file holds the module's configuration; the server arrives with the
 * ingest issue.
 */
#include <stddef.h>

#include "alertsink/module.h"

typedef struct {
    as_listen_t listen;
    char *bearer_token;
    int64_t max_body;
    int64_t max_connections;
    int64_t timeout;
} as_http_conf_t;

static const as_conf_key_t as_http_keys[] = {
    {"listen", &as_conf_listen, offsetof(as_http_conf_t, listen), 0, "127.0.0.1:9095", NULL},
    {"bearer_token", &as_conf_string, offsetof(as_http_conf_t, bearer_token), AS_CONF_SECRET, NULL,
     NULL},
    {"max_body", &as_conf_size, offsetof(as_http_conf_t, max_body), 0, "1MiB", NULL},
    {"max_connections", &as_conf_int, offsetof(as_http_conf_t, max_connections), 0, "1024", NULL},
    {"timeout", &as_conf_duration, offsetof(as_http_conf_t, timeout), 0, "30s", NULL},
    AS_CONF_END};

static int as_http_init(void **instance, const void *conf, as_err_t *err)
{
    const as_http_conf_t *c = conf;
    if (c->max_body < 64)
        return as_err_set(err, "http.max_body: must be at least 64 bytes");
    if (c->max_connections < 1)
        return as_err_set(err, "http.max_connections: must be at least 1");
    *instance = (void *)conf;
    return 0;
}

static int as_http_start(void *instance, void *prev, as_err_t *err)
{
    return 0;
}

const as_module_t as_http_module = {
    .abi = AS_ABI_VERSION,
    .name = "http",
    .kind = AS_MODULE_INPUT,
    .conf_key = "http",
    .conf_keys = as_http_keys,
    .conf_size = sizeof(as_http_conf_t),
    .init = as_http_init,
    .start = as_http_start,
};
