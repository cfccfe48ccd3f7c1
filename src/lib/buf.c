/*
 * buf.c - growable byte buffers (see alertsink/buf.h), and the writers
 * the hot paths use instead of printf: JSON strings and integers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
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

void as_buf_json(as_buf_t *b, const char *s, size_t len)
{
    as_buf_reserve(b, len + 2);
    b->data[b->len++] = '"';
    as_buf_json_chars(b, s, len);
    as_buf_putc(b, '"');
}

void as_buf_json_chars(as_buf_t *b, const char *s, size_t len)
{
    /* As cJSON prints strings: the two that must be escaped, the short
     * forms of \b \f \n \r \t, \u00XX for other control characters,
     * everything else (UTF-8 included) as it is. */
    static const char hex[] = "0123456789abcdef";
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    as_buf_reserve(b, len);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        /* Eight plain bytes at a time (no quote, backslash or control). */
        while (i + 8 <= len) {
            uint64_t w, q, k;
            memcpy(&w, s + i, 8);
            q = w ^ (ones * '"');
            k = w ^ (ones * '\\');
            if ((((q - ones) & ~q) | ((k - ones) & ~k) | ((w - ones * 0x20) & ~w)) & high)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        as_buf_append(b, s + start, i - start);
        start = i + 1;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
        case '\\':
            e[1] = (char)c;
            break;
        case '\b':
            e[1] = 'b';
            break;
        case '\f':
            e[1] = 'f';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        default:
            memcpy(e + 1, "u00", 3);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            n = 6;
        }
        as_buf_append(b, e, n);
    }
    as_buf_append(b, s + start, len - start);
}

size_t as_str_copy(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memmove(dst, src, n);
    dst[n] = '\0';
    return n;
}

void as_hex_text(char *out, uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 15];
}

size_t as_int_text(char *out, long long v)
{
    char tmp[AS_INT_TEXT];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        tmp[sizeof(tmp) - 1 - n++] = '-';
    memcpy(out, tmp + sizeof(tmp) - n, n);
    out[n] = '\0';
    return n;
}

void as_buf_int(as_buf_t *b, long long v)
{
    char tmp[AS_INT_TEXT];
    as_buf_append(b, tmp, as_int_text(tmp, v));
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
