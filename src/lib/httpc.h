/*
 * httpc.h - what the HTTP client (httpc.c, over libcurl; its API is
 * alertsink/http.h) parses of an answer, apart from any request, for the
 * fuzz harness and the tests.
 */
#ifndef AS_LIB_HTTPC_H
#define AS_LIB_HTTPC_H

#include <stdint.h>

#include "alertsink/http.h"

/* A Retry-After further away than this is taken as this: a notification
 * expires (spool.max_age) long before, and the time it stands for can be
 * added to any instant without overflowing. */
#define AS_HTTPC_RETRY_AFTER_MAX (INT64_C(365) * 24 * 3600 * 1000)

/* A Retry-After header's value (RFC 9110 10.2.3: delay-seconds or an HTTP
 * date, read with curl_getdate) as milliseconds from now_ms (ms since the
 * epoch): 0 for a date past, at most AS_HTTPC_RETRY_AFTER_MAX; -1 when it
 * is neither. */
int64_t as_httpc_parse_retry_after(const char *value, int64_t now_ms);

#endif
