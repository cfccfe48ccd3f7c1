/*
 * graph.h - the client of Meta's Graph API for the WhatsApp Business
 * Cloud API, shared by the whatsapp_cloud sink and `alertsink wa-cloud`.
 *
 * Two calls: POST {base_url}/{api_version}/{phone_number_id}/messages (one
 * message to one recipient) and GET {base_url}/{api_version}/{phone_number_id}
 * (the sending number's display number and quality rating).  Both carry
 * Authorization: Bearer TOKEN.
 *
 * Answers are read by the Graph API's error.code first, as Meta advises,
 * then by the HTTP status:
 *
 *   190                               permanent: the token expired or was
 *                                     revoked (the reason says how to make a
 *                                     new one, and never holds the token)
 *   2, 4, 80007, 130429, 131056       transient: Meta is busy, or a rate
 *                                     limit (account, throughput, or this
 *                                     recipient) was reached
 *   131047                            permanent for that recipient: outside
 *                                     the 24-hour window, only a template
 *                                     message may go
 *   131026                            permanent for that recipient: not
 *                                     deliverable (no WhatsApp, old app, ...)
 *   other codes, no code              429 and 5xx transient, 408 too, other
 *                                     statuses permanent
 *
 * A transient result carries the answer's Retry-After.  Reasons hold the
 * code, Meta's message and details, redacted (alertsink/sink.h).  The
 * user's side of all this is docs/channels.md.
 */
#ifndef AS_GRAPH_H
#define AS_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "alertsink/module.h"

#define AS_GRAPH_TOKEN_EXPIRED 190

/* The account a message is sent with. */
typedef struct as_graph_account_s {
    char *phone_number_id; /* digits: the id of the sending number, not the number */
    char *token;           /* a System User's access token */
    char *base_url;        /* "https://graph.facebook.com", no trailing slash needed */
    char *api_version;     /* "v24.0" */
    int64_t timeout;       /* ms, bounds each request */
} as_graph_account_t;

/* What GET /{api_version}/{phone_number_id} says of the number. */
typedef struct as_graph_phone_s {
    char display_phone_number[64];
    char verified_name[160];
    char quality_rating[32]; /* GREEN, YELLOW, RED, UNKNOWN */
} as_graph_phone_t;

/* The body of a text message to one recipient (digits), printed by
 * cJSON: freed with cJSON_free(). */
char *as_graph_text_json(const char *to, const char *text);
/* The body of a template message: name, language code, and one text
 * parameter of the body component per entry of params (as given: see
 * as_graph_param()).  Freed with cJSON_free(). */
char *as_graph_template_json(const char *to, const char *name, const char *language,
                             char *const *params, size_t nparams);
/* A rendered template parameter as the Graph API takes it: one line (Meta
 * refuses new lines, tabs and more than four spaces in a row), at most
 * AS_GRAPH_PARAM_MAX bytes (cut at a character, with "..."), and "-" when
 * it is empty (an empty parameter is refused too).  Malloc'd. */
#define AS_GRAPH_PARAM_MAX 500
char *as_graph_param(const char *rendered);

/*
 * Read an answer into res (outcome, status, retry_after_ms, reason) by the
 * rules above.  Returns the Graph API error code, 0 when there is none.
 */
long as_graph_classify(long status, const as_buf_t *body, int64_t retry_after_ms, as_result_t *res);

/* POST .../messages with json.  Returns 0 when delivered, else -1; res
 * says why, *code is the Graph API error code (0: none). */
int as_graph_send(as_httpc_t *http, const as_graph_account_t *a, const char *json, as_result_t *res,
                  long *code);

/* GET the number's details (`alertsink wa-cloud check`).  0 or -1 as above. */
int as_graph_phone(as_httpc_t *http, const as_graph_account_t *a, as_graph_phone_t *out,
                   as_result_t *res);

/* Is the account usable: every key set and well formed?  -1 with err
 * naming the key (prefix: "whatsapp_cloud" or "receiver 'x':
 * whatsapp_cloud"). */
int as_graph_account_check(const as_graph_account_t *a, const char *prefix, as_err_t *err);

#endif
