/*
 * buf.h - a growable byte buffer, always NUL-terminated (Redis's sds, in
 * the small): the one way alertsink builds strings of unknown length.
 * Allocation failure aborts (see pool.h), so appends cannot fail.
 */
#ifndef AS_BUF_H
#define AS_BUF_H

#include <stddef.h>
#include <stdio.h>

typedef struct as_buf_s {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
} as_buf_t;

#define AS_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void as_buf_reserve(as_buf_t *b, size_t extra);
void as_buf_append(as_buf_t *b, const void *data, size_t len);
void as_buf_puts(as_buf_t *b, const char *s);
void as_buf_putc(as_buf_t *b, char c);
void as_buf_printf(as_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with &, <, >, ", ' escaped for HTML. */
void as_buf_html(as_buf_t *b, const char *s, size_t len);
/* Append all of fp.  -1 on a read error, or with errno EFBIG once more
 * than max bytes came (max 0: no limit); what was read stays in b. */
int as_buf_read(as_buf_t *b, FILE *fp, size_t max);
void as_buf_reset(as_buf_t *b); /* len = 0, keeps the memory */
/* Hand the string over to the caller (never NULL) and empty b. */
char *as_buf_steal(as_buf_t *b);
void as_buf_free(as_buf_t *b);

#endif
