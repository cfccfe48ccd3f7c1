/*
 * groupwait.h - holding notes for their route's group_wait and sending
 * them as one digest (see groupwait.c).
 */
#ifndef AS_GROUPWAIT_H
#define AS_GROUPWAIT_H

#include "conf/cycle.h"
#include "deliver/note.h"

/* The group_wait that applies to n (0: deliver now). */
int64_t as_groupwait_of(const as_cycle_t *c, const as_note_t *n);
/* Hold n (ownership taken) until its group's deadline. */
void as_groupwait_hold(as_note_t *n, int64_t wait_ms);
/* d is a digest placeholder whose deadline came: build it from its
 * members, store it in deferred/, finish the members.  -1: nothing to do
 * (d is to be freed), or the members were sent on individually. */
int as_groupwait_flush(as_note_t *d);
/* Shutdown: every held note, as a ->next list, for the caller to free. */
as_note_t *as_groupwait_release_all(void);

#endif
