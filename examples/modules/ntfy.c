/*
 * ntfy.c - an example alertsink sink, built outside the tree: it publishes
 * each notification to an ntfy server (https://ntfy.sh, or your own), one
 * message to a topic.
 *
 *   modules: [/usr/local/lib/alertsink/ntfy.so]
 *   ntfy:
 *     url: https://ntfy.example.com
 *     username: alertsink
 *     password_file: /etc/alertsink/ntfy.pass
 *   receivers:
 *     - name: oncall
 *       ntfy: {topic: oncall, priority: high}
 *       email: {to: [oncall@example.com]}
 *       channels: [ntfy, email]        # ntfy first, email when it cannot
 *
 * It shows what a module can do with the public API alone
 * (alertsink/module.h):
 *
 *   - configuration keys of its own, parsed and checked by the core
 *     (a section "ntfy:" and a channel "ntfy:" in a receiver);
 *   - a template it ships ("ntfy"), which a file ntfy.mustache in
 *     templates.dir overrides, and a title it renders itself with
 *     as_template_render() from a Mustache string in its configuration;
 *   - the HTTP client (keep-alive, timeouts, Retry-After);
 *   - its state directory (spool.dir/state/ntfy/): the access token it
 *     gets from the server once (POST /v1/account/token, with the user's
 *     password) is kept there, so a restart does not ask again;
 *   - a metric of its own, alertsink_ntfy_published_total{topic};
 *   - the four results: delivered (2xx), transient (429, 5xx, no answer:
 *     retried, Retry-After honoured), permanent (another 4xx: the next
 *     channel of the chain takes over), and a token that the server
 *     refuses (401) is dropped and asked for again at the next attempt.
 *
 * Build: make -C examples/modules INCLUDE=/path/to/include (see README.md).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/module.h"

#define NTFY_TOKEN_FILE "token"

/* The shipped template: the receiver's message body. */
static const char ntfy_template[] =
    "{{#firing}}🔥 {{title}}{{#labels.instance}} on {{labels.instance}}{{/labels.instance}}\n"
    "{{#annotations.summary}}{{annotations.summary}}\n{{/annotations.summary}}"
    "since {{since}}\n{{/firing}}"
    "{{#resolved}}✅ {{title}} resolved at {{resolvedAt}}\n{{/resolved}}";

static const as_template_src_t ntfy_templates[] = {{"ntfy", ntfy_template}, {NULL, NULL}};

typedef struct {
    char *url; /* the server, no trailing slash needed */
    char *username;
    char *password; /* secret: password_file works too */
    int64_t timeout;
} ntfy_conf_t;

typedef struct {
    as_channel_conf_t base; /* template, max_length */
    char *topic;
    char *priority;         /* min, low, default, high, urgent */
    char *title;            /* a Mustache template of the title */
    as_template_t *title_t; /* not a key: title compiled by channel_init */
} ntfy_channel_t;

/* Templates compiled for this instance's channels, freed with it. */
typedef struct ntfy_compiled_s {
    struct ntfy_compiled_s *next;
    as_template_t *t;
} ntfy_compiled_t;

typedef struct {
    const ntfy_conf_t *conf;
    char *state_dir;
    as_httpc_t *http;
    as_counter_t *published;
    ntfy_compiled_t *compiled;
    pthread_mutex_t lock; /* guards token */
    char *token;
} ntfy_t;

static const as_conf_key_t ntfy_keys[] = {
    {"url", &as_conf_string, offsetof(ntfy_conf_t, url), 0, "https://ntfy.sh", NULL},
    {"username", &as_conf_string, offsetof(ntfy_conf_t, username), 0, NULL, NULL},
    {"password", &as_conf_string, offsetof(ntfy_conf_t, password), AS_CONF_SECRET, NULL, NULL},
    {"timeout", &as_conf_duration, offsetof(ntfy_conf_t, timeout), 0, "10s", NULL},
    AS_CONF_END};

static const as_conf_key_t ntfy_channel_keys[] = {
    {"topic", &as_conf_string, offsetof(ntfy_channel_t, topic), AS_CONF_REQUIRED, NULL, NULL},
    {"priority", &as_conf_string, offsetof(ntfy_channel_t, priority), 0, "default", NULL},
    {"title", &as_conf_string, offsetof(ntfy_channel_t, title), 0, "{{title}}", NULL},
    {"template", &as_conf_string, offsetof(ntfy_channel_t, base.template), 0, NULL, NULL},
    {"max_length", &as_conf_int, offsetof(ntfy_channel_t, base.max_length), 0, "4096", NULL},
    AS_CONF_END};

static int ntfy_init(void **instance, const void *conf, const as_module_ctx_t *ctx, as_err_t *err)
{
    const ntfy_conf_t *c = conf;
    if (strncmp(c->url, "https://", 8) != 0 && strncmp(c->url, "http://", 7) != 0)
        return as_err_set(err, "ntfy.url: expected an http:// or https:// URL, not '%s'", c->url);
    if ((c->username == NULL) != (c->password == NULL))
        return as_err_set(err, "ntfy.username and ntfy.password go together");
    ntfy_t *n = as_xcalloc(1, sizeof(*n));
    n->conf = c;
    n->state_dir = as_xstrdup(ctx->state_dir);
    n->http = as_httpc_create(&(as_httpc_opts_t){.timeout_ms = c->timeout});
    /* Registered once per process; a reload gets the same counter back. */
    n->published = as_metrics_counter(
        "ntfy", "published_total", "Messages the ntfy server accepted.", "topic", NULL, NULL, err);
    if (n->published == NULL) {
        as_httpc_free(n->http);
        free(n->state_dir);
        free(n);
        return -1;
    }
    pthread_mutex_init(&n->lock, NULL);
    *instance = n;
    return 0;
}

static void ntfy_fini(void *instance)
{
    ntfy_t *n = instance;
    for (ntfy_compiled_t *c = n->compiled, *next; c != NULL; c = next) {
        next = c->next;
        as_template_free(c->t);
        free(c);
    }
    as_httpc_free(n->http);
    pthread_mutex_destroy(&n->lock);
    free(n->token);
    free(n->state_dir);
    free(n);
}

static int ntfy_channel_init(void *instance, void *channel, const char *receiver, as_err_t *err)
{
    ntfy_channel_t *ch = channel;
    static const char *const priorities[] = {"min", "low", "default", "high", "urgent"};
    int ok = 0;
    for (size_t i = 0; i < sizeof(priorities) / sizeof(priorities[0]); i++)
        ok |= strcmp(ch->priority, priorities[i]) == 0;
    if (!ok)
        return as_err_set(err,
                          "receiver '%s': ntfy.priority: expected min, low, default, "
                          "high or urgent, not '%s'",
                          receiver, ch->priority);
    if (strspn(ch->topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            strlen(ch->topic) ||
        ch->topic[0] == '\0')
        return as_err_set(err, "receiver '%s': ntfy.topic: letters, digits, _ and - only",
                          receiver);
    ntfy_t *n = instance;
    as_err_t terr;
    ch->title_t = as_template_compile(ch->title, "ntfy.title", &terr);
    if (ch->title_t == NULL)
        return as_err_set(err, "receiver '%s': %s", receiver, terr.msg);
    /* channel_init runs on the loading thread, before any delivery. */
    ntfy_compiled_t *c = as_xcalloc(1, sizeof(*c));
    c->t = ch->title_t;
    c->next = n->compiled;
    n->compiled = c;
    return 0;
}

/* The access token: in memory, else the state directory, else a new one
 * from the server.  NULL (no account) is fine: ntfy allows anonymous
 * publishing to open topics. */
static char *ntfy_token(ntfy_t *n, as_result_t *res)
{
    char *token = NULL;
    pthread_mutex_lock(&n->lock);
    if (n->token != NULL)
        token = as_xstrdup(n->token);
    pthread_mutex_unlock(&n->lock);
    if (token != NULL || n->conf->username == NULL)
        return token;

    as_buf_t cached = AS_BUF_INIT;
    if (as_state_read(n->state_dir, NTFY_TOKEN_FILE, &cached, NULL) == 0 && cached.len > 0) {
        token = as_buf_steal(&cached);
    } else {
        as_buf_free(&cached);
        as_buf_t url = AS_BUF_INIT, auth = AS_BUF_INIT;
        as_buf_printf(&url, "%s/v1/account/token", n->conf->url);
        as_buf_printf(&auth, "%s:%s", n->conf->username, n->conf->password);
        as_httpc_resp_t resp;
        as_err_t err;
        as_httpc_req_t req = {.method = "POST", .url = url.data, .basic = auth.data};
        if (as_httpc_request(n->http, &req, &resp, &err) < 0) {
            as_result_set(res, AS_TRANSIENT, 0, "ntfy: cannot get a token: %s", err.msg);
        } else if (resp.status != 200) {
            as_result_set(res, resp.status == 401 ? AS_PERMANENT : AS_TRANSIENT, (int)resp.status,
                          "ntfy: the server refused a token for %s: HTTP %ld", n->conf->username,
                          resp.status);
        } else {
            cJSON *j = as_json_parse(resp.body.data ? resp.body.data : "", resp.body.len, &err);
            const char *t = as_json_str(j, "token");
            if (t != NULL && t[0] != '\0') {
                token = as_xstrdup(t);
                as_log_secret(token);
                if (as_state_write(n->state_dir, NTFY_TOKEN_FILE, token, strlen(token), &err) < 0)
                    as_log(AS_LOG_WARN, "ntfy: cannot keep the token", AS_S("error", err.msg));
            } else {
                as_result_set(res, AS_TRANSIENT, 200, "ntfy: the token answer has no token");
            }
            cJSON_Delete(j);
        }
        as_httpc_resp_free(&resp);
        as_buf_free(&url);
        as_buf_free(&auth);
    }
    if (token != NULL) {
        as_log_secret(token);
        pthread_mutex_lock(&n->lock);
        free(n->token);
        n->token = as_xstrdup(token);
        pthread_mutex_unlock(&n->lock);
    }
    return token;
}

/* A token the server no longer takes is forgotten, here and on disk. */
static void ntfy_token_drop(ntfy_t *n)
{
    pthread_mutex_lock(&n->lock);
    free(n->token);
    n->token = NULL;
    pthread_mutex_unlock(&n->lock);
    as_state_write(n->state_dir, NTFY_TOKEN_FILE, "", 0, NULL);
}

static void ntfy_deliver(void *instance, const void *channel, const as_notification_t *note,
                         const as_message_t *msg, as_result_t *res)
{
    ntfy_t *n = instance;
    const ntfy_channel_t *ch = channel;
    memset(res, 0, sizeof(*res));
    char *token = ntfy_token(n, res);
    if (token == NULL && n->conf->username != NULL)
        return; /* res says why */

    as_err_t err;
    char *title = as_template_render(ch->title_t, note, 0, &err);
    as_buf_t url = AS_BUF_INIT, h_title = AS_BUF_INIT, h_prio = AS_BUF_INIT;
    as_buf_printf(&url, "%s/%s", n->conf->url, ch->topic);
    /* Header values are one line: newlines in a title would end the header. */
    for (char *p = title; p && *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    as_buf_printf(&h_title, "Title: %s", title ? title : note->receiver);
    as_buf_printf(&h_prio, "Priority: %s", ch->priority);
    const char *headers[] = {h_title.data, h_prio.data, NULL};
    const char *text = msg->text ? msg->text : "";
    as_httpc_req_t req = {.method = "POST",
                          .url = url.data,
                          .bearer = token,
                          .headers = headers,
                          .body = text,
                          .body_len = strlen(text),
                          .content_type = "text/plain; charset=utf-8"};
    as_httpc_resp_t resp;
    if (as_httpc_request(n->http, &req, &resp, &err) < 0) {
        as_result_set(res, AS_TRANSIENT, 0, "%s", err.msg);
    } else if (resp.status >= 200 && resp.status < 300) {
        as_result_set(res, AS_DELIVERED, (int)resp.status, "%s", "");
        as_counter_add(n->published, ch->topic, NULL, NULL, 1);
    } else if (resp.status == 401) {
        ntfy_token_drop(n); /* the next attempt asks for a new one */
        as_result_set(res, AS_TRANSIENT, 401, "ntfy: the token was refused");
    } else {
        as_outcome_t o = resp.status == 429 || resp.status >= 500 ? AS_TRANSIENT : AS_PERMANENT;
        as_result_set(res, o, (int)resp.status, "ntfy: POST /%s: HTTP %ld: %.200s", ch->topic,
                      resp.status, resp.body.data ? resp.body.data : "");
        res->retry_after_ms = resp.retry_after_ms > 0 ? resp.retry_after_ms : 0;
    }
    as_httpc_resp_free(&resp);
    as_buf_free(&url);
    as_buf_free(&h_title);
    as_buf_free(&h_prio);
    free(title);
    free(token);
}

AS_API const as_module_t alertsink_module = {
    .abi = AS_ABI_VERSION,
    .name = "ntfy",
    .kind = AS_MODULE_SINK,
    .conf_key = "ntfy",
    .conf_keys = ntfy_keys,
    .conf_size = sizeof(ntfy_conf_t),
    .channel_key = "ntfy",
    .channel_keys = ntfy_channel_keys,
    .channel_size = sizeof(ntfy_channel_t),
    .default_template = "ntfy",
    .templates = ntfy_templates,
    .init = ntfy_init,
    .fini = ntfy_fini,
    .channel_init = ntfy_channel_init,
    .deliver = ntfy_deliver,
};
