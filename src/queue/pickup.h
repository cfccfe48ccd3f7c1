/*
 * pickup.h - maildrop/ pickup and the sweep of old deduplication claims
 * (see pickup.c).
 */
#ifndef AS_PICKUP_H
#define AS_PICKUP_H

/* Once a second, from the daemon's main thread while the engine runs. */
void as_pickup_tick(void);

#endif
