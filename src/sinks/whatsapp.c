/*
 * whatsapp.c - the WhatsApp sink over the Wamessage API (CONTRACT §2).
 *
 * This file holds the module's configuration; delivery arrives with the
 * WhatsApp issue.
 */
#include <stddef.h>

#include "alertsink/module.h"

typedef struct {
    char *base_url;
    char *phone;
    char *password;
    char *reg_id;
    int64_t timeout;
    as_rate_t rate_limit;
} as_whatsapp_conf_t;

typedef struct {
    as_channel_conf_t base;
    as_strv_t to;
    char *send_time;
} as_whatsapp_channel_t;

static const as_conf_key_t as_whatsapp_keys[] = {
    {"base_url", &as_conf_string, offsetof(as_whatsapp_conf_t, base_url), 0,
     "https://api.wamessage.app", NULL},
    {"phone", &as_conf_phone, offsetof(as_whatsapp_conf_t, phone), 0, NULL, NULL},
    {"password", &as_conf_string, offsetof(as_whatsapp_conf_t, password), AS_CONF_SECRET, NULL,
     NULL},
    {"reg_id", &as_conf_string, offsetof(as_whatsapp_conf_t, reg_id), 0, NULL, NULL},
    {"timeout", &as_conf_duration, offsetof(as_whatsapp_conf_t, timeout), 0, "10s", NULL},
    {"rate_limit", &as_conf_rate, offsetof(as_whatsapp_conf_t, rate_limit), 0, "30/m", NULL},
    AS_CONF_END};

static const as_conf_key_t as_whatsapp_channel_keys[] = {
    {"to", &as_conf_phones, offsetof(as_whatsapp_channel_t, to), AS_CONF_REQUIRED, NULL, NULL},
    {"template", &as_conf_string, offsetof(as_whatsapp_channel_t, base.template), 0, NULL, NULL},
    {"max_length", &as_conf_int, offsetof(as_whatsapp_channel_t, base.max_length), 0, "4096", NULL},
    {"send_time", &as_conf_string, offsetof(as_whatsapp_channel_t, send_time), 0, NULL, NULL},
    AS_CONF_END};

static int as_whatsapp_init(void **instance, const void *conf, as_err_t *err)
{
    *instance = (void *)conf;
    return 0;
}

static int as_whatsapp_channel_init(void *instance, void *channel, const char *receiver,
                                    as_err_t *err)
{
    const as_whatsapp_conf_t *c = instance;
    as_whatsapp_channel_t *ch = channel;
    if (c->phone == NULL || c->password == NULL)
        return as_err_set(err,
                          "receiver '%s' uses whatsapp: whatsapp.phone and whatsapp.password "
                          "(or password_file) must be set",
                          receiver);
    if (ch->to.n == 0)
        return as_err_set(err, "receiver '%s': whatsapp.to is empty", receiver);
    if (ch->base.max_length < 0)
        return as_err_set(err, "receiver '%s': whatsapp.max_length must not be negative", receiver);
    return 0;
}

static void as_whatsapp_deliver(void *instance, const void *channel, const as_notification_t *n,
                                const as_message_t *msg, as_result_t *res)
{
    res->outcome = AS_TRANSIENT;
}

const as_module_t as_whatsapp_module = {
    .abi = AS_ABI_VERSION,
    .name = "whatsapp",
    .kind = AS_MODULE_SINK,
    .conf_key = "whatsapp",
    .conf_keys = as_whatsapp_keys,
    .conf_size = sizeof(as_whatsapp_conf_t),
    .channel_key = "whatsapp",
    .channel_keys = as_whatsapp_channel_keys,
    .channel_size = sizeof(as_whatsapp_channel_t),
    .default_template = "whatsapp",
    .init = as_whatsapp_init,
    .channel_init = as_whatsapp_channel_init,
    .deliver = as_whatsapp_deliver,
};
