/*
 * alertsink/http.h - the one HTTP client of alertsink, a thin layer over
 * libcurl, for every sink that speaks HTTP (built-in or loaded).
 *
 * A client (as_httpc_t) keeps a few idle curl easy handles in a small pool
 * under a mutex: a request borrows one, so the connection it left open
 * (and its TLS session) is reused by the next request, from whatever
 * thread.  DNS answers and TLS sessions are also shared between the
 * handles.  TLS peer and host verification are always on.  One timeout
 * bounds the whole request, connect to last byte.
 *
 * A request carries a JSON body, a body of any content type, or a
 * multipart/form-data body (curl_mime, with file uploads); optionally a
 * bearer token and headers of its own.  TLS peers are verified against
 * the system's CAs, or only the client's ca_file when one is set.  The answer holds the
 * HTTP status, the body, the latency and Retry-After.  A request that got
 * no HTTP answer at all fails with a transport class (DNS, connect, TLS,
 * timeout, reset) and a message naming the host and what went wrong; the
 * caller decides what each class means to it.  libcurl is loaded at the
 * first request of the process (a libcurl that cannot be loaded fails the
 * request, AS_HTTPC_OTHER), so a sink includes no curl header.
 */
#ifndef ALERTSINK_HTTP_H
#define ALERTSINK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "alertsink/api.h"
#include "alertsink/buf.h"

typedef struct as_httpc_s as_httpc_t;

/* Why a request got no HTTP answer. */
typedef enum {
    AS_HTTPC_OK = 0,  /* an HTTP answer arrived (whatever its status) */
    AS_HTTPC_DNS,     /* the host name did not resolve */
    AS_HTTPC_CONNECT, /* the TCP connection was refused or unreachable */
    AS_HTTPC_TLS,     /* TLS handshake or certificate verification failed */
    AS_HTTPC_TIMEOUT, /* the whole request took longer than its timeout */
    AS_HTTPC_RESET,   /* the connection broke (reset, closed early, empty reply) */
    AS_HTTPC_OTHER,   /* anything else: bad URL, out of memory, unreadable upload */
} as_httpc_error_t;

/* One field of a multipart/form-data body: a value, or a file to upload. */
typedef struct as_httpc_part_s {
    const char *name;
    const char *value; /* NUL-terminated; ignored when file is set */
    const char *file;  /* path of a file to upload as this part, or NULL */
} as_httpc_part_t;

typedef struct as_httpc_req_s {
    const char *method; /* "GET", "POST", "PUT", ...; NULL = GET */
    const char *url;
    const char *bearer;         /* Authorization: Bearer <bearer>, or NULL */
    const char *basic;          /* "user:password": Authorization: Basic, or NULL */
    const char *const *headers; /* more "Name: value" lines, NULL-terminated, or NULL */
    const char *json;           /* JSON body (Content-Type: application/json), or NULL */
    const char *body;           /* a body of content_type, body_len bytes, or NULL */
    size_t body_len;
    const char *content_type;     /* of body; NULL = application/octet-stream */
    const as_httpc_part_t *parts; /* multipart/form-data body, or NULL */
    size_t nparts;
    int64_t timeout_ms; /* the whole request; <= 0: the client's default */
    int direct;         /* never through a proxy ($http_proxy): a local address */
} as_httpc_req_t;

typedef struct as_httpc_resp_s {
    as_httpc_error_t error;
    long status;            /* HTTP status; 0 when error != AS_HTTPC_OK */
    as_buf_t body;          /* the answer's body (owned; as_httpc_resp_free) */
    int64_t retry_after_ms; /* Retry-After (seconds or HTTP date; a year at most), -1 when absent */
    int64_t latency_ms;
} as_httpc_resp_t;

typedef struct as_httpc_opts_s {
    int64_t timeout_ms;  /* the default bound of a request; <= 0: 10 s */
    const char *ca_file; /* verify TLS peers against this PEM file only; NULL = system CAs */
} as_httpc_opts_t;

/* A client (no I/O yet); safe to use from several threads at once. */
AS_API as_httpc_t *as_httpc_create(const as_httpc_opts_t *opts);
AS_API void as_httpc_free(as_httpc_t *c);

/*
 * Run one request.  0 when an HTTP answer arrived (resp->status says which);
 * -1 when none did, with resp->error set and err holding a message such as
 * "POST http://host/path: timed out after 10000 ms".  Either way resp must be
 * freed with as_httpc_resp_free().
 */
AS_API int as_httpc_request(as_httpc_t *c, const as_httpc_req_t *req, as_httpc_resp_t *resp,
                            as_err_t *err);
AS_API void as_httpc_resp_free(as_httpc_resp_t *resp);

/*
 * What a server said, for a failure's reason: the message of a JSON
 * answer ("message", "error", "detail" or "error": {"message"}), else the
 * start of the body.  One line (control characters and runs of blanks
 * become one space, bytes that are not UTF-8 become '?'), at most len - 1
 * bytes, never cut inside a character ("..." marks a cut); "" when the
 * body says nothing.
 */
AS_API void as_httpc_excerpt(const as_buf_t *body, char *out, size_t len);

/* The version of libcurl, which the client loads at its first request
 * (this loads it too); NULL when it cannot be loaded. */
AS_API const char *as_httpc_curl_version(void);

#endif /* ALERTSINK_HTTP_H */
