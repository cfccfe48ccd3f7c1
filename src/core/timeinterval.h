/*
 * timeinterval.h - Alertmanager's time_intervals: named sets of times of
 * day, weekdays, days of the month (negative counts from the end), months
 * and years, each in a location (time zone from the system's zoneinfo).
 */
#ifndef AS_TIMEINTERVAL_H
#define AS_TIMEINTERVAL_H

#include <time.h>

#include "alertsink/module.h"

typedef struct as_time_interval_s {
    char *name;
    const as_node_t *node;
    as_array_t ranges; /* the time_intervals: entries */
} as_time_interval_t;

/* Field: as_array_t of as_time_interval_t. */
extern const as_conf_type_t as_conf_time_intervals;

/* Is t inside any of the interval's entries?  Thread-safe. */
int as_time_interval_contains(const as_time_interval_t *ti, time_t t);

#endif
