/*
 * daemon.c - the daemon's life: load the cycle, start the inputs, then
 * wait for signals (SIGTERM/SIGINT stop, SIGHUP reloads).  Signals are
 * blocked in every thread and taken with sigwaitinfo() in the main
 * thread, so no handler ever runs in the middle of a worker.
 */
#include <signal.h>
#include <stdio.h>

#include "cli/cli.h"
#include "core/cycle.h"
#include "core/log.h"

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

    as_conf_t cf;
    as_cycle_t *cycle = as_cycle_create(&cf, path);
    if (cycle == NULL) {
        as_conf_print_errors(&cf, stderr);
        as_conf_free_errors(&cf);
        return AS_EXIT_USAGE;
    }
    as_conf_free_errors(&cf);
    as_err_t err;
    if (as_cycle_start_inputs(cycle, NULL, &err) < 0) {
        as_log(AS_LOG_ERROR, "cannot start", AS_S("error", err.msg));
        as_cycle_unref(cycle);
        return AS_EXIT_FAIL;
    }
    as_log(AS_LOG_INFO, "started", AS_S("config", path), AS_S("version", AS_VERSION));
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    as_log(AS_LOG_INFO, "stopping");
    as_cycle_stop_inputs(cycle);
    as_cycle_unref(cycle);
    return AS_EXIT_OK;
}
