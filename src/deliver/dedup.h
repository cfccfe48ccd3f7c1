/*
 * dedup.h - the deduplication claims of stage_dedup.c that the queue
 * manages: a claim given back when its note dies, and old claims swept.
 * Claims are files in the spool's dedup/ folder (dir, an open descriptor).
 */
#ifndef AS_DEDUP_H
#define AS_DEDUP_H

#include <stdint.h>

#include "deliver/note.h"

/* A note that died gives its claim back, so a later copy can try again. */
void as_dedup_release(int dir, const as_note_t *n);
/* Remove claims older than max_age_ms. */
void as_dedup_sweep(int dir, int64_t max_age_ms);

#endif
