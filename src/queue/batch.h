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
/* Append journal lines (one write(2): whole even when workers race). */
void as_batch_write(as_batch_t *b, const char *lines, size_t len);
/* b is a segment of incoming/ (segment.h), counting bytes of the spool's
 * size; its last unit retires it instead of removing it. */
void as_batch_segment(as_batch_t *b, long long bytes);
void as_batch_count(as_batch_t *b, long long bytes); /* a segment: bytes more */
void as_batch_hold(as_batch_t *b, int units);        /* more units to finish */
void as_batch_release(as_batch_t *b, int units);     /* the last unit removes the file */
void as_batch_abandon(as_batch_t *b);                /* forget it, leave the file */

/*
 * A worker's journal for one batch of notes: the lines are gathered per
 * batch file and written with one write(2) each when flushed; the notes
 * finished meanwhile release their batch only after their "X" line is
 * written.  A worker flushes before it hands the batch to the sinks (so
 * the "A" lines are there should it crash during a delivery) and after
 * settling it.  Notes in a file of their own (retries) are journalled at
 * once, as they are few.
 */
typedef struct as_journal_s {
    as_spool_t *sp; /* NULL: `send` without a spool, nothing is journalled */
    struct as_journal_file_s *v;
    size_t n, cap;
} as_journal_t;

void as_journal_init(as_journal_t *j, as_spool_t *sp);
/* "R id count" (a record routed), "A id channel" (attempt started), "D id
 * channel" (delivered there). */
void as_journal_line(as_journal_t *j, as_note_t *n, char op, const char *arg);
/* "R id count", and the record's unit of its batch becomes its notes'
 * count units (the record's released once the line is written). */
void as_journal_routed(as_journal_t *j, as_note_t *rec, size_t count);
void as_journal_flush(as_journal_t *j);
void as_journal_free(as_journal_t *j); /* flushes first */

/* A note is finished: journalled out of its batch ("X", in j; with j NULL
 * at once), or its file removed. */
void as_note_forget(as_spool_t *sp, as_note_t *n, as_journal_t *j);
/* Write a note's whole state as a file of its own in q. */
int as_note_store(as_spool_t *sp, as_note_t *n, as_queue_t q);

#endif
