/*
 * render.h - one channel's message for one note: the receiver's compiled
 * templates rendered with the note's context (escaping per channel: none
 * for text, HTML for the HTML part), the subject folded to one line, the
 * text split into parts at the channel's max_length.  The message is
 * allocated in a pool (a delivery batch's), so it costs no malloc and
 * goes with the batch; a text that fits in one part is its own part.
 */
#ifndef AS_RENDER_H
#define AS_RENDER_H

#include <cjson/cJSON.h>

#include "alertsink/sink.h"
#include "render/template.h"

/* The compiled templates of one receiver's channel. */
typedef struct as_chan_tpl_s {
    const as_mustache_t *text;    /* NULL: the sink renders nothing (no template) */
    const as_mustache_t *html;    /* AS_SINK_HTML: NAME.html, may be NULL */
    const as_mustache_t *subject; /* AS_SINK_SUBJECT: inline or NAME.subject */
    int text_escape;              /* AS_ESCAPE_JSON for AS_SINK_JSON, else NONE */
} as_chan_tpl_t;

typedef struct as_rendered_s {
    char *text, *html, *subject;
    char **parts;
    size_t nparts;
    as_message_t msg; /* the view a sink receives */
} as_rendered_t;

/* 0, or -1 with err when a template cannot finish (out is then empty).
 * Everything in out lives in pool. */
int as_render_message(as_pool_t *pool, const as_tpl_lib_t *lib, const as_chan_tpl_t *t,
                      int64_t max_length, const cJSON *ctx, as_rendered_t *out, as_err_t *err);

#endif
