/*
 * lines.h - the Unix socket's line protocol, apart from its sockets: a
 * client's byte stream cut into lines, and the answers' wording.
 *
 * Bytes arrive in pieces of any size; as_lines_feed() hands each complete
 * line to a callback, without its newline and without a CR before it, and
 * keeps an incomplete one for the next piece.  Empty lines are skipped.  A
 * line longer than max bytes (its CR counted) is never held whole: it is
 * dropped as it arrives, and the callback hears of it once, with line
 * NULL, when its newline comes (or the stream ends).  A last line without
 * a newline counts when the stream ends (as_lines_end()).
 *
 * The unix input (unix.c) feeds its clients' reads through this, and the
 * socket-line fuzz harness its inputs, so both see the same lines.
 */
#ifndef AS_INPUTS_LINES_H
#define AS_INPUTS_LINES_H

#include <stddef.h>

#include "alertsink/buf.h"

typedef struct as_lines_s {
    as_buf_t in;  /* a line not complete yet */
    size_t max;   /* the longest line, in bytes, without its newline */
    int dropping; /* inside a line over max: skipping to its newline */
} as_lines_t;

/* line: one line of len bytes (never empty, writable, valid until the
 * callback returns), or NULL for a line that was too long. */
typedef void (*as_line_pt)(void *arg, char *line, size_t len);

void as_lines_init(as_lines_t *l, size_t max);
void as_lines_feed(as_lines_t *l, char *data, size_t len, as_line_pt cb, void *arg);
void as_lines_end(as_lines_t *l, as_line_pt cb, void *arg);
/* Is a line partly read (or being dropped)? */
int as_lines_pending(const as_lines_t *l);
void as_lines_free(as_lines_t *l);

/* "ERR reason\n", on one line whatever reason holds (CR and LF become
 * spaces).  malloc'd. */
char *as_lines_err(const char *reason);

#endif
