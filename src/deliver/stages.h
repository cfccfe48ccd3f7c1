/*
 * stages.h - the stages of the delivery pipeline, one a file
 * (stage_NAME.c), run in a row by pipeline.c.  A stage looks at the
 * attempt and either passes it on or settles it (a->verdict); the
 * channels stage looks at a batch of attempts at once (those without a
 * verdict), so that each sink gets its share of the batch in one call.
 */
#ifndef AS_STAGES_H
#define AS_STAGES_H

#include "deliver/attempt.h"

typedef void (*as_stage_pt)(as_attempt_t *a);

void as_stage_expire(as_attempt_t *a);
void as_stage_mute(as_attempt_t *a);
void as_stage_dedup(as_attempt_t *a);
void as_stage_channels(as_attempt_t *a, size_t n, as_pool_t *scratch);
void as_stage_retry(as_attempt_t *a);
void as_stage_verdict(as_attempt_t *a);

#endif
