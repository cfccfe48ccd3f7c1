/*
 * backoff.c - the one retry policy (see backoff.h, docs/delivery.md).
 *
 * Each channel backs off on its own.  The jitter keeps many notifications
 * that failed together (a peer that was down) from retrying together.
 */
#include <stdlib.h>

#include "deliver/backoff.h"

#define AS_BACKOFF_FIRST_MS 1000
#define AS_BACKOFF_MAX_MS   300000
/* A peer's Retry-After (or a module's retry_after_ms) is honoured up to a
 * day: a larger one (a module's INT64_MAX) overflowed the time it was
 * added to into the past, and the channel was retried in a loop. */
#define AS_BACKOFF_AFTER_MAX_MS (24LL * 3600 * 1000)

int64_t as_backoff_ms(int attempts, int64_t retry_after_ms)
{
    int64_t base = AS_BACKOFF_FIRST_MS;
    for (int i = 1; i < attempts && base < AS_BACKOFF_MAX_MS; i++)
        base *= 2;
    if (base > AS_BACKOFF_MAX_MS)
        base = AS_BACKOFF_MAX_MS;
    /* ±20 %: random() is enough for spreading retries, and thread-safe in glibc. */
    double jitter = 0.8 + 0.4 * ((double)random() / (double)RAND_MAX);
    int64_t ms = (int64_t)((double)base * jitter);
    if (retry_after_ms > AS_BACKOFF_AFTER_MAX_MS)
        retry_after_ms = AS_BACKOFF_AFTER_MAX_MS;
    return retry_after_ms > ms ? retry_after_ms : ms;
}
