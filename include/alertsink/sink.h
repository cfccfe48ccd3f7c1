/*
 * alertsink/sink.h - what a sink receives and answers: one notification,
 * its rendered message, and the result of one delivery attempt.
 *
 * The core routes, groups, renders and schedules; a sink's deliver() is
 * called from a delivery worker with finished text and answers one of four
 * results (docs/delivery.md tells what the core does with each); a sink
 * with deliver_batch() gets a worker's whole batch for it at once and
 * answers one result per notification:
 *
 *   AS_DELIVERED    the peer took it.
 *   AS_TRANSIENT    try this channel again later: after the core's backoff,
 *                   or retry_after_ms when that is longer (a 5xx, a 429
 *                   with Retry-After, a timeout, a broken connection).
 *   AS_UNAVAILABLE  this channel cannot deliver now (the WhatsApp device is
 *                   disconnected): the next channel of the receiver's chain
 *                   takes over at once; when there is none, it is retried
 *                   like a transient failure, never given up at once.
 *   AS_PERMANENT    this channel will never deliver this notification (a
 *                   4xx, a refused login): the next channel takes over, and
 *                   when every channel failed so, it goes to dead/.
 *
 * A sink may also render templates of its own (as_template_*()),
 * with the same context the core renders its message with.
 */
#ifndef ALERTSINK_SINK_H
#define ALERTSINK_SINK_H

#include <cjson/cJSON.h>

#include "alertsink/api.h"

typedef struct as_notification_s {
    const char *id;        /* spool id, unique and time-ordered ("20261205T…-ab12") */
    const char *receiver;  /* receiver name */
    const char *channel;   /* the channel key being attempted */
    const char *status;    /* "firing" or "resolved" */
    const char *group_key; /* receiver-scoped group key */
    int64_t accepted_ms;   /* when an input accepted it (ms since the epoch) */
    int attempt;           /* 1 on the first attempt on this channel */
    int in_doubt;          /* an earlier attempt may have succeeded before a crash */
    const cJSON *data;     /* the Alertmanager-shaped payload (webhook v4), as routed */
    const cJSON *context;  /* the template context built from data (docs/templates.md) */
    const void *core;      /* the core's, for as_template_render() */
} as_notification_t;

typedef struct as_message_s {
    const char *text; /* the whole rendered text (not HTML-escaped); NULL: no template */
    size_t nparts;    /* text split at max_length; 1 part = text */
    const char *const *parts;
    const char *html;    /* HTML part, for sinks with AS_SINK_HTML; else NULL */
    const char *subject; /* one line, for sinks with AS_SINK_SUBJECT; else NULL */
} as_message_t;

typedef enum {
    AS_DELIVERED = 0,
    AS_TRANSIENT,   /* retry later (backoff, or retry_after_ms if longer) */
    AS_PERMANENT,   /* this channel will never deliver it: next channel, then dead/ */
    AS_UNAVAILABLE, /* this channel cannot deliver now: next channel at once, retried */
} as_outcome_t;

typedef struct as_result_s {
    as_outcome_t outcome;
    int64_t retry_after_ms; /* transient: the peer asked to wait this long (Retry-After) */
    int status;             /* protocol status for logs (HTTP 200, SMTP 250), 0 = none */
    char reason[512];       /* why it failed, or a note (a rejected recipient); no secrets */
} as_result_t;

/*
 * One notification of a batch handed to a sink's deliver_batch()
 * (module.h): what deliver() takes, and the result to fill in.
 */
typedef struct as_delivery_s {
    const void *channel; /* the receiver's channel configuration */
    const as_notification_t *n;
    const as_message_t *msg;
    as_result_t *res; /* zeroed; the sink fills it */
} as_delivery_t;

/* Set outcome, status and a reason (printf-style, cut to fit, registered
 * secrets redacted). */
AS_API void as_result_set(as_result_t *res, as_outcome_t outcome, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "delivered", "transient", "permanent", "unavailable": for logs. */
AS_API const char *as_outcome_name(as_outcome_t o);

/*
 * Every sink's per-receiver configuration struct starts with this header;
 * its keys "template", "subject" and "max_length" (when the sink declares
 * them) point into it.  The core compiles and renders the templates, so a
 * sink receives finished text.
 */
/* The smallest max_length a split can keep: a part's "(NNN/NNN) " and one
 * character of 4 bytes.  Below it every part came out longer than asked. */
#define AS_SPLIT_MIN 16

/* The longest channel key (module.h: as_module_t.channel_key). */
#define AS_CHANNEL_KEY_MAX 23

typedef struct as_channel_conf_s {
    char *template;     /* template name; NULL = the module's default_template */
    char *subject;      /* subject template source; NULL = the built-in one */
    int64_t max_length; /* split longer texts into numbered parts; 0 = never */
} as_channel_conf_t;

enum {
    AS_SINK_HTML = 1 << 0,    /* render an HTML part too */
    AS_SINK_SUBJECT = 1 << 1, /* render a subject line */
    AS_SINK_JSON = 1 << 2,    /* the text is JSON: {{x}} is escaped as inside a JSON string */
};

/* How a render escapes {{x}}; {{{x}}} and {{& x}} are never escaped. */
enum {
    AS_ESCAPE_NONE = 0, /* plain text: WhatsApp, an email's text part, a subject */
    AS_ESCAPE_HTML = 1, /* & < > " ' as entities: an email's HTML part, the spec's default */
    AS_ESCAPE_JSON = 2, /* " \ and control characters as in a JSON string, quotes not added */
};

/* A template a module ships: used when templates.dir has no NAME.mustache
 * (a file there overrides it).  Tables end with {NULL, NULL}. */
typedef struct as_template_src_s {
    const char *name; /* "whatsapp", "email.html", "email.subject" */
    const char *text;
} as_template_src_t;

/* A Mustache template compiled by a module (e.g. from its configuration). */
typedef struct as_template_s as_template_t;

/* Compile src; where names it in errors ("FILE:LINE:COL: params[0]"). */
AS_API as_template_t *as_template_compile(const char *src, const char *where, as_err_t *err);
AS_API void as_template_free(as_template_t *t);
/* Render t with n's context (partials from templates.dir and the modules'
 * templates).  escape: how {{x}} is escaped, an AS_ESCAPE_ value.  A
 * malloc'd string, or NULL with err when the template cannot finish (a
 * runaway recursion). */
AS_API char *as_template_render(const as_template_t *t, const as_notification_t *n, int escape,
                                as_err_t *err);

#endif /* ALERTSINK_SINK_H */
