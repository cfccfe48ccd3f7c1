/*
 * metrics.c - Prometheus counters, a histogram and gauge collectors (see
 * metrics.h and alertsink/metrics.h).
 *
 * A series is a family plus up to three label values.  Series are kept
 * in a dense array in the order they were made, found through an
 * open-addressing table of indexes: a daemon with a dozen series touches
 * one page of them, not a dozen pages of a sparse table.  The label
 * values are our own names (inputs, receivers, channels, results), so
 * cardinality is bounded by the configuration, not by traffic.  Families
 * are appended to a fixed table under the lock and never removed, so a
 * family index, once handed out, stays valid and readers need no lock.
 * The latency histogram's buckets are atomics too, one histogram per
 * channel, found without a lock.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "lib/metrics.h"

#define AS_SERIES_MAX     4096
#define AS_FAMILIES_MAX   64
#define AS_COLLECTORS_MAX 8
#define AS_LAT_BUCKETS    12

typedef struct {
    int m; /* family index */
    char *l[3];
    atomic_long value;
    atomic_int used; /* published: m and l[] are set and never change again */
} as_series_t;

typedef struct {
    const char *name, *help;
    const char *labels[3];
} as_family_t;

/* The core's families first, by as_metric_t; modules' after them. */
static as_family_t as_families[AS_FAMILIES_MAX] = {
    {"alertsink_received_total", "Requests received by an input.", {"input"}},
    {"alertsink_queued_total", "Notifications written to the spool.", {"input"}},
    {"alertsink_delivered_total", "Notifications delivered.", {"receiver", "channel"}},
    {"alertsink_failed_total", "Delivery attempts that failed.", {"receiver", "channel"}},
    {"alertsink_fallback_total",
     "Notifications delivered by the fallback channel.",
     {"receiver", "channel"}},
    {"alertsink_attempts_total", "Delivery attempts.", {"receiver", "channel", "result"}},
    {"alertsink_dead_total", "Notifications moved to dead/.", {"receiver"}},
    {"alertsink_deduplicated_total", "Notifications suppressed as duplicates.", {"receiver"}},
    {"alertsink_muted_total", "Notifications muted by a time interval.", {"receiver"}},
    {"alertsink_rejected_total", "Requests an input refused.", {"input", "reason"}},
};
static atomic_int as_nfamilies = AS_M_COUNTERS;

struct as_counter_s {
    int family;
};
static as_counter_t as_counters[AS_FAMILIES_MAX];

static as_metrics_collector_pt as_collectors[AS_COLLECTORS_MAX];
static size_t as_ncollectors;

static const double as_lat_bounds[AS_LAT_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10,  60};

typedef struct {
    char *channel;
    atomic_ulong buckets[AS_LAT_BUCKETS];
    atomic_ulong count;
    atomic_ulong sum_us;
} as_hist_t;

static pthread_mutex_t as_m_lock = PTHREAD_MUTEX_INITIALIZER;
static as_series_t as_series[AS_SERIES_MAX]; /* dense, in order of creation */
static atomic_int as_nseries;
static atomic_ushort as_slots[2 * AS_SERIES_MAX]; /* index + 1 of a series; 0: free */
static as_hist_t as_hists[16];
static atomic_int as_nhists;

static int as_streq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static unsigned as_hash(int m, const char *l[3])
{
    unsigned h = 2166136261u ^ (unsigned)m;
    for (int i = 0; i < 3; i++)
        for (const char *p = l[i]; p && *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static int as_series_is(const as_series_t *s, int m, const char *l[3])
{
    return s->m == m && as_streq(s->l[0], l[0]) && as_streq(s->l[1], l[1]) &&
           as_streq(s->l[2], l[2]);
}

/* Counting takes no lock once a series exists: the slots are probed
 * reading only published indexes, and the value is an atomic.  Creating
 * a series takes the lock, so two threads never fill one slot. */
static void as_family_add(int m, const char *l1, const char *l2, const char *l3, long v)
{
    const char *l[3] = {l1, l2, l3};
    unsigned h = as_hash(m, l);
    const unsigned nslots = 2 * AS_SERIES_MAX;
    for (unsigned i = 0; i < nslots; i++) {
        atomic_ushort *slot = &as_slots[(h + i) % nslots];
        unsigned idx = atomic_load_explicit(slot, memory_order_acquire);
        if (idx != 0) {
            as_series_t *s = &as_series[idx - 1];
            if (as_series_is(s, m, l)) {
                atomic_fetch_add_explicit(&s->value, v, memory_order_relaxed);
                return;
            }
            continue;
        }
        pthread_mutex_lock(&as_m_lock);
        if (atomic_load_explicit(slot, memory_order_relaxed) == 0) {
            int n = atomic_load(&as_nseries);
            if (n == AS_SERIES_MAX) { /* full: the count is lost, not the daemon */
                pthread_mutex_unlock(&as_m_lock);
                return;
            }
            as_series_t *s = &as_series[n];
            s->m = m;
            for (int k = 0; k < 3; k++)
                s->l[k] = l[k] ? as_xstrdup(l[k]) : NULL;
            atomic_store_explicit(&s->value, v, memory_order_relaxed);
            atomic_store_explicit(&s->used, 1, memory_order_release);
            atomic_store(&as_nseries, n + 1);
            atomic_store_explicit(slot, (unsigned short)(n + 1), memory_order_release);
            pthread_mutex_unlock(&as_m_lock);
            return;
        }
        pthread_mutex_unlock(&as_m_lock);
        i--; /* filled meanwhile: look at it again */
    }
}

void as_metrics_count(as_metric_t m, const char *l1, const char *l2, const char *l3, long v)
{
    as_family_add((int)m, l1, l2, l3, v);
}

int as_label_name_valid(const char *s)
{
    if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

as_counter_t *as_metrics_counter(const char *module, const char *name, const char *help,
                                 const char *label1, const char *label2, const char *label3,
                                 as_err_t *err)
{
    const char *labels[3] = {label1, label2, label3};
    char full[256];
    if (!as_label_name_valid(module) || !as_label_name_valid(name)) {
        as_err_set(err, "metric '%s' of module '%s': names are [a-zA-Z_][a-zA-Z0-9_]*",
                   name ? name : "", module ? module : "");
        return NULL;
    }
    for (int k = 0; k < 3; k++)
        if (labels[k] != NULL && !as_label_name_valid(labels[k])) {
            as_err_set(err, "metric %s_%s: invalid label name '%s'", module, name, labels[k]);
            return NULL;
        }
    snprintf(full, sizeof(full), "alertsink_%s_%s", module, name);
    pthread_mutex_lock(&as_m_lock);
    int n = atomic_load(&as_nfamilies);
    for (int i = 0; i < n; i++) {
        if (strcmp(as_families[i].name, full) != 0)
            continue;
        for (int k = 0; k < 3; k++)
            if (!as_streq(as_families[i].labels[k], labels[k])) {
                pthread_mutex_unlock(&as_m_lock);
                as_err_set(err, "metric %s is already registered with other labels", full);
                return NULL;
            }
        pthread_mutex_unlock(&as_m_lock);
        return &as_counters[i];
    }
    if (n == AS_FAMILIES_MAX) {
        pthread_mutex_unlock(&as_m_lock);
        as_err_set(err, "metric %s: no room for more metrics (at most %d)", full, AS_FAMILIES_MAX);
        return NULL;
    }
    as_families[n].name = as_xstrdup(full);
    as_families[n].help = as_xstrdup(help ? help : "");
    for (int k = 0; k < 3; k++)
        as_families[n].labels[k] = labels[k] ? as_xstrdup(labels[k]) : NULL;
    as_counters[n].family = n;
    atomic_store(&as_nfamilies, n + 1);
    pthread_mutex_unlock(&as_m_lock);
    return &as_counters[n];
}

void as_counter_add(as_counter_t *c, const char *v1, const char *v2, const char *v3, long v)
{
    if (c != NULL)
        as_family_add(c->family, v1, v2, v3, v);
}

void as_metrics_collector(as_metrics_collector_pt fn)
{
    pthread_mutex_lock(&as_m_lock);
    size_t i;
    for (i = 0; i < as_ncollectors && as_collectors[i] != fn; i++)
        ;
    if (i == as_ncollectors && as_ncollectors < AS_COLLECTORS_MAX)
        as_collectors[as_ncollectors++] = fn;
    pthread_mutex_unlock(&as_m_lock);
}

void as_metrics_latency(const char *channel, double seconds)
{
    /* Histograms are published as series are: found without the lock. */
    as_hist_t *h = NULL;
    int n = atomic_load_explicit(&as_nhists, memory_order_acquire);
    for (int i = 0; i < n && h == NULL; i++)
        if (strcmp(as_hists[i].channel, channel) == 0)
            h = &as_hists[i];
    if (h == NULL) {
        pthread_mutex_lock(&as_m_lock);
        n = atomic_load(&as_nhists);
        for (int i = 0; i < n && h == NULL; i++)
            if (strcmp(as_hists[i].channel, channel) == 0)
                h = &as_hists[i];
        if (h == NULL && n < (int)(sizeof(as_hists) / sizeof(as_hists[0]))) {
            h = &as_hists[n];
            h->channel = as_xstrdup(channel);
            atomic_store_explicit(&as_nhists, n + 1, memory_order_release);
        }
        pthread_mutex_unlock(&as_m_lock);
        if (h == NULL)
            return;
    }
    /* Wall-clock times: a clock stepped back between acceptance and
     * delivery gave a negative latency, and the sum, a counter, went down. */
    if (!(seconds >= 0))
        seconds = 0;
    for (int i = 0; i < AS_LAT_BUCKETS; i++)
        if (seconds <= as_lat_bounds[i])
            atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    /* The sum in microseconds, an integer: atomic without a lock. */
    atomic_fetch_add_explicit(&h->sum_us, (unsigned long)(seconds * 1e6), memory_order_relaxed);
}

/* Label values are configuration names; escape what the format requires. */
void as_metrics_label(as_buf_t *out, const char *k, const char *v)
{
    as_buf_printf(out, "%s=\"", k);
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            as_buf_putc(out, '\\');
        if (*p == '\n') {
            as_buf_puts(out, "\\n");
            continue;
        }
        as_buf_putc(out, *p);
    }
    as_buf_putc(out, '"');
}

void as_metrics_expose(as_buf_t *out)
{
    pthread_mutex_lock(&as_m_lock);
    int nf = atomic_load(&as_nfamilies);
    for (int m = 0; m < nf; m++) {
        const as_family_t *f = &as_families[m];
        as_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", f->name, f->help, f->name);
        int ns = atomic_load(&as_nseries);
        for (int i = 0; i < ns; i++) {
            as_series_t *s = &as_series[i];
            if (!atomic_load_explicit(&s->used, memory_order_acquire) || s->m != m)
                continue;
            as_buf_puts(out, f->name);
            int first = 1;
            for (int k = 0; k < 3; k++) {
                if (f->labels[k] == NULL || s->l[k] == NULL)
                    continue;
                as_buf_putc(out, first ? '{' : ',');
                first = 0;
                as_metrics_label(out, f->labels[k], s->l[k]);
            }
            if (!first)
                as_buf_putc(out, '}');
            as_buf_printf(out, " %ld\n", atomic_load_explicit(&s->value, memory_order_relaxed));
        }
    }
    as_buf_puts(out, "# HELP alertsink_delivery_latency_seconds Time from acceptance to "
                     "delivery.\n# TYPE alertsink_delivery_latency_seconds histogram\n");
    int nh = atomic_load(&as_nhists);
    for (int i = 0; i < nh; i++) {
        as_hist_t *h = &as_hists[i];
        unsigned long last = 0;
        for (int b = 0; b < AS_LAT_BUCKETS; b++) {
            last = atomic_load(&h->buckets[b]);
            as_buf_puts(out, "alertsink_delivery_latency_seconds_bucket{");
            as_metrics_label(out, "channel", h->channel);
            as_buf_printf(out, ",le=\"%g\"} %lu\n", as_lat_bounds[b], last);
        }
        /* An observation counts in its buckets, then in the count: a
         * scrape in between saw a bucket above +Inf. */
        unsigned long count = atomic_load(&h->count);
        if (count < last)
            count = last;
        as_buf_puts(out, "alertsink_delivery_latency_seconds_bucket{");
        as_metrics_label(out, "channel", h->channel);
        as_buf_printf(out, ",le=\"+Inf\"} %lu\n", count);
        as_buf_puts(out, "alertsink_delivery_latency_seconds_sum{");
        as_metrics_label(out, "channel", h->channel);
        as_buf_printf(out, "} %.6f\n", (double)atomic_load(&h->sum_us) / 1e6);
        as_buf_puts(out, "alertsink_delivery_latency_seconds_count{");
        as_metrics_label(out, "channel", h->channel);
        as_buf_printf(out, "} %lu\n", count);
    }
    size_t nc = as_ncollectors;
    as_metrics_collector_pt collectors[AS_COLLECTORS_MAX];
    memcpy(collectors, as_collectors, sizeof(collectors));
    pthread_mutex_unlock(&as_m_lock);
    for (size_t i = 0; i < nc; i++)
        collectors[i](out);
}

void as_metrics_reset(void)
{
    pthread_mutex_lock(&as_m_lock);
    for (int i = 0; i < AS_SERIES_MAX; i++) {
        for (int k = 0; k < 3; k++)
            free(as_series[i].l[k]);
        memset(&as_series[i], 0, sizeof(as_series[i]));
    }
    for (size_t i = 0; i < 2 * AS_SERIES_MAX; i++)
        atomic_store(&as_slots[i], 0);
    atomic_store(&as_nseries, 0);
    int nh = atomic_load(&as_nhists);
    for (int i = 0; i < nh; i++)
        free(as_hists[i].channel);
    memset(as_hists, 0, sizeof(as_hists));
    atomic_store(&as_nhists, 0);
    pthread_mutex_unlock(&as_m_lock);
}
