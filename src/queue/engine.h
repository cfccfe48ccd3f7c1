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

#include "conf/cycle.h"
#include "deliver/note.h"
#include "queue/sched.h"
#include "queue/spool.h"

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

/* `alertsink send`: the spool without the daemon's lock, its recovery or
 * its threads (a daemon may be running on it). */
int as_core_open_light(as_cycle_t *cycle, as_err_t *err);

/* Dispatch internals shared by commit.c, dispatch.c and cli/send.c. */
void as_dispatch_records(as_note_t **notes, size_t n, const char *batch);
void as_dispatch_note(as_note_t *n); /* one worker's turn with a note */
int as_dispatch_load(as_err_t *err); /* spool -> schedule, at start */
/* Route a record into its notes (the first keeps the record's id). */
size_t as_dispatch_route(as_cycle_t *c, as_note_t *rec, as_note_t ***out);

/* Batches: a spool file of entries whose progress is journalled. */
as_batch_t *as_batch_open(const char *name, as_queue_t q, int pending);
void as_batch_write(as_batch_t *b, const char *line);
void as_batch_hold(as_batch_t *b, int units);    /* more units to finish */
void as_batch_release(as_batch_t *b, int units); /* the last unit removes the file */
void as_batch_abandon(as_batch_t *b);            /* forget it, leave the file */
/* A note is finished: journalled out of its batch, or its file removed. */
void as_note_forget(as_note_t *n);
/* Write a note's whole state as a file of its own in q. */
int as_note_store(as_note_t *n, as_queue_t q);

#endif
