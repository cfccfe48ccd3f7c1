/*
 * pipeline.c - runs the delivery stages in order (see pipeline.h).
 */
#include <string.h>

#include "alertsink/clock.h"
#include "conf/config.h"
#include "deliver/pipeline.h"
#include "deliver/stages.h"

static const as_stage_pt as_stages[] = {
    as_stage_expire,   /* too old: dead */
    as_stage_mute,     /* inside a mute interval: logged, finished */
    as_stage_dedup,    /* seen within dedup_window: finished */
    as_stage_channels, /* rate limit, the receiver's chain */
    as_stage_retry,    /* when to try the channels still pending */
    as_stage_verdict,  /* finished, deferred or dead */
};

void as_pipeline_run(as_cycle_t *c, const as_pipeline_env_t *env, as_note_t *n, as_attempt_t *a)
{
    memset(a, 0, sizeof(*a));
    a->cycle = c;
    a->env = env;
    a->note = n;
    a->now = as_now_ms();
    if (n->receiver != NULL) {
        a->recv = as_config_receiver(c->cfg, n->receiver);
        if (a->recv != NULL)
            a->recv_index = (size_t)(a->recv - (const as_receiver_t *)c->cfg->receivers.elts);
    }
    for (size_t i = 0; i < sizeof(as_stages) / sizeof(as_stages[0]); i++) {
        as_stages[i](a);
        if (a->verdict != AS_VERDICT_NONE)
            return;
    }
    a->verdict = AS_VERDICT_FINISHED;
}
