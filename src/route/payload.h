/*
 * payload.h - the one internal notification model: an Alertmanager webhook
 * payload (version 4), whatever the input.
 *
 * Every input ends as the JSON object Alertmanager POSTs to a webhook:
 *
 *   {"receiver", "status", "alerts": [{"status", "labels", "annotations",
 *    "startsAt", "endsAt", "generatorURL", "fingerprint"}, ...],
 *    "groupLabels", "commonLabels", "commonAnnotations", "externalURL",
 *    "version": "4", "groupKey", "truncatedAlerts"}
 *
 * An Alertmanager payload is validated and kept as it came (templates see
 * it unchanged); only what is missing is filled in.  A single alert, or an
 * array of them (docs/inputs.md: labels, annotations, status, title,
 * message, startsAt, endsAt, generatorURL), is validated the same way and
 * wrapped into one payload.  Plain text is an alert with a message and no
 * labels.  The stdin formats (nagios, collectd) build alerts of the second
 * kind and go through the same wrapping (see cli/formats.h).
 *
 * Entry points, one per input shape:
 *   as_payload_parse()          a JSON body (HTTP, `send` stdin)
 *   as_payload_parse_or_text()  a socket line: JSON if it starts with { or [,
 *                               else a plain-text message
 *   as_payload_from_text()      a plain-text message
 *   as_payload_from_alerts()    alerts built by a stdin format
 * Each returns a new cJSON tree, or NULL with err naming the first bad
 * field by its path.  The parsers build it in the pool they are given
 * (released with it; cJSON_Delete does nothing there) or, with NULL, on
 * the heap for the caller to cJSON_Delete.  Validation formats nothing
 * unless there is an error to report: a valid body costs no printf.
 */
#ifndef AS_PAYLOAD_H
#define AS_PAYLOAD_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "alertsink/input.h"

/* More alerts than this in one body is a rejection, not a notification. */
#define AS_PAYLOAD_MAX_ALERTS 10000

/* The alertname given to an alert that has none and no title either. */
#define AS_PAYLOAD_DEFAULT_ALERTNAME "Notification"

/* Alertmanager's endsAt of an alert that has not ended. */
#define AS_PAYLOAD_ZERO_TIME "0001-01-01T00:00:00Z"

/*
 * The options of `alertsink send` that apply to every alert
 * (docs/inputs.md).  They win over what the input says: --label k=v sets label k,
 * --severity S sets label severity, --title T sets the title (and the
 * summary annotation).
 */
typedef struct as_payload_opts_s {
    const char *const *labels; /* "name=value" strings */
    size_t nlabels;
    const char *title;    /* NULL = none */
    const char *severity; /* NULL = none */
    int64_t now_ms;       /* the time "now" stands for; 0 = the clock (tests fix it) */
} as_payload_opts_t;

/* Check the options alone, so the command line can tell a usage error
 * (exit 2) from a rejected input (exit 4). */
int as_payload_opts_check(const as_payload_opts_t *opts, as_err_t *err);

/* as_payload_parse() (alertsink/input.h) with options; opts may be NULL. */
cJSON *as_payload_parse_opts(as_pool_t *pool, const char *json, size_t len,
                             const as_payload_opts_t *opts, unsigned *flags, as_err_t *err);

/* A plain-text message: trailing white space is dropped, bytes that are
 * not UTF-8 become U+FFFD (a Latin-1 message is still worth delivering);
 * NUL bytes are errors, and so is empty text unless opts has a title. */
cJSON *as_payload_from_text(const char *text, size_t len, const as_payload_opts_t *opts,
                            as_err_t *err);

/* Does this input mean to be JSON: is its first non-blank byte '{' or
 * '['?  Such an input that does not parse is an error, never text
 * (docs/inputs.md: socket lines, `send --format auto`). */
int as_payload_looks_json(const char *data, size_t len);

/* Wrap alerts in the single-alert form (an array, consumed whatever the
 * outcome) into one payload; errors are prefixed with what. */
cJSON *as_payload_from_alerts(cJSON *alerts, const char *what, const as_payload_opts_t *opts,
                              as_err_t *err);

/* Alertmanager's model.LabelSet.Fingerprint: FNV-1a 64 over the names
 * sorted bytewise, each name and value followed by a 0xff byte.  labels
 * must be an object of strings. */
uint64_t as_labels_fingerprint(const cJSON *labels);

#endif
