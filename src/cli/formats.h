/*
 * formats.h - what `alertsink send` reads on stdin (docs/inputs.md), turned
 * into the one notification model of route/payload.h.
 *
 *   json      an Alertmanager payload, an alert object or an array of them
 *   text      the whole input is the message of one alert without labels
 *   nagios    a Nagios / Icinga notification command: NAGIOS_* or ICINGA_*
 *             environment variables; stdin, if any, is the message
 *   collectd  NotificationExec's "Key: value" header lines, a blank line,
 *             then the message
 *   auto      JSON when the input starts with '{' or '[' (invalid JSON is
 *             then a rejection, not text), collectd when the header block
 *             has Severity and Time, nagios when NAGIOS_NOTIFICATIONTYPE or
 *             ICINGA_NOTIFICATIONTYPE is set, else text
 *
 * The environment is passed in (envp, as main's third argument or environ)
 * so that nothing here depends on the process's own.  A rejection comes
 * back as NULL with a message naming the format and the first problem;
 * `send` maps it to exit code 4.
 */
#ifndef AS_FORMATS_H
#define AS_FORMATS_H

#include <stdio.h>

#include "route/payload.h"

typedef enum {
    AS_FORMAT_AUTO = 0,
    AS_FORMAT_JSON,
    AS_FORMAT_TEXT,
    AS_FORMAT_NAGIOS,
    AS_FORMAT_COLLECTD,
} as_format_t;

/* "auto", "json", ...: -1 when the name is unknown. */
int as_format_from_name(const char *name, as_format_t *format);
const char *as_format_name(as_format_t format);

/* Turn len bytes of input into a payload.  envp: NULL-terminated
 * "NAME=value" strings, may be NULL.  opts: --label/--title/--severity,
 * may be NULL.  *used (optional): the format auto chose.  *grouped
 * (optional): 1 for an Alertmanager payload, as as_payload_parse(). */
cJSON *as_format_read(as_format_t format, const char *data, size_t len, char *const *envp,
                      const as_payload_opts_t *opts, as_format_t *used, int *grouped,
                      as_err_t *err);

/* The same from a stream read to its end; more than max bytes (0: no
 * limit) is a rejection.  A read error is reported the same way. */
cJSON *as_format_read_stream(as_format_t format, FILE *in, size_t max, char *const *envp,
                             const as_payload_opts_t *opts, as_format_t *used, int *grouped,
                             as_err_t *err);

#endif
