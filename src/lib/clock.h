/*
 * clock.h - the clock functions only the core uses, beside the public ones
 * of alertsink/clock.h: writing a point in time without gmtime_r or
 * printf, for the paths every notification takes (the outbox line's
 * time, a template's "since").
 */
#ifndef AS_LIB_CLOCK_H
#define AS_LIB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "alertsink/clock.h"

typedef enum {
    AS_TIME_RFC3339,    /* 2026-11-24T13:46:31Z */
    AS_TIME_RFC3339_MS, /* 2026-11-24T13:46:31.697Z */
    AS_TIME_HUMAN,      /* 2026-11-24 13:46:31 UTC */
} as_time_style_t;

/* Write ms since the epoch, in UTC, into buf (at least 32 bytes); returns
 * the length, 0 (and "") when the year is not within 0000-9999. */
size_t as_time_format(int64_t ms, as_time_style_t style, char *buf, size_t size);

/* as_rfc3339_parse() to the nanosecond: seconds since the epoch and the
 * nanoseconds after them (digits beyond nine are dropped). */
int as_rfc3339_parse_ns(const char *s, int64_t *sec, int32_t *nsec);

#endif
