/*
 * alertsink/input.h - what an input needs from the core: turning a body
 * into a notification, submitting it, and knowing whether the core can
 * take work at all.
 *
 * An input parses what arrives (as_payload_parse() for JSON bodies,
 * as_payload_parse_or_text() for lines that may be plain text) into the
 * Alertmanager webhook v4 shape and submits it.  as_submit() returns at
 * once; done() is called, from a core thread, once the payload is on disk
 * (AS_SUBMIT_OK, id set) or refused: an input answers its client only
 * then, so that an answered OK means a notification that survives a crash.
 */
#ifndef ALERTSINK_INPUT_H
#define ALERTSINK_INPUT_H

#include <cjson/cJSON.h>

#include "alertsink/api.h"
#include "alertsink/mem.h"

typedef enum {
    AS_SUBMIT_OK = 0,
    AS_SUBMIT_FULL,        /* spool.max_size reached: 503 / ERR spool full */
    AS_SUBMIT_STOPPING,    /* not accepting: shutting down: 503 */
    AS_SUBMIT_NO_RECEIVER, /* submission named a receiver that does not exist: 404 */
    AS_SUBMIT_IO_ERROR,    /* the spool could not be written (disk full, I/O error): 503 */
    AS_SUBMIT_STARTING,    /* not accepting yet: the spool is being recovered: 503 */
} as_submit_status_t;
/* Every status but AS_SUBMIT_OK is a refusal; an input answers one it does
 * not know as it answers AS_SUBMIT_IO_ERROR. */

enum {
    AS_SUB_GROUPED = 1 << 0,  /* an Alertmanager group: never held back by group_wait */
    AS_SUB_VERBATIM = 1 << 1, /* the payload is the parsed text as it came (raw may be used) */
};

typedef struct as_submission_s {
    const char *input; /* "http", "unix", "stdin": for logs and metrics */
    cJSON *payload;    /* owned by the core once submitted */
    /* The pool the payload was parsed into (as_payload_parse), owned by
     * the core once submitted and released with the notification; NULL:
     * the payload is on the heap. */
    as_pool_t *pool;
    /* With AS_SUB_VERBATIM: the JSON text the payload was parsed from,
     * stored in the spool as it came instead of being printed again.
     * Read during as_submit() only. */
    const char *raw;
    size_t raw_len;
    const char *receiver; /* deliver straight to it, skipping routing; NULL = route */
    unsigned flags;       /* AS_SUB_*, as the parser set them */
} as_submission_t;

/* An id handed to done() is shorter than this, its NUL included. */
#define AS_SUBMIT_ID_MAX 40

typedef void (*as_submit_done_pt)(void *arg, as_submit_status_t status, const char *id);

AS_API void as_submit(as_submission_t *sub, as_submit_done_pt done, void *arg);
/* "queued", "spool full", "shutting down", ...: for answers and logs. */
AS_API const char *as_submit_status_text(as_submit_status_t status);
/* What an input says when it has no room for one more connection (the
 * Unix socket's "ERR too many clients"): the daemon's state, as the texts
 * above, not a fault of what was sent. */
#define AS_INPUT_BUSY "too many clients"
/* Count a request the input refused before submitting it
 * (alertsink_rejected_total{input, reason}); reason is a short label:
 * "malformed", "unauthorized", "too_large". */
AS_API void as_submit_rejected(const char *input, const char *reason);

/*
 * Can the core take work now?  1 when it accepts and the spool is open,
 * writable and not full; else 0 with why ("not accepting: starting",
 * "not accepting: shutting down", "spool not writable: ...", "spool full
 * (...)", "spool stalled: ...", "the last spool write failed: ...").
 * For health checks: it never writes itself, and waits 100 ms at most for
 * the core to probe the spool when nothing was written for a second.
 */
AS_API int as_core_ready(char *why, size_t len);

/* Parse and validate a JSON body into the Alertmanager shape: a webhook
 * payload (kept as it came: *flags has AS_SUB_GROUPED, and
 * AS_SUB_VERBATIM when nothing had to be filled in) or one alert or an
 * array of alerts (wrapped: *flags 0).  The tree is allocated in pool
 * (create one per request with as_pool_create() and hand it to
 * as_submit() with the payload), or on the heap with pool NULL.  Errors
 * name the first bad field by its path: "alerts[2].labels: expected
 * object". */
AS_API cJSON *as_payload_parse(as_pool_t *pool, const char *json, size_t len, unsigned *flags,
                               as_err_t *err);
/* The same for input that may be plain text: JSON when its first
 * non-blank byte is { or [ (then it must parse), else a message. */
AS_API cJSON *as_payload_parse_or_text(as_pool_t *pool, const char *data, size_t len,
                                       unsigned *flags, as_err_t *err);

#endif /* ALERTSINK_INPUT_H */
