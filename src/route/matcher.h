/*
 * matcher.h - Alertmanager label matchers: name="v", name!="v", name=~"re",
 * name!~"re", with its exact parsing rules (unquoted values, spaces around
 * the operator, \" and \\ and \n escapes inside quotes, several matchers
 * in one string as "{a="1", b=~"x|y"}").  Regexes are Go's, as in
 * Alertmanager (route/re2.h: what Go refuses is refused, what Go matches is
 * matched), anchored as ^(?:re)$, compiled once when the configuration
 * loads.
 *
 * A label that is absent matches as the empty string, as in Alertmanager.
 * A legacy match_re value is stored as Alertmanager stores it,
 * "^(?:value)$", and anchored again when compiled: route keys print it
 * that way, and a value such as "a)|(b" means there what it means here.
 */
#ifndef AS_MATCHER_H
#define AS_MATCHER_H

#include <cjson/cJSON.h>
#include <pcre2.h>

#include "alertsink/buf.h"
#include "alertsink/module.h"

typedef enum { AS_MATCH_EQ, AS_MATCH_NE, AS_MATCH_RE, AS_MATCH_NRE } as_match_op_t;

typedef struct as_matcher_s {
    char *name;
    char *value;
    as_match_op_t op;
    pcre2_code *re; /* =~ and !~ */
} as_matcher_t;

typedef struct as_matchers_s {
    size_t n;
    as_matcher_t *v;
} as_matchers_t;

/* Configuration types (field: as_matchers_t; each appends to the list):
 * "matchers:" list of matcher strings, legacy "match:" and "match_re:" maps. */
extern const as_conf_type_t as_conf_matchers;
extern const as_conf_type_t as_conf_match_map;
extern const as_conf_type_t as_conf_match_re_map;

/* Parse one string of matchers ("a=b" or "{a=\"b\", c=~d}") into list,
 * allocated from pool.  Returns -1 with err (PCRE2's message and offset). */
int as_matchers_parse(as_pool_t *pool, const char *s, as_matchers_t *list, as_err_t *err);
/* Parse exactly one matcher, commas included in its value (ParseMatcher,
 * what amtool uses for the labels on its command line). */
int as_matcher_parse(as_pool_t *pool, const char *s, as_matcher_t *m, as_err_t *err);

/* Does a label value (NULL = absent) satisfy m? */
int as_matcher_matches(const as_matcher_t *m, const char *value);
/* Do labels (a JSON object of strings) satisfy every matcher of list?
 * An absent label, or one that is not a string, is the empty string. */
int as_matchers_match(const as_matchers_t *list, const cJSON *labels);
/* Sort as Alertmanager does (labels.Matchers.Less: name, value, operator),
 * which its route keys depend on. */
void as_matchers_sort(as_matchers_t *list);
/* Append name="value" as Alertmanager prints it (Matcher.String: only \\,
 * \n and \" escaped). */
void as_matcher_append(as_buf_t *b, const as_matcher_t *m);

#endif
