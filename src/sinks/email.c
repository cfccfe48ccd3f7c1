/*
 * email.c - the email sink over SMTP with libesmtp.
 *
 * This file holds the module's configuration; delivery arrives with the
 * email issue.
 */
#include <stddef.h>

#include "alertsink/module.h"

enum { AS_TLS_NONE, AS_TLS_STARTTLS };

typedef struct {
    char *host;
    int64_t port;
    int tls;
    char *tls_ca_file;
    char *username;
    char *password;
    char *from;
    int64_t timeout;
} as_smtp_conf_t;

typedef struct {
    as_channel_conf_t base;
    as_strv_t to;
} as_email_channel_t;

static const as_conf_enum_t as_tls_modes[] = {
    {"none", AS_TLS_NONE}, {"starttls", AS_TLS_STARTTLS}, {NULL, 0}};

static const as_conf_key_t as_smtp_keys[] = {
    {"host", &as_conf_string, offsetof(as_smtp_conf_t, host), 0, NULL, NULL},
    {"port", &as_conf_int, offsetof(as_smtp_conf_t, port), 0, "587", NULL},
    {"tls", &as_conf_enum, offsetof(as_smtp_conf_t, tls), 0, "starttls", as_tls_modes},
    {"tls_ca_file", &as_conf_string, offsetof(as_smtp_conf_t, tls_ca_file), 0, NULL, NULL},
    {"username", &as_conf_string, offsetof(as_smtp_conf_t, username), 0, NULL, NULL},
    {"password", &as_conf_string, offsetof(as_smtp_conf_t, password), AS_CONF_SECRET, NULL, NULL},
    {"from", &as_conf_email, offsetof(as_smtp_conf_t, from), 0, NULL, NULL},
    {"timeout", &as_conf_duration, offsetof(as_smtp_conf_t, timeout), 0, "30s", NULL},
    AS_CONF_END};

static const as_conf_key_t as_email_channel_keys[] = {
    {"to", &as_conf_emails, offsetof(as_email_channel_t, to), AS_CONF_REQUIRED, NULL, NULL},
    {"subject", &as_conf_string, offsetof(as_email_channel_t, base.subject), 0, NULL, NULL},
    {"template", &as_conf_string, offsetof(as_email_channel_t, base.template), 0, NULL, NULL},
    AS_CONF_END};

static int as_email_init(void **instance, const void *conf, as_err_t *err)
{
    const as_smtp_conf_t *c = conf;
    if (c->port < 1 || c->port > 65535)
        return as_err_set(err, "smtp.port: must be between 1 and 65535");
    *instance = (void *)conf;
    return 0;
}

static int as_email_channel_init(void *instance, void *channel, const char *receiver, as_err_t *err)
{
    const as_smtp_conf_t *c = instance;
    as_email_channel_t *ch = channel;
    if (c->host == NULL || c->from == NULL)
        return as_err_set(err, "receiver '%s' uses email: smtp.host and smtp.from must be set",
                          receiver);
    if (ch->to.n == 0)
        return as_err_set(err, "receiver '%s': email.to is empty", receiver);
    return 0;
}

static void as_email_deliver(void *instance, const void *channel, const as_notification_t *n,
                             const as_message_t *msg, as_result_t *res)
{
    res->outcome = AS_TRANSIENT;
}

const as_module_t as_email_module = {
    .abi = AS_ABI_VERSION,
    .name = "email",
    .kind = AS_MODULE_SINK,
    .conf_key = "smtp",
    .conf_keys = as_smtp_keys,
    .conf_size = sizeof(as_smtp_conf_t),
    .channel_key = "email",
    .channel_keys = as_email_channel_keys,
    .channel_size = sizeof(as_email_channel_t),
    .default_template = "email",
    .flags = AS_SINK_HTML | AS_SINK_SUBJECT,
    .init = as_email_init,
    .channel_init = as_email_channel_init,
    .deliver = as_email_deliver,
};
