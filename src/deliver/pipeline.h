/*
 * pipeline.h - the delivery pipeline: small stages in a row, each in its
 * own file with one job (as Alertmanager's notify.go chains its stages):
 *
 *   expire -> mute -> dedup -> channels (rate limit, primary, fallback)
 *          -> retry (backoff) -> verdict (finished, deferred, dead)
 *
 * A stage looks at the attempt and either passes it on or settles it.  The
 * pipeline decides; the dispatcher stores (spool) and reschedules.  The
 * same pipeline runs in the daemon's workers and in `alertsink send`.
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

/* Flags a channel plan gives each channel of the receiver. */
enum {
    AS_PLAN_PRIMARY = 1 << 0,
    AS_PLAN_FALLBACK = 1 << 1,
};

typedef struct as_plan_s {
    int module;       /* index in the cycle's module set */
    const char *name; /* channel key */
    unsigned role;    /* AS_PLAN_* */
    void *conf;       /* the receiver's channel configuration */
} as_plan_t;

typedef struct as_attempt_s {
    as_cycle_t *cycle;
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

/* Plan helpers (stage_channels.c), shared by the stages after it: the
 * channel a fallback stands in for (WhatsApp), whether p is a fallback
 * that is not needed (WhatsApp delivered), and whether the fallback is due
 * (WhatsApp failed for good, or fallback_after passed). */
as_chan_t *as_plan_fallback_of(as_attempt_t *a);
int as_plan_unneeded(as_attempt_t *a, const as_plan_t *p);
int as_plan_fallback_due(as_attempt_t *a);

void as_stage_expire(as_attempt_t *a);
void as_stage_mute(as_attempt_t *a);
void as_stage_dedup(as_attempt_t *a);
void as_stage_channels(as_attempt_t *a);
void as_stage_retry(as_attempt_t *a);
void as_stage_verdict(as_attempt_t *a);

/* Run every stage on n with cycle c; the verdict is in a->verdict, the
 * next attempt in n->due_ms. */
void as_pipeline_run(as_cycle_t *c, as_note_t *n, as_attempt_t *a);

/* What the mode asks for, for `send`'s exit code: 0 every primary channel
 * delivered, 3 only the fallback did, 1 none. */
int as_pipeline_exit_code(const as_attempt_t *a);

/* Storage hooks the dispatcher provides: journal lines for an attempt. */
void as_note_journal(as_note_t *n, char op, const char *channel);

#endif
