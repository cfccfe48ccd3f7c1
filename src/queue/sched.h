/*
 * sched.h - the in-memory schedule of notes waiting for a worker: a FIFO
 * of notes due now and a binary min-heap of notes due later.  Workers
 * block in as_sched_pop() until a note is due or the schedule stops.
 */
#ifndef AS_SCHED_H
#define AS_SCHED_H

#include <pthread.h>

#include "deliver/note.h"

typedef struct as_sched_s {
    pthread_mutex_t lock;
    pthread_cond_t cond;      /* workers: a note is due */
    pthread_cond_t idle_cond; /* as_sched_wait_idle(): a worker finished */
    int idle_waiters;
    as_note_t *head, *tail; /* due now, in arrival order */
    as_note_t **heap;       /* due later, by due_ms */
    size_t nheap, heapcap;
    size_t busy; /* notes handed out and not yet back */
    int stopping;
} as_sched_t;

void as_sched_init(as_sched_t *s);
/* Free every note still scheduled. */
void as_sched_destroy(as_sched_t *s);
/* Schedule n at n->due_ms (now or earlier: at the end of the FIFO). */
void as_sched_push(as_sched_t *s, as_note_t *n);
void as_sched_push_many(as_sched_t *s, as_note_t *const *notes, size_t count);
/* The next due note, waiting for one; NULL once stopping.  until_ms >= 0
 * (`send`, the only worker): NULL as well when nothing is due before
 * until_ms (wall clock). */
as_note_t *as_sched_pop(as_sched_t *s, int64_t until_ms);
/* A worker is done with the note it popped (pushed again or finished). */
void as_sched_done(as_sched_t *s);
void as_sched_stop(as_sched_t *s);
/* Take the scheduled note with this id out of the schedule (a note of
 * its own, not one of a batch); NULL when none is scheduled (it may be
 * with a worker).  The caller owns it. */
as_note_t *as_sched_take(as_sched_t *s, const char *id);
/* Notes scheduled or being worked on. */
size_t as_sched_depth(as_sched_t *s);
/* Wait until nothing is due before `until_ms` and no worker is busy, or
 * until_ms passes; returns 1 if idle. (Used by tests and `send`.) */
int as_sched_wait_idle(as_sched_t *s, int64_t until_ms);

#endif
