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
    char tmp[sizeof(res->reason)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap); /* the arguments may point into res->reason */
    va_end(ap);
    memcpy(res->reason, tmp, sizeof(tmp));
    as_log_redact(res->reason, sizeof(res->reason));
}

const char *as_outcome_name(as_outcome_t o)
{
    static const char *const names[] = {"delivered", "transient", "permanent", "unavailable"};
    return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "permanent";
}
