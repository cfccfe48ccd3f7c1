/*
 * chain.c - a receiver's channels as a chain (docs/delivery.md).
 *
 * The chain is the order of the receiver's channels: `channels:` when it
 * is written, else the order of the channel keys in the file (resolved by
 * conf/config.c).  The mode says how the chain is used:
 *
 *   fallback  the first channel; the next one once the one before it
 *             failed for good, was found unavailable, or had its
 *             fallback_after (counted from when the chain reached it),
 *             and so on down the chain.  Once any channel delivered, the
 *             others stop: it was sent instead, not as well.
 *   all       every channel, each on its own.
 *   NAME      that channel alone.
 *
 * A channel that the chain reached once stays reached: a channel that is
 * being retried is not held back again because the one before it became
 * available.  The core names no channel here: a loaded module's key takes
 * part as a built-in one does.
 */
#include <string.h>

#include "conf/config.h"
#include "deliver/chain.h"

_Static_assert(AS_CHAIN_MAX <= AS_CHANNELS_MAX, "a note tracks every channel of a chain");

void as_chain_plan(as_attempt_t *a)
{
    const as_config_t *cfg = a->cycle->cfg;
    const as_receiver_t *r = a->recv;
    a->nplan = 0;
    for (size_t i = 0; i < r->nchain; i++) {
        int m = r->chain[i];
        a->plan[a->nplan] =
            (as_plan_t){m, cfg->mods.v[m]->channel_key, a->nplan, r->channel[m].conf};
        a->nplan++;
    }
}

static const as_chan_t *as_chain_state(const as_attempt_t *a, const as_plan_t *p)
{
    return as_note_chan_find(a->note, p->name);
}

int as_chain_done(const as_attempt_t *a)
{
    if (a->recv->chain_mode == AS_CHAIN_ALL)
        return 0;
    for (size_t i = 0; i < a->nplan; i++) {
        const as_chan_t *c = as_chain_state(a, &a->plan[i]);
        if (c != NULL && c->state == AS_CH_DELIVERED)
            return 1;
    }
    return 0;
}

int64_t as_chain_due(const as_attempt_t *a, const as_plan_t *p)
{
    const as_chan_t *own = as_chain_state(a, p);
    int64_t at = own ? own->next_ms : 0;
    if (a->recv->chain_mode != AS_CHAIN_FALLBACK || p->rank == 0 || (own && own->attempts > 0))
        return at;
    /* When the chain reaches each channel: the first at acceptance, the
     * next when the one before gave up or its fallback_after passed. */
    int64_t reached = a->note->accepted_ms;
    for (size_t j = 0; j < p->rank; j++) {
        const as_chan_t *c = as_chain_state(a, &a->plan[j]);
        int64_t timeout = reached + a->recv->fallback_after;
        /* Once given up on, for good: a transient answer later does not
         * take back that the next channel was reached. */
        int gave_up = c && (c->state == AS_CH_FAILED || c->gave_up_ms > 0);
        int64_t when = gave_up && c->gave_up_ms > 0 ? c->gave_up_ms : reached;
        reached = gave_up && when < timeout ? when : timeout;
    }
    return reached > at ? reached : at;
}

void as_chain_delivered(as_attempt_t *a, const as_plan_t *p)
{
    if (a->recv->chain_mode == AS_CHAIN_ALL)
        return;
    for (size_t i = 0; i < a->nplan; i++) {
        as_chan_t *c = as_note_chan(a->note, a->plan[i].name);
        if (&a->plan[i] != p && c->state == AS_CH_PENDING)
            c->state = AS_CH_SUPERSEDED;
    }
}

int as_chain_exit_code(const as_attempt_t *a)
{
    size_t delivered = 0;
    int first = 0;
    for (size_t i = 0; i < a->nplan; i++) {
        const as_chan_t *c = as_chain_state(a, &a->plan[i]);
        if (c != NULL && c->state == AS_CH_DELIVERED) {
            delivered++;
            first |= i == 0;
        }
    }
    if (a->recv->chain_mode == AS_CHAIN_ALL)
        return delivered == a->nplan && delivered > 0 ? 0 : delivered > 0 ? 3 : 1;
    return first ? 0 : delivered > 0 ? 3 : 1;
}
