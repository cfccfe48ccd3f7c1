/*
 * backoff.h - the one retry policy: when a channel that failed for now is
 * tried again (see backoff.c).
 */
#ifndef AS_BACKOFF_H
#define AS_BACKOFF_H

#include <stdint.h>

/* The wait after the attempts-th failed attempt, in ms: about 1 s after
 * the first, doubling up to 5 minutes, ±20 % jitter; a peer's Retry-After
 * (retry_after_ms) that asks for longer wins. */
int64_t as_backoff_ms(int attempts, int64_t retry_after_ms);

#endif
