/*
 * whatsapp.c - the WhatsApp sink over the Wamessage API (docs/channels.md).
 *
 * One notification is one message: each part of it (a long text is split
 * by the core at max_length) goes out, in order, as one
 * POST /whatsapp/sendmessage/multi carrying all of the receiver's contacts.
 * The Wamessage client (wamessage.c) logs in, keeps the token and applies
 * the 401 rule; this file decides which device sends and what a failure
 * means for the notification.
 *
 * The device: whatsapp.reg_id, or the first connected device.  Either way
 * the devices list says whether it is connected; the list is kept for
 * AS_WA_DEVICES_TTL so every message does not cost a second request, and
 * forgotten after any failed send.  A device that is not listed or not
 * connected is unavailable: the next channel of the receiver's chain takes
 * over at once, and WhatsApp is retried (docs/delivery.md).
 *
 * Split messages: when part k of n fails, parts 1..k-1 are out already.
 * The instance remembers, per notification id, how many parts went out,
 * so the retry sends only the rest.  That memory is per instance (a reload
 * or a restart forgets it and resends from part 1) and bounded
 * (AS_WA_PROGRESS_MAX notifications, the oldest forgotten first).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertsink/module.h"
#include "whatsapp.h"

#define AS_WA_DEVICES_TTL  30000 /* ms */
#define AS_WA_PROGRESS_MAX 256

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

/* How far a split notification got. */
typedef struct {
    char *id;
    size_t nparts, sent;
    int64_t at;
} as_wa_progress_t;

typedef struct {
    const as_whatsapp_conf_t *conf;
    as_wa_t *wa;          /* NULL when the account is not configured */
    as_err_t account_err; /* why wa is NULL */

    pthread_mutex_t lock; /* guards what follows */
    as_wa_devices_t devices;
    int64_t devices_at; /* monotonic ms; 0 = no list */
    as_wa_progress_t progress[AS_WA_PROGRESS_MAX];
    size_t nprogress;
} as_whatsapp_t;

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

/* --- shared with `alertsink wa` -------------------------------------------- */

const char *as_whatsapp_reg_id(const void *conf)
{
    const as_whatsapp_conf_t *c = conf;
    return c->reg_id != NULL && c->reg_id[0] != '\0' ? c->reg_id : NULL;
}

as_wa_t *as_whatsapp_client(const void *conf, const char *cache_dir, as_err_t *err)
{
    const as_whatsapp_conf_t *c = conf;
    if (c->phone == NULL || c->password == NULL || c->password[0] == '\0') {
        as_err_set(err, "whatsapp.phone and whatsapp.password (or password_file) must be set");
        return NULL;
    }
    if (c->base_url == NULL ||
        (strncmp(c->base_url, "https://", 8) != 0 && strncmp(c->base_url, "http://", 7) != 0)) {
        as_err_set(err, "whatsapp.base_url: expected an http:// or https:// URL, not '%s'",
                   c->base_url ? c->base_url : "");
        return NULL;
    }
    as_wa_opts_t o = {.base_url = c->base_url,
                      .phone = c->phone,
                      .password = c->password,
                      .timeout_ms = c->timeout,
                      .cache_dir = cache_dir};
    return as_wa_create(&o);
}

/* --- the module ------------------------------------------------------------ */

static int as_whatsapp_init(void **instance, const void *conf, const as_module_ctx_t *ctx,
                            as_err_t *err)
{
    const as_whatsapp_conf_t *c = conf;
    if (c->timeout <= 0)
        return as_err_set(err, "whatsapp.timeout: must be more than 0");
    as_whatsapp_t *wa = as_xcalloc(1, sizeof(*wa));
    wa->conf = c;
    pthread_mutex_init(&wa->lock, NULL);
    /* Unusable account settings are reported by channel_init, and only
     * when a receiver uses WhatsApp.  The token cache is kept in the
     * module's state directory. */
    wa->wa = as_whatsapp_client(c, ctx->state_dir, &wa->account_err);
    *instance = wa;
    return 0;
}

static void as_whatsapp_fini(void *instance)
{
    as_whatsapp_t *wa = instance;
    as_wa_free(wa->wa);
    as_wa_devices_free(&wa->devices);
    for (size_t i = 0; i < wa->nprogress; i++)
        free(wa->progress[i].id);
    pthread_mutex_destroy(&wa->lock);
    free(wa);
}

static int as_whatsapp_channel_init(void *instance, void *channel, const char *receiver,
                                    as_err_t *err)
{
    const as_whatsapp_t *wa = instance;
    as_whatsapp_channel_t *ch = channel;
    time_t when;
    if (wa->wa == NULL)
        return as_err_set(err, "receiver '%s' uses whatsapp: %s", receiver, wa->account_err.msg);
    if (ch->to.n == 0)
        return as_err_set(err, "receiver '%s': whatsapp.to is empty", receiver);
    if (ch->base.max_length < 0 || (ch->base.max_length > 0 && ch->base.max_length < AS_SPLIT_MIN))
        return as_err_set(err,
                          "receiver '%s': whatsapp.max_length: 0 (never split) or at least %d "
                          "(a part's number and one character)",
                          receiver, AS_SPLIT_MIN);
    if (ch->send_time != NULL && ch->send_time[0] != '\0' &&
        as_wa_parse_send_time(ch->send_time, &when) < 0)
        return as_err_set(err,
                          "receiver '%s': whatsapp.send_time: expected \"YYYY-MM-DD HH:MM:SS\", "
                          "a real date and time",
                          receiver);
    return 0;
}

/* The registration id to send from, from the devices list (cached). */
static int as_whatsapp_device(as_whatsapp_t *wa, char *reg_id, size_t len, as_result_t *res)
{
    const as_wa_device_t *dev;
    const char *want = as_whatsapp_reg_id(wa->conf);
    int rc = -1;

    pthread_mutex_lock(&wa->lock);
    if (wa->devices_at != 0 && as_mono_ms() - wa->devices_at < AS_WA_DEVICES_TTL) {
        rc = as_wa_pick_device(&wa->devices, want, &dev, res);
        if (rc == 0) {
            as_str_copy(reg_id, len, dev->reg_id);
            pthread_mutex_unlock(&wa->lock);
            return 0;
        }
        wa->devices_at = 0; /* the device went: ask the server, not the cache */
    }
    pthread_mutex_unlock(&wa->lock);

    as_wa_devices_t list;
    if (as_wa_devices(wa->wa, &list, res) < 0)
        return -1;
    rc = as_wa_pick_device(&list, want, &dev, res);
    if (rc == 0)
        as_str_copy(reg_id, len, dev->reg_id);
    /* Only a list with a usable device is kept: while it is gone every
     * attempt asks again, so the first one after the phone reconnects
     * (a `queue retry`, the next backoff step) finds it. */
    pthread_mutex_lock(&wa->lock);
    as_wa_devices_free(&wa->devices);
    wa->devices = list;
    wa->devices_at = rc == 0 ? as_mono_ms() : 0;
    pthread_mutex_unlock(&wa->lock);
    return rc;
}

static void as_whatsapp_devices_forget(as_whatsapp_t *wa)
{
    pthread_mutex_lock(&wa->lock);
    wa->devices_at = 0;
    pthread_mutex_unlock(&wa->lock);
}

/* Parts of notification id already sent (0 when unknown). */
static size_t as_whatsapp_progress_get(as_whatsapp_t *wa, const char *id, size_t nparts)
{
    size_t sent = 0;
    pthread_mutex_lock(&wa->lock);
    for (size_t i = 0; i < wa->nprogress; i++)
        if (strcmp(wa->progress[i].id, id) == 0) {
            /* Rendered differently this time (a reload changed the
             * template): the old parts mean nothing, start over. */
            if (wa->progress[i].nparts == nparts)
                sent = wa->progress[i].sent;
            break;
        }
    pthread_mutex_unlock(&wa->lock);
    return sent;
}

/* Remember sent parts of id; sent 0 forgets it. */
static void as_whatsapp_progress_set(as_whatsapp_t *wa, const char *id, size_t nparts, size_t sent)
{
    pthread_mutex_lock(&wa->lock);
    size_t i;
    for (i = 0; i < wa->nprogress; i++)
        if (strcmp(wa->progress[i].id, id) == 0)
            break;
    if (i < wa->nprogress && sent == 0) {
        free(wa->progress[i].id);
        wa->progress[i] = wa->progress[--wa->nprogress];
    } else if (sent > 0) {
        if (i == wa->nprogress) {
            if (wa->nprogress == AS_WA_PROGRESS_MAX) { /* forget the oldest */
                size_t old = 0;
                for (size_t k = 1; k < wa->nprogress; k++)
                    if (wa->progress[k].at < wa->progress[old].at)
                        old = k;
                free(wa->progress[old].id);
                wa->progress[old] = wa->progress[--wa->nprogress];
                i = wa->nprogress;
            }
            wa->progress[i].id = as_xstrdup(id);
            wa->nprogress++;
        }
        wa->progress[i].nparts = nparts;
        wa->progress[i].sent = sent;
        wa->progress[i].at = as_mono_ms();
    }
    pthread_mutex_unlock(&wa->lock);
}

static void as_whatsapp_log(const as_notification_t *n, const char *reg_id, size_t part,
                            size_t nparts, size_t contacts, const as_result_t *res, int64_t latency)
{
    /* The pipeline logs the attempt; the parts are a detail. */
    as_log(AS_LOG_DEBUG, "whatsapp part", AS_S("id", n->id), AS_S("receiver", n->receiver),
           AS_S("reg_id", reg_id), AS_I("part", part), AS_I("parts", nparts),
           AS_I("contacts", contacts), AS_S("result", as_outcome_name(res->outcome)),
           AS_I("status", res->status), AS_I("latency_ms", latency),
           AS_S("reason", res->reason[0] ? res->reason : NULL));
}

static void as_whatsapp_deliver(void *instance, const void *channel, const as_notification_t *n,
                                const as_message_t *msg, as_result_t *res)
{
    as_whatsapp_t *wa = instance;
    const as_whatsapp_channel_t *ch = channel;
    const char *const *parts = msg->nparts > 0 ? msg->parts : &msg->text;
    size_t nparts = msg->nparts > 0 ? msg->nparts : 1;
    char reg_id[256] = "";

    memset(res, 0, sizeof(*res));
    if (wa->wa == NULL) { /* channel_init refuses this; a loaded module might not */
        res->outcome = AS_PERMANENT;
        as_wa_reason(res, "whatsapp.phone and whatsapp.password unset");
        return;
    }
    int64_t t0 = as_mono_ms();
    if (as_whatsapp_device(wa, reg_id, sizeof(reg_id), res) < 0) {
        as_whatsapp_log(n, NULL, 0, nparts, ch->to.n, res, as_mono_ms() - t0);
        return;
    }

    size_t first = as_whatsapp_progress_get(wa, n->id, nparts);
    for (size_t i = first; i < nparts; i++) {
        as_wa_send_t s = {.reg_id = reg_id,
                          .contacts = (const char *const *)ch->to.v,
                          .ncontacts = ch->to.n,
                          .message = parts[i],
                          .send_time = ch->send_time};
        int64_t t = as_mono_ms();
        int rc = as_wa_send_multi(wa->wa, &s, res);
        as_whatsapp_log(n, reg_id, i + 1, nparts, ch->to.n, res, as_mono_ms() - t);
        if (rc < 0) {
            as_whatsapp_devices_forget(wa);
            /* The device list is kept AS_WA_DEVICES_TTL: the phone may have
             * gone since, and the server then refuses the send (a 4xx,
             * permanent by itself).  Asked again, a device that is gone or
             * disconnected makes it unavailable, retried, as when the list
             * says so before a send (docs/channels.md); a device that is
             * there leaves the refusal as it is. */
            as_result_t now = {0};
            char again[sizeof(reg_id)];
            if (res->outcome == AS_PERMANENT &&
                as_whatsapp_device(wa, again, sizeof(again), &now) < 0)
                *res = now;
            if (i > 0) {
                as_whatsapp_progress_set(wa, n->id, nparts, i);
                if (i == 1)
                    as_wa_reason(res, "part 1 of %zu sent, part 2 failed: %s", nparts, res->reason);
                else
                    as_wa_reason(res, "parts 1-%zu of %zu sent, part %zu failed: %s", i, nparts,
                                 i + 1, res->reason);
            }
            return;
        }
    }
    as_whatsapp_progress_set(wa, n->id, nparts, 0);
    if (first > 0)
        as_wa_reason(res, "parts 1-%zu of %zu were sent by an earlier attempt", first, nparts);
}

static int as_whatsapp_rate_limit(void *instance, const void *channel, char *key, size_t keylen,
                                  as_rate_t *rate)
{
    const as_whatsapp_t *wa = instance;
    if (wa->conf->rate_limit.count == 0)
        return 0;
    const char *reg_id = as_whatsapp_reg_id(wa->conf);
    snprintf(key, keylen, "whatsapp:%s", reg_id ? reg_id : "auto");
    *rate = wa->conf->rate_limit;
    return 1;
}

/* Built from templates/whatsapp.mustache and the like by templates/embed.cmake. */
extern const as_template_src_t as_whatsapp_templates[];

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
    .templates = as_whatsapp_templates,
    .init = as_whatsapp_init,
    .channel_init = as_whatsapp_channel_init,
    .fini = as_whatsapp_fini,
    .deliver = as_whatsapp_deliver,
    .rate_limit = as_whatsapp_rate_limit,
};
