/*
 * alertsink/metrics.h - counters a module adds to GET /metrics.
 *
 * A module registers a counter family once (in init; a reload registers
 * it again and gets the same family back) and adds to it from any thread
 * without a lock.  Its series appear on /metrics as
 * alertsink_MODULE_NAME{label="value",...} with the family's help text, in
 * the Prometheus text format.  Label values should come from the
 * configuration (receiver names, hosts), not from traffic, so that the
 * number of series stays bounded.
 */
#ifndef ALERTSINK_METRICS_H
#define ALERTSINK_METRICS_H

#include "alertsink/api.h"
#include "alertsink/buf.h"

typedef struct as_counter_s as_counter_t;

/*
 * The counter alertsink_<module>_<name> with up to three labels (label2,
 * label3 may be NULL).  name must be [a-zA-Z_][a-zA-Z0-9_]* and should end
 * in _total.  NULL with err when the name is invalid, the family exists
 * with other labels, or the table is full.
 */
AS_API as_counter_t *as_metrics_counter(const char *module, const char *name, const char *help,
                                        const char *label1, const char *label2, const char *label3,
                                        as_err_t *err);
/* Add v to the series of these label values (NULL for unused labels). */
AS_API void as_counter_add(as_counter_t *c, const char *v1, const char *v2, const char *v3, long v);

/* The whole exposition, for an input that serves GET /metrics. */
AS_API void as_metrics_expose(as_buf_t *out);

#endif /* ALERTSINK_METRICS_H */
