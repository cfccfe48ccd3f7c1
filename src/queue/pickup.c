/*
 * pickup.c - what `alertsink send` left in maildrop/ for the daemon, the
 * finished files that could not be removed yet (as_spool_sweep()), and the
 * deduplication claims that have aged out: looked at once a second by the
 * daemon's main thread, which has nothing else to do between signals (a
 * thread of its own would cost its stack for a readdir a second).
 *
 * `send` holds an flock on its maildrop/ file while it works on it; a
 * file that is not locked is moved into incoming/ and loaded with its
 * journal, so what send delivered is not delivered again.
 *
 * The commands change the spool behind the daemon's back (send and
 * `queue retry` write maildrop/, `alertsink queue drop` removes files), so the
 * files are counted again after a pickup and once a minute: the queue
 * depth metrics and the max_size check follow within that time.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "alertsink/log.h"
#include "deliver/dedup.h"
#include "queue/core.h"
#include "queue/pickup.h"
#include "queue/recover.h"

/* Returns how many files it took. */
static size_t as_pickup_scan(void)
{
    size_t taken = 0;
    char **names;
    size_t n = as_spool_list(as_core->spool, AS_Q_MAILDROP, &names);
    for (size_t i = 0; i < n; i++) {
        /* `send` holds a lock on its file while it works on it. */
        int fd = openat(as_core->spool->dirfd[AS_Q_MAILDROP], names[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            /* Gone meanwhile is fine; unreadable (another user's) is not:
             * said, once a minute at most, so that it is not waiting in
             * silence for ever. */
            static int64_t said;
            if (errno != ENOENT && as_mono_ms() - said > 60000) {
                said = as_mono_ms();
                as_log(AS_LOG_ERROR, "cannot pick up from maildrop/", AS_S("file", names[i]),
                       AS_S("error", strerror(errno)));
            }
            continue;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            close(fd);
            continue;
        }
        as_err_t err;
        int rc = as_spool_move(as_core->spool, names[i], AS_Q_MAILDROP, AS_Q_INCOMING, 1, &err);
        close(fd);
        if (rc < 0) {
            as_log(AS_LOG_ERROR, "cannot pick up from maildrop/", AS_S("error", err.msg));
            continue;
        }
        size_t loaded = as_recover_batch(names[i]);
        taken++;
        as_log(AS_LOG_INFO, "picked up from maildrop/", AS_S("file", names[i]),
               AS_I("notifications", loaded));
    }
    as_spool_list_free(names, n);
    return taken;
}

/* The longest dedup_window of the current configuration. */
static int64_t as_dedup_horizon(void)
{
    as_cycle_t *c = as_core_cycle();
    int64_t max = c->cfg->defaults.dedup_window;
    const as_receiver_t *rv = c->cfg->receivers.elts;
    for (size_t i = 0; i < c->cfg->receivers.n; i++)
        if (rv[i].dedup_window > max)
            max = rv[i].dedup_window;
    as_cycle_unref(c);
    return max;
}

void as_pickup_tick(void)
{
    static int64_t swept;
    int taken = as_pickup_scan() > 0;
    as_spool_sweep(as_core->spool);
    if (as_now_ms() - swept > 60000) {
        as_dedup_sweep(as_core->env.dedupfd, as_dedup_horizon());
        swept = as_now_ms();
        taken = 1;
    }
    /* What the queue commands changed beside the daemon, and the files
     * taken, counted again from the folders. */
    if (taken)
        as_spool_recount(as_core->spool);
}
