/*
 * whatsapp_cloud.c - the WhatsApp sink over Meta's official WhatsApp
 * Business Cloud API (the Graph API client is graph.c).
 *
 * The Cloud API takes one recipient a request, so a notification is one
 * request per recipient (per part, for a long text split by the core at
 * max_length).  What each request carries:
 *
 *   - without message_template, a text message: the rendered template
 *     (default whatsapp_cloud.mustache).  WhatsApp delivers it only to a
 *     recipient who wrote to the number within the last 24 hours;
 *   - with message_template, a template message that Meta approved
 *     beforehand: its name, language, and one body parameter per entry of
 *     params, each a Mustache template compiled by channel_init and
 *     rendered here with the notification's context.  Business-initiated
 *     messages must be of this kind.
 *
 * The notification is delivered when at least one recipient took every
 * part: as with email, the recipients refused are logged and named in the
 * result's reason, and not tried again.  When none took it, the result
 * is transient if any recipient's failure was (with the longest
 * Retry-After asked), else permanent.  A refused token (error 190) is
 * the same for every recipient: the others are not tried.  A retry sends
 * to every recipient again, parts already sent included.
 *
 * The account (phone_number_id, token, base_url, api_version, timeout)
 * comes from the whatsapp_cloud: section; a receiver may set any of those
 * keys in its channel to send from another number.  channel_init writes
 * the effective values into the channel, so `alertsink -T` shows them.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/module.h"
#include "graph.h"
#include "whatsapp_cloud.h"

#define AS_WACLOUD_TEXT_MAX 4096 /* the Cloud API's limit of a text body */

typedef struct {
    char *name;
    char *language;
    as_strv_t params; /* v NULL: not written, the defaults below */
} as_wacloud_mt_t;

typedef struct as_wacloud_channel_s {
    as_channel_conf_t base;
    as_strv_t to;
    as_wacloud_mt_t *message_template; /* NULL: text messages */
    as_graph_account_t account;        /* unset keys: the section's (channel_init) */

    /* Made by channel_init, freed by fini. */
    as_template_t **params;
    size_t nparams;
    struct as_wacloud_channel_s *next;
} as_wacloud_channel_t;

typedef struct {
    const as_graph_account_t *conf; /* the whatsapp_cloud: section */
    as_httpc_t *http;
    as_wacloud_channel_t *channels; /* the ones channel_init saw */
} as_wacloud_t;

/*
 * The body parameters when message_template names no params: those of
 * the template alertsink_alert (docs/channels.md#template-messages; the
 * README tells how to create it):
 *   {{1}} FIRING:2 or RESOLVED   {{2}} the group's title
 *   {{3}} every alert: its title, labels and summary
 */
static const char *const as_wacloud_default_params[] = {
    "{{#firingCount}}FIRING:{{firingCount}}{{/firingCount}}"
    "{{^firingCount}}RESOLVED{{/firingCount}}",
    "{{title}}",
    "{{#firing}}🔥 {{title}}{{#otherLabels}} {{name}}={{value}}{{/otherLabels}}"
    "{{#annotations.summary}}: {{.}}{{/annotations.summary}}. {{/firing}}"
    "{{#resolved}}✅ {{title}}{{#otherLabels}} {{name}}={{value}}{{/otherLabels}}"
    "{{#annotations.summary}}: {{.}}{{/annotations.summary}}. {{/resolved}}",
    NULL};

/* --- configuration ----------------------------------------------------------- */

static const as_conf_key_t as_wacloud_mt_keys[] = {
    {"name", &as_conf_string, offsetof(as_wacloud_mt_t, name), AS_CONF_REQUIRED, NULL, NULL},
    {"language", &as_conf_string, offsetof(as_wacloud_mt_t, language), 0, "en_US", NULL},
    {"params", &as_conf_strings, offsetof(as_wacloud_mt_t, params), 0, NULL, NULL},
    AS_CONF_END};

static const as_conf_section_t as_wacloud_mt_section = {as_wacloud_mt_keys,
                                                        sizeof(as_wacloud_mt_t)};
static const as_conf_key_t as_wacloud_mt_key = {"message_template",    &as_conf_section, 0, 0, NULL,
                                                &as_wacloud_mt_section};

/* message_template is an optional map: absent, the channel sends text.
 * (as_conf_section always fills its struct, defaults and all, so it
 * cannot tell "absent" from "empty": this type allocates the struct only
 * when the key is written.) */
static int as_wacloud_set_mt(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    as_wacloud_mt_t *mt = as_palloc(as_conf_pool(cf), sizeof(*mt));
    *(as_wacloud_mt_t **)field = mt;
    return as_conf_section.parse(cf, &as_wacloud_mt_key, n, mt);
}

static void as_wacloud_print_mt(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_wacloud_mt_t *mt = *(as_wacloud_mt_t *const *)field;
    if (mt == NULL)
        fputs(" null\n", out);
    else
        as_conf_section.print(out, &as_wacloud_mt_key, mt, indent);
}

static const as_conf_type_t as_wacloud_mt_type = {"map", as_wacloud_set_mt, as_wacloud_print_mt};

/* The account's keys, in the section (with defaults) and in a channel
 * (without: unset means the section's). */
#define AS_WACLOUD_ACCOUNT_KEYS(T, A, URL, VERSION, TIMEOUT)                                       \
    {"phone_number_id", &as_conf_string, offsetof(T, A.phone_number_id), 0, NULL, NULL},           \
        {"token", &as_conf_string, offsetof(T, A.token), AS_CONF_SECRET, NULL, NULL},              \
        {"base_url", &as_conf_string, offsetof(T, A.base_url), 0, URL, NULL},                      \
        {"api_version", &as_conf_string, offsetof(T, A.api_version), 0, VERSION, NULL},            \
    {                                                                                              \
        "timeout", &as_conf_duration, offsetof(T, A.timeout), 0, TIMEOUT, NULL                     \
    }

typedef struct {
    as_graph_account_t account;
} as_wacloud_conf_t;

static const as_conf_key_t as_wacloud_keys[] = {
    AS_WACLOUD_ACCOUNT_KEYS(as_wacloud_conf_t, account, "https://graph.facebook.com", "v24.0",
                            "10s"),
    AS_CONF_END};

static const as_conf_key_t as_wacloud_channel_keys[] = {
    {"to", &as_conf_phones, offsetof(as_wacloud_channel_t, to), AS_CONF_REQUIRED, NULL, NULL},
    {"template", &as_conf_string, offsetof(as_wacloud_channel_t, base.template), 0, NULL, NULL},
    {"max_length", &as_conf_int, offsetof(as_wacloud_channel_t, base.max_length), 0, "4096", NULL},
    {"message_template", &as_wacloud_mt_type, offsetof(as_wacloud_channel_t, message_template), 0,
     NULL, NULL},
    AS_WACLOUD_ACCOUNT_KEYS(as_wacloud_channel_t, account, NULL, NULL, NULL),
    AS_CONF_END};

const as_graph_account_t *as_wacloud_channel_account(const void *channel)
{
    return &((const as_wacloud_channel_t *)channel)->account;
}

/* --- the module ----------------------------------------------------------------- */

static int as_wacloud_init(void **instance, const void *conf, const as_module_ctx_t *ctx,
                           as_err_t *err)
{
    as_wacloud_t *w = as_xcalloc(1, sizeof(*w));
    w->conf = &((const as_wacloud_conf_t *)conf)->account;
    /* Each request sets its own timeout: receivers may differ. */
    w->http = as_httpc_create(&(as_httpc_opts_t){.timeout_ms = w->conf->timeout});
    *instance = w;
    return 0;
}

static void as_wacloud_fini(void *instance)
{
    as_wacloud_t *w = instance;
    for (as_wacloud_channel_t *ch = w->channels; ch != NULL; ch = ch->next) {
        for (size_t i = 0; i < ch->nparams; i++)
            as_template_free(ch->params[i]);
        free(ch->params);
    }
    as_httpc_free(w->http);
    free(w);
}

static void as_wacloud_inherit(char **field, char *section)
{
    if (*field == NULL || (*field)[0] == '\0')
        *field = section;
}

/* Meta's template names: lowercase letters, digits and underscores. */
static int as_wacloud_template_name(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

static int as_wacloud_compile(as_wacloud_channel_t *ch, const char *receiver, as_err_t *err)
{
    as_wacloud_mt_t *mt = ch->message_template;
    if (!as_wacloud_template_name(mt->name))
        return as_err_set(err,
                          "receiver '%s': whatsapp_cloud.message_template.name: '%s' is not a "
                          "template name (lowercase letters, digits and _)",
                          receiver, mt->name);
    if (mt->language == NULL || mt->language[0] == '\0')
        return as_err_set(err, "receiver '%s': whatsapp_cloud.message_template.language is empty",
                          receiver);
    if (mt->params.v == NULL) { /* not written: alertsink_alert's */
        mt->params.v = (char **)as_wacloud_default_params;
        mt->params.n = sizeof(as_wacloud_default_params) / sizeof(char *) - 1;
    }
    ch->params = as_xcalloc(mt->params.n + 1, sizeof(as_template_t *));
    for (size_t i = 0; i < mt->params.n; i++) {
        char where[300];
        snprintf(where, sizeof(where), "receiver '%s': whatsapp_cloud.message_template.params[%zu]",
                 receiver, i);
        ch->params[i] = as_template_compile(mt->params.v[i], where, err);
        if (ch->params[i] == NULL)
            return -1;
        ch->nparams++;
    }
    return 0;
}

static int as_wacloud_channel_init(void *instance, void *channel, const char *receiver,
                                   as_err_t *err)
{
    as_wacloud_t *w = instance;
    as_wacloud_channel_t *ch = channel;
    as_graph_account_t *a = &ch->account;
    /* On the list first: fini frees what was made even when a check fails. */
    ch->next = w->channels;
    w->channels = ch;

    as_wacloud_inherit(&a->phone_number_id, w->conf->phone_number_id);
    as_wacloud_inherit(&a->token, w->conf->token);
    as_wacloud_inherit(&a->base_url, w->conf->base_url);
    as_wacloud_inherit(&a->api_version, w->conf->api_version);
    if (a->timeout == 0)
        a->timeout = w->conf->timeout;
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "receiver '%s': whatsapp_cloud", receiver);
    if (as_graph_account_check(a, prefix, err) < 0)
        return -1;
    if (ch->to.n == 0)
        return as_err_set(err, "receiver '%s': whatsapp_cloud.to is empty", receiver);
    if (ch->base.max_length < AS_SPLIT_MIN || ch->base.max_length > AS_WACLOUD_TEXT_MAX)
        return as_err_set(err,
                          "receiver '%s': whatsapp_cloud.max_length: %d (a part's number and one "
                          "character) to %d (the Cloud API's limit of a text message)",
                          receiver, AS_SPLIT_MIN, AS_WACLOUD_TEXT_MAX);
    if (ch->message_template != NULL && as_wacloud_compile(ch, receiver, err) < 0)
        return -1;
    return 0;
}

/* The bodies of the parameters of this notification, malloc'd; NULL with
 * res set (permanent: the same notification fails the same way again). */
static char **as_wacloud_params(const as_wacloud_channel_t *ch, const as_notification_t *n,
                                as_result_t *res)
{
    char **out = as_xcalloc(ch->nparams + 1, sizeof(char *));
    for (size_t i = 0; i < ch->nparams; i++) {
        as_err_t err;
        char *text = as_template_render(ch->params[i], n, 0, &err);
        if (text == NULL) {
            as_result_set(res, AS_PERMANENT, 0, "message_template.params[%zu]: %s", i, err.msg);
            for (size_t k = 0; k < i; k++)
                free(out[k]);
            free(out);
            return NULL;
        }
        out[i] = as_graph_param(text);
        free(text);
    }
    return out;
}

/* One recipient: every part (or the template message), in order, up to
 * the first that fails.  Fills r; *code is the Graph API error code. */
static void as_wacloud_one(as_wacloud_t *w, const as_wacloud_channel_t *ch,
                           const as_notification_t *n, const char *to, const as_message_t *msg,
                           char *const *params, as_result_t *r, long *code)
{
    const char *const *parts = msg->nparts > 0 ? msg->parts : &msg->text;
    size_t nparts = ch->message_template != NULL ? 1 : msg->nparts > 0 ? msg->nparts : 1;
    for (size_t i = 0; i < nparts; i++) {
        const as_wacloud_mt_t *mt = ch->message_template;
        char *json = mt != NULL
                         ? as_graph_template_json(to, mt->name, mt->language, params, ch->nparams)
                         : as_graph_text_json(to, parts[i]);
        int64_t t0 = as_mono_ms();
        int rc = as_graph_send(w->http, &ch->account, json, r, code);
        cJSON_free(json);
        /* The core logs the attempt; the requests are a detail. */
        as_log(AS_LOG_DEBUG, "whatsapp_cloud request", AS_S("id", n->id),
               AS_S("receiver", n->receiver), AS_S("to", to), AS_I("part", i + 1),
               AS_I("parts", nparts), AS_S("result", as_outcome_name(r->outcome)),
               AS_I("status", r->status), AS_I("code", *code),
               AS_I("latency_ms", as_mono_ms() - t0),
               AS_S("reason", r->reason[0] ? r->reason : NULL));
        if (rc < 0) {
            if (i > 0)
                as_result_set(r, r->outcome, r->status, "part %zu of %zu: %s", i + 1, nparts,
                              r->reason);
            return;
        }
    }
}

static void as_wacloud_deliver(void *instance, const void *channel, const as_notification_t *n,
                               const as_message_t *msg, as_result_t *res)
{
    as_wacloud_t *w = instance;
    const as_wacloud_channel_t *ch = channel;
    char **params = NULL;
    memset(res, 0, sizeof(*res));
    if (ch->message_template != NULL) {
        params = as_wacloud_params(ch, n, res);
        if (params == NULL)
            return;
    } else if (msg->text == NULL) {
        as_result_set(res, AS_PERMANENT, 0, "no text to send (no template rendered)");
        return;
    }

    size_t delivered = 0, transient = 0, failed = 0;
    int64_t wait = 0;
    int status = 0;
    as_buf_t why = AS_BUF_INIT; /* "to N: reason; ..." of the recipients that failed */
    for (size_t i = 0; i < ch->to.n; i++) {
        as_result_t r;
        long code = 0;
        memset(&r, 0, sizeof(r));
        as_wacloud_one(w, ch, n, ch->to.v[i], msg, params, &r, &code);
        if (r.outcome == AS_DELIVERED) {
            delivered++;
            continue;
        }
        failed++;
        status = r.status;
        if (r.outcome == AS_TRANSIENT) {
            transient++;
            if (r.retry_after_ms > wait)
                wait = r.retry_after_ms;
        }
        if (code == AS_GRAPH_TOKEN_EXPIRED) {
            /* Every recipient would be refused the same way. */
            as_buf_reset(&why);
            as_buf_puts(&why, r.reason);
            break;
        }
        as_buf_printf(&why, "%sto %s: %s", why.len ? "; " : "", ch->to.v[i], r.reason);
    }

    if (delivered > 0) {
        res->outcome = AS_DELIVERED;
        res->status = 200;
        if (failed > 0) {
            as_result_set(res, AS_DELIVERED, 200, "delivered to %zu of %zu recipients; %s",
                          delivered, ch->to.n, why.data);
            /* The attempt counts as delivered: this line is all that
             * tells of the recipients refused. */
            as_log(AS_LOG_WARN, "whatsapp_cloud recipients refused", AS_S("id", n->id),
                   AS_S("receiver", n->receiver), AS_I("refused", failed),
                   AS_I("recipients", ch->to.n), AS_S("reason", res->reason));
        }
    } else {
        res->retry_after_ms = wait;
        as_result_set(res, transient > 0 ? AS_TRANSIENT : AS_PERMANENT, status, "%s",
                      why.data ? why.data : "no recipient");
    }
    as_buf_free(&why);
    if (params != NULL) {
        for (size_t i = 0; i < ch->nparams; i++)
            free(params[i]);
        free(params);
    }
}

/* Built from templates/whatsapp_cloud*.mustache by templates/embed.cmake. */
extern const as_template_src_t as_whatsapp_cloud_templates[];

const as_module_t as_whatsapp_cloud_module = {
    .abi = AS_ABI_VERSION,
    .name = "whatsapp_cloud",
    .kind = AS_MODULE_SINK,
    .conf_key = "whatsapp_cloud",
    .conf_keys = as_wacloud_keys,
    .conf_size = sizeof(as_wacloud_conf_t),
    .channel_key = "whatsapp_cloud",
    .channel_keys = as_wacloud_channel_keys,
    .channel_size = sizeof(as_wacloud_channel_t),
    .default_template = "whatsapp_cloud",
    .templates = as_whatsapp_cloud_templates,
    .init = as_wacloud_init,
    .channel_init = as_wacloud_channel_init,
    .fini = as_wacloud_fini,
    .deliver = as_wacloud_deliver,
};
