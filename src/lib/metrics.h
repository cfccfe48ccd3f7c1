/*
 * metrics.h - the metrics registry behind GET /metrics, in the Prometheus
 * text format (names and types `promtool check metrics` accepts).
 *
 * Counters come in families (a name, a help text, up to three label
 * names); the core's own families are fixed (as_metric_t), modules add
 * theirs through alertsink/metrics.h.  Series are created on first use and
 * never removed.  Gauges that are read when /metrics is asked for (queue
 * depth, process figures) come from collectors.
 */
#ifndef AS_LIB_METRICS_H
#define AS_LIB_METRICS_H

#include "alertsink/metrics.h"

typedef enum {
    AS_M_RECEIVED = 0, /* by input */
    AS_M_QUEUED,       /* by input: on disk */
    AS_M_DELIVERED,    /* by receiver, channel */
    AS_M_FAILED,       /* by receiver, channel: attempts that failed */
    AS_M_FALLBACK,     /* by receiver, channel: deliveries by a later channel of the chain */
    AS_M_ATTEMPTS,     /* by receiver, channel, result */
    AS_M_DEAD,         /* by receiver */
    AS_M_DEDUPED,      /* by receiver */
    AS_M_MUTED,        /* by receiver */
    AS_M_REJECTED,     /* by input, reason: inputs that refused a request */
    AS_M_COUNTERS
} as_metric_t;

/* Add v to a series of one of the core's counters; unused labels NULL. */
void as_metrics_count(as_metric_t m, const char *l1, const char *l2, const char *l3, long v);
/* Observe one delivery latency (accepted -> delivered), by channel. */
void as_metrics_latency(const char *channel, double seconds);

/* A collector appends gauges (with their HELP and TYPE lines) to the
 * exposition; registered once per process, run in order. */
typedef void (*as_metrics_collector_pt)(as_buf_t *out);
void as_metrics_collector(as_metrics_collector_pt fn);

/* Is s a Prometheus label name, [a-zA-Z_][a-zA-Z0-9_]* (Go's
 * model.LabelName.IsValid(), what Alertmanager 0.25 accepts in labels and
 * group_by)?  Metric and module names follow the same rule here. */
int as_label_name_valid(const char *s);
/* Append one label pair, escaped as the text format requires. */
void as_metrics_label(as_buf_t *out, const char *name, const char *value);

void as_metrics_reset(void); /* tests: forget every series */

#endif
