/*
 * template.h - the templates of deliveries: a library of compiled Mustache
 * templates (templates.dir's NAME.mustache files, then the built-in
 * defaults), the rendering context of CONTRACT §6, and the splitting of
 * long messages into numbered parts.
 *
 * Templates are compiled once when a configuration loads; rendering walks
 * the compiled form and never re-parses.  The library is immutable after
 * loading and safe to render from many threads.
 */
#ifndef AS_TEMPLATE_H
#define AS_TEMPLATE_H

#include <cjson/cJSON.h>

#include "alertsink/module.h"
#include "core/buf.h"
#include "core/mustache.h"

typedef struct as_tpl_lib_s as_tpl_lib_t;

/* Load every NAME.mustache of dir (NULL: built-ins only) into a library
 * allocated from pool.  Syntax errors go to cf as FILE:LINE:COL: message. */
as_tpl_lib_t *as_tpl_lib_load(as_conf_t *cf, as_pool_t *pool, const char *dir);
/* A template by name: the directory's first, then the built-in ones
 * ("whatsapp", "email", "email.html", "email.subject", "file").  NULL if none. */
const as_mustache_t *as_tpl_lib_get(const as_tpl_lib_t *lib, const char *name);

/* The context of CONTRACT §6: a copy of payload plus "firing" and
 * "resolved" (lists of alerts) and "firingCount", "resolvedCount". */
cJSON *as_tpl_context(const cJSON *payload);

/* Render t with ctx, partials from lib; escape_html as §6 says per channel.
 * Returns a malloc'd string. */
char *as_tpl_render(const as_tpl_lib_t *lib, const as_mustache_t *t, const cJSON *ctx,
                    int escape_html);

/* Split text longer than max bytes at line boundaries into numbered parts
 * "(1/3)", never inside a UTF-8 character, each part keeping the first
 * (header) line.  *parts is a malloc'd array of malloc'd strings. */
size_t as_tpl_split(const char *text, size_t max, char ***parts);
void as_tpl_parts_free(char **parts, size_t n);

#endif
