/*
 * render.c - a channel's message from its templates (see render.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/render.h"

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

int as_render_message(const as_cycle_t *c, size_t recv, size_t module, const cJSON *ctx,
                      as_rendered_t *out, as_err_t *err)
{
    const as_config_t *cfg = c->cfg;
    const as_receiver_t *r = (const as_receiver_t *)cfg->receivers.elts + recv;
    const as_channel_conf_t *ch = r->channel[module].conf;
    const as_chan_tpl_t *t = as_cycle_chan_tpl(c, recv, module);
    memset(out, 0, sizeof(*out));

    if ((out->text = as_tpl_render(c->tpl, t->text, ctx, 0, err)) == NULL)
        return -1;
    if (t->html != NULL && (out->html = as_tpl_render(c->tpl, t->html, ctx, 1, err)) == NULL)
        goto failed;
    if (t->subject != NULL) {
        if ((out->subject = as_tpl_render(c->tpl, t->subject, ctx, 0, err)) == NULL)
            goto failed;
        as_fold_line(out->subject);
    }
    size_t max = ch && ch->max_length > 0 ? (size_t)ch->max_length : 0;
    out->nparts = as_tpl_split(out->text, max, &out->parts);
    out->msg.text = out->text;
    out->msg.nparts = out->nparts;
    out->msg.parts = (const char *const *)out->parts;
    out->msg.html = out->html;
    out->msg.subject = out->subject;
    return 0;
failed:
    as_rendered_free(out);
    return -1;
}

void as_rendered_free(as_rendered_t *r)
{
    free(r->text);
    free(r->html);
    free(r->subject);
    as_tpl_parts_free(r->parts, r->nparts);
    memset(r, 0, sizeof(*r));
}
