/*
 * core.h - the engine that inputs feed and sinks are driven by: the spool,
 * the group committer, the schedule and the delivery workers, and the
 * current configuration generation (cycle).
 *
 *   input --as_submit()--> committer --batch file, fsync--> done(OK, id)
 *                              |
 *                              v
 *                          schedule --> worker: route --> pipeline --> sink
 *
 * One engine exists per process (the daemon, or `alertsink send`), as
 * nginx has one ngx_cycle: inputs reach it through as_submit().
 */
#ifndef AS_CORE_H
#define AS_CORE_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/cycle.h"
#include "core/note.h"
#include "core/sched.h"
#include "core/spool.h"

typedef struct as_commit_item_s as_commit_item_t;

typedef struct as_core_s {
    as_spool_t *spool;
    as_sched_t sched;

    pthread_mutex_t cycle_lock; /* guards `cycle` (the pointer, not the cycle) */
    as_cycle_t *cycle;

    /* Group commit. */
    pthread_t committer;
    pthread_mutex_t commit_lock;
    pthread_cond_t commit_cond;
    as_commit_item_t *commit_head, *commit_tail;
    int commit_running;

    /* Delivery workers. */
    pthread_t *workers;
    size_t nworkers;
    pthread_t pickup; /* maildrop/ scanner */
    pthread_mutex_t pickup_lock;
    pthread_cond_t pickup_cond;

    atomic_int accepting; /* inputs may submit */
    atomic_int stopping;
    int sync_mode; /* `send`: deliver in the caller, no workers */
} as_core_t;

extern as_core_t *as_core;

/* Open the spool of cycle's configuration, recover it and load what it
 * holds into the schedule.  exclusive: the daemon's lock on the spool. */
int as_core_open(as_cycle_t *cycle, int exclusive, as_err_t *err);
/* Start the committer, the workers (cycle's `workers`) and the pickup. */
int as_core_start(as_err_t *err);
/* Stop accepting, finish the commits in flight, stop the workers (a
 * delivery in progress completes), close the spool. */
void as_core_stop(void);

/* The current cycle, referenced: as_cycle_unref() when done. */
as_cycle_t *as_core_cycle(void);
/* Make c current (takes over the caller's reference). */
void as_core_set_cycle(as_cycle_t *c);

/* Dispatch internals shared by commit.c, dispatch.c and pipeline.c. */
void as_dispatch_records(as_note_t **notes, size_t n, const char *batch);
void as_dispatch_note(as_note_t *n); /* one worker's turn with a note */
int as_dispatch_load(as_err_t *err); /* spool -> schedule, at start */

#endif
