/*
 * timeinterval.h - Alertmanager's time_intervals: named sets of times of
 * day, weekdays, days of the month (negative counts from the end), months
 * and years, each in a location (time zone from the system's zoneinfo).
 *
 * The YAML is Alertmanager's (timeinterval/timeinterval.go), with its
 * validation rules and messages, so a pasted time_intervals: block loads
 * unchanged.  Locations are loaded once with the configuration; evaluating
 * an interval reads immutable data only, so any thread may call
 * as_time_interval_contains() at any time (route.h: as_route_muted()).
 */
#ifndef AS_TIMEINTERVAL_H
#define AS_TIMEINTERVAL_H

#include <time.h>

#include "alertsink/module.h"
#include "lib/tz.h"

/* One range; times are minutes of the day, end excluded; the rest are
 * inclusive.  Weekdays count from Sunday = 0, months from January = 1. */
typedef struct as_ti_range_s {
    int begin, end;
} as_ti_range_t;

/* A field of an entry.  Unset (absent or null) matches anything; set to
 * an empty list ([]) it matches nothing, as in Alertmanager. */
typedef struct as_ti_field_s {
    int set;
    size_t n;
    as_ti_range_t *v;
} as_ti_field_t;

/* One entry of a time interval's time_intervals: list. */
typedef struct as_ti_entry_s {
    as_ti_field_t times, weekdays, days_of_month, months, years;
    const as_tz_t *location; /* NULL: UTC, Alertmanager's default */
    const as_node_t *node;
} as_ti_entry_t;

typedef struct as_time_interval_s {
    char *name;
    const as_node_t *node;
    as_array_t ranges; /* as_ti_entry_t: the time_intervals: entries */
    /* Why a route is muted, for the log line (see as_route_muted). */
    char *why_mute, *why_inactive;
} as_time_interval_t;

/* Field: as_array_t of as_time_interval_t ("time_intervals:" and the
 * deprecated top-level "mute_time_intervals:"). */
extern const as_conf_type_t as_conf_time_intervals;

/* Is t inside any of the interval's entries?  Thread-safe. */
int as_time_interval_contains(const as_time_interval_t *ti, time_t t);

#endif
