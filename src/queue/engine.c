/*
 * engine.c - the engine's life (see engine.h): open the spool and load it,
 * start the committer and the workers, stop them in
 * the order that keeps every promise; and the one-shot delivery of
 * `alertsink send`, which runs the workers' code in the caller's thread.
 */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/mem.h"
#include "lib/metrics.h"
#include "queue/batch.h"
#include "queue/commit.h"
#include "queue/core.h"
#include "queue/engine.h"
#include "queue/groupwait.h"
#include "queue/pickup.h"
#include "queue/recover.h"
#include "queue/worker.h"

static as_core_t as_core_storage;

static as_core_t *as_core_init(as_cycle_t *cycle)
{
    as_core_t *core = &as_core_storage;
    memset(core, 0, sizeof(*core));
    as_sched_init(&core->sched);
    pthread_mutex_init(&core->cycle_lock, NULL);
    pthread_mutex_init(&core->commit_lock, NULL);
    pthread_cond_init(&core->commit_cond, NULL);
    pthread_mutex_init(&core->health_lock, NULL);
    pthread_mutex_init(&core->workers_lock, NULL);
    pthread_cond_init(&core->probe_done, NULL);
    core->cycle = as_cycle_ref(cycle);
    as_core = core;
    return core;
}

/* GET /metrics: the spool's files by state, read when asked. */
static void as_engine_collect(as_buf_t *out)
{
    as_buf_puts(out, "# HELP alertsink_queue_depth Spool files by state.\n"
                     "# TYPE alertsink_queue_depth gauge\n");
    for (int i = 0; i < AS_Q_COUNT; i++) {
        long long n = as_core && as_core->spool ? atomic_load(&as_core->spool->count[i]) : 0;
        as_buf_puts(out, "alertsink_queue_depth{");
        as_metrics_label(out, "state", as_queue_names[i]);
        as_buf_printf(out, "} %lld\n", n);
    }
}

int as_engine_open(as_cycle_t *cycle, unsigned flags, as_err_t *err)
{
    as_metrics_collector(as_engine_collect);
    as_core_set_phase(AS_PHASE_STARTING);
    as_core_t *core = as_core_init(cycle);
    const as_spool_conf_t *sc = &cycle->cfg->spool;
    int oneshot = (flags & AS_ENGINE_ONESHOT) != 0;
    core->oneshot = oneshot;
    /* `send` takes no lock: a daemon may run on the same spool.  But not a
     * spool of another user's (root's `send` on the daemon's): its files
     * there would be the daemon's to pick up and it could not read them;
     * `send` then delivers without the spool, and says so. */
    struct stat st;
    if (oneshot && stat(sc->dir, &st) == 0 && st.st_uid != geteuid()) {
        const struct passwd *pw = getpwuid(st.st_uid);
        as_err_set(err,
                   "the spool %s belongs to %s: what this user wrote there the daemon could not "
                   "read (run it as that user: runuser -u %s -- alertsink send ...)",
                   sc->dir, pw ? pw->pw_name : "another user", pw ? pw->pw_name : "USER");
        return -1;
    }
    as_core_attach_spool(as_spool_open(sc->dir, sc->max_size, !oneshot, err));
    if (core->spool == NULL) {
        if (!oneshot)
            as_engine_stop();
        return -1;
    }
    if (!oneshot && (as_spool_recover(core->spool, err) < 0 || as_recover_load(err) < 0)) {
        as_engine_stop();
        return -1;
    }
    return 0;
}

void as_engine_tick(void)
{
    if (as_core != NULL && as_core->spool != NULL && !as_core->oneshot &&
        !atomic_load(&as_core->stopping))
        as_pickup_tick();
}

int as_engine_start(as_err_t *err)
{
    as_cycle_t *c = as_core_cycle();
    size_t nworkers = (size_t)c->cfg->workers;
    as_cycle_unref(c);

    if (as_commit_start(AS_COMMITTERS, err) < 0)
        return -1;
    as_core->workers = as_xcalloc(nworkers, sizeof(pthread_t));
    as_core->maxworkers = nworkers;
    /* One to begin with; more come when work waits and none is idle (a
     * second renders while the first waits for a sink's fdatasync). */
    for (size_t i = 0; i < nworkers && i < AS_WORKERS_START; i++)
        if (as_worker_grow() < 0)
            return as_err_set(err, "cannot start delivery worker %zu", i);
    as_core_set_phase(AS_PHASE_ACCEPTING);
    return 0;
}

void as_engine_drain(void)
{
    if (as_core_phase() == AS_PHASE_ACCEPTING)
        as_core_set_phase(AS_PHASE_DRAINING);
}

void as_engine_stop(void)
{
    as_core_t *core = as_core;
    if (core == NULL)
        return;
    as_engine_drain();

    /* Commits in flight complete: what was answered OK is on disk. */
    if (core->committers != NULL)
        as_commit_stop();

    atomic_store(&core->stopping, 1);
    /* Workers finish the delivery they are in; what is queued stays on disk.
     * (stopping is set: no worker is started any more.) */
    as_sched_stop(&core->sched);
    pthread_mutex_lock(&core->workers_lock);
    size_t nworkers = core->nworkers;
    pthread_mutex_unlock(&core->workers_lock);
    for (size_t i = 0; i < nworkers; i++)
        pthread_join(core->workers[i], NULL);
    free(core->workers);
    core->workers = NULL;

    /* Drop what is still scheduled without touching the spool: it is all
     * on disk, and the next start loads it again.  Batches are shared by
     * notes, so free each batch once. */
    as_batch_t **seen = NULL;
    size_t nseen = 0;
    as_note_t *all = as_groupwait_release_all();
    for (as_note_t *h = core->sched.head, *next; h; h = next) {
        next = h->next;
        h->next = all;
        all = h;
    }
    for (size_t i = 0; i < core->sched.nheap; i++) {
        core->sched.heap[i]->next = all;
        all = core->sched.heap[i];
    }
    core->sched.head = core->sched.tail = NULL;
    core->sched.nfifo = 0;
    core->sched.nheap = 0;
    for (as_note_t *n = all, *next; n; n = next) {
        next = n->next;
        if (n->batch != NULL) {
            size_t k;
            for (k = 0; k < nseen && seen[k] != n->batch; k++)
                ;
            if (k == nseen) {
                seen = as_xrealloc(seen, (nseen + 1) * sizeof(*seen));
                seen[nseen++] = n->batch;
            }
        }
        as_note_free(n);
    }
    for (size_t k = 0; k < nseen; k++)
        as_batch_abandon(seen[k]);
    free(seen);

    as_sched_destroy(&core->sched);
    as_spool_close(core->spool);
    core->spool = NULL;
    as_cycle_unref(core->cycle);
    core->cycle = NULL;
    pthread_mutex_destroy(&core->cycle_lock);
    pthread_mutex_destroy(&core->commit_lock);
    pthread_cond_destroy(&core->commit_cond);
    pthread_mutex_destroy(&core->health_lock);
    pthread_mutex_destroy(&core->workers_lock);
    pthread_cond_destroy(&core->probe_done);
    as_core = NULL;
}

void as_engine_on_attempt(as_engine_report_pt report, void *arg)
{
    as_core->report = report;
    as_core->report_arg = arg;
}

int as_engine_oneshot_accept(as_note_t *rec, int *lockfd, as_err_t *err)
{
    *lockfd = -1;
    rec->batch = NULL;
    if (as_core->spool == NULL)
        return as_err_set(err, "no spool");
    as_buf_t line = AS_BUF_INIT;
    as_note_entry(rec, NULL, 0, &line);
    char name[AS_BATCH_NAME_LEN];
    as_spool_batch_name(name, rec->id);
    int rc = as_spool_write_locked(as_core->spool, AS_Q_MAILDROP, name, line.data, line.len, lockfd,
                                   err);
    as_buf_free(&line);
    if (rc < 0)
        return -1;
    rec->batch = as_batch_open(as_core->spool, name, AS_Q_MAILDROP, 1);
    return 0;
}

size_t as_engine_oneshot(as_note_t *rec, int64_t deadline_ms, int lockfd)
{
    rec->due_ms = 0;
    as_sched_push(&as_core->sched, rec);
    as_worker_run(deadline_ms);
    size_t left = as_sched_depth(&as_core->sched);
    /* What is left stays in maildrop/ with its journal (as_engine_stop()
     * leaves files alone); unlocked, the daemon may take it now. */
    if (lockfd >= 0)
        close(lockfd);
    return left;
}
