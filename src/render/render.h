/*
 * render.h - one channel's message for one note: the receiver's compiled
 * templates rendered with the note's context (escaping per channel: none
 * for text, HTML for the HTML part), the subject folded to one line, the
 * text split into parts at the channel's max_length.
 */
#ifndef AS_RENDER_H
#define AS_RENDER_H

#include <cjson/cJSON.h>

#include "conf/cycle.h"

typedef struct as_rendered_s {
    char *text, *html, *subject;
    char **parts;
    size_t nparts;
    as_message_t msg; /* the view a sink receives */
} as_rendered_t;

void as_render_message(const as_cycle_t *c, size_t recv, size_t module, const cJSON *ctx,
                       as_rendered_t *out);
void as_rendered_free(as_rendered_t *r);

#endif
