/*
 * http.c - the HTTP input: Alertmanager webhooks and single alerts over
 * libmicrohttpd (docs/inputs.md).
 *
 *   POST /api/v1/alertmanager            an Alertmanager webhook payload
 *   POST /api/v1/alertmanager/RECEIVER   the same, straight to RECEIVER
 *   POST /api/v1/alerts                  one alert object or an array
 *   GET  /healthz                        "ok" while the spool is writable
 *   GET  /metrics                        Prometheus text format
 *
 * libmicrohttpd runs a pool of threads sized to the machine (one per CPU,
 * 2 to AS_HTTP_POOL_MAX), each polling its own connections, all accepting
 * from one listening socket.  poll(2) rather than epoll: libmicrohttpd's
 * epoll loop can leave a burst of closed connections unhandled until the
 * next timeout (docs/inputs.md), and with a few dozen connections per
 * thread poll costs the same CPU per request (bench/ingest.sh's load,
 * alternating runs, within the noise).  A request's body is collected
 * in our own buffer, bounded by http.max_body (libmicrohttpd hands it over
 * in pieces); a Content-Length over the limit is answered 413 before any
 * of the body is read.  The parsed payload goes to as_submit() and the
 * connection is suspended: no libmicrohttpd thread ever waits for the
 * disk.  The committer thread's callback stores the outcome and resumes
 * the connection, and the next call of the handler answers it, so a 200
 * leaves only once the notification is on disk.
 *
 * Lifetime: stop() stops accepting, lets the requests in progress finish
 * (for a few seconds at most; a connection accepted but with no request
 * begun yet counts as one, or its request would be cut off), then waits
 * until every submission's callback has run before it stops libmicrohttpd.  The committer drains
 * its queue before it exits, so that wait ends; afterwards nothing refers
 * to the instance, and the cycle may free it.
 *
 * An error decided before the body has arrived (401, 404, 405) is answered
 * once the body has been read (and dropped, up to max_body): answering
 * early makes libmicrohttpd close the connection with unread data, which
 * the kernel turns into a reset that can destroy the answer before the
 * client reads it.  Only a body too large to read is answered early.
 *
 * The Content-Type is not checked: the body must be JSON whatever it says
 * (curl's -d sends application/x-www-form-urlencoded).
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "alertsink/module.h"
#include "listener.h"

#define AS_HTTP_GRACE_MS    5000 /* stop(): how long requests in progress may take */
#define AS_HTTP_SETTLE_MS   50   /* stop(): accepts under way when it began land */
#define AS_HTTP_POOL_MAX    4
#define AS_HTTP_TIMEOUT_MAX (24LL * 3600 * 1000) /* http.timeout, ms */
/* libmicrohttpd's memory per connection: headers, its read buffer, our
 * answer (a body is copied out as it arrives).  Half its default, so an
 * idle keep-alive connection (Alertmanager keeps one) costs 16 KiB. */
#define AS_HTTP_CONN_MEMORY (16 * 1024)
#define AS_HTTP_PREFIX_AM   "/api/v1/alertmanager"
#define AS_HTTP_CT_JSON     "application/json"
#define AS_HTTP_CT_TEXT     "text/plain; charset=utf-8"
#define AS_HTTP_CT_METRICS  "text/plain; version=0.0.4; charset=utf-8"

typedef enum {
    AS_HTTP_NONE = 0,
    AS_HTTP_AM,
    AS_HTTP_AM_RECEIVER,
    AS_HTTP_ALERTS,
    AS_HTTP_HEALTHZ,
    AS_HTTP_METRICS,
} as_http_route_t;

typedef struct as_http_conf_s {
    as_listen_t listen;
    char *bearer_token;
    int64_t max_body;
    int64_t max_connections;
    int64_t timeout; /* ms: a connection idle this long is closed */
} as_http_conf_t;

typedef struct as_http_s as_http_t;

/* One request, from its headers to its completion (con_cls). */
typedef struct as_http_req_s {
    as_http_t *http;
    struct MHD_Connection *conn;
    as_http_route_t route;
    char *receiver;
    char path[128]; /* for logs, cut short */

    /* An answer decided before the body ended: given once it has. */
    unsigned status;
    const char *reason; /* metrics label */
    const char *allow;  /* 405: the methods that are */
    char *error;

    as_buf_t body;
    uint64_t seen; /* body bytes received, kept or not */

    /* The submission: set by the callback before it resumes the
     * connection, read once resumed. */
    int submitted;
    as_submit_status_t result;
    char id[AS_SUBMIT_ID_MAX];
} as_http_req_t;

struct as_http_s {
    const as_http_conf_t *conf;
    size_t token_len;
    as_listener_t *listener;
    struct MHD_Daemon *mhd;

    atomic_int inflight; /* submissions whose callback has not run */
    atomic_int refuse;   /* stop(): no more submissions */

    atomic_int requests; /* begun and not completed */
    atomic_int fresh;    /* connections accepted that have begun no request yet */
    atomic_int closing;  /* stop(): answers close their connection */
};

/* A connection's state (socket_context), on its libmicrohttpd thread. */
typedef struct {
    int begun; /* a request has begun on it */
} as_http_conn_t;

static const as_conf_key_t as_http_keys[] = {
    {"listen", &as_conf_listen, offsetof(as_http_conf_t, listen), 0, "127.0.0.1:9095", NULL},
    {"bearer_token", &as_conf_string, offsetof(as_http_conf_t, bearer_token), AS_CONF_SECRET, NULL,
     NULL},
    {"max_body", &as_conf_size, offsetof(as_http_conf_t, max_body), 0, "1MiB", NULL},
    {"max_connections", &as_conf_int, offsetof(as_http_conf_t, max_connections), 0, "1024", NULL},
    {"timeout", &as_conf_duration, offsetof(as_http_conf_t, timeout), 0, "30s", NULL},
    AS_CONF_END};

/* --- answers ------------------------------------------------------------------------ */

static enum MHD_Result as_http_send(as_http_req_t *rq, unsigned code, const char *type,
                                    const char *body, size_t len, const char *allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (allow != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (code == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"alertsink\"");
    if (atomic_load(&rq->http->closing))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(rq->conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* {"status":STATUS,"KEY":VALUE}, written by hand: every request is
 * answered so. */
static enum MHD_Result as_http_json(as_http_req_t *rq, unsigned code, const char *status,
                                    const char *key, const char *value, const char *allow)
{
    as_buf_t b = AS_BUF_INIT;
    as_buf_puts(&b, "{\"status\":");
    as_buf_json(&b, status, strlen(status));
    as_buf_putc(&b, ',');
    as_buf_json(&b, key, strlen(key));
    as_buf_putc(&b, ':');
    as_buf_json(&b, value, strlen(value));
    as_buf_putc(&b, '}');
    enum MHD_Result ret = as_http_send(rq, code, AS_HTTP_CT_JSON, b.data, b.len, allow);
    as_buf_free(&b);
    return ret;
}

/* An error answer: logged, counted, {"status":"error","error":...}. */
static enum MHD_Result as_http_error(as_http_req_t *rq, unsigned code, const char *reason,
                                     const char *msg, const char *allow)
{
    as_submit_rejected("http", reason);
    as_log(code >= 500 ? AS_LOG_WARN : AS_LOG_INFO, "http request refused", AS_I("status", code),
           AS_S("path", rq->path), AS_S("error", msg));
    return as_http_json(rq, code, "error", "error", msg, allow);
}

/* Decide an error now, answer it when the body has been read. */
static void as_http_defer(as_http_req_t *rq, unsigned code, const char *reason, const char *msg,
                          const char *allow)
{
    rq->status = code;
    rq->reason = reason;
    rq->allow = allow;
    rq->error = as_xstrdup(msg);
}

static enum MHD_Result as_http_answer_submission(as_http_req_t *rq)
{
    switch (rq->result) {
    case AS_SUBMIT_OK:
        as_log(AS_LOG_DEBUG, "http request queued", AS_S("id", rq->id), AS_S("path", rq->path));
        return as_http_json(rq, MHD_HTTP_OK, "queued", "id", rq->id, NULL);
    case AS_SUBMIT_NO_RECEIVER: {
        char msg[512];
        snprintf(msg, sizeof(msg), "no receiver named '%s'", rq->receiver);
        return as_http_error(rq, MHD_HTTP_NOT_FOUND, "no_receiver", msg, NULL);
    }
    case AS_SUBMIT_FULL:
        return as_http_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "spool_full",
                             as_submit_status_text(rq->result), NULL);
    case AS_SUBMIT_STOPPING:
        return as_http_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping",
                             as_submit_status_text(rq->result), NULL);
    case AS_SUBMIT_STARTING:
        return as_http_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "starting",
                             as_submit_status_text(rq->result), NULL);
    case AS_SUBMIT_IO_ERROR:
        break;
    }
    return as_http_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "io_error",
                         as_submit_status_text(rq->result), NULL);
}

/* --- GET ------------------------------------------------------------------------------ */

/* 200 "ok" when the core can take work, else 503 and why: a load
 * balancer, an orchestrator or Alertmanager's retries see what a POST
 * would meet. */
static enum MHD_Result as_http_healthz(as_http_req_t *rq)
{
    char why[512], msg[520];
    unsigned code = as_core_ready(why, sizeof(why)) ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    snprintf(msg, sizeof(msg), "%s\n", why);
    return as_http_send(rq, code, AS_HTTP_CT_TEXT, msg, strlen(msg), NULL);
}

static enum MHD_Result as_http_metrics(as_http_req_t *rq)
{
    as_buf_t out = AS_BUF_INIT;
    as_metrics_expose(&out);
    enum MHD_Result ret =
        as_http_send(rq, MHD_HTTP_OK, AS_HTTP_CT_METRICS, out.data ? out.data : "", out.len, NULL);
    as_buf_free(&out);
    return ret;
}

/* --- POST ----------------------------------------------------------------------------- */

/*
 * The time taken depends on the length of what the client sent, never on
 * the token: each byte sent is compared with a byte of the token (cycling
 * through it), and the lengths are compared without a branch.
 */
static int as_http_token_ok(const as_http_t *h, const char *got, size_t glen)
{
    const char *want = h->conf->bearer_token;
    size_t wlen = h->token_len;
    unsigned acc = 0;
    for (size_t i = 0; i < glen; i++)
        acc |= (unsigned char)got[i] ^ (unsigned char)want[i % wlen];
    uint64_t d = (uint64_t)(glen ^ wlen);
    acc |= (unsigned)d | (unsigned)(d >> 32);
    return acc == 0;
}

static int as_http_authorized(as_http_req_t *rq)
{
    const as_http_t *h = rq->http;
    if (h->conf->bearer_token == NULL)
        return 1;
    const char *v =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
        return 0;
    v += 7;
    while (*v == ' ')
        v++;
    size_t len = strlen(v);
    while (len > 0 && v[len - 1] == ' ')
        len--;
    return as_http_token_ok(h, v, len);
}

/* From the committer (or at once, for a refusal): no lock.  The
 * connection was suspended before the submission, so resuming it is
 * always right; the outcome is written before, and read by the handler
 * only once libmicrohttpd runs the connection again. */
static void as_http_done(void *arg, as_submit_status_t status, const char *id)
{
    as_http_req_t *rq = arg;
    as_http_t *h = rq->http;
    rq->result = status;
    if (id != NULL) {
        size_t n = strnlen(id, sizeof(rq->id) - 1);
        memcpy(rq->id, id, n);
        rq->id[n] = '\0';
    }
    MHD_resume_connection(rq->conn);
    /* stop() waits for this to reach 0; nothing of h is touched after. */
    atomic_fetch_sub(&h->inflight, 1);
}

/* The whole body is here: parse, submit, and answer or suspend. */
static enum MHD_Result as_http_submit(as_http_req_t *rq)
{
    as_http_t *h = rq->http;
    if (rq->status != 0)
        return as_http_error(rq, rq->status, rq->reason, rq->error, rq->allow);
    if (rq->route == AS_HTTP_HEALTHZ)
        return as_http_healthz(rq);
    if (rq->route == AS_HTTP_METRICS)
        return as_http_metrics(rq);

    /* The payload goes into a pool of its own, which the core keeps with
     * the notification and releases in one step when it is done. */
    as_err_t err;
    unsigned flags = 0;
    as_pool_t *pool = as_pool_create();
    cJSON *payload =
        as_payload_parse(pool, rq->body.data ? rq->body.data : "", rq->body.len, &flags, &err);
    int grouped = (flags & AS_SUB_GROUPED) != 0;
    const char *refused = NULL;
    if (payload == NULL)
        refused = err.msg;
    else if (rq->route != AS_HTTP_ALERTS && !grouped)
        refused = "not an Alertmanager webhook payload (it has no \"alerts\"); "
                  "single alerts go to /api/v1/alerts";
    else if (rq->route == AS_HTTP_ALERTS && grouped)
        refused = "an Alertmanager webhook payload: POST it to /api/v1/alertmanager";
    if (refused != NULL) {
        enum MHD_Result r = as_http_error(rq, MHD_HTTP_BAD_REQUEST, "malformed", refused, NULL);
        as_pool_destroy(pool); /* err.msg is not in it */
        as_buf_free(&rq->body);
        return r;
    }

    /* Counted before refuse is read: stop() sets refuse, then waits for
     * the count, so it either sees this submission or this sees refuse. */
    atomic_fetch_add(&h->inflight, 1);
    if (atomic_load(&h->refuse)) {
        atomic_fetch_sub(&h->inflight, 1);
        as_pool_destroy(pool);
        as_buf_free(&rq->body);
        rq->result = AS_SUBMIT_STOPPING;
        return as_http_answer_submission(rq);
    }
    rq->submitted = 1;
    /* Suspended first: the callback may run on the committer's thread
     * before as_submit() returns, and it only ever resumes. */
    MHD_suspend_connection(rq->conn);

    as_submission_t sub = {
        .input = "http",
        .payload = payload,
        .pool = pool,
        .raw = rq->body.data,
        .raw_len = rq->body.len,
        .receiver = rq->receiver,
        .flags = flags,
    };
    as_submit(&sub, as_http_done, rq);
    as_buf_free(&rq->body); /* the core copied what it needed */
    return MHD_YES;
}

/* --- the handler -------------------------------------------------------------------- */

static as_http_route_t as_http_route(const char *url, char **receiver)
{
    *receiver = NULL;
    if (strcmp(url, AS_HTTP_PREFIX_AM) == 0)
        return AS_HTTP_AM;
    if (strncmp(url, AS_HTTP_PREFIX_AM "/", sizeof(AS_HTTP_PREFIX_AM)) == 0) {
        const char *name = url + sizeof(AS_HTTP_PREFIX_AM);
        if (*name == '\0' || strchr(name, '/') != NULL)
            return AS_HTTP_NONE;
        *receiver = as_xstrdup(name);
        return AS_HTTP_AM_RECEIVER;
    }
    if (strcmp(url, "/api/v1/alerts") == 0)
        return AS_HTTP_ALERTS;
    if (strcmp(url, "/healthz") == 0)
        return AS_HTTP_HEALTHZ;
    if (strcmp(url, "/metrics") == 0)
        return AS_HTTP_METRICS;
    return AS_HTTP_NONE;
}

/* Is there a body to read?  (Content-Length > 0, or chunked.) */
static int as_http_has_body(struct MHD_Connection *c, uint64_t *length, int *known)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
    *known = 0;
    *length = 0;
    if (cl != NULL && te == NULL) {
        /* libmicrohttpd has validated it already. */
        *known = 1;
        *length = strtoull(cl, NULL, 10);
        return *length > 0;
    }
    return te != NULL;
}

/* First call: the headers are in, no body yet.  Answering now would make
 * libmicrohttpd close the connection, so only a body too large to read is
 * answered here; everything else is, on a later call. */
static enum MHD_Result as_http_begin(as_http_req_t *rq, const char *url, const char *method)
{
    as_http_t *h = rq->http;
    rq->route = as_http_route(url, &rq->receiver);
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

    if (rq->route == AS_HTTP_HEALTHZ || rq->route == AS_HTTP_METRICS) {
        if (!get)
            as_http_defer(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "method not allowed",
                          "GET, HEAD");
    } else if (rq->route == AS_HTTP_NONE) {
        as_http_defer(rq, MHD_HTTP_NOT_FOUND, "not_found", "not found", NULL);
    } else if (!post) {
        as_http_defer(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "method not allowed", "POST");
    } else if (!as_http_authorized(rq)) {
        as_http_defer(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized", "missing or wrong bearer token",
                      NULL);
    }

    uint64_t length;
    int known;
    int body = as_http_has_body(rq->conn, &length, &known);
    uint64_t max = (uint64_t)h->conf->max_body;
    if (known && length > max) {
        if (rq->status != 0)
            return as_http_submit(rq); /* answered now: the error, not 413 */
        char msg[128];
        snprintf(msg, sizeof(msg), "body of %llu bytes is over http.max_body (%llu bytes)",
                 (unsigned long long)length, (unsigned long long)max);
        return as_http_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", msg, NULL);
    }
    if (body && known && rq->status == 0)
        as_buf_reserve(&rq->body, (size_t)length);
    return MHD_YES;
}

/* A piece of the body. */
static enum MHD_Result as_http_upload(as_http_req_t *rq, const char *data, size_t len)
{
    uint64_t max = (uint64_t)rq->http->conf->max_body;
    rq->seen += len;
    if (rq->seen > max) {
        /* Only a chunked body gets here.  libmicrohttpd 0.9.75 takes an
         * answer before the body or after it, not in between: read on and
         * drop, up to another max_body, then give up on the client. */
        if (rq->status == 0) {
            char msg[128];
            snprintf(msg, sizeof(msg), "body is over http.max_body (%llu bytes)",
                     (unsigned long long)max);
            as_http_defer(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", msg, NULL);
        }
        as_buf_free(&rq->body);
        if (rq->seen > 2 * max) {
            as_submit_rejected("http", "too_large");
            as_log(AS_LOG_INFO, "http request refused: body far over max_body, connection closed",
                   AS_S("path", rq->path));
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (rq->status == 0)
        as_buf_append(&rq->body, data, len);
    return MHD_YES;
}

static enum MHD_Result as_http_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                       const char *method, const char *version,
                                       const char *upload_data, size_t *upload_data_size,
                                       void **con_cls)
{
    as_http_req_t *rq = *con_cls;
    if (rq == NULL) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        as_http_conn_t *cc = ci ? ci->socket_context : NULL;
        if (cc != NULL && !cc->begun) {
            cc->begun = 1;
            atomic_fetch_sub(&((as_http_t *)cls)->fresh, 1);
        }
        rq = as_xcalloc(1, sizeof(*rq));
        rq->http = cls;
        rq->conn = conn;
        size_t ulen = strnlen(url, sizeof(rq->path) - 1);
        memcpy(rq->path, url, ulen); /* for logs, cut short */
        rq->path[ulen] = '\0';
        *con_cls = rq;
        atomic_fetch_add(&rq->http->requests, 1);
        return as_http_begin(rq, url, method);
    }
    if (rq->submitted) /* resumed: the outcome is in */
        return as_http_answer_submission(rq);
    if (*upload_data_size > 0) {
        enum MHD_Result ret = as_http_upload(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ret;
    }
    return as_http_submit(rq);
}

static void as_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    as_http_req_t *rq = *con_cls;
    if (rq == NULL)
        return;
    *con_cls = NULL;
    atomic_fetch_sub(&rq->http->requests, 1);
    as_buf_free(&rq->body);
    free(rq->receiver);
    free(rq->error);
    free(rq);
}

static void as_http_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                               enum MHD_ConnectionNotificationCode code)
{
    as_http_t *h = cls;
    as_http_conn_t *cc = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = as_xcalloc(1, sizeof(as_http_conn_t));
        atomic_fetch_add(&h->fresh, 1);
        return;
    }
    if (cc != NULL && !cc->begun)
        atomic_fetch_sub(&h->fresh, 1);
    free(cc);
    *socket_context = NULL;
}

static void as_http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    as_log(AS_LOG_INFO, "libmicrohttpd", AS_S("message", msg));
}

/* --- the module ----------------------------------------------------------------------- */

static int as_http_init(void **instance, const void *conf, const as_module_ctx_t *ctx,
                        as_err_t *err)
{
    const as_http_conf_t *c = conf;
    if (c->max_body < 64)
        return as_err_set(err, "http.max_body: must be at least 64 bytes");
    if (c->max_connections < 1)
        return as_err_set(err, "http.max_connections: must be at least 1");
    if (c->timeout < 1000)
        return as_err_set(err, "http.timeout: must be at least 1s");
    /* libmicrohttpd takes whole seconds in an unsigned: past that the value
     * wrapped (136 years became 2 s). */
    if (c->timeout > AS_HTTP_TIMEOUT_MAX)
        return as_err_set(err, "http.timeout: must be at most 24h");
    if (c->bearer_token != NULL && c->bearer_token[0] == '\0')
        return as_err_set(err, "http.bearer_token: empty (leave it out to accept requests "
                               "without a token)");
    as_http_t *h = as_xcalloc(1, sizeof(*h));
    h->conf = c;
    h->token_len = c->bearer_token ? strlen(c->bearer_token) : 0;
    *instance = h;
    return 0;
}

static int as_http_start(void *instance, void *prev, as_err_t *err)
{
    as_http_t *h = instance, *old = prev;
    const as_http_conf_t *c = h->conf;
    if (c->listen.text == NULL || c->listen.text[0] == '\0')
        return 0; /* turned off */

    char name[300];
    as_listener_tcp_name(&c->listen, name, sizeof(name));
    if (old != NULL && old->listener != NULL && strcmp(old->listener->name, name) == 0)
        h->listener = as_listener_ref(old->listener);
    else if ((h->listener = as_listener_tcp(&c->listen, err)) == NULL) {
        /* Name the key to change: a port in use is the common case. */
        char why[sizeof(err->msg)];
        as_str_copy(why, sizeof(why), err->msg);
        return as_err_set(err, "http.listen: %s%s", why,
                          strstr(why, "in use") ? " (another process has this port: stop it, or "
                                                  "set another http.listen)"
                                                : "");
    }

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned pool = ncpu < 2 ? 2 : ncpu > AS_HTTP_POOL_MAX ? AS_HTTP_POOL_MAX : (unsigned)ncpu;
    if (pool > (unsigned)c->max_connections)
        pool = (unsigned)c->max_connections;
    /* libmicrohttpd owns (and closes) its own descriptor of the socket. */
    int fd = fcntl(h->listener->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        as_listener_unref(h->listener);
        h->listener = NULL;
        return as_err_set(err, "http: cannot duplicate the listening socket: %s", strerror(errno));
    }
    h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                                  MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG,
                              0, NULL, NULL, as_http_handler, h, MHD_OPTION_EXTERNAL_LOGGER,
                              as_http_mhd_log, h, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)c->max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                              (size_t)AS_HTTP_CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)((c->timeout + 999) / 1000), MHD_OPTION_NOTIFY_COMPLETED,
                              as_http_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
                              as_http_connection, h, MHD_OPTION_END);
    if (h->mhd == NULL) {
        /* libmicrohttpd may or may not have closed fd by now: leave it. */
        as_listener_unref(h->listener);
        h->listener = NULL;
        return as_err_set(err, "http: cannot start the server on %s", name);
    }
    as_log(AS_LOG_INFO, "http listening", AS_S("listen", name), AS_I("threads", pool),
           AS_S("auth", c->bearer_token ? "bearer" : "none"));
    return 0;
}

static void as_http_stop(void *instance)
{
    as_http_t *h = instance;
    if (h->mhd == NULL)
        return;
    atomic_store(&h->closing, 1);
    /* Stop accepting; the socket stays open for a successor. */
    MHD_socket fd = MHD_quiesce_daemon(h->mhd);

    /* Requests in progress get their answers, for a while. */
    usleep(AS_HTTP_SETTLE_MS * 1000);
    int64_t deadline = as_mono_ms() + AS_HTTP_GRACE_MS;
    while ((atomic_load(&h->requests) > 0 || atomic_load(&h->fresh) > 0) && as_mono_ms() < deadline)
        usleep(10000);

    /* No suspended connection may be left when libmicrohttpd stops, and
     * no callback may come after we are gone (the committer drains its
     * queue before it exits, so this ends). */
    atomic_store(&h->refuse, 1);
    while (atomic_load(&h->inflight) > 0)
        usleep(1000);

    MHD_stop_daemon(h->mhd);
    h->mhd = NULL;
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    as_listener_unref(h->listener);
    h->listener = NULL;
}

static void as_http_fini(void *instance)
{
    as_http_t *h = instance;
    free(h);
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
    .stop = as_http_stop,
    .fini = as_http_fini,
};
