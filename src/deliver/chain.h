/*
 * chain.h - a receiver's channels as a chain (see chain.c and
 * docs/delivery.md): which channels an attempt plans, when each may be
 * tried, whether the notification still needs any, and what `send`'s exit
 * code says about it.
 */
#ifndef AS_CHAIN_H
#define AS_CHAIN_H

#include "deliver/attempt.h"

/* The channels the receiver's mode asks for, in chain order, into a->plan. */
void as_chain_plan(as_attempt_t *a);
/* Mode fallback (or a single channel): some channel delivered, so the
 * others are not needed.  Always 0 in mode all. */
int as_chain_done(const as_attempt_t *a);
/* When channel p may be attempted: its own retry time, and in mode
 * fallback not before the chain reaches it (every earlier channel failed
 * for good or is unavailable, or fallback_after passed per earlier
 * channel). */
int64_t as_chain_due(const as_attempt_t *a, const as_plan_t *p);
/* Channel p delivered: in mode fallback the other pending channels are
 * superseded (sent instead, not as well). */
void as_chain_delivered(as_attempt_t *a, const as_plan_t *p);
/* `send`'s exit code: 0 the first channel (mode all: every channel)
 * delivered, 3 another one did, 1 none did. */
int as_chain_exit_code(const as_attempt_t *a);

#endif
