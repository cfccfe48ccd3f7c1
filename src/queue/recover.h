/*
 * recover.h - loading the spool at start, and a batch that appeared later
 * (maildrop/ pickup); and the journal replay that both use, which tells a
 * pending note from a finished one (see recover.c).
 */
#ifndef AS_RECOVER_H
#define AS_RECOVER_H

#include <stddef.h>

#include "alertsink/api.h"
#include "conf/cycle.h"
#include "deliver/note.h"
#include "queue/spool.h"

/* Load incoming/ and deferred/ into the schedule (the daemon, at start). */
int as_recover_load(as_err_t *err);
/* Load one batch file of incoming/ (with its journal); the count loaded.
 * A note it holds replaces a copy of it that the schedule holds (a note
 * that `alertsink queue retry` took out of deferred/). */
size_t as_recover_batch(const char *name);

/*
 * What spool file NAME in state q still holds, as the start-up load takes
 * it: each entry, with its journal (NAME.log, see spool.h) applied.
 *
 *   - a note is passed with its channels as the journal left them: "D"
 *     delivered; "A" an attempt started (counted, and in doubt unless
 *     delivered); "A * *" every channel in doubt.  "X" finished it: not
 *     passed;
 *   - a record the journal says was routed ("R") is routed again with c,
 *     and its notes are passed likewise;
 *   - a record never routed is passed as it is (routed == 0);
 *   - in a batch (incoming/, maildrop/), a note that also has a file of
 *     its own in deferred/ or dead/ is not passed: that file is newer.
 *
 * each() takes ownership of every note passed.  Malformed lines are
 * logged and skipped.  Nothing is written.  Returns how many were passed,
 * or -1 with err when the file cannot be read (it may have moved on).
 */
typedef void (*as_replay_pt)(void *arg, as_note_t *n);
long as_replay_file(as_spool_t *sp, as_cycle_t *c, as_queue_t q, const char *name,
                    as_replay_pt each, void *arg, as_err_t *err);

/* With the daemon's lock held (none runs): journal "X" in every batch of
 * incoming/ and maildrop/ for a copy that a file of its own (deferred/,
 * dead/) stands for, as the daemon's load does.  A crash between that
 * file and the batch's "X" leaves the copy hidden only while the file
 * exists: a command about to remove the file (queue drop, retry) calls
 * this first, or the copy would come back at the next start. */
void as_replay_finish_apart(as_spool_t *sp, as_cycle_t *c);

#endif
