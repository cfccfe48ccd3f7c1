/*
 * daemon.c - the daemon's life (alertsink(8), docs/architecture.md): load the configuration,
 * recover the spool, start the workers and the inputs, then serve signals
 * until told to stop.
 *
 * Signals are blocked in every thread and taken with sigtimedwait() here,
 * in the main thread, so no handler ever interrupts a worker:
 *
 *   SIGHUP          reload: the new configuration is loaded and checked
 *                   completely before anything changes; a bad one is
 *                   refused with every error logged, the old one stays.
 *   SIGUSR1         the sinks reopen their files (logrotate).
 *   SIGTERM/SIGINT  stop taking input (503), let the commits in flight
 *                   complete and the deliveries in progress finish; what
 *                   is queued stays in the spool for the next start.
 *
 * Under systemd (Type=notify) the daemon says READY=1 once the spool is
 * recovered and the inputs listen, RELOADING=1 ... READY=1 around a
 * reload, STOPPING=1 when it stops, and keeps STATUS= up to date with the
 * queue depth.  The protocol is one datagram to the socket named by
 * NOTIFY_SOCKET (nothing when it is unset), spoken here rather than
 * through libsystemd: linking it mapped 0.25 MB more into every daemon
 * (its code and libraries only it needs), a fifth of an idle one's
 * private memory.
 */
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/procmetrics.h"
#include "queue/core.h"
#include "queue/engine.h"

#define AS_STATUS_EVERY 10 /* seconds between two STATUS= updates */

/* sd_notify(3)'s protocol: the message as one datagram to NOTIFY_SOCKET,
 * a path or (a leading '@') an abstract socket name.  Best effort, as
 * libsystemd's: nothing to do when systemd does not listen. */
static void as_sd_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void as_sd_notify(const char *fmt, ...)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t plen = path ? strlen(path) : 0;
    if (plen < 2 || plen >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
        return;
    memcpy(sa.sun_path, path, plen);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof(msg))
        return;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    (void)sendto(fd, msg, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&sa,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen));
    close(fd);
}

/* Tell systemd state ("READY=1\n", or "" for the status alone) and the
 * queue depth. */
static void as_notify(const char *state)
{
    const as_spool_t *sp = as_core->spool;
    as_sd_notify("%sSTATUS=serving; queue %zu, deferred %lld, dead %lld", state,
                 as_sched_depth(&as_core->sched), (long long)atomic_load(&sp->count[AS_Q_DEFERRED]),
                 (long long)atomic_load(&sp->count[AS_Q_DEAD]));
}

static void as_log_conf_errors(as_conf_t *cf)
{
    for (size_t i = 0; i < cf->nerrors; i++)
        as_log(AS_LOG_ERROR, "configuration error", AS_S("error", cf->errors[i]));
}

static void as_reload(const char *path)
{
    as_conf_t cf;
    as_log(AS_LOG_INFO, "reloading", AS_S("config", path));
    as_cycle_t *next = as_cycle_create(&cf, path, 0);
    if (next == NULL) {
        as_log_conf_errors(&cf);
        as_log(AS_LOG_ERROR, "reload refused: the configuration is invalid, keeping the old one",
               AS_I("errors", cf.nerrors));
        as_conf_free_errors(&cf);
        return;
    }
    as_conf_free_errors(&cf);
    as_cycle_t *cur = as_core_cycle();
    if (strcmp(next->cfg->spool.dir, cur->cfg->spool.dir) != 0) {
        as_log(AS_LOG_ERROR, "reload refused: spool.dir changed; a restart is needed to move it",
               AS_S("old", cur->cfg->spool.dir), AS_S("new", next->cfg->spool.dir));
        as_log_set_level(cur->cfg->log.level);
        as_log_set_format(cur->cfg->log.format);
        as_cycle_unref(next);
        as_cycle_unref(cur);
        return;
    }
    as_err_t err;
    if (as_cycle_start_inputs(next, cur, &err) < 0) {
        as_log(AS_LOG_ERROR, "reload refused: the new inputs cannot start, keeping the old ones",
               AS_S("error", err.msg));
        as_log_set_level(cur->cfg->log.level);
        as_log_set_format(cur->cfg->log.format);
        as_cycle_unref(next);
        as_cycle_unref(cur);
        return;
    }
    as_core_set_cycle(next);
    /* Deliveries in flight hold references to the old cycle and finish
     * with it; it is freed when the last of them lets go. */
    as_cycle_stop_inputs(cur);
    as_cycle_unref(cur);
    as_log(AS_LOG_INFO, "reloaded", AS_S("config", path));
}

/* RELOADING=1 carries MONOTONIC_USEC, which systemd's Type=notify-reload
 * uses to tell this reload from an earlier one. */
static void as_notify_reloading(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    as_sd_notify("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
                 (unsigned long long)now.tv_sec * 1000000ULL +
                     (unsigned long long)now.tv_nsec / 1000);
}

static void as_reopen(void)
{
    as_cycle_t *c = as_core_cycle();
    for (size_t i = 0; i < c->cfg->mods.n; i++)
        if (c->cfg->mods.v[i]->reopen != NULL)
            c->cfg->mods.v[i]->reopen(c->inst[i]);
    as_cycle_unref(c);
    as_log(AS_LOG_INFO, "files reopened");
}

int as_daemon_run(const char *path)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    umask(077); /* spool files, tokens, sockets: never world-readable */

    as_cycle_t *cycle = as_cli_cycle("alertsink", path);
    if (cycle == NULL)
        return AS_EXIT_USAGE;

    /* What Prometheus client libraries export, beside the engine's. */
    as_metrics_collector(as_metrics_build_info);
    as_metrics_collector(as_metrics_process);
    /* The inputs first: while the spool is recovered (long, for a big
     * one), they answer 503 "starting" and /healthz says so, rather than
     * refusing connections. */
    as_err_t err;
    if (as_cycle_start_inputs(cycle, NULL, &err) < 0) {
        as_log(AS_LOG_ERROR, "cannot start", AS_S("error", err.msg), AS_S("config", path));
        as_cycle_unref(cycle);
        return AS_EXIT_FAIL;
    }
    if (as_engine_open(cycle, 0, &err) < 0) {
        as_log(AS_LOG_ERROR, "cannot open the spool", AS_S("error", err.msg), AS_S("config", path));
        as_cycle_stop_inputs(cycle);
        as_cycle_unref(cycle);
        return AS_EXIT_FAIL;
    }
    if (as_engine_start(&err) < 0) {
        as_log(AS_LOG_ERROR, "cannot start", AS_S("error", err.msg), AS_S("config", path));
        as_engine_drain();
        as_cycle_stop_inputs(cycle);
        as_engine_stop();
        as_cycle_unref(cycle);
        return AS_EXIT_FAIL;
    }
    as_cycle_unref(cycle); /* the core holds it now */
    /* Loading the configuration and the spool freed much more than it
     * kept: give those pages back. */
    malloc_trim(0);
    as_log(AS_LOG_INFO, "started", AS_S("config", path), AS_S("version", AS_VERSION),
           AS_S("spool", as_core->spool->dir));
    as_notify("READY=1\n");

    /* A wait of a second at most: the engine's tick (maildrop/ pickup)
     * runs between signals, and STATUS= follows the queue. */
    const struct timespec second = {1, 0};
    int64_t status_at = as_mono_ms();
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &second);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (sig == SIGHUP) {
            as_notify_reloading();
            as_reload(path);
            as_notify("READY=1\n");
        } else if (sig == SIGUSR1) {
            as_reopen();
        } else if (sig < 0) {
            as_engine_tick();
            if (as_mono_ms() - status_at >= AS_STATUS_EVERY * 1000) {
                as_notify("");
                status_at = as_mono_ms();
            }
        }
    }

    as_engine_drain();
    as_sd_notify("STOPPING=1\nSTATUS=stopping");
    as_log(AS_LOG_INFO, "stopping");
    as_cycle_t *c = as_core_cycle();
    as_cycle_stop_inputs(c);
    as_cycle_unref(c);
    as_engine_stop();
    as_log(AS_LOG_INFO, "stopped");
    return AS_EXIT_OK;
}
