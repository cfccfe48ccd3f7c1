/*
 * lines.c - the Unix socket's line protocol (see lines.h).
 */
#include <string.h>

#include "lines.h"

void as_lines_init(as_lines_t *l, size_t max)
{
    memset(l, 0, sizeof(*l));
    l->max = max;
}

/* One complete line, without the CR of a CRLF; never empty; over max: too
 * long. */
static void as_lines_one(const as_lines_t *l, char *line, size_t len, as_line_pt cb, void *arg)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > l->max)
        cb(arg, NULL, 0);
    else if (len > 0)
        cb(arg, line, len);
}

void as_lines_feed(as_lines_t *l, char *data, size_t len, as_line_pt cb, void *arg)
{
    while (len > 0) {
        char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) : len;
        /* max + 1: a line of max bytes may end with CRLF. */
        if (!l->dropping && l->in.len + n > l->max + 1) {
            l->dropping = 1;
            as_buf_free(&l->in);
        }
        if (!l->dropping) {
            if (nl != NULL && l->in.len == 0) {
                as_lines_one(l, data, n, cb, arg); /* the whole line is here: no copy */
            } else {
                as_buf_append(&l->in, data, n);
                if (nl != NULL) {
                    as_lines_one(l, l->in.data, l->in.len, cb, arg);
                    as_buf_reset(&l->in);
                }
            }
        } else if (nl != NULL) {
            l->dropping = 0;
            cb(arg, NULL, 0);
        }
        if (nl == NULL)
            break;
        data = nl + 1;
        len -= n + 1;
    }
}

void as_lines_end(as_lines_t *l, as_line_pt cb, void *arg)
{
    if (l->dropping)
        cb(arg, NULL, 0);
    else if (l->in.len > 0)
        as_lines_one(l, l->in.data, l->in.len, cb, arg);
    l->dropping = 0;
    as_buf_free(&l->in);
}

int as_lines_pending(const as_lines_t *l)
{
    return l->in.len > 0 || l->dropping;
}

void as_lines_free(as_lines_t *l)
{
    as_buf_free(&l->in);
    l->dropping = 0;
}

char *as_lines_err(const char *reason)
{
    as_buf_t b = AS_BUF_INIT;
    as_buf_puts(&b, "ERR ");
    for (const char *p = reason; *p; p++)
        as_buf_putc(&b, *p == '\n' || *p == '\r' ? ' ' : *p);
    as_buf_putc(&b, '\n');
    return as_buf_steal(&b);
}
