/*
 * tls.h - per-thread scratch buffers: the paths every notification takes
 * (its spool entry, its rendered message) build text in a buffer the
 * thread keeps, so that a notification costs no malloc there.  A buffer
 * keeps its memory from one use to the next (up to a limit, so that one
 * huge message does not stay resident) and is freed when its thread
 * ends.
 */
#ifndef AS_LIB_TLS_H
#define AS_LIB_TLS_H

#include "alertsink/buf.h"

typedef enum {
    AS_TLS_ENTRY = 0, /* as_submit(): a record's spool entry */
    AS_TLS_RENDER,    /* render.c: a template's output */
    AS_TLS_COUNT
} as_tls_slot_t;

/* This thread's buffer for slot, empty. */
as_buf_t *as_tls_buf(as_tls_slot_t slot);
/* Done with it: a buffer grown past 1 MiB gives its memory back. */
void as_tls_done(as_buf_t *b);

#endif
