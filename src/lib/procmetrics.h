/*
 * procmetrics.h - two collectors for the metrics registry (metrics.h)
 * that the daemon registers: the process figures that Prometheus client
 * libraries export (process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds), and alertsink_build_info{version="..."} 1.
 */
#ifndef AS_PROCMETRICS_H
#define AS_PROCMETRICS_H

#include "lib/metrics.h"

void as_metrics_process(as_buf_t *out);
void as_metrics_build_info(as_buf_t *out);

#endif
