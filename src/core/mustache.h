/*
 * mustache.h - a Mustache engine (https://mustache.github.io/mustache.5.html)
 * that passes the official spec: interpolation, sections, inverted
 * sections, comments, partials (with standalone indentation), set
 * delimiters.  Data is cJSON.
 *
 * A template is compiled once into a tree of nodes; rendering walks the
 * tree with a context stack and never re-parses the source.  A compiled
 * template is immutable and can be rendered from many threads at once.
 */
#ifndef AS_MUSTACHE_H
#define AS_MUSTACHE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "alertsink/module.h"
#include "core/buf.h"

typedef struct as_mustache_s as_mustache_t;

/* Resolve a partial by name at render time; NULL renders as nothing. */
typedef const as_mustache_t *(*as_mustache_partial_pt)(void *data, const char *name);

/* Compile src.  name is used in errors: "NAME:LINE:COL: message". */
as_mustache_t *as_mustache_compile(const char *src, size_t len, const char *name, as_err_t *err);
void as_mustache_free(as_mustache_t *t);

/* Render into out.  escape_html: {{x}} is HTML-escaped (the spec's
 * behaviour); 0 turns escaping off for plain-text channels. */
void as_mustache_render(const as_mustache_t *t, const cJSON *ctx, as_mustache_partial_pt partial,
                        void *data, int escape_html, as_buf_t *out);

#endif
