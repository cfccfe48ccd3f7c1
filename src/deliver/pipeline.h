/*
 * pipeline.h - the delivery pipeline: small stages in a row, each in its
 * own file with one job (as Alertmanager's notify.go chains its stages):
 *
 *   expire -> mute -> dedup -> channels (rate limit, the receiver's chain)
 *          -> retry (backoff) -> verdict (finished, deferred, dead)
 *
 * A stage looks at the attempt and either passes it on or settles it.  The
 * pipeline decides; the caller (queue/worker.c) stores the note's fate in
 * the spool and reschedules it.  The daemon's workers and `alertsink send`
 * run the same pipeline.  What it needs of the spool comes in an
 * environment, so this folder does not depend on the queue.
 *
 * It runs on a batch: the stages before and after the channels look at
 * one note at a time, the channels stage at all of them together, so
 * that each sink is called once per batch (deliver_batch) and the
 * journal is written once before the deliveries and once after.
 */
#ifndef AS_PIPELINE_H
#define AS_PIPELINE_H

#include "deliver/attempt.h"

/* Run every stage on notes[0..n) with cycle c in env; note i's verdict is
 * in a[i].verdict, its next attempt in its due_ms.  Templates are
 * rendered into scratch (contexts and messages), which the caller resets
 * after the batch. */
void as_pipeline_run(as_cycle_t *c, const as_pipeline_env_t *env, as_note_t *const *notes, size_t n,
                     as_attempt_t *a, as_pool_t *scratch);

#endif
