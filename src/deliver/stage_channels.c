/*
 * stage_channels.c - the receiver's channels attempted, down its chain
 * (chain.c, docs/delivery.md): each channel that is due is rendered and
 * handed to its sink, and the sink's result recorded:
 *
 *   delivered    the channel is done; in mode fallback the others stop
 *   transient    retried after the backoff (or the peer's Retry-After)
 *   unavailable  retried like transient, and the next channel of the
 *                chain is due at once
 *   permanent    the channel failed for good: the next channel is due
 *
 * A channel whose rate limit is exhausted is not attempted: it waits
 * (never dropped) until its bucket has a token, without counting an
 * attempt.  A message that cannot be rendered (a template that does not
 * finish) fails that channel for good, with the reason.  Each attempt is
 * logged as one line.
 *
 * A batch goes in rounds: in each, every note of the batch takes its next
 * due channel (its context built once, in the batch's scratch pool, and
 * the message rendered there), the "A" lines of the round are written,
 * and each sink gets all of its round's notifications in one call
 * (deliver_batch, else deliver() one after the other).  Their results
 * may make the next channel of a chain due, in the next round.  The
 * latency logged is the sink's call (for a batch: the whole batch's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/clock.h"
#include "alertsink/log.h"
#include "alertsink/mem.h"
#include "conf/config.h"
#include "deliver/backoff.h"
#include "deliver/chain.h"
#include "deliver/ratelimit.h"
#include "deliver/stages.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "render/render.h"

/* Record a result on ch; res->reason says why it failed. */
static void as_channel_result(as_attempt_t *a, const as_plan_t *p, as_chan_t *ch,
                              const as_result_t *res)
{
    as_note_t *n = a->note;
    free(ch->error);
    ch->error = NULL;
    if (res->outcome == AS_DELIVERED) {
        ch->state = AS_CH_DELIVERED;
        ch->unavailable = 0;
        if (a->env->journal != NULL)
            a->env->journal(a->env->jctx, n, 'D', p->name);
        as_metrics_count(AS_M_DELIVERED, n->receiver, p->name, NULL, 1);
        as_metrics_latency(p->name, (double)(as_now_ms() - n->accepted_ms) / 1000.0);
        if (p->rank > 0 && a->recv->chain_mode == AS_CHAIN_FALLBACK)
            as_metrics_count(AS_M_FALLBACK, n->receiver, p->name, NULL, 1);
        as_chain_delivered(a, p);
        return;
    }
    const char *reason = res->reason[0] ? res->reason : "no reason given";
    ch->error = as_xstrdup(reason);
    as_note_error(n, p->name, reason);
    as_metrics_count(AS_M_FAILED, n->receiver, p->name, NULL, 1);
    int64_t now = as_now_ms();
    switch (res->outcome) {
    case AS_PERMANENT:
        ch->state = AS_CH_FAILED;
        if (ch->gave_up_ms == 0)
            ch->gave_up_ms = now;
        return;
    case AS_UNAVAILABLE:
        /* The first time only: the chain reached the next channel then,
         * and a channel once reached stays reached (chain.c), whatever
         * this one answers later. */
        if (ch->gave_up_ms == 0)
            ch->gave_up_ms = now;
        ch->unavailable = 1;
        break;
    default:
        ch->unavailable = 0;
        break;
    }
    ch->next_ms = now + as_backoff_ms(ch->attempts, res->retry_after_ms);
}

/* 1 when p's rate limit lets it go now; else ch waits for a token. */
static int as_channel_rate_ok(as_attempt_t *a, const as_plan_t *p, as_chan_t *ch)
{
    const as_module_t *mod = a->cycle->cfg->mods.v[p->module];
    if (mod->rate_limit == NULL)
        return 1;
    char key[128];
    as_rate_t rate = {0, 0};
    if (!mod->rate_limit(a->cycle->inst[p->module], p->conf, key, sizeof(key), &rate) ||
        rate.count == 0)
        return 1;
    int64_t wait = as_ratelimit_take(key, &rate, a->now);
    if (wait <= 0)
        return 1;
    ch->next_ms = a->now + wait;
    as_log(AS_LOG_DEBUG, "rate limited: waiting", AS_S("id", a->note->id), AS_S("channel", p->name),
           AS_S("bucket", key), AS_I("wait_ms", wait));
    return 0;
}

/* One attempt of one channel of one note, within a round. */
typedef struct as_try_s {
    as_attempt_t *a;
    const as_plan_t *p;
    as_chan_t *ch;
    int module;
    int rendered;    /* 0: the message could not be rendered, res says why */
    int64_t latency; /* ms the sink took (its whole batch, for deliver_batch) */
    as_notification_t view;
    as_rendered_t r;
    as_result_t res;
} as_try_t;

/* Log the attempt and record its result. */
static void as_channel_done(as_try_t *t)
{
    as_attempt_t *a = t->a;
    as_note_t *n = a->note;
    const as_plan_t *p = t->p;
    if ((unsigned)t->res.outcome > AS_UNAVAILABLE)
        t->res.outcome = AS_PERMANENT;
    t->ch->in_doubt = 0;
    const char *result = as_outcome_name(t->res.outcome);
    as_metrics_count(AS_M_ATTEMPTS, n->receiver, p->name, result, 1);
    /* A failure the chain plans for (a next channel exists) is a warning. */
    int last = p->rank + 1 >= a->nplan || a->recv->chain_mode != AS_CHAIN_FALLBACK;
    int level = t->res.outcome == AS_DELIVERED                           ? AS_LOG_INFO
                : t->res.outcome == AS_PERMANENT && last && a->nplan > 1 ? AS_LOG_ERROR
                                                                         : AS_LOG_WARN;
    as_log(level, "delivery attempt", AS_S("id", n->id), AS_S("receiver", n->receiver),
           AS_S("channel", p->name), AS_I("attempt", t->ch->attempts), AS_S("result", result),
           AS_I("status", t->res.status), AS_I("latency_ms", t->latency),
           AS_S("reason", t->res.reason[0] ? t->res.reason : NULL),
           AS_S("role",
                p->rank > 0 && a->recv->chain_mode == AS_CHAIN_FALLBACK ? "fallback" : "primary"),
           AS_I("rank", p->rank + 1));
    as_channel_result(a, p, t->ch, &t->res);
}

/* The next channel of a's chain to attempt now, from its cursor on; NULL
 * when none is due.  One a note a round: a later channel of the chain
 * may become due by what this one answers. */
static const as_plan_t *as_channel_next(as_attempt_t *a, as_chan_t **ch)
{
    while (a->cursor < a->nplan && !as_chain_done(a)) {
        const as_plan_t *p = &a->plan[a->cursor++];
        *ch = as_note_chan(a->note, p->name);
        if ((*ch)->state == AS_CH_PENDING && as_chain_due(a, p) <= a->now &&
            as_channel_rate_ok(a, p, *ch))
            return p;
    }
    return NULL;
}

/* Render t's message into scratch; a template that ran out of its render
 * budget with this payload does so again at every retry: the channel
 * fails for good (the next one takes over) without the sink being
 * called. */
static void as_channel_prepare(as_try_t *t, as_pool_t *scratch)
{
    as_attempt_t *a = t->a;
    as_note_t *n = a->note;
    if (a->ctx == NULL) {
        as_pool_t *prev = as_json_use_pool(scratch);
        a->ctx = as_tpl_context(n->payload);
        as_json_use_pool(prev);
    }
    t->ch->attempts++;
    t->view = (as_notification_t){
        .id = n->id,
        .receiver = n->receiver,
        .channel = t->p->name,
        .status = as_note_status(n),
        .group_key = n->group_key,
        .accepted_ms = n->accepted_ms,
        .attempt = t->ch->attempts,
        .in_doubt = t->ch->in_doubt,
        .data = n->payload,
        .context = a->ctx,
        .core = a->cycle->tpl,
    };
    as_err_t err;
    /* A template that ran out of its render budget with this payload does
     * so again at every retry: the channel fails for good (the next one
     * takes over) without the sink being called. */
    if (as_cycle_render(a->cycle, scratch, a->recv_index, (size_t)t->p->module, a->ctx, &t->r,
                        &err) < 0) {
        as_result_set(&t->res, AS_PERMANENT, 0, "the message cannot be rendered: %s", err.msg);
        return;
    }
    t->rendered = 1;
    if (a->env->journal != NULL)
        a->env->journal(a->env->jctx, n, 'A', t->p->name);
}

/* Every try of one module: in one call when the sink takes batches. */
static void as_channel_deliver(as_cycle_t *c, int module, as_try_t *tries, size_t n,
                               as_pool_t *scratch)
{
    const as_module_t *mod = c->cfg->mods.v[module];
    void *inst = c->inst[module];
    if (mod->deliver_batch != NULL) {
        as_delivery_t *items = as_pnalloc(scratch, n * sizeof(*items));
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (tries[i].module == module && tries[i].rendered)
                items[k++] = (as_delivery_t){tries[i].p->conf, &tries[i].view, &tries[i].r.msg,
                                             &tries[i].res};
        int64_t t0 = as_mono_ms();
        if (k > 0)
            mod->deliver_batch(inst, items, k);
        int64_t took = as_mono_ms() - t0;
        for (size_t i = 0; i < n; i++)
            if (tries[i].module == module)
                tries[i].latency = took;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (tries[i].module != module || !tries[i].rendered)
            continue;
        int64_t t0 = as_mono_ms();
        mod->deliver(inst, tries[i].p->conf, &tries[i].view, &tries[i].r.msg, &tries[i].res);
        tries[i].latency = as_mono_ms() - t0;
    }
}

void as_stage_channels(as_attempt_t *a, size_t n, as_pool_t *scratch)
{
    as_try_t *tries = NULL;
    for (size_t i = 0; i < n; i++)
        if (a[i].verdict == AS_VERDICT_NONE)
            as_chain_plan(&a[i]);
    /* Rounds: in each, every note tries its next due channel; a chain
     * moves on (a fallback due at once) in the next round. */
    for (size_t round = 0; round < AS_CHANNELS_MAX; round++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            as_chan_t *ch;
            const as_plan_t *p;
            if (a[i].verdict != AS_VERDICT_NONE || (p = as_channel_next(&a[i], &ch)) == NULL)
                continue;
            if (tries == NULL)
                tries = as_pnalloc(scratch, n * sizeof(*tries));
            as_try_t *t = &tries[k++];
            memset(t, 0, sizeof(*t));
            t->a = &a[i];
            t->p = p;
            t->ch = ch;
            t->module = p->module;
            as_channel_prepare(t, scratch);
        }
        if (k == 0)
            break;
        const as_pipeline_env_t *env = a[0].env;
        if (env->flush != NULL)
            env->flush(env->jctx); /* the "A" lines are written before any sink is called */
        as_cycle_t *c = a[0].cycle;
        unsigned char seen[AS_MODULES_MAX] = {0};
        for (size_t i = 0; i < k; i++)
            if (!seen[tries[i].module]) {
                seen[tries[i].module] = 1;
                as_channel_deliver(c, tries[i].module, tries, k, scratch);
            }
        for (size_t i = 0; i < k; i++)
            as_channel_done(&tries[i]);
    }
}
