/*
 * template.h - the templates of deliveries: a library of compiled Mustache
 * templates (templates.dir's NAME.mustache files, then the ones the
 * modules ship), the rendering context (docs/templates.md), and the
 * splitting of long messages into numbered parts.
 *
 * Templates are compiled once when a configuration loads; rendering walks
 * the compiled form and never re-parses.  The library is immutable after
 * loading and safe to render from many threads.
 *
 * The built-in sinks' defaults are the files templates/NAME.mustache of
 * the source tree (the package installs the same files as examples),
 * embedded into each sink at build time by templates/embed.cmake.
 */
#ifndef AS_TEMPLATE_H
#define AS_TEMPLATE_H

#include <cjson/cJSON.h>

#include "alertsink/buf.h"
#include "alertsink/conf.h"
#include "alertsink/sink.h"
#include "render/mustache.h"

typedef struct as_tpl_lib_s as_tpl_lib_t;

/* Load every NAME.mustache of dir (NULL: none), then the templates the
 * modules ship (nshipped tables, each ending with {NULL, NULL}), into a
 * library allocated from pool.  Errors go to cf as FILE:LINE:COL: message
 * (every file is compiled, so all errors show at once; one about the
 * directory itself is reported at `at`, where it is configured); then
 * NULL is returned.  A dir that does not exist is logged as a warning and
 * leaves the shipped ones: a template the configuration names is then
 * reported missing where it is named. */
as_tpl_lib_t *as_tpl_lib_load(as_conf_t *cf, as_pool_t *pool, const char *dir, const as_node_t *at,
                              const as_template_src_t *const *shipped, size_t nshipped);
/* A template by name: the directory's first, then the shipped ones.  NULL
 * if none. */
const as_mustache_t *as_tpl_lib_get(const as_tpl_lib_t *lib, const char *name);
/* The HTML template that goes with the text template NAME (for sinks with
 * an HTML part): the directory's NAME.html, else the shipped NAME.html
 * when NAME itself is the shipped one.  NULL when there is none: the HTML part is
 * then the text part escaped inside <pre>. */
const as_mustache_t *as_tpl_lib_get_html(const as_tpl_lib_t *lib, const char *name);

/*
 * The context of docs/templates.md: a copy of payload plus
 *   firing, resolved              lists of the alerts with that status (an
 *                                 alert whose status is not "resolved"
 *                                 counts as firing)
 *   firingCount, resolvedCount    their lengths
 * and these extras, which the default templates use.  An extra never
 * replaces a key the payload already has.
 *   title                 (top level) commonLabels.alertname, else the
 *                         alerts' distinct alertnames joined by ", ", else
 *                         the first alert's title (below)
 * and in every alert (of alerts, firing and resolved alike):
 *   title                 labels.alertname, else annotations.title, else
 *                         annotations.summary, else "alert"
 *   since                 startsAt as "2026-11-24 13:46:31 UTC"
 *   resolvedAt            endsAt the same way, for resolved alerts
 *   duration              from startsAt to endsAt, for resolved alerts:
 *                         "45s", "4m 3s", "2h 5m", "3d 4h"
 *   otherLabels           [{"name","value"}] of the labels but alertname
 *   otherAnnotations      [{"name","value"}] of the annotations but summary,
 *                         description and title
 * Times are in UTC so that a message reads the same wherever it is sent
 * from.  The context refers to payload's members instead of copying them:
 * free it, with cJSON_Delete(), before payload.
 */
cJSON *as_tpl_context(const cJSON *payload);

/* A span of seconds as the messages write it (the context's `duration`):
 * "45s", "4m 3s", "2h 5m", "3d 4h". */
void as_tpl_duration(long long seconds, char *buf, size_t len);

/* A sample notification: an Alertmanager payload of a firing group of two
 * alerts, with every field the default templates use.  `-t` renders every
 * channel's templates with its context once (see cycle.c).  Free it with
 * cJSON_Delete(). */
cJSON *as_tpl_sample(void);

/* Render t with ctx, partials from lib (may be NULL); escape: how {{x}}
 * is escaped (AS_ESCAPE_, alertsink/sink.h).
 * Returns a malloc'd string, or NULL when the render stopped before its
 * end (partials nested too deep, or the budget of mustache.h spent: a
 * template whose partials include each other without end), with err
 * saying "template NAME: why" (NAME: the file's path, or the built-in's
 * name). */
char *as_tpl_render(const as_tpl_lib_t *lib, const as_mustache_t *t, const cJSON *ctx, int escape,
                    as_err_t *err);
/* The same, appended to out: 0, or -1 with err (out then holds what was
 * rendered before the stop, which is not a message to send). */
int as_tpl_render_into(const as_tpl_lib_t *lib, const as_mustache_t *t, const cJSON *ctx,
                       int escape, as_buf_t *out, as_err_t *err);

/*
 * Split text longer than max bytes into numbered parts, each at most max
 * bytes (max 0: never split).  *parts is a malloc'd array of malloc'd
 * strings; returns their number (1 and a copy of text when it fits).
 *
 * Every part starts with "(i/n) " and the header, the text's first line,
 * then a newline and the next lines that fit.  So part 1 is "(1/n) " and
 * the text's own beginning; part 2 repeats the header after "(2/n) ".
 * Lines are kept whole; a line longer than a part's room is cut at a UTF-8
 * character boundary and continues in the next part.  Removing "(i/n) ",
 * the header and its newline from each part and joining what is left
 * gives back the text after its first line.  A header longer than half of
 * max is not repeated: the parts are then "(i/n) " and a piece of the text.
 * (A max too small for "(i/n) " and one character gives one character a
 * part, longer than max: only absurd settings do that.)
 */
size_t as_tpl_split(const char *text, size_t max, char ***parts);
void as_tpl_parts_free(char **parts, size_t n);

#endif
