/*
 * stage_channels.c - the channels a receiver's mode asks for, attempted:
 * the primary ones, then the fallback when it is due (CONTRACT §7, §9
 * "Delivery").
 *
 *   mode fallback  WhatsApp first; email when WhatsApp failed permanently
 *                  (a disconnected device is a permanent failure) or when
 *                  fallback_after has passed since the notification was
 *                  accepted.  Once the email is delivered, WhatsApp stops:
 *                  the email was sent instead, not as well.
 *   mode both      WhatsApp and email, both primary.
 *   mode whatsapp  / email: that channel alone.
 *
 * Other channels (file, loaded modules) are always primary.  With a
 * single channel every mode means that channel.  A channel whose rate
 * limit is exhausted is not attempted: it waits (never dropped) until its
 * bucket has a token, without counting an attempt.  A channel whose
 * message cannot be rendered (a template past its render budget) fails
 * permanently at that attempt, with the render error as its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/pipeline.h"
#include "core/pool.h"
#include "core/ratelimit.h"
#include "core/render.h"

int64_t as_backoff_ms(int attempts, int64_t retry_after_ms);

static void as_plan(as_attempt_t *a)
{
    const as_config_t *cfg = a->cycle->cfg;
    int wa = as_modset_find(&cfg->mods, "whatsapp");
    int em = as_modset_find(&cfg->mods, "email");
    int has_wa = wa >= 0 && a->recv->channel[wa].conf != NULL;
    a->nplan = 0;
    for (size_t m = 0; m < cfg->mods.n && a->nplan < AS_CHANNELS_MAX; m++) {
        void *conf = a->recv->channel[m].conf;
        unsigned role = AS_PLAN_PRIMARY;
        if (conf == NULL)
            continue;
        if ((int)m == wa && a->recv->mode == AS_MODE_EMAIL)
            continue;
        if ((int)m == em) {
            if (a->recv->mode == AS_MODE_WHATSAPP)
                continue;
            if (a->recv->mode == AS_MODE_FALLBACK && has_wa)
                role = AS_PLAN_FALLBACK;
        }
        a->plan[a->nplan++] = (as_plan_t){(int)m, cfg->mods.v[m]->channel_key, role, conf};
    }
}

as_chan_t *as_plan_fallback_of(as_attempt_t *a)
{
    for (size_t i = 0; i < a->nplan; i++)
        if (strcmp(a->plan[i].name, "whatsapp") == 0)
            return as_note_chan(a->note, a->plan[i].name);
    return NULL;
}

int as_plan_unneeded(as_attempt_t *a, const as_plan_t *p)
{
    if (!(p->role & AS_PLAN_FALLBACK))
        return 0;
    as_chan_t *wa = as_plan_fallback_of(a);
    return wa != NULL && wa->state == AS_CH_DELIVERED;
}

int as_plan_fallback_due(as_attempt_t *a)
{
    as_chan_t *wa = as_plan_fallback_of(a);
    return wa == NULL || wa->state == AS_CH_FAILED ||
           a->now - a->note->accepted_ms >= a->recv->fallback_after;
}

static const char *const as_outcome_names[] = {"delivered", "transient", "permanent"};

static void as_attempt_one(as_attempt_t *a, const as_plan_t *p, as_chan_t *ch, cJSON **ctx)
{
    as_note_t *n = a->note;
    const as_module_t *mod = a->cycle->cfg->mods.v[p->module];
    void *inst = a->cycle->inst[p->module];

    if (mod->rate_limit != NULL) {
        char key[128];
        as_rate_t rate = {0, 0};
        if (mod->rate_limit(inst, p->conf, key, sizeof(key), &rate) && rate.count > 0) {
            int64_t wait = as_ratelimit_take(key, &rate, a->now);
            if (wait > 0) {
                ch->next_ms = a->now + wait;
                as_log(AS_LOG_DEBUG, "rate limited: waiting", AS_S("id", n->id),
                       AS_S("channel", p->name), AS_S("bucket", key), AS_I("wait_ms", wait));
                return;
            }
        }
    }
    if (*ctx == NULL)
        *ctx = as_tpl_context(n->payload);
    as_rendered_t r;
    as_err_t rerr;
    as_result_t res;
    memset(&res, 0, sizeof(res));
    ch->attempts++;
    int64_t t0 = as_mono_ms();
    if (as_render_message(a->cycle, a->recv_index, (size_t)p->module, *ctx, &r, &rerr) < 0) {
        /* A template that ran out of its render budget with this payload
         * does so again at every retry: the channel fails for good (and a
         * fallback takes over) without the sink being called. */
        res.outcome = AS_PERMANENT;
        snprintf(res.reason, sizeof(res.reason), "the message cannot be rendered: %.470s",
                 rerr.msg);
    } else {
        as_notification_t view = {
            .id = n->id,
            .receiver = n->receiver,
            .status = as_note_status(n),
            .group_key = n->group_key,
            .accepted_ms = n->accepted_ms,
            .attempt = ch->attempts,
            .in_doubt = ch->in_doubt,
            .data = n->payload,
        };
        as_note_journal(n, 'A', p->name);
        mod->deliver(inst, p->conf, &view, &r.msg, &res);
        as_rendered_free(&r);
    }
    int64_t latency = as_mono_ms() - t0;
    ch->in_doubt = 0;
    if (res.outcome > AS_PERMANENT)
        res.outcome = AS_PERMANENT;

    as_metrics_count(AS_M_ATTEMPTS, n->receiver, p->name, as_outcome_names[res.outcome], 1);
    as_log(res.outcome == AS_DELIVERED ? AS_LOG_INFO : AS_LOG_WARN, "delivery attempt",
           AS_S("id", n->id), AS_S("receiver", n->receiver), AS_S("channel", p->name),
           AS_I("attempt", ch->attempts), AS_S("result", as_outcome_names[res.outcome]),
           AS_I("status", res.status), AS_I("latency_ms", latency),
           AS_S("reason", res.reason[0] ? res.reason : NULL),
           AS_S("role", p->role & AS_PLAN_FALLBACK ? "fallback" : "primary"));

    free(ch->error);
    ch->error = NULL;
    if (res.outcome == AS_DELIVERED) {
        ch->state = AS_CH_DELIVERED;
        as_note_journal(n, 'D', p->name);
        as_metrics_count(AS_M_DELIVERED, n->receiver, p->name, NULL, 1);
        as_metrics_latency(p->name, (double)(as_now_ms() - n->accepted_ms) / 1000.0);
        if (p->role & AS_PLAN_FALLBACK) {
            as_chan_t *wa = as_plan_fallback_of(a);
            if (wa != NULL && wa->state == AS_CH_PENDING)
                wa->state = AS_CH_SUPERSEDED;
            as_metrics_count(AS_M_FALLBACK, n->receiver, p->name, NULL, 1);
        }
        return;
    }
    const char *reason = res.reason[0] ? res.reason : "no reason given";
    ch->error = as_xstrdup(reason);
    as_note_error(n, p->name, reason);
    as_metrics_count(AS_M_FAILED, n->receiver, p->name, NULL, 1);
    if (res.outcome == AS_PERMANENT)
        ch->state = AS_CH_FAILED;
    else
        ch->next_ms = as_now_ms() + as_backoff_ms(ch->attempts, res.retry_after_ms);
}

void as_stage_channels(as_attempt_t *a)
{
    as_plan(a);
    cJSON *ctx = NULL;
    for (size_t i = 0; i < a->nplan; i++) {
        const as_plan_t *p = &a->plan[i];
        as_chan_t *ch = as_note_chan(a->note, p->name);
        if (ch->state != AS_CH_PENDING || ch->next_ms > a->now)
            continue;
        if (as_plan_unneeded(a, p) || ((p->role & AS_PLAN_FALLBACK) && !as_plan_fallback_due(a)))
            continue;
        as_attempt_one(a, p, ch, &ctx);
    }
    cJSON_Delete(ctx);
}
