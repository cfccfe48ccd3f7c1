/*
 * buf.c - growable byte buffers (see buf.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/buf.h"
#include "alertsink/mem.h"

void as_buf_reserve(as_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = as_xrealloc(b->data, cap);
    b->cap = cap;
}

void as_buf_append(as_buf_t *b, const void *data, size_t len)
{
    as_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void as_buf_puts(as_buf_t *b, const char *s)
{
    as_buf_append(b, s, strlen(s));
}

void as_buf_putc(as_buf_t *b, char c)
{
    as_buf_append(b, &c, 1);
}

void as_buf_printf(as_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        as_buf_append(b, small, (size_t)n);
        return;
    }
    as_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void as_buf_html(as_buf_t *b, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        as_buf_append(b, s + start, i - start);
        as_buf_puts(b, rep);
        start = i + 1;
    }
    as_buf_append(b, s + start, len - start);
}

int as_buf_read(as_buf_t *b, FILE *fp, size_t max)
{
    size_t start = b->len;
    for (;;) {
        as_buf_reserve(b, 8192);
        size_t n = fread(b->data + b->len, 1, b->cap - b->len - 1, fp);
        b->len += n;
        b->data[b->len] = '\0';
        if (max > 0 && b->len - start > max) {
            errno = EFBIG;
            return -1;
        }
        /* EOF ends it even after a short read: on a terminal, Ctrl-D is
         * read once, and another fread() would wait for a second one. */
        if (n == 0 || feof(fp))
            return ferror(fp) ? -1 : 0;
    }
}

void as_buf_reset(as_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *as_buf_steal(as_buf_t *b)
{
    char *s = b->data ? b->data : as_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void as_buf_free(as_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
