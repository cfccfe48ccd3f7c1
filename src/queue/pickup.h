/*
 * pickup.h - the maildrop/ scanner thread (see pickup.c).
 */
#ifndef AS_PICKUP_H
#define AS_PICKUP_H

/* The thread: until the engine stops. */
void *as_pickup_main(void *arg);

#endif
