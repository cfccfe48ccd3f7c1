/*
 * recover.h - loading the spool at start, and a batch that appeared later
 * (maildrop/ pickup) (see recover.c).
 */
#ifndef AS_RECOVER_H
#define AS_RECOVER_H

#include <stddef.h>

#include "alertsink/api.h"

/* Load incoming/ and deferred/ into the schedule (the daemon, at start). */
int as_recover_load(as_err_t *err);
/* Load one batch file of incoming/ (with its journal); the count loaded. */
size_t as_recover_batch(const char *name);

#endif
