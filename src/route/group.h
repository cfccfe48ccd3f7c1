/*
 * group.h - one incoming payload split into notifications, the way
 * Alertmanager's dispatcher groups alerts (dispatch/dispatch.go).
 *
 * A payload (Alertmanager webhook v4 shape) may hold alerts that this
 * configuration routes differently from the Alertmanager that grouped
 * them, so each alert is routed again by its own labels: every route it
 * matches (as_route_match) gives a receiver and a group key
 * (as_route_group_key), and the alerts that share (receiver, group key)
 * form one notification.  Its payload is the input's with `receiver`,
 * `status`, `alerts`, `groupLabels`, `commonLabels`, `commonAnnotations`
 * and `groupKey` recomputed as Alertmanager's template.Data() computes them
 * (common = equal in every alert of the notification; a label with an
 * empty value counts as absent, as Alertmanager's API drops it); every other field
 * (externalURL, version, truncatedAlerts, ...) is kept as it came.
 *
 * Notifications come in order of first appearance: the order of the alerts
 * in the payload, then tree order among the routes of one alert.  An alert
 * that reaches one (receiver, group key) through two routes (siblings with
 * the same matchers, both with continue) is in that notification once, and
 * the notification keeps the first route.
 *
 * A receiver override (POST /api/v1/alertmanager/RECEIVER, send
 * --receiver) skips routing: all alerts go to that receiver as one
 * notification, under the root route.  Its group labels are the labels
 * that the root's group_by selects and that every alert carries with the
 * same value (for one alert: exactly its group labels under the root), and
 * its group key is the root's key ":" those labels.
 *
 * A payload with no alerts gives no notification.
 */
#ifndef AS_GROUP_H
#define AS_GROUP_H

#include <cjson/cJSON.h>

#include "alertsink/api.h"
#include "route/route.h"

typedef struct as_group_s {
    const char *receiver;    /* the receiver's name (the configuration's, or the override) */
    const as_route_t *route; /* the route it came from, for group_wait and time
                                intervals (belongs to the configuration) */
    char *key;               /* the group key */
    cJSON *payload;          /* the notification, Alertmanager webhook v4 shape */
} as_group_t;

typedef struct as_groups_s {
    size_t n;
    as_group_t *v;
} as_groups_t;

/* Split payload, routed from root, into out (which the caller frees with
 * as_groups_free, also after an error).  The notifications' payloads refer
 * to payload's alerts and members: payload must outlive them.  receiver: NULL to route, else
 * the override, which the caller checked names a receiver and which must
 * outlive out.  -1 with err when payload is not an object with an
 * "alerts" array.  The routes in out live as long as the tree. */
int as_group_split(const as_route_t *root, const cJSON *payload, const char *receiver,
                   as_groups_t *out, as_err_t *err);
void as_groups_free(as_groups_t *groups);

/* template.Data()'s commonLabels / commonAnnotations (field "labels" or
 * "annotations") of n alerts: the first alert's pairs that every other
 * alert has with the same value, a new object sorted by name, as Go's
 * encoding/json writes a map.  A name missing from an alert counts as the
 * empty value; a label (not an annotation) with an empty value is no
 * label, as Alertmanager's API drops those. */
cJSON *as_group_common(const cJSON *const *alerts, size_t n, const char *field);

/* One notification from several of one (receiver, group key): the alerts
 * of all, in order, with status and common labels/annotations recomputed
 * (group_wait's digest).  A new payload; the inputs are not changed. */
cJSON *as_group_merge(const cJSON *const *payloads, size_t n);

#endif
