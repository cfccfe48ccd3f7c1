/*
 * spool.h - the durable queue on disk, after Postfix's queue.
 *
 * A spool is a directory whose subdirectories are states; a file changes
 * state by rename(2):
 *
 *   tmp/       being written; removed at start
 *   maildrop/  written by `alertsink send` for a daemon to pick up
 *   incoming/  accepted: batches of records written by one group commit
 *   active/    a notification file being attempted; back to incoming/ at start
 *   deferred/  a notification waiting for its next attempt
 *   dead/      given up: past spool.max_age, or failed permanently everywhere
 *   corrupt/   files that did not read back at start, kept as they were for
 *              a human (their entries that did read back are delivered)
 *
 * and dedup/ beside them holds the deduplication claims (see stage_dedup.c).
 *
 * A spool file holds JSON lines ("entries"): records as inputs submitted
 * them, or notifications (one receiver's share of a record, with delivery
 * state).  Nothing is acknowledged before its file is fsync'ed and renamed
 * into place and the directory fsync'ed.  The records the daemon's inputs
 * accept are the exception in form, not in promise: incoming/ keeps them
 * in segments, files that take one frame per commit round (segment.h),
 * each fdatasync'ed before the round is answered.
 *
 * A file may have a journal beside it, NAME.log, where progress is
 * appended without fsync (a line costs one write(2)): "R id n" (record
 * routed into n notifications), "A nid channel" (attempt started), "D nid
 * channel" (delivered on that channel), "X nid" (notification finished in
 * this file).  The file is removed once every entry is finished.  After a
 * crash, the journal says what was done; an attempt started but not
 * finished is "in doubt" (the file sink then checks its own output).
 */
#ifndef AS_SPOOL_H
#define AS_SPOOL_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "alertsink/buf.h"
#include "alertsink/module.h"

#define AS_ID_LEN   32 /* buffer size for an id */
#define AS_SEG_FREE 2  /* finished segments of incoming/ kept in tmp/ for reuse */

typedef enum {
    AS_Q_TMP = 0,
    AS_Q_MAILDROP,
    AS_Q_INCOMING,
    AS_Q_ACTIVE,
    AS_Q_DEFERRED,
    AS_Q_DEAD,
    AS_Q_CORRUPT,
    AS_Q_COUNT
} as_queue_t;

typedef struct as_spool_s {
    char *dir;
    int dirfd[AS_Q_COUNT];
    int lockfd;
    int dedupfd; /* dedup/: one claim file per recently sent notification */
    int64_t max_size;
    atomic_llong bytes;             /* of the files in incoming, active, deferred */
    atomic_llong count[AS_Q_COUNT]; /* files a state, for metrics */
    pthread_mutex_t seg_lock;       /* guards seg_free */
    char seg_free[AS_SEG_FREE][48]; /* finished segments in tmp/ (segment.c) */
    int nseg_free;

    /* Finished files that could not be removed (a read-only spool), to
     * remove once it can be written again: left, a restart would deliver
     * them a second time. */
    pthread_mutex_t leftover_lock;
    struct as_spool_leftover_s *leftovers;
    int command; /* as_spool_open_existing(): nothing is remembered, the caller says why */
} as_spool_t;

extern const char *const as_queue_names[AS_Q_COUNT];

/* Open (creating with mode 0700) the spool at dir.  exclusive: take the
 * daemon's lock (a second daemon on one spool is refused). */
as_spool_t *as_spool_open(const char *dir, int64_t max_size, int exclusive, as_err_t *err);
/* Open the spool at dir as it is, creating nothing and taking no lock,
 * to read it or to change it beside a running daemon (`alertsink
 * queue`): a missing state directory lists as empty.  NULL with err when
 * dir cannot be opened. */
as_spool_t *as_spool_open_existing(const char *dir, as_err_t *err);
void as_spool_close(as_spool_t *sp);

/* Is a daemon running on the spool at dir, holding its lock?  1 (its pid
 * in *pid when it wrote one, else 0), 0 no, -1 cannot tell (errno).  With
 * hold, when none is, the lock is taken and kept in *hold (else -1) so
 * that no daemon starts until the caller closes it: what a command
 * changes in the spool then cannot race one.  The daemon waits up to 2 s
 * for a lock a command holds. */
int as_spool_daemon(const char *dir, int *hold, long *pid);

/* A new id: unique, time-ordered, safe in file names. */
void as_spool_id(char id[AS_ID_LEN]);

/* The name of a file that holds a batch (a segment of incoming/, a
 * `send`'s file in maildrop/): its first record's id and "-b".  A note
 * stored apart is named by its id (tmp/ID, active/ID, deferred/ID), and
 * the first note of a record has the record's id: without the suffix a
 * batch and such a note would have one name, and recovery, which tells
 * a newer copy of a note by its name, or a segment kept in tmp/ for
 * reuse and a note being written there, would take one for the other.
 * No note id ends in "-b" (ids: as_spool_id, ".N" and "-g" suffixes). */
#define AS_BATCH_NAME_LEN (AS_ID_LEN + 2)
void as_spool_batch_name(char name[AS_BATCH_NAME_LEN], const char *id);

/* Would size more bytes exceed spool.max_size? */
int as_spool_full(as_spool_t *sp, size_t size);

/* Write data as a new file NAME in state q: tmp/, fsync, rename, fsync the
 * directory.  Returns -1 with err (ENOSPC, EIO) and leaves nothing behind. */
int as_spool_write(as_spool_t *sp, as_queue_t q, const char *name, const char *data, size_t len,
                   as_err_t *err);
/* The same, keeping the file open and flock'ed in *lockfd (for `send`,
 * whose maildrop/ file a daemon must not pick up while it works on it). */
int as_spool_write_locked(as_spool_t *sp, as_queue_t q, const char *name, const char *data,
                          size_t len, int *lockfd, as_err_t *err);
/* NAME in state q did not read back whole: keep it as it was in corrupt/
 * (a hard link: byte for byte, whatever it holds), and leave in q only
 * keep, the entries that did read back (NAME removed with its journal
 * when there are none).  Idempotent: after a crash in between, the same
 * file is linked once.  *where gets the name it has in corrupt/. */
int as_spool_quarantine(as_spool_t *sp, as_queue_t q, const char *name, const char *keep,
                        size_t keep_len, char *where, size_t where_len, as_err_t *err);
/* Write and sync a small file in tmp/ and remove it: can the spool take a
 * write now?  (The health probe, from the committer's thread.) */
int as_spool_probe(as_spool_t *sp, as_err_t *err);
/* Move NAME from one state to another (and its journal).  sync: fsync the
 * target directory. */
int as_spool_move(as_spool_t *sp, const char *name, as_queue_t from, as_queue_t to, int sync,
                  as_err_t *err);
/* Remove NAME (and its journal) from state q.  One that cannot be removed
 * now (EROFS, EIO, ...) is remembered and tried again by
 * as_spool_sweep(). */
int as_spool_remove(as_spool_t *sp, as_queue_t q, const char *name);
/* Try the removals that failed again. */
void as_spool_sweep(as_spool_t *sp);
/* Read a whole file. */
int as_spool_read(as_spool_t *sp, as_queue_t q, const char *name, as_buf_t *out, as_err_t *err);
/* Append one line to NAME.log in state q (opened, written, closed). */
int as_spool_journal(as_spool_t *sp, as_queue_t q, const char *name, const char *line);
/* Read NAME.log (missing = empty). */
int as_spool_journal_read(as_spool_t *sp, as_queue_t q, const char *name, as_buf_t *out);

/* Names of the spool files in state q (journals and dotfiles skipped),
 * sorted (= time order).  Returns the count; *names malloc'd. */
size_t as_spool_list(as_spool_t *sp, as_queue_t q, char ***names);
void as_spool_list_free(char **names, size_t n);

/* Start-up: empty tmp/, move active/ back to incoming/ (marking their
 * attempts in doubt in the journal), recount sizes. */
int as_spool_recover(as_spool_t *sp, as_err_t *err);
/* Count the files and bytes of every state again: what the commands
 * (`alertsink queue`, `requeue`, `send`) added or removed behind the
 * daemon's back shows in its metrics and its max_size check. */
void as_spool_recount(as_spool_t *sp);

#endif
