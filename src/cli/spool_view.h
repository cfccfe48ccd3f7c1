/*
 * spool_view.h - the spool as the commands that operate it see it
 * (`alertsink queue`, `alertsink status`): every notification still in
 * it, with its state and the file it lives in (see spool_view.c).
 */
#ifndef AS_SPOOL_VIEW_H
#define AS_SPOOL_VIEW_H

#include "conf/cycle.h"
#include "deliver/note.h"
#include "queue/spool.h"

typedef struct as_view_row_s {
    as_note_t *note;       /* routed, as the daemon routes it */
    as_queue_t state;      /* maildrop, incoming, active, deferred, dead */
    char file[AS_NID_LEN]; /* the file in that state: its batch, or its own */
    size_t seq;            /* reading order */
    size_t record_notes;   /* > 0: its record is not routed yet (it routes into this many) */
} as_view_row_t;

typedef struct as_view_s {
    as_view_row_t *v;
    size_t n;
} as_view_t;

#define AS_VIEW_STATES                                                                             \
    ((1u << AS_Q_MAILDROP) | (1u << AS_Q_INCOMING) | (1u << AS_Q_ACTIVE) | (1u << AS_Q_DEFERRED) | \
     (1u << AS_Q_DEAD))

/* Read the states in mask (1 << as_queue_t) of sp: the notes each file
 * still holds, by the daemon's own journal replay (queue/recover.h); a
 * record not routed yet is routed with c, as the daemon will.  Sorted by
 * acceptance, the newest last.  Reads only, beside a running daemon: a
 * file that moves on while it is read is read in its new state, or, when
 * it has gone, left out. */
void as_view_read(as_view_t *view, as_spool_t *sp, as_cycle_t *c, unsigned mask);
void as_view_free(as_view_t *view);
/* The row of note id, or NULL. */
as_view_row_t *as_view_find(const as_view_t *view, const char *id);

/* A note's attempts, summed over its channels. */
int as_view_attempts(const as_note_t *n);
/* Its newest error as "CHANNEL: reason" in buf (and when, ms, in *at; 0
 * unknown); NULL when it has none. */
const char *as_view_last_error(const as_note_t *n, char *buf, size_t len, int64_t *at);
/* When the daemon looks at it next: ms, 0 as soon as it can (in flight),
 * -1 never (dead). */
int64_t as_view_next(const as_view_row_t *r);
/* "in 4m 3s", "now", "-" for as_view_next()'s value. */
const char *as_view_when(int64_t next, int64_t now, char *buf, size_t len);

/* Open the spool of cfg for a command: who in messages; writing: the
 * command changes it, so it must run as the spool's owner (the daemon
 * could not read files anyone else wrote).  NULL, said on stderr, when it
 * cannot. */
as_spool_t *as_view_open(const char *who, const as_config_t *cfg, int writing);

#endif
