/*
 * stage_retry.c - when to look at the notification again: the earliest
 * time a pending channel of its chain is due (its own backoff, or when
 * the chain reaches it, chain.c), and no later than spool.max_age after
 * it was accepted, when stage_expire gives it up (a Retry-After of an
 * hour held a note with a max_age of a minute for the hour).
 */
#include <stdint.h>

#include "deliver/chain.h"
#include "deliver/stages.h"

void as_stage_retry(as_attempt_t *a)
{
    int64_t due = INT64_MAX;
    for (size_t i = 0; i < a->nplan && !as_chain_done(a); i++) {
        const as_plan_t *p = &a->plan[i];
        const as_chan_t *ch = as_note_chan_find(a->note, p->name);
        if (ch != NULL && ch->state != AS_CH_PENDING)
            continue;
        int64_t at = as_chain_due(a, p);
        if (at < due)
            due = at;
    }
    int64_t max_age = a->cycle->cfg->spool.max_age;
    if (max_age > 0 && due > a->note->accepted_ms + max_age)
        due = a->note->accepted_ms + max_age;
    a->note->due_ms = due == INT64_MAX ? a->now : due;
}
