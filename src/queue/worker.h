/*
 * worker.h - the delivery workers (see worker.c).
 */
#ifndef AS_WORKER_H
#define AS_WORKER_H

#include "conf/cycle.h"
#include "deliver/note.h"

/* One worker's turn with a batch of notes and records chained by ->next
 * (ownership taken); scratch is reset at the end.  *lane: the worker
 * holds the schedule's batch lane; set to 0 when the batch gave it back
 * early (its work was a peer's round trip, not a batch). */
void as_worker_batch(as_note_t *list, as_pool_t *scratch, int *lane);
/* Route a record (its memory in rec->mem) into its notes, in order; the
 * first keeps the record's id.  A record that cannot be routed (its
 * receiver went away in a reload) becomes one note for that receiver,
 * which the pipeline moves to dead/ with the reason: nothing disappears
 * unlogged.  *out is malloc'd. */
size_t as_worker_route(as_cycle_t *c, as_note_t *rec, as_note_t ***out);
/* A commit round's records (a chain, written to batch b, which holds a
 * unit for each): scheduled now, with one wake-up. */
void as_worker_records(as_note_t *list, as_batch_t *b);
/* Take batches from the schedule and work on them until it stops, or (a
 * one-shot `send`, until_ms >= 0) until nothing is due before until_ms. */
void as_worker_run(int64_t until_ms);
/* Workers started with the engine; the others as work needs them. */
#define AS_WORKERS_START 1

/* One more delivery worker, when fewer than `workers` run (the engine's
 * first ones, and a worker or the committer that found work waiting and
 * no worker idle).  -1 if it cannot start. */
int as_worker_grow(void);
/* The thread of a delivery worker: as_worker_run() until the engine stops. */
void *as_worker_main(void *arg);

#endif
