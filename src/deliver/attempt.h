/*
 * attempt.h - one look at a note by the delivery pipeline: the receiver
 * and its chain as planned, the environment, and the verdict.  The types
 * the pipeline's stages (stages.h) and the chain (chain.h) share.
 */
#ifndef AS_ATTEMPT_H
#define AS_ATTEMPT_H

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
     * there (see queue/spool.h), gathered in jctx; NULL: nothing is
     * journalled.  flush writes what was gathered: the pipeline calls it
     * before it hands a batch to the sinks. */
    void (*journal)(void *jctx, as_note_t *n, char op, const char *channel);
    void (*flush)(void *jctx);
    void *jctx;
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
    size_t cursor;    /* the channels stage: the next plan entry to look at */
    const cJSON *ctx; /* the template context, made when first needed */
    as_verdict_t verdict;
    char why[512]; /* dead: the reason; finished: a note for the log */
} as_attempt_t;

#endif
