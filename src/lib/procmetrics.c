/*
 * procmetrics.c - the metrics every Prometheus client library exports
 * about its own process, and the build (see procmetrics.h).
 *
 * The figures are read from /proc/self when /metrics is asked for, as
 * client_golang's process collector and the Python client read them:
 *
 *   process_cpu_seconds_total      utime + stime of /proc/self/stat
 *   process_resident_memory_bytes  its rss (pages) times the page size
 *   process_virtual_memory_bytes   its vsize
 *   process_open_fds               the entries of /proc/self/fd
 *   process_max_fds                the soft RLIMIT_NOFILE
 *   process_start_time_seconds     btime of /proc/stat plus its starttime
 *
 * A figure that cannot be read is left out rather than reported as 0, so
 * that a dashboard shows a gap and not a false value.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib/procmetrics.h"

/* The fields of /proc/self/stat that matter, by their number in proc(5). */
typedef struct {
    unsigned long long utime, stime; /* 14, 15: clock ticks */
    unsigned long long starttime;    /* 22: clock ticks after boot */
    unsigned long long vsize;        /* 23: bytes */
    long long rss;                   /* 24: pages */
} as_proc_stat_t;

static int as_proc_stat(as_proc_stat_t *st)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name (field 2) is in parentheses and may hold spaces
     * and parentheses itself: the fields go on after the last ')'. */
    const char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    /* From field 3 (state) on. */
    int got = sscanf(p + 1,
                     " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu %*s %*s %*s %*s"
                     " %*s %*s %llu %llu %lld",
                     &st->utime, &st->stime, &st->starttime, &st->vsize, &st->rss);
    return got == 5 ? 0 : -1;
}

/* The boot time, seconds since the epoch ("btime" of /proc/stat; under
 * systemd's ProcSubset=pid, which hides /proc/stat, the wall clock less
 * the time since boot). */
static int as_proc_btime(long long *btime)
{
    char line[256];
    int rc = -1;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL) {
        struct timespec now, up;
        if (clock_gettime(CLOCK_REALTIME, &now) < 0 || clock_gettime(CLOCK_BOOTTIME, &up) < 0)
            return -1;
        *btime = (long long)now.tv_sec - (long long)up.tv_sec;
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "btime %lld", btime) == 1) {
            rc = 0;
            break;
        }
    fclose(f);
    return rc;
}

static long as_proc_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* less the one this listing holds */
}

static void as_gauge(as_buf_t *out, const char *name, const char *type, const char *help, double v)
{
    as_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

void as_metrics_process(as_buf_t *out)
{
    double tick = (double)sysconf(_SC_CLK_TCK);
    as_proc_stat_t st;
    if (tick > 0 && as_proc_stat(&st) == 0) {
        as_gauge(out, "process_cpu_seconds_total", "counter",
                 "Total user and system CPU time spent in seconds.",
                 (double)(st.utime + st.stime) / tick);
        as_gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                 (double)st.rss * (double)sysconf(_SC_PAGESIZE));
        as_gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
                 (double)st.vsize);
        long long btime;
        if (as_proc_btime(&btime) == 0)
            as_gauge(out, "process_start_time_seconds", "gauge",
                     "Start time of the process since unix epoch in seconds.",
                     (double)btime + (double)st.starttime / tick);
    }
    long fds = as_proc_open_fds();
    if (fds >= 0)
        as_gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.", (double)fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        as_gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                 (double)rl.rlim_cur);
}

void as_metrics_build_info(as_buf_t *out)
{
    as_buf_puts(out, "# HELP alertsink_build_info The version alertsink was built from; always 1.\n"
                     "# TYPE alertsink_build_info gauge\n"
                     "alertsink_build_info{");
    as_metrics_label(out, "version", AS_VERSION);
    as_buf_puts(out, "} 1\n");
}
