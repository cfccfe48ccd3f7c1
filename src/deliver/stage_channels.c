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
            a->env->journal(n, 'D', p->name);
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
        ch->gave_up_ms = now;
        return;
    case AS_UNAVAILABLE:
        if (!ch->unavailable)
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

static void as_channel_attempt(as_attempt_t *a, const as_plan_t *p, as_chan_t *ch, cJSON **ctx)
{
    as_note_t *n = a->note;
    const as_module_t *mod = a->cycle->cfg->mods.v[p->module];
    if (!as_channel_rate_ok(a, p, ch))
        return;
    if (*ctx == NULL)
        *ctx = as_tpl_context(n->payload);

    ch->attempts++;
    as_result_t res;
    memset(&res, 0, sizeof(res));
    as_notification_t view = {
        .id = n->id,
        .receiver = n->receiver,
        .channel = p->name,
        .status = as_note_status(n),
        .group_key = n->group_key,
        .accepted_ms = n->accepted_ms,
        .attempt = ch->attempts,
        .in_doubt = ch->in_doubt,
        .data = n->payload,
        .context = *ctx,
        .core = a->cycle->tpl,
    };
    as_rendered_t r;
    as_err_t err;
    int64_t t0 = as_mono_ms();
    if (as_cycle_render(a->cycle, a->recv_index, (size_t)p->module, *ctx, &r, &err) < 0) {
        /* A template that ran out of its render budget with this payload
         * does so again at every retry: the channel fails for good (the
         * next one takes over) without the sink being called. */
        as_result_set(&res, AS_PERMANENT, 0, "the message cannot be rendered: %s", err.msg);
    } else {
        if (a->env->journal != NULL)
            a->env->journal(n, 'A', p->name);
        mod->deliver(a->cycle->inst[p->module], p->conf, &view, &r.msg, &res);
        as_rendered_free(&r);
        if ((unsigned)res.outcome > AS_UNAVAILABLE)
            res.outcome = AS_PERMANENT;
    }
    int64_t latency = as_mono_ms() - t0;
    ch->in_doubt = 0;

    const char *result = as_outcome_name(res.outcome);
    as_metrics_count(AS_M_ATTEMPTS, n->receiver, p->name, result, 1);
    /* A failure the chain plans for (a next channel exists) is a warning. */
    int last = p->rank + 1 >= a->nplan || a->recv->chain_mode != AS_CHAIN_FALLBACK;
    int level = res.outcome == AS_DELIVERED                           ? AS_LOG_INFO
                : res.outcome == AS_PERMANENT && last && a->nplan > 1 ? AS_LOG_ERROR
                                                                      : AS_LOG_WARN;
    as_log(level, "delivery attempt", AS_S("id", n->id), AS_S("receiver", n->receiver),
           AS_S("channel", p->name), AS_I("attempt", ch->attempts), AS_S("result", result),
           AS_I("status", res.status), AS_I("latency_ms", latency),
           AS_S("reason", res.reason[0] ? res.reason : NULL),
           AS_S("role",
                p->rank > 0 && a->recv->chain_mode == AS_CHAIN_FALLBACK ? "fallback" : "primary"),
           AS_I("rank", p->rank + 1));
    as_channel_result(a, p, ch, &res);
}

void as_stage_channels(as_attempt_t *a)
{
    as_chain_plan(a);
    cJSON *ctx = NULL;
    for (size_t i = 0; i < a->nplan && !as_chain_done(a); i++) {
        const as_plan_t *p = &a->plan[i];
        as_chan_t *ch = as_note_chan(a->note, p->name);
        if (ch->state == AS_CH_PENDING && as_chain_due(a, p) <= a->now)
            as_channel_attempt(a, p, ch, &ctx);
    }
    cJSON_Delete(ctx);
}
