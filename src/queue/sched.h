/*
 * sched.h - the in-memory schedule of notes waiting for a worker: a FIFO
 * of notes due now and a binary min-heap of notes due later.  Workers
 * block in as_sched_pop() until a note is due or the schedule stops, and
 * take a batch: a commit round's records arrive with one push and one
 * wake-up and leave with one pop, and the notes due in the heap leave
 * together too.  A note marked single (its sink delivers one at a time,
 * at the speed of a peer: WhatsApp, email) leaves alone, so that slow
 * deliveries spread over the workers.
 *
 * The batch lane: batches (work that is not single: records to route,
 * notes for sinks that take a batch) go to one worker at a time.  While
 * it works, the rounds that come queue up, and it takes them all in its
 * next pop: one wake-up, one pass of routing and one write and fdatasync
 * per sink for several rounds, where a worker per round made as many
 * concurrent flushes of the same file and as many wake-ups.  A lane held
 * for longer than AS_SCHED_LANE_MS (a slow disk) stops holding the others
 * back: an idle worker then takes the next batch beside it.
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
    size_t busy;     /* notes handed out and not yet back */
    size_t waiting;  /* workers waiting in as_sched_pop() */
    size_t nfifo;    /* notes in the FIFO */
    int lane;        /* a worker holds the batch lane */
    int64_t lane_ms; /* since when */
    int stopping;
} as_sched_t;

void as_sched_init(as_sched_t *s);
/* Free every note still scheduled. */
void as_sched_destroy(as_sched_t *s);
/* Schedule n at n->due_ms (now or earlier: at the end of the FIFO). */
void as_sched_push(as_sched_t *s, as_note_t *n);
/* A chain of notes (->next) at once, with one wake-up. */
void as_sched_push_list(as_sched_t *s, as_note_t *list);
/* A worker holds the batch lane for AS_SCHED_LANE_MS at the most. */
#define AS_SCHED_LANE_MS 10

/* The next due notes, waiting for one: a single note, or up to max notes
 * that are not single, in order, chained by ->next; *count says how
 * many, *lane whether the caller now holds the batch lane (to give back
 * with as_sched_lane_free).  NULL once stopping.  until_ms >= 0 (`send`,
 * the only worker): NULL as well when nothing is due before until_ms
 * (wall clock). */
as_note_t *as_sched_pop(as_sched_t *s, int64_t until_ms, size_t max, size_t *count, int *lane);
/* The batch lane is free again; wake: a worker waiting may take what
 * queued meanwhile (else the holder is about to pop again itself). */
void as_sched_lane_free(as_sched_t *s, int wake);
/* Is work left that a worker could take and none is waiting for? (A
 * worker then starts another, up to the configured number.) */
int as_sched_short(as_sched_t *s);
/* A worker is done with count notes it popped (pushed again or finished). */
void as_sched_done(as_sched_t *s, size_t count);
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
