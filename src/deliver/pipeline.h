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
 */
#ifndef AS_PIPELINE_H
#define AS_PIPELINE_H

#include "conf/cycle.h"
#include "deliver/note.h"

typedef enum {
    AS_VERDICT_NONE = 0, /* not settled yet: next stage */
    AS_VERDICT_FINISHED, /* nothing left to do: remove from the spool */
    AS_VERDICT_DEFER,    /* try again at due_ms */
    AS_VERDICT_DEAD,     /* give up: dead/ */
} as_verdict_t;

/* What the pipeline needs of the spool it runs on. */
typedef struct as_pipeline_env_s {
    /* A journal line for n: 'A' attempt started on channel, 'D' delivered
     * there (see queue/spool.h).  NULL: nothing is journalled. */
    void (*journal)(as_note_t *n, char op, const char *channel);
    int dedupfd; /* the spool's dedup/ folder; -1: no deduplication */
} as_pipeline_env_t;

/* One channel of the receiver's chain, as this attempt plans it. */
typedef struct as_plan_s {
    int module;       /* index in the cycle's module set */
    const char *name; /* channel key */
    size_t rank;      /* place in the chain: 0 is the first channel */
    void *conf;       /* the receiver's channel configuration */
} as_plan_t;

typedef struct as_attempt_s {
    as_cycle_t *cycle;
    const as_pipeline_env_t *env;
    as_note_t *note;
    const struct as_receiver_s *recv; /* NULL: the receiver no longer exists */
    size_t recv_index;
    int64_t now;
    as_plan_t plan[AS_CHANNELS_MAX];
    size_t nplan;
    as_verdict_t verdict;
    char why[512]; /* dead: the reason; finished: a note for the log */
} as_attempt_t;

typedef void (*as_stage_pt)(as_attempt_t *a);

void as_stage_expire(as_attempt_t *a);
void as_stage_mute(as_attempt_t *a);
void as_stage_dedup(as_attempt_t *a);
void as_stage_channels(as_attempt_t *a);
void as_stage_retry(as_attempt_t *a);
void as_stage_verdict(as_attempt_t *a);

/* Run every stage on n with cycle c in env; the verdict is in a->verdict,
 * the next attempt in n->due_ms. */
void as_pipeline_run(as_cycle_t *c, const as_pipeline_env_t *env, as_note_t *n, as_attempt_t *a);

#endif
