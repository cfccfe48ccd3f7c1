/*
 * alertsink/clock.h - the two clocks alertsink reads (and a sleep in milliseconds),
 * and RFC 3339, the one way it writes and reads a point in time.
 *
 * Both clocks count milliseconds in an int64_t.  Wall time (as_now_ms,
 * CLOCK_REALTIME) is for what outlives the process or is shown to people:
 * spool ids, when a notification was accepted and is due, startsAt, the
 * time of a line in the log or the file sink.  Monotonic time (as_mono_ms,
 * CLOCK_MONOTONIC) is for intervals inside one process: timeouts,
 * deadlines, latencies; it does not jump when the wall clock is set, and
 * means nothing outside the process.
 *
 * Time stamps are RFC 3339 in UTC with milliseconds,
 * 2026-11-25T12:00:00.123Z; what is read is any RFC 3339 date-time that
 * Go's time.Parse(time.RFC3339) takes, as Alertmanager writes them.
 */
#ifndef ALERTSINK_CLOCK_H
#define ALERTSINK_CLOCK_H

#include "alertsink/api.h"

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the epoch. */
AS_API int64_t as_now_ms(void);
/* Milliseconds on the monotonic clock: for differences only. */
AS_API int64_t as_mono_ms(void);
/* Sleep ms milliseconds (none when ms <= 0), all of them: a signal that
 * interrupts the sleep does not cut it short. */
AS_API void as_sleep_ms(int64_t ms);

/* Format ms since the epoch as RFC 3339 UTC with milliseconds into buf
 * (at least 32 bytes): 2026-11-24T13:46:31.697Z.  Returns buf. */
AS_API char *as_rfc3339_ms(int64_t ms, char *buf, size_t size);
/* An RFC 3339 date-time (section 5.6: 2006-01-02T15:04:05.999Z, or with
 * an offset) to ms since the epoch; -1 when s is not one. */
AS_API int as_rfc3339_parse(const char *s, int64_t *ms);
/* Is s an RFC 3339 date-time? */
AS_API int as_rfc3339_valid(const char *s);

#endif /* ALERTSINK_CLOCK_H */
