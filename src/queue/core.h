/*
 * core.h - the engine's shared state: the spool, the schedule, the
 * committer's queue, the worker threads and the current configuration
 * generation (cycle).  One engine exists per process (the daemon, or
 * `alertsink send`), as nginx has one ngx_cycle: inputs reach it through
 * as_submit(), workers through the schedule.
 *
 *   input --as_submit()--> committer --batch file, fsync--> done(OK, id)
 *                              |
 *                              v
 *                          schedule --> worker: route --> pipeline --> sink
 *
 * engine.h starts and stops it; the files of this folder each do one job
 * on it (commit.c, segment.c, worker.c, recover.c, pickup.c, groupwait.c).
 */
#ifndef AS_QUEUE_CORE_H
#define AS_QUEUE_CORE_H

#include <pthread.h>
#include <stdatomic.h>

#include "conf/cycle.h"
#include "deliver/note.h"
#include "deliver/pipeline.h"
#include "queue/sched.h"
#include "queue/spool.h"

typedef struct as_commit_item_s as_commit_item_t;
typedef struct as_committer_s as_committer_t;

typedef struct as_core_s {
    as_spool_t *spool;
    as_sched_t sched;

    pthread_mutex_t cycle_lock; /* guards `cycle` (the pointer, not the cycle) */
    as_cycle_t *cycle;

    /* Group commit: the queue of submissions, and the committers. */
    pthread_mutex_t commit_lock;
    pthread_cond_t commit_cond;
    as_commit_item_t *commit_head, *commit_tail;
    int commit_running;
    as_committer_t *committers;
    size_t ncommitters;

    /* Delivery workers: started as work needs them (as_engine_grow), up
     * to maxworkers (the configuration's `workers`). */
    pthread_mutex_t workers_lock; /* guards workers[] and nworkers */
    pthread_t *workers;
    size_t nworkers, maxworkers;

    /* What the spool's last write met, for as_core_ready(): a commit
     * round's, or the committer's probe's when no round ran lately. */
    pthread_mutex_t health_lock; /* guards write_error and probes */
    pthread_cond_t probe_done;   /* with health_lock: a write ended */
    char write_error[256];       /* why the last write failed; "" = it did not */
    unsigned long probes;        /* writes ended so far */
    atomic_int write_failed;
    atomic_llong write_began_ms; /* monotonic: a write in progress since; 0 = none */
    atomic_llong write_ended_ms; /* monotonic: when the last one ended */
    int probe_wanted;            /* guarded by commit_lock */

    atomic_int stopping;
    int oneshot; /* `send`: deliver in the caller, no threads, no group_wait */
    /* Called with every attempt's verdict before the note is settled. */
    void (*report)(void *arg, const as_note_t *n, const as_attempt_t *a);
    void *report_arg;
    as_pipeline_env_t env; /* what every batch's environment shares: dedupfd */
} as_core_t;

extern as_core_t *as_core;

/*
 * Where the engine is in its life.  The inputs start before the spool is
 * recovered (so that they can say "starting") and stop after it stopped
 * taking work, so they read the phase, never as_core, to know whether
 * there is an engine: as_core is published by the phase's move to
 * ACCEPTING and stays until the inputs have stopped.
 */
typedef enum {
    AS_PHASE_STARTING = 0, /* opening and recovering the spool */
    AS_PHASE_ACCEPTING,    /* inputs may submit */
    AS_PHASE_DRAINING,     /* shutting down: commits in flight complete */
} as_phase_t;

as_phase_t as_core_phase(void);
void as_core_set_phase(as_phase_t phase);

/* The current cycle, referenced: as_cycle_unref() when done. */
as_cycle_t *as_core_cycle(void);
/* Make c current (takes over the caller's reference). */
void as_core_set_cycle(as_cycle_t *c);

/* The committer begins a write to the spool (a commit round or a probe),
 * and it ended: failed (why) or not (why NULL).  as_core_ready()
 * (alertsink/input.h) reports the last result, and a write that takes
 * too long while it runs. */
void as_core_write_begin(void);
void as_core_write_result(const char *why);
/* Should the committer probe the spool now (asked by as_core_ready())?
 * Clears the request.  Called with commit_lock held. */
int as_core_probe_due(void);
/* How long the committer may sleep before it must probe, in ms: -1 for
 * as long as it likes (the last write went well). */
int64_t as_core_probe_wait_ms(void);

/* Make sp the engine's spool (NULL: none, `send` without one). */
void as_core_attach_spool(as_spool_t *sp);

#endif
