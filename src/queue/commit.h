/*
 * commit.h - the group committers (see commit.c; inputs reach them
 * through as_submit() of alertsink/input.h).
 */
#ifndef AS_COMMIT_H
#define AS_COMMIT_H

#include <stddef.h>

#include "alertsink/api.h"

/* Committers at work, each with a segment of incoming/ of its own.  One:
 * two let a round be written while the other waits for its flush, but
 * the rounds are then smaller, and on a machine short of CPU (2 CPUs,
 * the benchmark's client on them too) that measured twice the CPU per
 * request and fewer requests per second. */
#define AS_COMMITTERS 1

/* Start n committers. */
int as_commit_start(size_t n, as_err_t *err);
/* Let the rounds in flight and what is queued be committed, then stop. */
void as_commit_stop(void);

#endif
