/*
 * note.h - notifications in memory and as spool entries.
 *
 * An input submits a *record* (a payload as it came).  Routing turns a
 * record into *notes*: one receiver's share of it (one group of alerts),
 * each with its own id and per-channel delivery state.  The first note of
 * a record keeps the record's id, so the id an input answered is the id a
 * user finds in logs and in the outbox; further notes are "ID.2", "ID.3".
 *
 * A note lives either in its record's batch file (incoming/, the common
 * case: delivered at the first attempt, never written again) or in a file
 * of its own (deferred/, active/, dead/), written whenever its state must
 * survive a crash: before a retry is scheduled, when it dies.
 *
 * Memory.  A record and the notes routed from it share one pool (as_mem_t,
 * reference-counted): the request's pool its payload was parsed into, in
 * which routing then builds the notes and their payloads, whose alerts
 * refer to the record's instead of copying them.  The last note to go
 * releases the pool, so a request's memory goes back in one step.  Nothing
 * is allocated in that pool once the record is routed (the notes may be
 * on several workers by then): what a note gathers later (errors) is on
 * the heap.  A note read back from a file of its own (deferred/) has no
 * pool: it and its payload are on the heap.
 */
#ifndef AS_NOTE_H
#define AS_NOTE_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdint.h>

#include "alertsink/buf.h"
#include "alertsink/mem.h"
#include "alertsink/sink.h"

/* A note id: a spool id (31 characters at most) and a ".N" suffix. */
#define AS_NID_LEN      40
#define AS_CHANNELS_MAX 8

typedef struct as_batch_s as_batch_t;

/* A record's memory, shared by the notes routed from it. */
typedef struct as_mem_s {
    as_pool_t *pool;
    cJSON *heap_payload; /* a payload that came on the heap: deleted with the pool */
    atomic_int refs;
} as_mem_t;

/* The memory of a new record: pool (taken over; NULL: a new one) and,
 * when the payload is on the heap, the payload (taken over).  Holds one
 * reference, for the record. */
as_mem_t *as_mem_new(as_pool_t *pool, cJSON *heap_payload);
void as_mem_ref(as_mem_t *m);
void as_mem_unref(as_mem_t *m);

typedef enum {
    AS_CH_PENDING = 0, /* not delivered yet */
    AS_CH_DELIVERED,
    AS_CH_FAILED,     /* failed permanently */
    AS_CH_SUPERSEDED, /* the fallback delivered instead */
} as_ch_state_t;

typedef struct as_chan_s {
    char name[AS_CHANNEL_KEY_MAX + 1]; /* the channel key: a sink's channel_key */
    as_ch_state_t state;
    int attempts;
    int in_doubt;       /* an attempt was cut short by a crash */
    int unavailable;    /* pending, but its last attempt found it unavailable */
    int64_t next_ms;    /* pending: not before */
    int64_t gave_up_ms; /* when it first failed for good or was found unavailable */
    char *error;        /* last failure, malloc'd */
} as_chan_t;

typedef struct as_note_s {
    char id[AS_NID_LEN];
    char record[AS_NID_LEN];
    int64_t accepted_ms;  /* when the input accepted the record */
    int64_t due_ms;       /* when the scheduler may hand it out */
    const char *input;    /* "http", "unix", "stdin" (in the pool, or malloc'd) */
    unsigned routed : 1;  /* 0: a record, still to be routed */
    unsigned grouped : 1; /* an Alertmanager group (never held by group_wait) */
    char *receiver;       /* routed: the receiver; record: the override, or NULL */
    char *group_key;
    char *route; /* the route key (group_wait, time intervals) */
    cJSON *payload;
    size_t nch;
    as_chan_t ch[AS_CHANNELS_MAX];
    cJSON *errors;       /* every failure so far: ["TIME CHANNEL: reason", ...] */
    int index;           /* the note's position in its record (0 = the first) */
    unsigned digest : 1; /* group_wait: stands for the notes in `members` */
    cJSON *members;      /* digest: ids of the notes it was made of */

    /* Where it lives. */
    as_batch_t *batch; /* in a batch file; NULL: a file of its own */
    int q;             /* own file: its state (queue/spool.h's as_queue_t); 0: none */
    as_mem_t *mem;     /* its pool (shared with its record); NULL: on the heap */
    /* A record: its entry line as the committer writes it (in the pool). */
    const char *line;
    size_t line_len;
    unsigned single : 1; /* scheduled alone: its sink delivers one at a time */
    unsigned stale : 1;  /* attempted in deferred/ (its move to active/ failed): its
                          * file there no longer says what was done */
    int64_t heap_pos;    /* scheduler bookkeeping */
    struct as_note_s *next;
} as_note_t;

/* A new note in mem's pool (referenced), or on the heap (mem NULL). */
as_note_t *as_note_new(as_mem_t *mem);
void as_note_free(as_note_t *n);
/* A copy of s (NULL: NULL) that lives as long as n. */
char *as_note_str(as_note_t *n, const char *s);
/* The note's channel state by name, added when absent. */
as_chan_t *as_note_chan(as_note_t *n, const char *name);
const as_chan_t *as_note_chan_find(const as_note_t *n, const char *name);
/* Has n been handled before (a channel attempted, settled, or waiting for
 * its time: a rate limit's token, a backoff)?  The checks made when a
 * notification is first handled (mute, dedup) are not made again. */
int as_note_handled(const as_note_t *n);
/* "pending", "delivered", "failed", "superseded": as entries and
 * `alertsink queue` write a channel's state. */
const char *as_chan_state_name(as_ch_state_t s);
/* Record one failure in the note's history. */
void as_note_error(as_note_t *n, const char *channel, const char *reason);

/* Serialise as a spool entry line (JSON + '\n'): the envelope, then the
 * payload, printed, or raw[0..raw_len) when given (the payload's own text,
 * which must be valid JSON without control characters in its strings: its
 * line breaks become spaces). */
void as_note_entry(const as_note_t *n, const char *raw, size_t raw_len, as_buf_t *out);
/* Parse one entry line; NULL with err when malformed.  With mem, the note
 * and its payload are built in mem's pool (a record read back from a
 * batch file); else on the heap.  Takes over nothing. */
as_note_t *as_note_parse(as_mem_t *mem, const char *line, size_t len, as_err_t *err);

/* The status of the payload: "firing" if any alert fires, else "resolved". */
const char *as_note_status(const as_note_t *n);

#endif
