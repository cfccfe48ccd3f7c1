/*
 * stage_expire.c - the first stage: a notification older than
 * spool.max_age, or whose receiver a reload removed, goes to dead/ with
 * the reason; nothing is dropped silently.
 */
#include <stdio.h>

#include "conf/config.h"
#include "deliver/stages.h"
#include "lib/conf.h"

void as_stage_expire(as_attempt_t *a)
{
    int64_t max_age = a->cycle->cfg->spool.max_age;
    if (a->recv == NULL) {
        a->verdict = AS_VERDICT_DEAD;
        snprintf(a->why, sizeof(a->why), "receiver '%s' is not in the configuration any more",
                 a->note->receiver ? a->note->receiver : "");
        return;
    }
    if (max_age > 0 && a->now - a->note->accepted_ms >= max_age) {
        char age[64];
        as_format_duration(max_age, age, sizeof(age));
        a->verdict = AS_VERDICT_DEAD;
        snprintf(a->why, sizeof(a->why), "not delivered within spool.max_age (%s)", age);
    }
}
