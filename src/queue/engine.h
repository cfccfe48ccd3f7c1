/*
 * engine.h - starting and stopping the engine (core.h), for the daemon and
 * for `alertsink send`: one engine, two ways to drive it.
 *
 *   daemon  as_engine_open() takes the spool's lock, recovers the spool
 *           and loads it (inputs already running are told "starting");
 *           as_engine_start() starts the committer, the workers and the
 *           maildrop/ pickup; inputs then submit.
 *   send    as_engine_open(AS_ENGINE_ONESHOT) opens the spool without the
 *           lock (a daemon may be running on it) and starts no thread;
 *           as_engine_oneshot() delivers one record with the workers' own
 *           code in the caller's thread.
 */
#ifndef AS_ENGINE_H
#define AS_ENGINE_H

#include "conf/cycle.h"
#include "deliver/note.h"
#include "deliver/pipeline.h"

enum {
    AS_ENGINE_ONESHOT = 1 << 0, /* `send`: no lock, no recovery, no threads, no group_wait */
};

/* Open the spool of cycle's configuration (the engine holds a reference
 * to cycle).  -1 with err when the spool cannot be opened; a one-shot
 * engine then still delivers, without a spool. */
int as_engine_open(as_cycle_t *cycle, unsigned flags, as_err_t *err);
/* Start the committer and the workers (cycle's `workers`, as work needs
 * them); inputs may submit from then on. */
int as_engine_start(as_err_t *err);
/* The daemon's once-a-second work: what `send` left in maildrop/, old
 * deduplication claims (from its main thread, while the engine runs). */
void as_engine_tick(void);
/* Stop accepting (inputs are told "shutting down"); the engine runs on. */
void as_engine_drain(void);
/* Stop accepting, finish the commits in flight, stop the workers (a
 * delivery in progress completes), close the spool.  What is queued stays
 * on disk for the next start. */
void as_engine_stop(void);

/* Called with each attempt's verdict, before the note is settled. */
typedef void (*as_engine_report_pt)(void *arg, const as_note_t *n, const as_attempt_t *a);
void as_engine_on_attempt(as_engine_report_pt report, void *arg);

/*
 * One-shot, in two steps.  First rec (a record) is written to maildrop/
 * and kept flock'ed in *lockfd while this process works on it: -1 with
 * err when there is no spool or it cannot be written, and rec is then
 * delivered without being on disk (what is not delivered before the
 * deadline is lost).  Then as_engine_oneshot() (ownership of rec taken)
 * routes and delivers it with the workers' code until every note is
 * settled or deadline_ms (wall clock) passes, and closes lockfd.  It
 * returns how many notes are left: with a spool, they stay in maildrop/
 * with their journal, for the daemon.
 */
int as_engine_oneshot_accept(as_note_t *rec, int *lockfd, as_err_t *err);
size_t as_engine_oneshot(as_note_t *rec, int64_t deadline_ms, int lockfd);

#endif
