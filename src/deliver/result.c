/*
 * result.c - what a sink answers (see alertsink/sink.h): the result of one
 * attempt, its reason cut to fit and free of secrets.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alertsink/log.h"
#include "alertsink/sink.h"

void as_result_set(as_result_t *res, as_outcome_t outcome, int status, const char *fmt, ...)
{
    res->outcome = outcome;
    res->status = status;
    /* Redacted, then cut to fit: cut first, a secret longer than what was
     * left of the room (a webhook URL with a token) no longer matched and
     * was logged but for its end.  Cut at a character's start: half a
     * character made the note's spool file unreadable. */
    char tmp[8 * sizeof(res->reason)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap); /* the arguments may point into res->reason */
    va_end(ap);
    as_log_redact(tmp, sizeof(tmp));
    size_t len = strlen(tmp);
    if (len >= sizeof(res->reason)) {
        len = sizeof(res->reason) - 1;
        while (len > 0 && ((unsigned char)tmp[len] & 0xc0) == 0x80)
            len--; /* tmp[len], the first byte cut, continues a character */
    }
    memcpy(res->reason, tmp, len);
    res->reason[len] = '\0';
}

const char *as_outcome_name(as_outcome_t o)
{
    static const char *const names[] = {"delivered", "transient", "permanent", "unavailable"};
    return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "permanent";
}
