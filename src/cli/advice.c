/*
 * advice.c - what a user coming from Alertmanager should write instead of
 * a key alertsink does not know (inhibit_rules:, global:, a receiver's
 * *_configs): the loader's unknown-key hook (lib/conf.h), handed to the
 * configuration at start by main().  It names channels and settings by
 * their keys, which is why it lives with the commands and not the core.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/yamldoc.h"

/* Alertmanager's global: keys that have a place here. */
static const struct {
    const char *am, *here;
} as_am_global[] = {
    {"smtp_smarthost", "smtp.host and smtp.port (host:port written apart)"},
    {"smtp_from", "smtp.from"},
    {"smtp_auth_username", "smtp.username"},
    {"smtp_auth_password", "smtp.password"},
    {"smtp_auth_password_file", "smtp.password_file"},
    {"smtp_require_tls", "smtp.tls (starttls, or none)"},
    {NULL, NULL},
};

static void as_hint_global(const as_node_t *value, char *buf, size_t size)
{
    /* Name the smtp_* keys the section has; all of them when it has none. */
    int any = 0;
    for (size_t i = 0; as_am_global[i].am; i++)
        any |= as_yaml_get(value, as_am_global[i].am) != NULL;
    size_t o = (size_t)snprintf(buf, size,
                                "Alertmanager's global: section is not read here; SMTP settings "
                                "go under smtp:");
    const char *sep = " ";
    for (size_t i = 0; as_am_global[i].am && o < size; i++) {
        if (any && as_yaml_get(value, as_am_global[i].am) == NULL)
            continue;
        o += (size_t)snprintf(buf + o, size - o, "%s%s -> %s", sep, as_am_global[i].am,
                              as_am_global[i].here);
        sep = ", ";
    }
    if (o < size)
        snprintf(buf + o, size - o,
                 "; resolve_timeout, http_config and the *_api_url settings are Alertmanager's "
                 "and have no equivalent");
}

int as_cli_advice(const as_node_t *key, const as_node_t *value, char *buf, size_t size)
{
    const char *k = key->value;
    size_t len = strlen(k);
    if (strcmp(k, "inhibit_rules") == 0) {
        snprintf(buf, size,
                 "inhibition is not supported. Route the alerts that would be inhibited to a "
                 "receiver of their own (or to none of the paging ones), mute them with "
                 "mute_time_intervals, or keep the inhibit_rules in an Alertmanager in front of "
                 "alertsink (its webhook_configs pointing at /api/v1/alertmanager)");
        return 1;
    }
    if (strcmp(k, "global") == 0) {
        as_hint_global(value, buf, size);
        return 1;
    }
    if (strcmp(k, "email_configs") == 0) {
        snprintf(buf, size,
                 "Alertmanager's receiver form: here a receiver has channels; write email: {to: "
                 "[...]} in the receiver, and the server once under the top-level smtp: section");
        return 1;
    }
    if (strcmp(k, "webhook_configs") == 0) {
        snprintf(buf, size,
                 "Alertmanager's receiver form: here a receiver has channels; write webhook: "
                 "{url: ...} in the receiver");
        return 1;
    }
    if (len > 8 && strcmp(k + len - 8, "_configs") == 0) {
        snprintf(buf, size,
                 "Alertmanager's receiver form: alertsink has no %.*s channel; a receiver here "
                 "has whatsapp:, email: or file: (or a loaded module's key); keep this one in "
                 "Alertmanager, or send it by WhatsApp or email",
                 (int)(len - 8), k);
        return 1;
    }
    return 0;
}
