/*
 * ratelimit.h - token buckets shared by every worker thread (and kept
 * across reloads): a bucket holds at most N tokens and gains N per period,
 * so "30/m" is a burst of 30, then one every 2 s.  What exceeds the limit
 * is not dropped: the caller learns how long to wait and reschedules.
 */
#ifndef AS_RATELIMIT_H
#define AS_RATELIMIT_H

#include <stdint.h>

#include "alertsink/conf.h"

/* Take a token from bucket key at now_ms: 0 if taken, else the ms to wait. */
int64_t as_ratelimit_take(const char *key, const as_rate_t *rate, int64_t now_ms);

#endif
