/*
 * tz.h - time zones from the system's zoneinfo, without the C library's
 * global time zone state.
 *
 * localtime_r() depends on the process-wide TZ variable and tzset(), so a
 * worker thread cannot ask "what time is it in Europe/Istanbul?" without
 * setenv("TZ") racing every other thread.  An as_tz_t is instead one zone
 * read once (at configuration load) from its TZif file (RFC 8536 / 9636,
 * versions 1 to 4) into an immutable object: transitions and their local
 * time types, and the POSIX TZ rule of the file's footer for instants past
 * the last transition.  Converting an instant reads that object and
 * nothing else, so any number of threads may use one zone at once, with no
 * lock.
 *
 * Names are Go's time.LoadLocation names, as Alertmanager takes them:
 * "UTC" (or "") is UTC, "Local" is the machine's zone ($TZ as glibc reads
 * it, else /etc/localtime, else UTC), anything else is a file under
 * /usr/share/zoneinfo ($TZDIR overrides the directory, as in glibc).
 */
#ifndef AS_TZ_H
#define AS_TZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "alertsink/module.h"

typedef struct as_tz_s as_tz_t;

/* Load a zone by name; NULL with err set ("unknown time zone X", ...). */
as_tz_t *as_tz_load(const char *name, as_err_t *err);
/* A zone from TZif bytes held in memory (tests, other sources). */
as_tz_t *as_tz_parse(const char *name, const unsigned char *data, size_t len, as_err_t *err);
/* A zone from a POSIX TZ string alone ("EST5EDT,M3.2.0,M11.1.0"). */
as_tz_t *as_tz_posix(const char *name, const char *spec, as_err_t *err);
void as_tz_free(as_tz_t *tz);

/* The name it was loaded by ("Europe/Istanbul", "Local", "UTC"). */
const char *as_tz_name(const as_tz_t *tz);

/*
 * The local time of instant t (seconds since the epoch, UTC) in tz:
 * every field of *tm, with tm_gmtoff (seconds east of UTC), tm_isdst and
 * tm_zone (the abbreviation; it belongs to tz).  -1 when t is so far from
 * now that the year does not fit an int.  tz NULL means UTC.  Thread-safe.
 */
int as_tz_localtime(const as_tz_t *tz, int64_t t, struct tm *tm);

int as_tz_days_in_month(int64_t year, int month); /* month 1-12 */
/* Days from 1970-01-01 to year-month-day, proleptic Gregorian. */
int64_t as_tz_days_from_civil(int64_t year, int month, int day);

#endif
