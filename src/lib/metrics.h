/*
 * metrics.h - counters and a latency histogram for GET /metrics, in the
 * Prometheus text format (names and types `promtool check metrics`
 * accepts).  Series are created on first use and never removed; updates
 * take one short mutex.
 */
#ifndef AS_METRICS_H
#define AS_METRICS_H

#include "lib/buf.h"

typedef enum {
    AS_M_RECEIVED = 0, /* by input */
    AS_M_QUEUED,       /* by input: on disk */
    AS_M_DELIVERED,    /* by receiver, channel */
    AS_M_FAILED,       /* by receiver, channel: attempts that failed */
    AS_M_FALLBACK,     /* by receiver, channel: deliveries by the fallback */
    AS_M_ATTEMPTS,     /* by receiver, channel, result */
    AS_M_DEAD,         /* by receiver */
    AS_M_DEDUPED,      /* by receiver */
    AS_M_MUTED,        /* by receiver */
    AS_M_REJECTED,     /* by input, reason: inputs that refused a request */
    AS_M_COUNTERS
} as_metric_t;

/* Add v to a counter series; unused labels NULL. */
void as_metrics_count(as_metric_t m, const char *l1, const char *l2, const char *l3, long v);
/* Observe one delivery latency (accepted -> delivered), by channel. */
void as_metrics_latency(const char *channel, double seconds);
/* Append the exposition; queue depths come from the caller (spool counts). */
void as_metrics_render(as_buf_t *out, const long long depth[], const char *const names[],
                       int nstates);
void as_metrics_reset(void); /* tests */

#endif
