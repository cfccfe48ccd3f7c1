/*
 * stage_verdict.c - the last stage: finished when the chain is done (mode
 * fallback: a channel delivered; mode all: every channel settled, one of
 * them delivered); dead/ at once when every channel failed for good (with
 * every reason); otherwise deferred to the time the retry stage chose.  A
 * channel that was unavailable is pending: a receiver whose only channel
 * cannot deliver now is retried until spool.max_age, never dead at once.
 */
#include <stdio.h>
#include <string.h>

#include "alertsink/log.h"
#include "conf/config.h"
#include "deliver/chain.h"
#include "deliver/stages.h"

void as_stage_verdict(as_attempt_t *a)
{
    int pending = 0, delivered = 0, failed = 0;
    size_t o = 0;
    for (size_t i = 0; i < a->nplan; i++) {
        const as_plan_t *p = &a->plan[i];
        const as_chan_t *ch = as_note_chan_find(a->note, p->name);
        as_ch_state_t st = ch ? ch->state : AS_CH_PENDING;
        if (st == AS_CH_PENDING) {
            pending++;
        } else if (st == AS_CH_DELIVERED) {
            delivered++;
        } else if (st == AS_CH_FAILED) {
            failed++;
            if (o < sizeof(a->why))
                o += (size_t)snprintf(a->why + o, sizeof(a->why) - o, "%s%s: %s", o ? "; " : "",
                                      p->name, ch && ch->error ? ch->error : "failed");
        }
    }
    if (a->nplan == 0) {
        a->verdict = AS_VERDICT_DEAD;
        snprintf(a->why, sizeof(a->why), "receiver '%s' has no channel its mode can use",
                 a->recv->name);
    } else if (as_chain_done(a) || (pending == 0 && delivered > 0)) {
        a->verdict = AS_VERDICT_FINISHED;
        /* In mode all a channel the receiver asked for did not deliver;
         * in mode fallback that is what the chain is for. */
        if (failed > 0 && a->recv->chain_mode == AS_CHAIN_ALL)
            as_log(AS_LOG_ERROR, "delivered, but some channels failed permanently",
                   AS_S("id", a->note->id), AS_S("receiver", a->note->receiver),
                   AS_S("failed", a->why));
    } else if (pending > 0) {
        a->verdict = AS_VERDICT_DEFER;
        a->why[0] = '\0';
    } else {
        a->verdict = AS_VERDICT_DEAD;
        static const char pre[] = "every channel failed permanently: ";
        size_t len = strlen(a->why), room = sizeof(a->why) - sizeof(pre);
        if (len > room)
            len = room;
        memmove(a->why + sizeof(pre) - 1, a->why, len);
        a->why[sizeof(pre) - 1 + len] = '\0';
        memcpy(a->why, pre, sizeof(pre) - 1);
    }
}
