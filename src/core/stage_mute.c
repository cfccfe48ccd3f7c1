/*
 * stage_mute.c - TEMPORARY pass-through until time intervals land: the
 * route's mute_time_intervals / active_time_intervals will be checked here.
 */
#include "core/pipeline.h"

void as_stage_mute(as_attempt_t *a)
{
    (void)a;
}
