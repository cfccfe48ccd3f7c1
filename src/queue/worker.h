/*
 * worker.h - the delivery workers (see worker.c).
 */
#ifndef AS_WORKER_H
#define AS_WORKER_H

#include "conf/cycle.h"
#include "deliver/note.h"

/* One worker's turn with a note or a record (ownership taken). */
void as_worker_note(as_note_t *n);
/* Route a record into its notes, in order; the first keeps the record's
 * id.  A record that cannot be routed (its receiver went away in a
 * reload) becomes one note for that receiver, which the pipeline moves to
 * dead/ with the reason: nothing disappears unlogged.  *out is malloc'd. */
size_t as_worker_route(as_cycle_t *c, as_note_t *rec, as_note_t ***out);
/* A commit round's records (written as batch file `batch` in incoming/):
 * scheduled now, with one wake-up. */
void as_worker_records(as_note_t **notes, size_t n, const char *batch);
/* The thread of a delivery worker: notes from the schedule until it stops. */
void *as_worker_main(void *arg);

#endif
