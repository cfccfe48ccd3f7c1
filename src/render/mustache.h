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

/*
 * The budget of one render.  Partials may include themselves (the spec's
 * recursion over data), so a template can also recurse without end.  A
 * partial AS_MUSTACHE_MAX_PARTIALS deep stops the render with an error
 * (rendering it as nothing and going on would not end it: {{>self}}{{>self}}
 * is then a binary tree of 2^64 renders).  Shallow work can be as endless:
 * ten partials that each include the next one ten times are 10^10 renders
 * ten deep.  So one render may also take at most AS_MUSTACHE_MAX_STEPS
 * steps (a step is one node rendered: a text, a tag, a section, a partial;
 * or one turn of a section's loop over a list) and append at most
 * AS_MUSTACHE_MAX_OUTPUT bytes; past either it stops with an error.
 *
 * Sizes: the built-in templates render a group of 1000 alerts (5 labels
 * and 2 annotations each, a 400 KB payload) in about 50000 steps, and the
 * largest output is the email's HTML part, 1.3 MB.  The budget is 200
 * times those steps and 12 times that output: no real notification comes
 * near it, and a runaway template is stopped within about 0.15 s of CPU
 * (10^7 steps) and 16 MiB of output.  The depth limit stops a partial
 * that includes itself long before, at its 64th level.
 */
#define AS_MUSTACHE_MAX_STEPS  10000000
#define AS_MUSTACHE_MAX_OUTPUT (16 << 20)

/* Resolve a partial by name at render time; NULL renders as nothing. */
typedef const as_mustache_t *(*as_mustache_partial_pt)(void *data, const char *name);

/* Compile src.  name is used in errors: "NAME:LINE:COL: message", where
 * LINE and COL (in characters, 1-based) point at the offending tag. */
as_mustache_t *as_mustache_compile(const char *src, size_t len, const char *name, as_err_t *err);
void as_mustache_free(as_mustache_t *t);

/* The name t was compiled with (a file's path, a built-in's name). */
const char *as_mustache_name(const as_mustache_t *t);

/* Render into out (appending).  escape: how {{x}} is escaped, an
 * AS_ESCAPE_ value of alertsink/sink.h: HTML is the spec's behaviour, NONE
 * is for plain-text channels, JSON for a text that is JSON (a webhook's).
 * Returns 0, or -1 when the render stopped before its end: partials nested
 * deeper than AS_MUSTACHE_MAX_PARTIALS, or the budget above spent.  Then
 * err (may be NULL) says which, naming the partial being rendered, and out
 * holds a truncated text that the caller must not use as the message. */
int as_mustache_render(const as_mustache_t *t, const cJSON *ctx, as_mustache_partial_pt partial,
                       void *data, int escape, as_buf_t *out, as_err_t *err);

#endif
