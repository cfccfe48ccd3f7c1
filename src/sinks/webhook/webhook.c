/*
 * webhook.c - the webhook sink: one HTTP request per notification to a
 * URL of the receiver's, so that alertsink can stand in front of any
 * system that takes a webhook and add durability, routing and fallback.
 *
 * The body is, by default, the notification's data printed as JSON: the
 * Alertmanager webhook payload (version 4) as it came, restricted to the
 * alerts routed to this receiver, so an existing Alertmanager webhook
 * receiver takes it unchanged.  That is why the module has no default
 * template: the core renders nothing, and deliver() prints n->data.  With
 * `template: NAME` the body is that template's text instead, rendered with
 * {{x}} escaped as inside a JSON string (AS_SINK_JSON), so that a quote or
 * a newline in a label cannot break the JSON the template writes.
 *
 * Each request carries the receiver's headers, X-Alertsink-Id (the
 * notification's id: the same on every retry, so the receiver can drop a
 * repeat), the bearer token when one is set, and with hmac_secret
 * X-Alertsink-Signature: sha256=HEX, the HMAC-SHA256 of exactly the bytes
 * of the body, so the receiver can tell that alertsink sent it.
 *
 * The answer: 2xx delivered; 408, 429, 5xx, a timeout or a broken
 * connection transient (Retry-After honoured by the core's backoff);
 * anything else permanent, with the status and the server's words.
 *
 * Every channel gets its own HTTP client, set up by channel_init: each
 * may trust its own CA (tls_ca_file), and keeps its connections open for
 * the next notification.  The clients go with the instance (fini).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "alertsink/module.h"
#include "webhook.h"

/* A URL path this long is hidden in logs as the URL is (see channel_init). */
#define AS_WEBHOOK_PATH_SECRET 12

enum { AS_WEBHOOK_POST, AS_WEBHOOK_PUT, AS_WEBHOOK_PATCH };

static const as_conf_enum_t as_webhook_methods[] = {
    {"POST", AS_WEBHOOK_POST}, {"PUT", AS_WEBHOOK_PUT}, {"PATCH", AS_WEBHOOK_PATCH}, {NULL, 0}};

typedef struct as_webhook_channel_s {
    as_channel_conf_t base;
    char *url;
    int method;
    as_strmap_t headers;
    char *bearer_token;
    char *hmac_secret;
    int64_t timeout;
    char *tls_ca_file;

    /* Made by channel_init, freed by fini. */
    as_httpc_t *http;
    char **lines; /* the headers as "Name: value", but Content-Type */
    size_t nlines;
    const char *content_type; /* the receiver's Content-Type, else JSON */
    struct as_webhook_channel_s *next;
} as_webhook_channel_t;

typedef struct {
    as_webhook_channel_t *channels; /* the ones channel_init set up */
} as_webhook_t;

static const as_conf_key_t as_webhook_channel_keys[] = {
    {"url", &as_conf_string, offsetof(as_webhook_channel_t, url), AS_CONF_REQUIRED | AS_CONF_SECRET,
     NULL, NULL},
    {"method", &as_conf_enum, offsetof(as_webhook_channel_t, method), 0, "POST",
     as_webhook_methods},
    {"template", &as_conf_string, offsetof(as_webhook_channel_t, base.template), 0, NULL, NULL},
    {"headers", &as_conf_strmap, offsetof(as_webhook_channel_t, headers), 0, NULL, NULL},
    {"bearer_token", &as_conf_string, offsetof(as_webhook_channel_t, bearer_token), AS_CONF_SECRET,
     NULL, NULL},
    {"hmac_secret", &as_conf_string, offsetof(as_webhook_channel_t, hmac_secret), AS_CONF_SECRET,
     NULL, NULL},
    {"timeout", &as_conf_duration, offsetof(as_webhook_channel_t, timeout), 0, "10s", NULL},
    {"tls_ca_file", &as_conf_string, offsetof(as_webhook_channel_t, tls_ca_file), 0, NULL, NULL},
    AS_CONF_END};

/* --- signing and reading answers ------------------------------------------ */

void as_webhook_sign(const char *secret, const void *body, size_t len,
                     char out[AS_WEBHOOK_SIG_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, md, &mdlen);
    memcpy(out, "sha256=", 7);
    for (unsigned int i = 0; i < mdlen && i < 32; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[7 + 2 * 32] = '\0';
}

void as_webhook_classify(const as_httpc_resp_t *r, as_result_t *res)
{
    long s = r->status;
    char said[256], wait[64] = "";
    res->retry_after_ms = 0;
    if (s >= 200 && s < 300) {
        res->outcome = AS_DELIVERED;
        res->status = (int)s;
        res->reason[0] = '\0';
        return;
    }
    /* 408 is the server's own timeout: as retryable as ours. */
    int transient = s == 408 || s == 429 || s >= 500;
    if (transient && r->retry_after_ms > 0) {
        res->retry_after_ms = r->retry_after_ms;
        snprintf(wait, sizeof(wait), " (Retry-After %lld s)",
                 (long long)(r->retry_after_ms + 999) / 1000);
    }
    as_httpc_excerpt(&r->body, said, sizeof(said));
    as_result_set(res, transient ? AS_TRANSIENT : AS_PERMANENT, (int)s, "HTTP %ld%s%s%s%s", s,
                  said[0] ? ": " : "", said, wait,
                  s >= 300 && s < 400 ? " (redirects are not followed: set url to the new address)"
                                      : "");
}

/* --- the module ------------------------------------------------------------ */

static int as_webhook_init(void **instance, const void *conf, const as_module_ctx_t *ctx,
                           as_err_t *err)
{
    *instance = as_xcalloc(1, sizeof(as_webhook_t));
    return 0;
}

static void as_webhook_fini(void *instance)
{
    as_webhook_t *w = instance;
    for (as_webhook_channel_t *ch = w->channels; ch != NULL; ch = ch->next) {
        as_httpc_free(ch->http);
        for (size_t i = 0; i < ch->nlines; i++)
            free(ch->lines[i]);
        free(ch->lines);
    }
    free(w);
}

/* An RFC 9110 token: what a header name may be made of. */
static int as_webhook_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
            return 0;
    return 1;
}

/* Check the receiver's headers and turn them into request lines. */
static int as_webhook_headers(as_webhook_channel_t *ch, const char *receiver, as_err_t *err)
{
    /* Set by alertsink or by libcurl: a second copy would confuse the peer. */
    static const char *const reserved[] = {"Content-Length",        "Host",
                                           "Transfer-Encoding",     "X-Alertsink-Id",
                                           "X-Alertsink-Signature", NULL};
    ch->lines = as_xcalloc(ch->headers.n + 1, sizeof(char *));
    for (size_t i = 0; i < ch->headers.n; i++) {
        const char *name = ch->headers.keys[i], *value = ch->headers.values[i];
        if (!as_webhook_token(name))
            return as_err_set(err, "receiver '%s': webhook.headers: '%s' is not a header name",
                              receiver, name);
        for (const char *const *r = reserved; *r; r++)
            if (strcasecmp(name, *r) == 0)
                return as_err_set(err, "receiver '%s': webhook.headers: %s is set by alertsink",
                                  receiver, name);
        if (strcasecmp(name, "Authorization") == 0 && ch->bearer_token != NULL)
            return as_err_set(err,
                              "receiver '%s': webhook.headers: Authorization and "
                              "webhook.bearer_token both set it: keep one",
                              receiver);
        if (strpbrk(value, "\r\n") != NULL)
            return as_err_set(err, "receiver '%s': webhook.headers: %s: a value is one line",
                              receiver, name);
        /* Credentials given as headers are secrets as bearer_token is. */
        if (strcasecmp(name, "Authorization") == 0 ||
            strcasecmp(name, "Proxy-Authorization") == 0 || strcasestr(name, "token") != NULL ||
            strcasestr(name, "key") != NULL || strcasestr(name, "secret") != NULL) {
            const char *sp = strchr(value, ' '); /* "Basic X", "Bearer X": X too */
            as_log_secret(value);
            if (sp != NULL)
                as_log_secret(sp + 1);
        }
        if (strcasecmp(name, "Content-Type") == 0) {
            ch->content_type = value;
            continue;
        }
        as_buf_t b = AS_BUF_INIT;
        as_buf_printf(&b, "%s: %s", name, value);
        ch->lines[ch->nlines++] = as_buf_steal(&b);
    }
    return 0;
}

/* tls_ca_file must hold a PEM certificate: found now, not at 3 a.m. */
static int as_webhook_ca_check(const char *path, const char *receiver, as_err_t *err)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return as_err_set(err, "receiver '%s': webhook.tls_ca_file: cannot read '%s'", receiver,
                          path);
    X509 *cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    if (cert == NULL)
        return as_err_set(err, "receiver '%s': webhook.tls_ca_file: '%s' holds no PEM certificate",
                          receiver, path);
    X509_free(cert);
    return 0;
}

static int as_webhook_channel_init(void *instance, void *channel, const char *receiver,
                                   as_err_t *err)
{
    as_webhook_t *w = instance;
    as_webhook_channel_t *ch = channel;
    /* On the list first: fini frees what was made even when a check fails. */
    ch->next = w->channels;
    w->channels = ch;
    ch->content_type = "application/json";
    if (strncmp(ch->url, "https://", 8) != 0 && strncmp(ch->url, "http://", 7) != 0)
        return as_err_set(err, "receiver '%s': webhook.url: expected an http:// or https:// URL",
                          receiver); /* the URL is a secret: not quoted */
    if (ch->timeout <= 0)
        return as_err_set(err, "receiver '%s': webhook.timeout: must be more than 0", receiver);
    if (ch->bearer_token != NULL && strpbrk(ch->bearer_token, "\r\n\t") != NULL)
        return as_err_set(err,
                          "receiver '%s': webhook.bearer_token: holds a line break or a tab "
                          "(a newline at the end of its file or variable?)",
                          receiver);
    /* The URL is a secret, whole; a peer that says which path it did not
     * find quotes its path and query, where the key of such a URL lives:
     * those are hidden too when long enough not to hide ordinary words. */
    const char *path = strchr(strstr(ch->url, "://") + 3, '/');
    if (path != NULL && strlen(path) >= AS_WEBHOOK_PATH_SECRET) {
        as_log_secret(path);
        size_t q = strcspn(path, "?#");
        if (q >= AS_WEBHOOK_PATH_SECRET && path[q] != '\0') {
            char *p = as_xstrndup(path, q);
            as_log_secret(p);
            free(p);
        }
    }
    if (ch->hmac_secret != NULL && ch->hmac_secret[0] == '\0')
        return as_err_set(err, "receiver '%s': webhook.hmac_secret is empty", receiver);
    if (ch->tls_ca_file != NULL && as_webhook_ca_check(ch->tls_ca_file, receiver, err) < 0)
        return -1;
    if (as_webhook_headers(ch, receiver, err) < 0)
        return -1;
    as_httpc_opts_t o = {.timeout_ms = ch->timeout, .ca_file = ch->tls_ca_file};
    ch->http = as_httpc_create(&o);
    return 0;
}

static void as_webhook_deliver(void *instance, const void *channel, const as_notification_t *n,
                               const as_message_t *msg, as_result_t *res)
{
    const as_webhook_channel_t *ch = channel;
    char *printed = NULL;
    const char *body = msg->text;
    if (body == NULL)
        body = printed = as_json_print(n->data); /* the payload as it came */
    size_t len = strlen(body);

    /* The receiver's headers, the id, the signature, the NULL. */
    const char **hdrs = as_xcalloc(ch->nlines + 3, sizeof(char *));
    size_t nh = 0;
    for (size_t i = 0; i < ch->nlines; i++)
        hdrs[nh++] = ch->lines[i];
    as_buf_t id = AS_BUF_INIT;
    as_buf_printf(&id, "X-Alertsink-Id: %s", n->id);
    hdrs[nh++] = id.data;
    char sig[sizeof("X-Alertsink-Signature: ") + AS_WEBHOOK_SIG_SIZE];
    if (ch->hmac_secret != NULL) {
        char mac[AS_WEBHOOK_SIG_SIZE];
        as_webhook_sign(ch->hmac_secret, body, len, mac);
        snprintf(sig, sizeof(sig), "X-Alertsink-Signature: %s", mac);
        hdrs[nh++] = sig;
    }

    as_httpc_req_t req = {.method = as_webhook_methods[ch->method].name,
                          .url = ch->url,
                          .bearer = ch->bearer_token,
                          .headers = hdrs,
                          .body = body,
                          .body_len = len,
                          .content_type = ch->content_type,
                          .timeout_ms = ch->timeout};
    as_httpc_resp_t resp;
    as_err_t err;
    res->retry_after_ms = 0;
    if (as_httpc_request(ch->http, &req, &resp, &err) < 0)
        as_result_set(res, AS_TRANSIENT, 0, "%s", err.msg); /* no answer: try again */
    else
        as_webhook_classify(&resp, res);
    as_httpc_resp_free(&resp);
    as_buf_free(&id);
    free(hdrs);
    cJSON_free(printed);
}

const as_module_t as_webhook_module = {
    .abi = AS_ABI_VERSION,
    .name = "webhook",
    .kind = AS_MODULE_SINK,
    .channel_key = "webhook",
    .channel_keys = as_webhook_channel_keys,
    .channel_size = sizeof(as_webhook_channel_t),
    .default_template = NULL, /* the body is the payload itself (see above) */
    .flags = AS_SINK_JSON,    /* a template writes JSON: {{x}} is escaped for it */
    .init = as_webhook_init,
    .channel_init = as_webhook_channel_init,
    .fini = as_webhook_fini,
    .deliver = as_webhook_deliver,
};
