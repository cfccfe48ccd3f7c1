/*
 * render.h - one channel's message for one note: the receiver's compiled
 * templates rendered with the note's context (escaping per channel: none
 * for text, HTML for the HTML part), the subject folded to one line, the
 * text split into parts at the channel's max_length.  A template that
 * does not render (its render budget spent) fails the message: a delivery
 * treats that as a permanent failure of the channel, and `-t` renders
 * every channel once with a sample to refuse such a template up front.
 */
#ifndef AS_RENDER_H
#define AS_RENDER_H

#include <cjson/cJSON.h>

#include "core/cycle.h"

typedef struct as_rendered_s {
    char *text, *html, *subject;
    char **parts;
    size_t nparts;
    as_message_t msg; /* the view a sink receives */
} as_rendered_t;

/* Render receiver recv's channel of module `module` into out.  Returns 0,
 * or -1 when one of its templates did not render (see as_tpl_render():
 * partials that include each other without end): err says which and why,
 * and out holds nothing to free. */
int as_render_message(const as_cycle_t *c, size_t recv, size_t module, const cJSON *ctx,
                      as_rendered_t *out, as_err_t *err);
void as_rendered_free(as_rendered_t *r);

#endif
