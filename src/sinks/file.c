/*
 * file.c - the file sink: one JSON object a line (CONTRACT §9).
 *
 * This file holds the module's configuration; delivery arrives with the
 * ingest issue.
 */
#include <stddef.h>

#include "alertsink/module.h"

typedef struct {
    as_channel_conf_t base;
    char *path;
    int mode;
} as_file_channel_t;

static const as_conf_key_t as_file_channel_keys[] = {
    {"path", &as_conf_string, offsetof(as_file_channel_t, path), AS_CONF_REQUIRED, NULL, NULL},
    {"mode", &as_conf_mode, offsetof(as_file_channel_t, mode), 0, "0600", NULL},
    {"template", &as_conf_string, offsetof(as_file_channel_t, base.template), 0, NULL, NULL},
    AS_CONF_END};

static int as_file_init(void **instance, const void *conf, as_err_t *err)
{
    *instance = NULL;
    return 0;
}

static void as_file_deliver(void *instance, const void *channel, const as_notification_t *n,
                            const as_message_t *msg, as_result_t *res)
{
    res->outcome = AS_TRANSIENT;
}

const as_module_t as_file_module = {
    .abi = AS_ABI_VERSION,
    .name = "file",
    .kind = AS_MODULE_SINK,
    .channel_key = "file",
    .channel_keys = as_file_channel_keys,
    .channel_size = sizeof(as_file_channel_t),
    .default_template = "file",
    .init = as_file_init,
    .deliver = as_file_deliver,
};
