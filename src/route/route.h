/*
 * route.h - the routing tree, with Alertmanager's semantics (dispatch/route.go).
 *
 * The tree is parsed from "route:" exactly as Alertmanager writes it.
 * After parsing, as_route_finalize() resolves inheritance (receiver,
 * group_by, group_wait, group_interval, repeat_interval flow from parent to
 * child unless set) and links receivers and time intervals by name.
 * as_route_match() walks the tree for one alert's labels: children in
 * order, the first match wins unless it says continue, and a node none of
 * whose children match handles the alert itself.
 *
 * Labels are a cJSON object of strings (an alert's "labels"); a label that
 * is absent, or not a string, is the empty string to a matcher.
 *
 * Group keys are Alertmanager's aggrGroup.GroupKey(): the route's key
 * (Route.Key(): the path of matcher sets from the root, "{}/{a=\"b\"}")
 * then ":" then the group labels as model.LabelSet.String() prints them,
 * {alertname="DiskFull", cluster="prod"}.  Non-printable characters in
 * label values are quoted as Go's %q does, using PCRE2's Unicode tables for
 * what is printable (Go's own tables may differ on code points assigned in
 * a newer Unicode version).
 */
#ifndef AS_ROUTE_H
#define AS_ROUTE_H

#include <cjson/cJSON.h>

#include "alertsink/buf.h"
#include "alertsink/module.h"
#include "route/matcher.h"
#include "route/timeinterval.h"

struct as_time_interval_s;

typedef struct as_route_s {
    /* As written (NULL / -1 / v == NULL: not set, inherited). */
    char *receiver;
    as_strv_t group_by;
    int64_t group_wait, group_interval, repeat_interval;
    int cont;
    as_matchers_t matchers; /* matchers:, match: and match_re: together */
    as_array_t routes;      /* as_route_t */
    as_strv_t active_time_intervals, mute_time_intervals;
    const as_node_t *node;

    /* Resolved by as_route_finalize(). */
    struct as_route_s *parent;
    const char *recv;              /* the effective receiver's name */
    int group_all;                 /* group_by: ['...'] */
    const as_strv_t *group_labels; /* effective group_by */
    /* The effective group_by in the order its labels print in a group
     * key (by name, a name that is another's prefix first): the labels
     * of a group are looked up by these names, not found by sorting. */
    const char *const *group_sorted;
    size_t ngroup_sorted;
    int64_t wait; /* effective group_wait, ms */
    size_t nactive, nmute;
    const struct as_time_interval_s **active, **mute;
    char *key; /* the route's path key, as Alertmanager's Route.Key() */
} as_route_t;

/* The routes that handle an alert with these labels, in tree order, one
 * entry per matching route (Route.Match).  Returns how many match; out
 * receives the first max of them.  as_route_count() bounds the answer. */
size_t as_route_match(const as_route_t *root, const cJSON *labels, const as_route_t **out,
                      size_t max);
/* The number of routes in the tree under root, root included. */
size_t as_route_count(const as_route_t *root);

/* The group labels of an alert under r (its labels named by group_by, or
 * all with ['...']), a new object sorted by name.  Caller deletes it. */
cJSON *as_route_group_labels(const as_route_t *r, const cJSON *labels);
/* The group key of an alert with these labels under r, malloc'd. */
char *as_route_group_key(const as_route_t *r, const cJSON *labels);
/* Append labels as model.LabelSet.String(): {a="1", b="2"}. */
void as_labelset_append(as_buf_t *b, const cJSON *labels);

/* A route's place in the tree as child indices from the root ("0",
 * "0.2.1"): unlike Route.Key() it tells siblings with equal matchers
 * apart.  Stored with a notification to find its route again. */
void as_route_id(const as_route_t *r, char *buf, size_t len);
/* The route at id under root, NULL if the tree has no such place. */
const as_route_t *as_route_by_id(const as_route_t *root, const char *id);
/* The route a notification was routed by: the one at its id, while that
 * route is still the one its group key names ("KEY:labels"); after a
 * reload that moved routes, the route with that key anywhere in root;
 * NULL when none has it.  (By position alone, a held digest was muted by
 * whatever route a reload put at its old place.) */
const as_route_t *as_route_of(const as_route_t *root, const char *id, const char *group_key);

/*
 * Is a notification on route r at instant t muted?  1 when one of its
 * mute_time_intervals contains t, or when it has active_time_intervals
 * and none contains t; *why (may be NULL) then says which, in words that
 * live as long as the configuration.  0 otherwise.  As in Alertmanager,
 * a route's time intervals are its own: children do not inherit them.
 */
int as_route_muted(const as_route_t *r, time_t t, const char **why);

/* What resolution needs to know of the rest of the configuration. */
typedef struct as_route_env_s {
    void *data;
    int (*has_receiver)(void *data, const char *name);
    const struct as_time_interval_s *(*interval)(void *data, const char *name);
} as_route_env_t;

/* After parsing: inheritance resolved, receivers and time intervals
 * looked up by name (errors to cf), route keys built.  -1 on an error. */
int as_route_finalize(as_conf_t *cf, as_route_t *root, const as_route_env_t *env);

extern const as_conf_type_t as_conf_route; /* field: as_route_t (the root) */

#endif
