/*
 * pipeline.c - runs the delivery stages in order (see pipeline.h).
 */
#include <string.h>

#include "conf/config.h"
#include "deliver/pipeline.h"
#include "lib/clock.h"

static const as_stage_pt as_stages[] = {
    as_stage_expire,   /* too old: dead */
    as_stage_mute,     /* inside a mute interval: logged, finished */
    as_stage_dedup,    /* seen within dedup_window: finished */
    as_stage_channels, /* rate limit, primary channels, fallback */
    as_stage_retry,    /* when to try the channels still pending */
    as_stage_verdict,  /* finished, deferred or dead */
};

void as_pipeline_run(as_cycle_t *c, as_note_t *n, as_attempt_t *a)
{
    memset(a, 0, sizeof(*a));
    a->cycle = c;
    a->note = n;
    a->now = as_now_ms();
    const as_receiver_t *rv = c->cfg->receivers.elts;
    for (size_t i = 0; i < c->cfg->receivers.n; i++)
        if (n->receiver && strcmp(rv[i].name, n->receiver) == 0) {
            a->recv = &rv[i];
            a->recv_index = i;
        }
    for (size_t i = 0; i < sizeof(as_stages) / sizeof(as_stages[0]); i++) {
        as_stages[i](a);
        if (a->verdict != AS_VERDICT_NONE)
            return;
    }
    a->verdict = AS_VERDICT_FINISHED;
}

int as_pipeline_exit_code(const as_attempt_t *a)
{
    int primaries = 0, delivered = 0, fallback = 0;
    for (size_t i = 0; i < a->nplan; i++) {
        const as_chan_t *ch = as_note_chan_find(a->note, a->plan[i].name);
        int ok = ch && ch->state == AS_CH_DELIVERED;
        if (a->plan[i].role & AS_PLAN_PRIMARY) {
            primaries++;
            delivered += ok;
        } else if (ok) {
            fallback = 1;
        }
    }
    if (primaries > 0 && delivered == primaries)
        return 0;
    if (delivered > 0 || fallback)
        return 3;
    return 1;
}
