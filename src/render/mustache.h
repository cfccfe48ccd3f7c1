/*
 * mustache.h - a Mustache engine (https://mustache.github.io/mustache.5.html)
 * that passes the official spec: interpolation, sections, inverted
 * sections, comments, partials (with standalone indentation), set
 * delimiters, and the optional template inheritance ({{<parent}} with
 * {{$block}}) and dynamic names ({{>*name}}).  Data is cJSON.
 *
 * A template is compiled once into a tree of nodes; rendering walks the
 * tree with a context stack and never re-parses the source.  A compiled
 * template is immutable and can be rendered from many threads at once.
 *
 * Choices the spec leaves open:
 *   - Falsey values are those of JavaScript's !!value: false, null, a
 *     missing name, an empty list, "" and 0.  Everything else (true, a
 *     non-empty string or list, any other number, any object, even {}) is
 *     truthy.  An Alertmanager payload has many "" fields (generatorURL),
 *     and {{#generatorURL}}...{{/generatorURL}} should then render nothing.
 *   - Numbers print as JSON writes them: 85 as "85", 1.21 as "1.21" (the
 *     shortest form that reads back as the same double).
 *   - true and false print as "true" and "false"; a list or an object
 *     prints as compact JSON.
 *   - In a dotted name, a part made of digits indexes a list:
 *     {{alerts.0.labels.alertname}}.
 *   - A tag name with a space inside ({{a b}}) or an empty part (a..b) is a
 *     compile error, as are unclosed tags and sections, a closing tag that
 *     does not match, and a set-delimiter tag without two delimiters (or
 *     with an '=' in one).
 */
#ifndef AS_MUSTACHE_H
#define AS_MUSTACHE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "alertsink/buf.h"
#include "alertsink/module.h"

typedef struct as_mustache_s as_mustache_t;

/* Sections may nest this deep in one template; partials (and parents) may
 * include each other this deep while rendering. */
#define AS_MUSTACHE_MAX_NESTING  64
#define AS_MUSTACHE_MAX_PARTIALS 64

/* Resolve a partial by name at render time; NULL renders as nothing. */
typedef const as_mustache_t *(*as_mustache_partial_pt)(void *data, const char *name);

/* Compile src.  name is used in errors: "NAME:LINE:COL: message", where
 * LINE and COL (in characters, 1-based) point at the offending tag. */
as_mustache_t *as_mustache_compile(const char *src, size_t len, const char *name, as_err_t *err);
void as_mustache_free(as_mustache_t *t);

/* Render into out (appending).  escape_html: {{x}} is HTML-escaped (the
 * spec's behaviour); 0 turns escaping off for plain-text channels.
 * Returns 0, or -1 when partials nested deeper than AS_MUSTACHE_MAX_PARTIALS
 * (a template including itself forever): the too-deep partials rendered as
 * nothing, the rest of the output is there, and err (may be NULL) says so. */
int as_mustache_render(const as_mustache_t *t, const cJSON *ctx, as_mustache_partial_pt partial,
                       void *data, int escape_html, as_buf_t *out, as_err_t *err);

#endif
