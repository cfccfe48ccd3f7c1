/*
 * batch.h - where a note lives on disk: in the batch file of the commit
 * round that accepted it, or in a file of its own, and the journal lines
 * that record its progress (see spool.h for the format).
 *
 * A note in a batch file (incoming/, or maildrop/ for `alertsink send`) is
 * never rewritten: its progress is journalled ("R", "A", "D", "X" lines)
 * and the batch file goes when every note in it is finished.  A note that
 * must wait (a retry) is written to a file of its own in deferred/ before
 * its batch forgets it.
 */
#ifndef AS_BATCH_H
#define AS_BATCH_H

#include "deliver/note.h"
#include "queue/spool.h"

/* A batch file whose notes are not all finished yet. */
as_batch_t *as_batch_open(as_spool_t *sp, const char *name, as_queue_t q, int pending);
/* Append one journal line (one write(2): whole even when workers race). */
void as_batch_write(as_batch_t *b, const char *line);
void as_batch_hold(as_batch_t *b, int units);    /* more units to finish */
void as_batch_release(as_batch_t *b, int units); /* the last unit removes the file */
void as_batch_abandon(as_batch_t *b);            /* forget it, leave the file */

/* A journal line for n: "A id channel" (attempt started), "D id channel"
 * (delivered there).  Nothing without a spool. */
void as_note_journal(as_spool_t *sp, as_note_t *n, char op, const char *channel);
/* A note is finished: journalled out of its batch, or its file removed. */
void as_note_forget(as_spool_t *sp, as_note_t *n);
/* Write a note's whole state as a file of its own in q. */
int as_note_store(as_spool_t *sp, as_note_t *n, as_queue_t q);

#endif
