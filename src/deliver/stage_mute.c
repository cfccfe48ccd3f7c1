/*
 * stage_mute.c - a notification whose route is inside one of its
 * mute_time_intervals, or outside all of its active_time_intervals, is not
 * delivered: it is logged as muted, with the interval, and counted
 * (docs/routing.md: muted is not lost).  As in Alertmanager, the check is made
 * when the notification is first handled; a retry already under way is
 * not stopped by a window that opens later.
 */
#include <stdio.h>
#include <time.h>

#include "conf/config.h"
#include "deliver/stages.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "route/route.h"

void as_stage_mute(as_attempt_t *a)
{
    as_note_t *n = a->note;
    /* Only when first handled: a note waiting for a rate limit's token
     * (no attempt yet) was muted when a window opened meanwhile. */
    if (as_note_handled(n))
        return;
    const as_route_t *r = as_route_of(&a->cycle->cfg->route, n->route, n->group_key);
    const char *why = NULL;
    if (r == NULL || !as_route_muted(r, (time_t)(a->now / 1000), &why))
        return;
    a->verdict = AS_VERDICT_FINISHED;
    snprintf(a->why, sizeof(a->why), "muted: %s", why ? why : "time interval");
    as_metrics_count(AS_M_MUTED, n->receiver, NULL, NULL, 1);
    as_log(AS_LOG_INFO, "muted", AS_S("id", n->id), AS_S("receiver", n->receiver),
           AS_S("group_key", n->group_key), AS_S("reason", why));
}
