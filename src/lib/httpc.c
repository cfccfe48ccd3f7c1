/*
 * httpc.c - the HTTP client over libcurl (see alertsink/http.h).
 *
 * Connection reuse: libcurl keeps a connection cache per easy handle, and
 * sharing that cache between threads through a CURLSH is documented as
 * unsafe, so the client keeps its own small stack of idle easy handles
 * under a mutex instead.  A request pops one (or makes one), resets its
 * options (curl_easy_reset keeps live connections and caches) and pushes
 * it back when done.  What is safe to share - DNS answers and TLS
 * sessions - lives in one CURLSH with a mutex per kind of data.
 *
 * libcurl is loaded (dlopen) and set up (curl_global_init, which
 * initialises its TLS libraries, and the CURLSH) at the first request of
 * the process, not when the binary starts or a client is created: the
 * sinks create their clients at load, and a daemon whose receivers make no
 * HTTP request then never maps libcurl and what it pulls in (two TLS stacks, LDAP, Kerberos, SSH,
 * HTTP/2, ...).  Linked, those cost an idle daemon 0.5 MB of private memory (their relocated data
 * and constructors), a quarter of all it had.  The functions used are looked up once into as_curl;
 * a libcurl that cannot be loaded fails each request with the reason, as a transport error.
 */
#define CURL_DISABLE_TYPECHECK /* curl_easy_setopt is called through a pointer */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alertsink/clock.h"
#include "alertsink/http.h"
#include "alertsink/json.h"
#include "alertsink/log.h"
#include "alertsink/mem.h"
#include "lib/httpc.h"

#define AS_HTTPC_IDLE_MAX                                                                          \
    256 /* as many as there can be workers: every one keeps its connection                         \
         */
#define AS_HTTPC_BODY_MAX (8 * 1024 * 1024) /* an API answer larger than this is an error */

struct as_httpc_s {
    pthread_mutex_t lock; /* guards idle[] */
    CURL *idle[AS_HTTPC_IDLE_MAX];
    size_t nidle;
    CURLSH *share;
    int ready; /* libcurl set up and share made (under lock) */
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    int64_t timeout_ms;
    char *ca_file; /* NULL: the system's CAs */
};

#define AS_CURL_SONAME "libcurl.so.4"

/* The libcurl functions alertsink calls, looked up in the loaded library. */
static struct {
    CURLcode (*global_init)(long);
    CURLSH *(*share_init)(void);
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
    CURLSHcode (*share_cleanup)(CURLSH *);
    CURL *(*easy_init)(void);
    void (*easy_reset)(CURL *);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    CURLHcode (*easy_header)(CURL *, const char *, size_t, unsigned int, int,
                             struct curl_header **);
    time_t (*getdate)(const char *, const time_t *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    curl_mime *(*mime_init)(CURL *);
    void (*mime_free)(curl_mime *);
    curl_mimepart *(*mime_addpart)(curl_mime *);
    CURLcode (*mime_name)(curl_mimepart *, const char *);
    CURLcode (*mime_filedata)(curl_mimepart *, const char *);
    CURLcode (*mime_data)(curl_mimepart *, const char *, size_t);
    curl_version_info_data *(*version_info)(CURLversion);
} as_curl;
static char as_curl_error[256]; /* why it could not be loaded; "" when it was */

/* curl.h defines these three as macros that check the argument count. */
#undef curl_share_setopt
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init    as_curl.global_init
#define curl_share_init     as_curl.share_init
#define curl_share_setopt   as_curl.share_setopt
#define curl_share_cleanup  as_curl.share_cleanup
#define curl_easy_init      as_curl.easy_init
#define curl_easy_reset     as_curl.easy_reset
#define curl_easy_cleanup   as_curl.easy_cleanup
#define curl_easy_setopt    as_curl.easy_setopt
#define curl_easy_perform   as_curl.easy_perform
#define curl_easy_getinfo   as_curl.easy_getinfo
#define curl_easy_strerror  as_curl.easy_strerror
#define curl_easy_header    as_curl.easy_header
#define curl_getdate        as_curl.getdate
#define curl_slist_append   as_curl.slist_append
#define curl_slist_free_all as_curl.slist_free_all
#define curl_mime_init      as_curl.mime_init
#define curl_mime_free      as_curl.mime_free
#define curl_mime_addpart   as_curl.mime_addpart
#define curl_mime_name      as_curl.mime_name
#define curl_mime_filedata  as_curl.mime_filedata
#define curl_mime_data      as_curl.mime_data
#define curl_version_info   as_curl.version_info

static pthread_once_t as_httpc_once = PTHREAD_ONCE_INIT;

/* Load libcurl and set it up, once per process, whatever thread comes
 * first.  The library stays loaded. */
static void as_httpc_init_once(void)
{
    static const struct {
        const char *name;
        size_t off;
    } syms[] = {
#define AS_SYM(f, name) {name, offsetof(__typeof__(as_curl), f)}
        AS_SYM(global_init, "curl_global_init"),
        AS_SYM(share_init, "curl_share_init"),
        AS_SYM(share_setopt, "curl_share_setopt"),
        AS_SYM(share_cleanup, "curl_share_cleanup"),
        AS_SYM(easy_init, "curl_easy_init"),
        AS_SYM(easy_reset, "curl_easy_reset"),
        AS_SYM(easy_cleanup, "curl_easy_cleanup"),
        AS_SYM(easy_setopt, "curl_easy_setopt"),
        AS_SYM(easy_perform, "curl_easy_perform"),
        AS_SYM(easy_getinfo, "curl_easy_getinfo"),
        AS_SYM(easy_strerror, "curl_easy_strerror"),
        AS_SYM(easy_header, "curl_easy_header"),
        AS_SYM(getdate, "curl_getdate"),
        AS_SYM(slist_append, "curl_slist_append"),
        AS_SYM(slist_free_all, "curl_slist_free_all"),
        AS_SYM(mime_init, "curl_mime_init"),
        AS_SYM(mime_free, "curl_mime_free"),
        AS_SYM(mime_addpart, "curl_mime_addpart"),
        AS_SYM(mime_name, "curl_mime_name"),
        AS_SYM(mime_filedata, "curl_mime_filedata"),
        AS_SYM(mime_data, "curl_mime_data"),
        AS_SYM(version_info, "curl_version_info"),
#undef AS_SYM
    };
    void *lib = dlopen(AS_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        as_str_copy(as_curl_error, sizeof(as_curl_error), dlerror());
        return;
    }
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        void *f = dlsym(lib, syms[i].name);
        if (f == NULL) {
            snprintf(as_curl_error, sizeof(as_curl_error), "%s: no %s", AS_CURL_SONAME,
                     syms[i].name);
            return;
        }
        memcpy((char *)&as_curl + syms[i].off, &f, sizeof(f));
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* libcurl loaded and set up: 0, or -1 (why in as_curl_error). */
static int as_httpc_loaded(void)
{
    pthread_once(&as_httpc_once, as_httpc_init_once);
    return as_curl_error[0] == '\0' ? 0 : -1;
}

const char *as_httpc_curl_version(void)
{
    return as_httpc_loaded() == 0 ? curl_version_info(CURLVERSION_NOW)->version : NULL;
}

static void as_httpc_share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
    as_httpc_t *c = arg;
    pthread_mutex_lock(&c->share_locks[data]);
}

static void as_httpc_share_unlock(CURL *h, curl_lock_data data, void *arg)
{
    as_httpc_t *c = arg;
    pthread_mutex_unlock(&c->share_locks[data]);
}

as_httpc_t *as_httpc_create(const as_httpc_opts_t *opts)
{
    as_httpc_t *c = as_xcalloc(1, sizeof(*c));
    int64_t timeout_ms = opts != NULL ? opts->timeout_ms : 0;
    if (opts != NULL && opts->ca_file != NULL && opts->ca_file[0] != '\0')
        c->ca_file = as_xstrdup(opts->ca_file);
    pthread_mutex_init(&c->lock, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_locks[i], NULL);
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    return c;
}

void as_httpc_free(as_httpc_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    if (c->share != NULL)
        curl_share_cleanup(c->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_locks[i]);
    pthread_mutex_destroy(&c->lock);
    free(c->ca_file);
    free(c);
}

/* The first request: libcurl (once per process, whatever thread comes
 * first) and the share.  Called with c->lock held. */
static void as_httpc_setup(as_httpc_t *c)
{
    c->share = curl_share_init();
    if (c->share != NULL) {
        curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, as_httpc_share_lock);
        curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, as_httpc_share_unlock);
        curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
    c->ready = 1;
}

static CURL *as_httpc_borrow(as_httpc_t *c)
{
    CURL *h = NULL;
    if (as_httpc_loaded() < 0)
        return NULL;
    pthread_mutex_lock(&c->lock);
    if (!c->ready)
        as_httpc_setup(c);
    if (c->nidle > 0)
        h = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->lock);
    if (h != NULL)
        curl_easy_reset(h);
    else
        h = curl_easy_init();
    return h;
}

static void as_httpc_return(as_httpc_t *c, CURL *h)
{
    pthread_mutex_lock(&c->lock);
    if (c->nidle < AS_HTTPC_IDLE_MAX) {
        c->idle[c->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

static size_t as_httpc_write(char *data, size_t size, size_t n, void *arg)
{
    as_buf_t *body = arg;
    if (body->len + n > AS_HTTPC_BODY_MAX)
        return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
    as_buf_append(body, data, n);
    return n;
}

int64_t as_httpc_parse_retry_after(const char *v, int64_t now_ms)
{
    while (*v == ' ' || *v == '\t')
        v++;
    int64_t ms;
    if (*v >= '0' && *v <= '9') {
        char *end;
        long long s = strtoll(v, &end, 10); /* LLONG_MAX past it: capped below */
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end != '\0' || s < 0)
            return -1;
        ms = s > AS_HTTPC_RETRY_AFTER_MAX / 1000 ? AS_HTTPC_RETRY_AFTER_MAX : (int64_t)s * 1000;
    } else {
        /* An HTTP date, read by libcurl: loaded here when no request of
         * this process has loaded it yet. */
        if (as_httpc_loaded() < 0)
            return -1;
        time_t when = curl_getdate(v, NULL);
        if (when == (time_t)-1)
            return -1;
        if ((int64_t)when > (now_ms + AS_HTTPC_RETRY_AFTER_MAX) / 1000)
            return AS_HTTPC_RETRY_AFTER_MAX;
        ms = (int64_t)when * 1000 - now_ms;
    }
    return ms < 0 ? 0 : ms > AS_HTTPC_RETRY_AFTER_MAX ? AS_HTTPC_RETRY_AFTER_MAX : ms;
}

/* Retry-After is delay-seconds or an HTTP date (RFC 9110 10.2.3). */
static int64_t as_httpc_retry_after(CURL *h)
{
    struct curl_header *hdr = NULL;
    if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK || hdr == NULL ||
        hdr->value == NULL)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return as_httpc_parse_retry_after(hdr->value,
                                      (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
}

static as_httpc_error_t as_httpc_classify(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return AS_HTTPC_DNS;
    case CURLE_COULDNT_CONNECT:
        return AS_HTTPC_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return AS_HTTPC_TLS;
    case CURLE_OPERATION_TIMEDOUT:
        return AS_HTTPC_TIMEOUT;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return AS_HTTPC_RESET;
    default:
        return AS_HTTPC_OTHER;
    }
}

/* url's scheme, host and port, without user, path or query: what an error
 * names.  A webhook URL is a secret (it often carries a key), and a long
 * one cut to fit an error no longer matched the redaction of the whole. */
static void as_httpc_origin(const char *url, char *out, size_t size)
{
    const char *sep = strstr(url, "://");
    size_t scheme = sep ? (size_t)(sep + 3 - url) : 0;
    const char *host = url + scheme;
    size_t end = strcspn(host, "/?#");
    const char *at = memchr(host, '@', end);
    if (at != NULL) { /* user:password@ */
        end -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(out, size, "%.*s%.*s", (int)scheme, url, (int)end, host);
}

static void as_httpc_error_msg(as_err_t *err, const as_httpc_req_t *req, as_httpc_error_t e,
                               CURLcode rc, const char *detail, int64_t timeout_ms)
{
    const char *d = detail[0] ? detail : curl_easy_strerror(rc);
    const char *m = req->method ? req->method : "GET";
    char url[300];
    as_httpc_origin(req->url, url, sizeof(url));
    switch (e) {
    case AS_HTTPC_DNS:
        as_err_set(err, "%s %s: cannot resolve the host name (%s)", m, url, d);
        break;
    case AS_HTTPC_CONNECT:
        as_err_set(err, "%s %s: cannot connect (%s)", m, url, d);
        break;
    case AS_HTTPC_TLS:
        as_err_set(err, "%s %s: TLS failed (%s)", m, url, d);
        break;
    case AS_HTTPC_TIMEOUT:
        as_err_set(err, "%s %s: timed out after %lld ms", m, url, (long long)timeout_ms);
        break;
    case AS_HTTPC_RESET:
        as_err_set(err, "%s %s: the connection broke (%s)", m, url, d);
        break;
    default:
        if (rc == CURLE_WRITE_ERROR)
            as_err_set(err, "%s %s: the answer is larger than %d bytes", m, url, AS_HTTPC_BODY_MAX);
        else
            as_err_set(err, "%s %s: %s", m, url, d);
        break;
    }
}

/* Does the caller's header list name this header (case-insensitive)? */
static int as_httpc_has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);
    for (const char *const *x = headers; x != NULL && *x != NULL; x++)
        if (strncasecmp(*x, name, n) == 0 && (*x)[n] == ':')
            return 1;
    return 0;
}

/* Build the multipart body; NULL with err when a part cannot be added. */
static curl_mime *as_httpc_mime(CURL *h, const as_httpc_req_t *req, as_err_t *err)
{
    curl_mime *mime = curl_mime_init(h);
    if (mime == NULL) {
        as_err_set(err, "%s: cannot build the form", req->url);
        return NULL;
    }
    for (size_t i = 0; i < req->nparts; i++) {
        const as_httpc_part_t *p = &req->parts[i];
        curl_mimepart *part = curl_mime_addpart(mime);
        CURLcode rc = part ? curl_mime_name(part, p->name) : CURLE_OUT_OF_MEMORY;
        if (rc == CURLE_OK && p->file != NULL)
            rc = curl_mime_filedata(part, p->file);
        else if (rc == CURLE_OK)
            rc = curl_mime_data(part, p->value ? p->value : "", CURL_ZERO_TERMINATED);
        if (rc != CURLE_OK) {
            as_err_set(err, "%s: form field '%s'%s%s: %s", req->url, p->name,
                       p->file ? ", file " : "", p->file ? p->file : "", curl_easy_strerror(rc));
            curl_mime_free(mime);
            return NULL;
        }
    }
    return mime;
}

int as_httpc_request(as_httpc_t *c, const as_httpc_req_t *req, as_httpc_resp_t *resp, as_err_t *err)
{
    memset(resp, 0, sizeof(*resp));
    resp->retry_after_ms = -1;
    resp->error = AS_HTTPC_OTHER;
    int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms;

    /* A line break in a header would end the request's headers early (a
     * token from a file or variable with a trailing newline: the peer got
     * an empty body, answered 200, and the notification counted as
     * delivered) or add headers of its own.  The sinks refuse such values
     * at load; this is the last guard. */
    int broken = req->bearer != NULL && strpbrk(req->bearer, "\r\n") != NULL;
    for (const char *const *x = req->headers; x != NULL && *x != NULL && !broken; x++)
        broken = strpbrk(*x, "\r\n") != NULL;
    CURL *h = broken ? NULL : as_httpc_borrow(c);
    if (h == NULL) { /* the URL named in errors only: never on the way of a request */
        char origin[300];
        as_httpc_origin(req->url, origin, sizeof(origin));
        if (broken)
            return as_err_set(err, "%s: a header value holds a line break: not sent", origin);
        if (as_curl_error[0] != '\0')
            return as_err_set(err, "%s: cannot load libcurl: %s", origin, as_curl_error);
        return as_err_set(err, "%s: cannot create a curl handle", origin);
    }

    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    curl_mime *mime = NULL;
    char *auth = NULL;

    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file != NULL) {
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    }
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "alertsink/" AS_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, as_httpc_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
    if (c->share != NULL)
        curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    if (req->basic != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, req->basic);
    }
    if (req->direct)
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");

    if (!as_httpc_has_header(req->headers, "Accept"))
        hdrs = curl_slist_append(hdrs, "Accept: application/json");
    /* A multipart body above curl's threshold would wait for "100 Continue",
     * which not every server sends; the body is small, just send it. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (req->bearer != NULL) {
        size_t n = strlen(req->bearer) + sizeof("Authorization: Bearer ");
        auth = as_xmalloc(n);
        snprintf(auth, n, "Authorization: Bearer %s", req->bearer);
        hdrs = curl_slist_append(hdrs, auth);
    }
    for (const char *const *x = req->headers; x != NULL && *x != NULL; x++)
        hdrs = curl_slist_append(hdrs, *x);
    if (req->parts != NULL) {
        mime = as_httpc_mime(h, req, err);
        if (mime == NULL)
            goto done;
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    } else if (req->json != NULL) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->json);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(req->json));
    } else if (req->body != NULL) {
        char ct[256];
        snprintf(ct, sizeof(ct), "Content-Type: %s",
                 req->content_type ? req->content_type : "application/octet-stream");
        hdrs = curl_slist_append(hdrs, ct);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    } else if (req->method != NULL && strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    /* POSTFIELDS makes a POST; any other method with a body is named. */
    if (req->method != NULL && strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    int64_t t0 = as_mono_ms();
    CURLcode rc = curl_easy_perform(h);
    resp->latency_ms = as_mono_ms() - t0;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->retry_after_ms = as_httpc_retry_after(h);
        resp->error = AS_HTTPC_OK;
    } else {
        resp->error = as_httpc_classify(rc);
        as_httpc_error_msg(err, req, resp->error, rc, errbuf, timeout);
    }

done:
    /* Options point into memory freed below: drop them before the handle
     * goes back to the pool. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_USERPWD, NULL); /* no password stays in a pooled handle */
    curl_mime_free(mime);
    curl_slist_free_all(hdrs);
    if (auth != NULL) {
        explicit_bzero(auth, strlen(auth)); /* the token does not linger in freed memory */
        free(auth);
    }
    as_httpc_return(c, h);
    return resp->error == AS_HTTPC_OK ? 0 : -1;
}

void as_httpc_resp_free(as_httpc_resp_t *resp)
{
    as_buf_free(&resp->body);
}

/* --- quoting answers ------------------------------------------------------ */

/* s[0..n) as one line into b: control characters and runs of blanks
 * become one space (none at either end), bytes that are not UTF-8 '?'. */
static void as_httpc_oneline(as_buf_t *b, const char *s, size_t n)
{
    int space = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t cl = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (c < 0x20 || c == 0x7f || c == ' ') {
            space = b->len > 0;
            i++;
            continue;
        }
        if (space)
            as_buf_putc(b, ' ');
        space = 0;
        if (cl > 1 && (cl > n - i || !as_utf8_valid(s + i, cl))) {
            as_buf_putc(b, '?');
            i++;
            continue;
        }
        as_buf_append(b, s + i, cl);
        i += cl;
    }
}

void as_httpc_excerpt(const as_buf_t *body, char *out, size_t len)
{
    if (len == 0)
        return;
    out[0] = '\0';
    if (body->len == 0)
        return;
    const char *text = body->data;
    size_t n = body->len;
    cJSON *ans = NULL;
    size_t lead = strspn(text, " \t\r\n");
    if (lead < n && text[lead] == '{') {
        as_err_t err;
        ans = as_json_parse(text, n, &err);
        static const char *const names[] = {"message", "error", "detail", NULL};
        const char *msg = NULL;
        for (const char *const *k = names; msg == NULL && *k != NULL; k++)
            msg = as_json_str(ans, *k);
        if (msg == NULL)
            msg = as_json_str(as_json_obj(ans, "error"), "message");
        if (msg != NULL) {
            text = msg;
            n = strlen(msg);
        }
    }
    /* Enough of the body to fill out even if it is mostly blanks. */
    if (n > 16 * len + 64)
        n = 16 * len + 64;
    as_buf_t b = AS_BUF_INIT;
    as_httpc_oneline(&b, text, n);
    cJSON_Delete(ans);
    /* Secrets hidden before the cut: a peer that quotes a long token back
     * (Graph's "Malformed access token ...") had it cut first, and the
     * cut token no longer matched. */
    if (b.len > 0) {
        as_buf_reserve(&b, 4 * b.len + 64);
        as_log_redact(b.data, b.cap);
        b.len = strlen(b.data);
    }
    if (b.len < len) {
        memcpy(out, b.data ? b.data : "", b.len + 1);
    } else if (len > 4) {
        size_t cut = len - 4;
        while (cut > 0 && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
            cut--; /* never inside a character */
        memcpy(out, b.data, cut);
        memcpy(out + cut, "...", 4);
    } else {
        out[0] = '\0';
    }
    as_buf_free(&b);
}
