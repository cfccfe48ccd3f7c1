/*
 * render.c - a channel's message from its templates (see render.h).
 */
#include <stdlib.h>
#include <string.h>

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

int as_render_message(const as_tpl_lib_t *lib, const as_chan_tpl_t *t, int64_t max_length,
                      const cJSON *ctx, as_rendered_t *out, as_err_t *err)
{
    memset(out, 0, sizeof(*out));

    if ((t->text != NULL && (out->text = as_tpl_render(lib, t->text, ctx, 0, err)) == NULL) ||
        (t->html != NULL && (out->html = as_tpl_render(lib, t->html, ctx, 1, err)) == NULL) ||
        (t->subject != NULL &&
         (out->subject = as_tpl_render(lib, t->subject, ctx, 0, err)) == NULL)) {
        as_rendered_free(out);
        return -1;
    }
    if (out->subject != NULL)
        as_fold_line(out->subject);
    size_t max = max_length > 0 ? (size_t)max_length : 0;
    if (out->text != NULL)
        out->nparts = as_tpl_split(out->text, max, &out->parts);
    out->msg.text = out->text;
    out->msg.nparts = out->nparts;
    out->msg.parts = (const char *const *)out->parts;
    out->msg.html = out->html;
    out->msg.subject = out->subject;
    return 0;
}

void as_rendered_free(as_rendered_t *r)
{
    free(r->text);
    free(r->html);
    free(r->subject);
    as_tpl_parts_free(r->parts, r->nparts);
    memset(r, 0, sizeof(*r));
}
