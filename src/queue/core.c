/*
 * core.c - the engine's shared state (see core.h): the current cycle, the
 * pipeline's environment, and whether the engine can take work.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "alertsink/input.h"
#include "alertsink/log.h"
#include "queue/batch.h"
#include "queue/core.h"

as_core_t *as_core; /* NULL until engine.c opens it */

as_cycle_t *as_core_cycle(void)
{
    pthread_mutex_lock(&as_core->cycle_lock);
    as_cycle_t *c = as_cycle_ref(as_core->cycle);
    pthread_mutex_unlock(&as_core->cycle_lock);
    return c;
}

void as_core_set_cycle(as_cycle_t *c)
{
    pthread_mutex_lock(&as_core->cycle_lock);
    as_cycle_t *old = as_core->cycle;
    as_core->cycle = c;
    pthread_mutex_unlock(&as_core->cycle_lock);
    as_cycle_unref(old);
}

void as_core_attach_spool(as_spool_t *sp)
{
    as_core->spool = sp;
    as_core->env.dedupfd = sp != NULL ? sp->dedupfd : -1;
}

/*
 * Health.  The one place that decides whether the engine can take work is
 * as_core_ready(); it is called on an input's thread (GET /healthz) and
 * never writes to the disk itself.  What it knows of the disk comes from
 * the committer, the only thread that writes new files to the spool:
 *
 *   - every commit round's outcome (as_core_write_result());
 *   - a probe (a page written to tmp/, synced, removed) that the committer
 *     runs every AS_CORE_RETRY_MS while the last write failed, so that a
 *     fault that clears is seen without an alert having to arrive, and
 *     once when a health check finds that nothing was written for
 *     AS_CORE_FRESH_MS: the check waits AS_CORE_PROBE_WAIT_MS at most for
 *     that probe, then answers with what it has;
 *   - a write that has not ended after AS_CORE_STALL_MS: a disk that hangs
 *     holds every POST, and says so before the POSTs time out.
 *
 * A probe costs an fdatasync of one page; an idle daemon asked once a
 * second does about one a second, a busy one none (its rounds tell).
 */
#define AS_CORE_RETRY_MS      1000
#define AS_CORE_FRESH_MS      1000
#define AS_CORE_PROBE_WAIT_MS 100
#define AS_CORE_STALL_MS      5000

static atomic_int as_core_phase_v;

as_phase_t as_core_phase(void)
{
    return (as_phase_t)atomic_load(&as_core_phase_v);
}

void as_core_set_phase(as_phase_t phase)
{
    atomic_store(&as_core_phase_v, (int)phase);
}

void as_core_write_begin(void)
{
    atomic_store(&as_core->write_began_ms, as_mono_ms());
}

void as_core_write_result(const char *why)
{
    int failed = why != NULL && why[0] != '\0';
    pthread_mutex_lock(&as_core->health_lock);
    int was = atomic_load(&as_core->write_failed);
    as_str_copy(as_core->write_error, sizeof(as_core->write_error), failed ? why : "");
    atomic_store(&as_core->write_failed, failed);
    atomic_store(&as_core->write_ended_ms, as_mono_ms());
    atomic_store(&as_core->write_began_ms, 0);
    as_core->probes++;
    pthread_cond_broadcast(&as_core->probe_done);
    pthread_mutex_unlock(&as_core->health_lock);
    /* Transitions only: a fault that lasts is not logged every second. */
    if (was && !failed)
        as_log(AS_LOG_WARN, "the spool takes writes again", AS_S("dir", as_core->spool->dir));
    else if (!was && failed)
        as_log(AS_LOG_ERROR, "the spool cannot be written: refusing input until it can",
               AS_S("dir", as_core->spool->dir), AS_S("error", why));
}

int as_core_probe_due(void)
{
    int due = as_core->probe_wanted;
    as_core->probe_wanted = 0;
    return due;
}

int64_t as_core_probe_wait_ms(void)
{
    if (!atomic_load(&as_core->write_failed))
        return -1;
    int64_t left = atomic_load(&as_core->write_ended_ms) + AS_CORE_RETRY_MS - as_mono_ms();
    return left > 0 ? left : 0;
}

/* Ask the committer for a probe and wait a little for it to end. */
static void as_core_probe_now(void)
{
    pthread_mutex_lock(&as_core->health_lock);
    unsigned long before = as_core->probes;
    pthread_mutex_unlock(&as_core->health_lock);

    pthread_mutex_lock(&as_core->commit_lock);
    as_core->probe_wanted = 1;
    pthread_cond_signal(&as_core->commit_cond);
    pthread_mutex_unlock(&as_core->commit_lock);

    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += AS_CORE_PROBE_WAIT_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&as_core->health_lock);
    while (as_core->probes == before &&
           pthread_cond_timedwait(&as_core->probe_done, &as_core->health_lock, &until) == 0)
        ;
    pthread_mutex_unlock(&as_core->health_lock);
}

int as_core_ready(char *why, size_t len)
{
    char tmp[1];
    if (why == NULL || len == 0) {
        why = tmp;
        len = sizeof(tmp);
    }
    as_phase_t phase = as_core_phase();
    if (phase != AS_PHASE_ACCEPTING) {
        snprintf(why, len, "not accepting: %s",
                 phase == AS_PHASE_STARTING ? "starting" : "shutting down");
        return 0;
    }
    as_spool_t *sp = as_core->spool;
    /* access(2) sees a read-only file system and permissions (not for
     * root) at once, without writing. */
    if (faccessat(sp->dirfd[AS_Q_TMP], ".", W_OK, AT_EACCESS) < 0) {
        snprintf(why, len, "spool not writable: %s/tmp: %s", sp->dir, strerror(errno));
        return 0;
    }
    if (as_spool_full(sp, 1)) {
        snprintf(why, len, "spool full (spool.max_size %lld bytes)", (long long)sp->max_size);
        return 0;
    }
    int64_t now = as_mono_ms(), began = atomic_load(&as_core->write_began_ms);
    if (began != 0 && now - began > AS_CORE_STALL_MS) {
        snprintf(why, len, "spool stalled: a write has waited for the disk for %lld ms",
                 (long long)(now - began));
        return 0;
    }
    if (began == 0 && now - atomic_load(&as_core->write_ended_ms) > AS_CORE_FRESH_MS)
        as_core_probe_now();
    pthread_mutex_lock(&as_core->health_lock);
    int failed = as_core->write_error[0] != '\0';
    if (failed)
        snprintf(why, len, "the last spool write failed: %s", as_core->write_error);
    pthread_mutex_unlock(&as_core->health_lock);
    if (failed)
        return 0;
    snprintf(why, len, "ok");
    return 1;
}
