/*
 * render.c - a channel's message from its templates (see render.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/tls.h"
#include "render/render.h"

/* Subjects are one line: newlines and tabs become spaces, runs collapse. */
static void as_fold_line(char *s)
{
    char *o = s;
    int space = 0;
    for (char *p = s; *p; p++) {
        char c = *p == '\r' || *p == '\n' || *p == '\t' ? ' ' : *p;
        if (c == ' ' && (space || o == s)) {
            continue;
        }
        space = c == ' ';
        *o++ = c;
    }
    while (o > s && o[-1] == ' ')
        o--;
    *o = '\0';
}

/* One template into pool: rendered into this thread's buffer, then copied. */
static char *as_render_one(as_pool_t *pool, const as_tpl_lib_t *lib, const as_mustache_t *t,
                           const cJSON *ctx, int escape, as_err_t *err)
{
    as_buf_t *buf = as_tls_buf(AS_TLS_RENDER);
    char *s = NULL;
    if (as_tpl_render_into(lib, t, ctx, escape, buf, err) == 0)
        s = as_pstrndup(pool, buf->data ? buf->data : "", buf->len);
    as_tls_done(buf);
    return s;
}

int as_render_message(as_pool_t *pool, const as_tpl_lib_t *lib, const as_chan_tpl_t *t,
                      int64_t max_length, const cJSON *ctx, as_rendered_t *out, as_err_t *err)
{
    memset(out, 0, sizeof(*out));
    if ((t->text != NULL &&
         (out->text = as_render_one(pool, lib, t->text, ctx, t->text_escape, err)) == NULL) ||
        (t->html != NULL &&
         (out->html = as_render_one(pool, lib, t->html, ctx, AS_ESCAPE_HTML, err)) == NULL) ||
        (t->subject != NULL &&
         (out->subject = as_render_one(pool, lib, t->subject, ctx, AS_ESCAPE_NONE, err)) == NULL)) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    if (out->subject != NULL)
        as_fold_line(out->subject);
    size_t max = max_length > 0 ? (size_t)max_length : 0;
    if (out->text != NULL) {
        if (max == 0 || strlen(out->text) <= max) {
            out->parts = as_pnalloc(pool, sizeof(char *));
            out->parts[0] = out->text;
            out->nparts = 1;
        } else {
            char **parts;
            out->nparts = as_tpl_split(out->text, max, &parts);
            out->parts = as_pnalloc(pool, out->nparts * sizeof(char *));
            for (size_t i = 0; i < out->nparts; i++)
                out->parts[i] = as_pstrdup(pool, parts[i]);
            as_tpl_parts_free(parts, out->nparts);
        }
    }
    out->msg.text = out->text;
    out->msg.nparts = out->nparts;
    out->msg.parts = (const char *const *)out->parts;
    out->msg.html = out->html;
    out->msg.subject = out->subject;
    return 0;
}
