/*
 * pipeline.c - runs the delivery stages in order over a batch (see
 * pipeline.h): the stages of one note before the channels, the channels
 * stage over the whole batch, then the stages of one note after it.
 */
#include <string.h>

#include "alertsink/clock.h"
#include "conf/config.h"
#include "deliver/pipeline.h"
#include "deliver/stages.h"

static const as_stage_pt as_stages_before[] = {
    as_stage_expire, /* too old: dead */
    as_stage_mute,   /* inside a mute interval: logged, finished */
    as_stage_dedup,  /* seen within dedup_window: finished */
};

/* as_stage_channels (rate limit, the receiver's chain) runs between them. */

static const as_stage_pt as_stages_after[] = {
    as_stage_retry,   /* when to try the channels still pending */
    as_stage_verdict, /* finished, deferred or dead */
};

void as_pipeline_run(as_cycle_t *c, const as_pipeline_env_t *env, as_note_t *const *notes, size_t n,
                     as_attempt_t *a, as_pool_t *scratch)
{
    int64_t now = as_now_ms();
    for (size_t i = 0; i < n; i++) {
        as_attempt_t *t = &a[i];
        memset(t, 0, sizeof(*t));
        t->cycle = c;
        t->env = env;
        t->note = notes[i];
        t->now = now;
        if (t->note->receiver != NULL) {
            t->recv = as_config_receiver(c->cfg, t->note->receiver);
            if (t->recv != NULL)
                t->recv_index = (size_t)(t->recv - (const as_receiver_t *)c->cfg->receivers.elts);
        }
        for (size_t s = 0; s < sizeof(as_stages_before) / sizeof(as_stages_before[0]); s++) {
            as_stages_before[s](t);
            if (t->verdict != AS_VERDICT_NONE)
                break;
        }
    }
    as_stage_channels(a, n, scratch);
    for (size_t i = 0; i < n; i++) {
        as_attempt_t *t = &a[i];
        for (size_t s = 0; s < sizeof(as_stages_after) / sizeof(as_stages_after[0]) &&
                           t->verdict == AS_VERDICT_NONE;
             s++)
            as_stages_after[s](t);
        if (t->verdict == AS_VERDICT_NONE)
            t->verdict = AS_VERDICT_FINISHED;
    }
}
