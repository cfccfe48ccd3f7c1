/*
 * err.c - errors as values (see alertsink/api.h): one formatted message
 * in a caller's buffer, which the caller shows with more context.
 */
#include <stdarg.h>
#include <stdio.h>

#include "alertsink/api.h"

int as_err_set(as_err_t *err, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}
