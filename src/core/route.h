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
 */
#ifndef AS_ROUTE_H
#define AS_ROUTE_H

#include <cjson/cJSON.h>

#include "alertsink/module.h"
#include "core/matcher.h"

struct as_receiver_s;
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
    const struct as_receiver_s *recv;
    int group_all;                 /* group_by: ['...'] */
    const as_strv_t *group_labels; /* effective group_by */
    int64_t wait;                  /* effective group_wait, ms */
    size_t nactive, nmute;
    const struct as_time_interval_s **active, **mute;
    char *key; /* the route's path key, as Alertmanager's Route.Key() */
} as_route_t;

extern const as_conf_type_t as_conf_route;  /* field: as_route_t (root) */
extern const as_conf_type_t as_conf_routes; /* field: as_array_t of as_route_t */

#endif
