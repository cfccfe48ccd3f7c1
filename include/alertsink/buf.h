/*
 * alertsink/buf.h - a growable byte buffer, always NUL-terminated (Redis's sds, in
 * the small): the one way alertsink builds strings of unknown length.
 * Allocation failure aborts (see mem.h), so appends cannot fail.
 */
#ifndef ALERTSINK_BUF_H
#define ALERTSINK_BUF_H

#include "alertsink/api.h"

#include <stddef.h>
#include <stdint.h>
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

AS_API void as_buf_reserve(as_buf_t *b, size_t extra);
AS_API void as_buf_append(as_buf_t *b, const void *data, size_t len);
AS_API void as_buf_puts(as_buf_t *b, const char *s);
AS_API void as_buf_putc(as_buf_t *b, char c);
AS_API void as_buf_printf(as_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with &, <, >, ", ' escaped for HTML. */
AS_API void as_buf_html(as_buf_t *b, const char *s, size_t len);
/* Append s[0..len) as a JSON string literal, quotes included, escaped as
 * cJSON prints strings: the one way alertsink writes JSON text by hand. */
AS_API void as_buf_json(as_buf_t *b, const char *s, size_t len);
/* The same without the quotes: s escaped for the inside of a JSON string
 * (a webhook template's {{x}}, see sink.h's AS_ESCAPE_JSON). */
AS_API void as_buf_json_chars(as_buf_t *b, const char *s, size_t len);
/* src into dst[0..size), cut short to fit and always NUL-terminated
 * (size > 0): the one bounded string copy.  Returns the length copied. */
AS_API size_t as_str_copy(char *dst, size_t size, const char *src);
/* v in decimal at out (room for AS_INT_TEXT bytes; at most its digits,
 * sign and NUL are written), without printf: the one way
 * alertsink writes a number on its hot paths.  Returns the length. */
#define AS_INT_TEXT 24
AS_API size_t as_int_text(char *out, long long v);
/* The low digits*4 bits of v in lowercase hex at out, zero-padded, no
 * NUL (fixed-width fields: ids, frame headers). */
AS_API void as_hex_text(char *out, uint64_t v, int digits);
/* Append v in decimal (as_int_text). */
AS_API void as_buf_int(as_buf_t *b, long long v);
/* Append all of fp.  -1 on a read error, or with errno EFBIG once more
 * than max bytes came (max 0: no limit); what was read stays in b. */
AS_API int as_buf_read(as_buf_t *b, FILE *fp, size_t max);
AS_API void as_buf_reset(as_buf_t *b); /* len = 0, keeps the memory */
/* Hand the string over to the caller (never NULL) and empty b. */
AS_API char *as_buf_steal(as_buf_t *b);
AS_API void as_buf_free(as_buf_t *b);

#endif /* ALERTSINK_BUF_H */
