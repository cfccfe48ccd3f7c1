/*
 * stage_retry.c - when to try again: the one retry policy (CONTRACT §9).
 *
 * Each channel backs off on its own: about 1 s after the first failure,
 * doubling up to 5 minutes, with ±20 % jitter so that many notifications
 * failing together do not retry together; a peer's Retry-After that asks
 * for longer wins.  The note is due at the earliest pending channel's
 * time, or when its fallback becomes due, whichever comes first.
 */
#include <stdint.h>
#include <stdlib.h>

#include "conf/config.h"
#include "deliver/pipeline.h"

#define AS_BACKOFF_FIRST_MS 1000
#define AS_BACKOFF_MAX_MS   300000

int64_t as_backoff_ms(int attempts, int64_t retry_after_ms);
int64_t as_backoff_ms(int attempts, int64_t retry_after_ms)
{
    int64_t base = AS_BACKOFF_FIRST_MS;
    for (int i = 1; i < attempts && base < AS_BACKOFF_MAX_MS; i++)
        base *= 2;
    if (base > AS_BACKOFF_MAX_MS)
        base = AS_BACKOFF_MAX_MS;
    /* ±20 %: random() is enough for spreading retries, and thread-safe in glibc. */
    double jitter = 0.8 + 0.4 * ((double)random() / (double)RAND_MAX);
    int64_t ms = (int64_t)((double)base * jitter);
    return retry_after_ms > ms ? retry_after_ms : ms;
}

void as_stage_retry(as_attempt_t *a)
{
    int64_t due = INT64_MAX;
    for (size_t i = 0; i < a->nplan; i++) {
        const as_plan_t *p = &a->plan[i];
        const as_chan_t *ch = as_note_chan_find(a->note, p->name);
        int64_t at = ch ? ch->next_ms : 0;
        if ((ch != NULL && ch->state != AS_CH_PENDING) || as_plan_unneeded(a, p))
            continue;
        if ((p->role & AS_PLAN_FALLBACK) && !as_plan_fallback_due(a))
            at = a->note->accepted_ms + a->recv->fallback_after;
        if (at < due)
            due = at;
    }
    a->note->due_ms = due == INT64_MAX ? a->now : due;
}
