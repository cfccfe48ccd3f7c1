/*
 * wamessage.c - the Wamessage API client (see wamessage.h).
 *
 * Locks: `lock` guards the token and its generation number, and is held
 * only to copy them; `login_lock` serialises logins, and is taken before
 * `lock`.  A call remembers the generation of the token it sent: after a
 * 401 it logs in again only if no other thread already did so since.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/module.h"
#include "wamessage.h"

#define AS_WA_CACHE_FILE "wamessage.token"
#define AS_WA_CACHE_MAX  65536

struct as_wa_s {
    char *base_url; /* without a trailing slash */
    char *phone;
    char *password;
    char *cache_dir; /* the module's state directory; NULL: memory only */
    as_httpc_t *http;

    pthread_mutex_t login_lock;
    pthread_mutex_t lock;
    char *token;
    unsigned gen;
    int cache_tried;
};

void as_wa_reason(as_result_t *res, const char *fmt, ...)
{
    char tmp[sizeof(res->reason)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap); /* fmt's arguments may point into res->reason */
    va_end(ap);
    memcpy(res->reason, tmp, sizeof(tmp));
    as_log_redact(res->reason, sizeof(res->reason));
}

int as_wa_parse_send_time(const char *s, time_t *when)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    if (strlen(s) != sizeof(shape) - 1)
        return -1;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return -1;
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (end == NULL || *end != '\0')
        return -1;
    struct tm t = tm;
    t.tm_isdst = -1;
    time_t w = mktime(&t);
    /* mktime() normalises what does not exist (February 30, 02:30 in a
     * spring-forward gap): a changed field means the input was not real. */
    if (w == (time_t)-1 || t.tm_year != tm.tm_year || t.tm_mon != tm.tm_mon ||
        t.tm_mday != tm.tm_mday || t.tm_hour != tm.tm_hour || t.tm_min != tm.tm_min ||
        t.tm_sec != tm.tm_sec)
        return -1;
    *when = w;
    return 0;
}

as_wa_t *as_wa_create(const as_wa_opts_t *o)
{
    as_wa_t *w = as_xcalloc(1, sizeof(*w));
    size_t n = strlen(o->base_url);
    while (n > 0 && o->base_url[n - 1] == '/')
        n--;
    w->base_url = as_xstrndup(o->base_url, n);
    w->phone = as_xstrdup(o->phone ? o->phone : "");
    w->password = as_xstrdup(o->password ? o->password : "");
    as_log_secret(w->password);
    if (o->cache_dir != NULL && o->cache_dir[0] != '\0')
        w->cache_dir = as_xstrdup(o->cache_dir);
    as_httpc_opts_t ho = {.timeout_ms = o->timeout_ms};
    w->http = as_httpc_create(&ho);
    pthread_mutex_init(&w->login_lock, NULL);
    pthread_mutex_init(&w->lock, NULL);
    return w;
}

static void as_wa_free_secret(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void as_wa_free(as_wa_t *w)
{
    if (w == NULL)
        return;
    as_httpc_free(w->http);
    pthread_mutex_destroy(&w->login_lock);
    pthread_mutex_destroy(&w->lock);
    as_wa_free_secret(w->token);
    as_wa_free_secret(w->password);
    free(w->base_url);
    free(w->phone);
    free(w->cache_dir);
    free(w);
}

/* --- reading answers ------------------------------------------------------ */

/* A field at the top level or under "data", as text (numbers printed as
 * integers when they are whole).  Returns a malloc'd string or NULL. */
static char *as_wa_field(const cJSON *ans, const char *const *names)
{
    const cJSON *scopes[2] = {ans, cJSON_IsObject(ans) ? as_json_obj(ans, "data") : NULL};
    for (int s = 0; s < 2; s++) {
        if (!cJSON_IsObject(scopes[s]))
            continue;
        for (const char *const *k = names; *k != NULL; k++) {
            const cJSON *it = cJSON_GetObjectItemCaseSensitive(scopes[s], *k);
            if (cJSON_IsString(it) && it->valuestring[0] != '\0')
                return as_xstrdup(it->valuestring);
            if (cJSON_IsNumber(it)) {
                char num[64];
                double v = it->valuedouble;
                /* Whole numbers as integers; only those a long long holds may
                 * be converted (anything else is undefined behaviour). */
                if (v > -9.2e18 && v < 9.2e18 && v == (double)(long long)v)
                    snprintf(num, sizeof(num), "%lld", (long long)v);
                else
                    snprintf(num, sizeof(num), "%.17g", v);
                return as_xstrdup(num);
            }
        }
    }
    return NULL;
}

/* Is a JSON value a "yes": true, a non-zero number, or a word that says so? */
static int as_wa_truthy(const cJSON *it, int *known)
{
    static const char *const yes[] = {"true",  "connected", "open",          "online", "active",
                                      "ready", "linked",    "authenticated", "1",      NULL};
    static const char *const no[] = {"false",    "disconnected", "closed", "offline", "inactive",
                                     "unlinked", "logout",       "0",      NULL};
    *known = 1;
    if (cJSON_IsBool(it))
        return cJSON_IsTrue(it);
    if (cJSON_IsNumber(it))
        return it->valuedouble != 0;
    if (cJSON_IsString(it)) {
        for (const char *const *w = yes; *w; w++)
            if (strcasecmp(it->valuestring, *w) == 0)
                return 1;
        for (const char *const *w = no; *w; w++)
            if (strcasecmp(it->valuestring, *w) == 0)
                return 0;
    }
    *known = 0;
    return 0;
}

char *as_wa_read_token(const cJSON *ans)
{
    static const char *const names[] = {"token", "access_token", "accessToken", NULL};
    return as_wa_field(ans, names);
}

/* The server's own words: "message", "msg" or "error", at the top or under data. */
static char *as_wa_message(const cJSON *ans)
{
    static const char *const names[] = {"message", "msg", "error", "detail", NULL};
    return as_wa_field(ans, names);
}

/* "status": false at the top level. */
static int as_wa_status_false(const cJSON *ans)
{
    const cJSON *st = cJSON_IsObject(ans) ? cJSON_GetObjectItemCaseSensitive(ans, "status") : NULL;
    return cJSON_IsFalse(st) || (cJSON_IsString(st) && (strcasecmp(st->valuestring, "false") == 0 ||
                                                        strcasecmp(st->valuestring, "error") == 0));
}

/* What to quote from an answer: its message, or the start of a body that is
 * not JSON, made printable. */
static void as_wa_quote(const cJSON *ans, const as_buf_t *body, char *out, size_t len)
{
    char *msg = ans ? as_wa_message(ans) : NULL;
    if (msg != NULL) {
        as_str_copy(out, len, msg);
        free(msg);
    } else if (ans == NULL) {
        as_httpc_excerpt(body, out, len < 201 ? len : 201);
    } else {
        out[0] = '\0';
    }
}

int as_wa_answer(const char *what, const as_httpc_resp_t *r, unsigned flags, cJSON **answer,
                 as_result_t *res)
{
    as_err_t perr;
    cJSON *ans = r->body.len ? as_json_parse(r->body.data, r->body.len, &perr) : NULL;
    *answer = ans;
    char quote[320];
    as_wa_quote(ans, &r->body, quote, sizeof(quote));
    res->status = (int)r->status;
    res->retry_after_ms = 0;
    if (r->status >= 200 && r->status < 300) {
        if (!(flags & AS_WA_STATUS_FALSE_OK) && as_wa_status_false(ans)) {
            res->outcome = AS_PERMANENT;
            as_wa_reason(res, "%s: refused: %s", what,
                         quote[0] ? quote : "status false, no message");
        } else {
            res->outcome = AS_DELIVERED;
            res->reason[0] = '\0';
        }
    } else {
        res->outcome = (r->status == 429 || r->status >= 500 || r->status == 401) ? AS_TRANSIENT
                                                                                  : AS_PERMANENT;
        if (res->outcome == AS_TRANSIENT && r->retry_after_ms > 0)
            res->retry_after_ms = r->retry_after_ms;
        if (res->retry_after_ms > 0)
            as_wa_reason(
                res, "%s: HTTP %ld%s%s (Retry-After %lld s)", what, r->status, quote[0] ? ": " : "",
                quote, (long long)(res->retry_after_ms / 1000 + (res->retry_after_ms % 1000 != 0)));
        else
            as_wa_reason(res, "%s: HTTP %ld%s%s", what, r->status, quote[0] ? ": " : "", quote);
    }
    return res->outcome == AS_DELIVERED ? 0 : -1;
}

static void as_wa_transport_failed(const as_err_t *err, as_result_t *res)
{
    res->outcome = AS_TRANSIENT;
    res->status = 0;
    res->retry_after_ms = 0;
    as_wa_reason(res, "%s", err->msg);
}

/* --- the token cache ------------------------------------------------------ */

char *as_wa_read_cache(const char *data, size_t len, const char *base_url, const char *phone)
{
    as_err_t err;
    if (len == 0 || len >= AS_WA_CACHE_MAX)
        return NULL;
    cJSON *j = as_json_parse(data, len, &err);
    const char *u = as_json_str(j, "base_url"), *p = as_json_str(j, "phone");
    const char *t = as_json_str(j, "token");
    char *token = NULL;
    if (u && p && t && t[0] && strcmp(u, base_url) == 0 && strcmp(p, phone) == 0)
        token = as_xstrdup(t);
    cJSON_Delete(j);
    return token;
}

static char *as_wa_cache_read(as_wa_t *w)
{
    as_buf_t b = AS_BUF_INIT;
    char *token = NULL;
    as_err_t err;
    if (as_state_read(w->cache_dir, AS_WA_CACHE_FILE, &b, &err) == 0)
        token = as_wa_read_cache(b.data, b.len, w->base_url, w->phone);
    if (b.data != NULL)
        explicit_bzero(b.data, b.len);
    as_buf_free(&b);
    return token;
}

/* Atomically (alertsink/module.h: as_state_write), keyed by base URL and
 * phone so that another account never reuses it. */
static void as_wa_cache_write(as_wa_t *w, const char *token)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "base_url", w->base_url);
    cJSON_AddStringToObject(j, "phone", w->phone);
    cJSON_AddStringToObject(j, "token", token);
    char *text = as_json_print(j);
    cJSON_Delete(j);
    as_err_t err;
    if (as_state_write(w->cache_dir, AS_WA_CACHE_FILE, text, strlen(text), &err) < 0)
        as_log(AS_LOG_WARN, "cannot write the WhatsApp token cache", AS_S("error", err.msg));
    explicit_bzero(text, strlen(text));
    cJSON_free(text);
}

/* --- login and the token -------------------------------------------------- */

static int as_wa_request(as_wa_t *w, const char *what, as_httpc_req_t *req, unsigned flags,
                         cJSON **answer, as_result_t *res);

static char *as_wa_url(as_wa_t *w, const char *path)
{
    as_buf_t b = AS_BUF_INIT;
    as_buf_printf(&b, "%s%s", w->base_url, path);
    return as_buf_steal(&b);
}

/* POST body (consumed) as JSON to path; the printed body is wiped after
 * use, as the login's carries the password. */
static int as_wa_post_json(as_wa_t *w, const char *what, const char *path, cJSON *body,
                           unsigned flags, cJSON **answer, as_result_t *res)
{
    char *json = as_json_print(body);
    cJSON_Delete(body);
    char *url = as_wa_url(w, path);
    as_httpc_req_t req = {.method = "POST", .url = url, .json = json};
    int rc = as_wa_request(w, what, &req, flags, answer, res);
    explicit_bzero(json, strlen(json));
    cJSON_free(json);
    free(url);
    return rc;
}

/* Log in and install the new token.  Caller holds login_lock. */
static int as_wa_do_login(as_wa_t *w, as_result_t *res)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "phone", w->phone);
    cJSON_AddStringToObject(body, "password", w->password);
    cJSON *ans = NULL;
    int rc = as_wa_post_json(w, "login", "/user/login", body, AS_WA_NO_AUTH, &ans, res);

    if (rc < 0 && res->status >= 400 && res->status < 500 && res->status != 429) {
        /* A refused login will be refused again: a wrong password is for a
         * person to fix, and the fallback to take over meanwhile. */
        res->outcome = AS_PERMANENT;
        as_wa_reason(res, "%s (check whatsapp.phone and whatsapp.password)", res->reason);
    }
    if (rc == 0) {
        char *token = as_wa_read_token(ans);
        if (token == NULL) {
            res->outcome = AS_PERMANENT;
            as_wa_reason(res, "login: the answer carries no token");
            rc = -1;
        } else {
            as_log_token(token);
            pthread_mutex_lock(&w->lock);
            as_wa_free_secret(w->token);
            w->token = as_xstrdup(token);
            w->gen++;
            pthread_mutex_unlock(&w->lock);
            if (w->cache_dir != NULL)
                as_wa_cache_write(w, token);
            as_log(AS_LOG_INFO, "whatsapp login", AS_S("phone", w->phone));
            as_wa_free_secret(token);
        }
    }
    cJSON_Delete(ans);
    return rc;
}

/* A copy of the current token, logging in (or reading the cache) when there
 * is none.  seen_gen: the token we were refused with, or 0 for any. */
static char *as_wa_token(as_wa_t *w, unsigned seen_gen, unsigned *gen, as_result_t *res)
{
    char *token = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->token != NULL && w->gen != seen_gen) {
        token = as_xstrdup(w->token);
        *gen = w->gen;
    }
    pthread_mutex_unlock(&w->lock);
    if (token != NULL)
        return token;

    pthread_mutex_lock(&w->login_lock);
    pthread_mutex_lock(&w->lock);
    if (w->token != NULL && w->gen != seen_gen) { /* another thread logged in meanwhile */
        token = as_xstrdup(w->token);
        *gen = w->gen;
    }
    pthread_mutex_unlock(&w->lock);
    if (token == NULL && !w->cache_tried && seen_gen == 0 && w->cache_dir != NULL) {
        w->cache_tried = 1;
        char *cached = as_wa_cache_read(w);
        if (cached != NULL) {
            as_log_token(cached);
            pthread_mutex_lock(&w->lock);
            as_wa_free_secret(w->token);
            w->token = cached;
            *gen = ++w->gen;
            token = as_xstrdup(cached);
            pthread_mutex_unlock(&w->lock);
        }
    }
    if (token == NULL && as_wa_do_login(w, res) == 0) {
        pthread_mutex_lock(&w->lock);
        if (w->token != NULL) {
            token = as_xstrdup(w->token);
            *gen = w->gen;
        }
        pthread_mutex_unlock(&w->lock);
    }
    pthread_mutex_unlock(&w->login_lock);
    return token;
}

/* Forget a token the server refused twice, unless a newer one replaced it. */
static void as_wa_drop_token(as_wa_t *w, unsigned gen)
{
    pthread_mutex_lock(&w->lock);
    if (w->gen == gen) {
        as_wa_free_secret(w->token);
        w->token = NULL;
    }
    pthread_mutex_unlock(&w->lock);
}

int as_wa_login(as_wa_t *w, as_result_t *res)
{
    pthread_mutex_lock(&w->login_lock);
    w->cache_tried = 1; /* a fresh token replaces whatever the cache holds */
    int rc = as_wa_do_login(w, res);
    pthread_mutex_unlock(&w->login_lock);
    return rc;
}

/*
 * One API call: the bearer token, the 401 rule, the classification.
 * *answer receives the parsed JSON answer (NULL when it is not JSON), for
 * the caller to free, whatever the outcome.
 */
static int as_wa_request(as_wa_t *w, const char *what, as_httpc_req_t *req, unsigned flags,
                         cJSON **answer, as_result_t *res)
{
    char *token = NULL;
    unsigned gen = 0;
    *answer = NULL;
    memset(res, 0, sizeof(*res));

    if (!(flags & AS_WA_NO_AUTH)) {
        token = as_wa_token(w, 0, &gen, res);
        if (token == NULL)
            return -1; /* res says why the login failed */
    }
    for (int round = 0;; round++) {
        as_httpc_resp_t resp;
        as_err_t err;
        req->bearer = token;
        int rc = as_httpc_request(w->http, req, &resp, &err);
        if (rc < 0) {
            as_wa_transport_failed(&err, res);
            as_httpc_resp_free(&resp);
            break;
        }
        if (resp.status == 401 && !(flags & AS_WA_NO_AUTH) && round == 0) {
            /* The token expired: one new login, one repeat. */
            as_httpc_resp_free(&resp);
            as_log(AS_LOG_INFO, "whatsapp token refused, logging in again", AS_S("call", what));
            as_wa_free_secret(token);
            token = as_wa_token(w, gen, &gen, res);
            if (token == NULL)
                return -1;
            continue;
        }
        as_wa_answer(what, &resp, flags, answer, res);
        if (resp.status == 401 && !(flags & AS_WA_NO_AUTH)) {
            as_wa_drop_token(w, gen);
            as_wa_reason(res, "%s (refused again after a new login)", res->reason);
        }
        as_httpc_resp_free(&resp);
        break;
    }
    as_wa_free_secret(token);
    return res->outcome == AS_DELIVERED ? 0 : -1;
}

/* --- the calls ------------------------------------------------------------ */

/* key=value added to the URL's query, value percent-encoded but for the
 * characters RFC 3986 leaves unreserved. */
static void as_wa_query(as_buf_t *b, const char *key, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    as_buf_putc(b, strchr(b->data, '?') ? '&' : '?');
    as_buf_puts(b, key);
    as_buf_putc(b, '=');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            as_buf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            as_buf_append(b, e, 3);
        }
    }
}

int as_wa_read_login_code(const cJSON *ans, char **code, char **reg_id, as_result_t *res)
{
    static const char *const code_names[] = {"code", "pairingCode", "pairing_code", NULL};
    static const char *const reg_names[] = {"registrationId", "registration_id", "reg_id",
                                            "registrationID", NULL};
    *code = as_wa_field(ans, code_names);
    *reg_id = as_wa_field(ans, reg_names);
    if (*code != NULL && *reg_id != NULL)
        return 0;
    res->outcome = AS_PERMANENT;
    as_wa_reason(res, "login/code: the answer carries no %s",
                 *code == NULL ? "code" : "registrationId");
    free(*code);
    free(*reg_id);
    *code = *reg_id = NULL;
    return -1;
}

int as_wa_login_code(as_wa_t *w, const char *phone, char **code, char **reg_id, as_result_t *res)
{
    *code = *reg_id = NULL;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "phone", phone);
    cJSON *ans = NULL;
    int rc = as_wa_post_json(w, "login/code", "/whatsapp/login/code", body, 0, &ans, res);
    if (rc == 0)
        rc = as_wa_read_login_code(ans, code, reg_id, res);
    cJSON_Delete(ans);
    return rc;
}

int as_wa_read_linked(const cJSON *ans)
{
    const cJSON *scopes[2] = {ans, cJSON_IsObject(ans) ? as_json_obj(ans, "data") : NULL};
    int linked = 0;
    for (int s = 0; s < 2 && !linked; s++) {
        int known;
        if (!cJSON_IsObject(scopes[s]))
            continue;
        linked = as_wa_truthy(cJSON_GetObjectItemCaseSensitive(scopes[s], "connected"), &known) ||
                 as_wa_truthy(cJSON_GetObjectItemCaseSensitive(scopes[s], "status"), &known);
    }
    return linked;
}

int as_wa_login_control(as_wa_t *w, const char *reg_id, const char *phone, int *linked,
                        as_result_t *res)
{
    *linked = 0;
    as_buf_t url = AS_BUF_INIT;
    as_buf_printf(&url, "%s/whatsapp/ws/logincontrol", w->base_url);
    as_wa_query(&url, "registrationId", reg_id);
    as_wa_query(&url, "phone", phone);
    as_httpc_req_t req = {.method = "GET", .url = url.data};
    cJSON *ans = NULL;
    int rc = as_wa_request(w, "logincontrol", &req, AS_WA_STATUS_FALSE_OK, &ans, res);
    as_buf_free(&url);
    if (rc == 0)
        *linked = as_wa_read_linked(ans);
    cJSON_Delete(ans);
    return rc;
}

/* The list of devices: the answer itself, or an array under data, devices,
 * data.devices, data.data (a paginated answer) or items. */
static const cJSON *as_wa_device_list(const cJSON *ans)
{
    static const char *const names[] = {"devices", "data", "items", "rows", "results", NULL};
    if (cJSON_IsArray(ans))
        return ans;
    const cJSON *scope = ans;
    for (int depth = 0; depth < 2 && cJSON_IsObject(scope); depth++) {
        for (const char *const *k = names; *k; k++) {
            const cJSON *it = as_json_arr(scope, *k);
            if (it != NULL)
                return it;
        }
        scope = as_json_obj(scope, "data");
    }
    return NULL;
}

int as_wa_read_devices(const cJSON *ans, as_wa_devices_t *out, as_result_t *res)
{
    static const char *const reg_names[] = {"registration_id", "registrationId", "reg_id",
                                            "registrationID", NULL};
    static const char *const phone_names[] = {"phone", "phone_number", "phoneNumber", "number",
                                              NULL};
    out->n = 0;
    out->v = NULL;
    const cJSON *list = as_wa_device_list(ans);
    const cJSON *data = cJSON_IsObject(ans) ? cJSON_GetObjectItemCaseSensitive(ans, "data") : NULL;
    if (list == NULL && !cJSON_IsNull(data)) { /* "data": null is an empty list */
        res->outcome = AS_PERMANENT;
        as_wa_reason(res, "devices: the answer holds no list of devices");
        return -1;
    }
    size_t n = list ? (size_t)cJSON_GetArraySize(list) : 0;
    out->v = as_xcalloc(n ? n : 1, sizeof(*out->v));
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (!cJSON_IsObject(it))
            continue;
        char *reg = as_wa_field(it, reg_names);
        if (reg == NULL)
            continue;
        as_wa_device_t *d = &out->v[out->n++];
        d->reg_id = reg;
        d->phone = as_wa_field(it, phone_names);
        int known = 0;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "connected");
        d->connected = as_wa_truthy(c, &known);
        if (!known) {
            d->connected = as_wa_truthy(cJSON_GetObjectItemCaseSensitive(it, "status"), &known);
            /* Listed and silent about it: a registered device. */
            if (!known)
                d->connected = 1;
        }
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
        if (cJSON_IsString(st) && st->valuestring[0] != '\0')
            d->status = as_xstrdup(st->valuestring);
        else
            d->status = as_xstrdup(d->connected ? "connected" : "disconnected");
    }
    return 0;
}

int as_wa_devices(as_wa_t *w, as_wa_devices_t *out, as_result_t *res)
{
    out->n = 0;
    out->v = NULL;
    char *url = as_wa_url(w, "/whatsapp/devices?page=-1");
    as_httpc_req_t req = {.method = "GET", .url = url};
    cJSON *ans = NULL;
    int rc = as_wa_request(w, "devices", &req, 0, &ans, res);
    free(url);
    if (rc == 0)
        rc = as_wa_read_devices(ans, out, res);
    cJSON_Delete(ans);
    return rc;
}

void as_wa_devices_free(as_wa_devices_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].reg_id);
        free(d->v[i].phone);
        free(d->v[i].status);
    }
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

int as_wa_pick_device(const as_wa_devices_t *d, const char *reg_id, const as_wa_device_t **dev,
                      as_result_t *res)
{
    memset(res, 0, sizeof(*res));
    *dev = NULL;
    for (size_t i = 0; i < d->n; i++) {
        if (reg_id != NULL && strcmp(d->v[i].reg_id, reg_id) != 0)
            continue;
        if (reg_id == NULL && !d->v[i].connected)
            continue;
        *dev = &d->v[i];
        break;
    }
    /* Unavailable, not permanent: a phone that reconnects delivers on
     * the next retry; meanwhile the next channel of the chain takes over. */
    res->outcome = AS_UNAVAILABLE;
    if (*dev == NULL && reg_id != NULL)
        as_wa_reason(res, "device %s is not among the account's devices (see alertsink wa devices)",
                     reg_id);
    else if (*dev == NULL)
        as_wa_reason(res,
                     "no connected WhatsApp device (see alertsink wa devices, alertsink wa pair)");
    else if (!(*dev)->connected)
        as_wa_reason(res, "device %s (%s) is not connected: %s", (*dev)->reg_id,
                     (*dev)->phone ? (*dev)->phone : "no phone", (*dev)->status);
    else
        res->outcome = AS_DELIVERED;
    return res->outcome == AS_DELIVERED ? 0 : -1;
}

int as_wa_send_multi(as_wa_t *w, const as_wa_send_t *s, as_result_t *res)
{
    as_buf_t contacts = AS_BUF_INIT;
    for (size_t i = 0; i < s->ncontacts; i++) {
        if (i > 0)
            as_buf_putc(&contacts, ',');
        as_buf_puts(&contacts, s->contacts[i]);
    }
    as_httpc_part_t parts[5];
    size_t n = 0;
    parts[n++] = (as_httpc_part_t){"reg_id", s->reg_id, NULL};
    parts[n++] = (as_httpc_part_t){"contacts", contacts.data ? contacts.data : "", NULL};
    parts[n++] = (as_httpc_part_t){"message", s->message ? s->message : "", NULL};
    if (s->send_time != NULL && s->send_time[0] != '\0')
        parts[n++] = (as_httpc_part_t){"send_time", s->send_time, NULL};
    if (s->file != NULL)
        parts[n++] = (as_httpc_part_t){"file", NULL, s->file};
    char *url = as_wa_url(w, "/whatsapp/sendmessage/multi");
    as_httpc_req_t req = {.method = "POST", .url = url, .parts = parts, .nparts = n};
    cJSON *ans = NULL;
    int rc = as_wa_request(w, "sendmessage/multi", &req, 0, &ans, res);
    cJSON_Delete(ans);
    free(url);
    as_buf_free(&contacts);
    return rc;
}

int as_wa_logout(as_wa_t *w, const char *reg_id, const char *phone, as_result_t *res)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "reg_id", reg_id);
    cJSON_AddStringToObject(body, "phone", phone);
    cJSON *ans = NULL;
    int rc = as_wa_post_json(w, "logout", "/whatsapp/logout", body, 0, &ans, res);
    cJSON_Delete(ans);
    return rc;
}
