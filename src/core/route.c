/*
 * route.c - parsing the route tree and resolving it (see route.h).
 *
 * A route's keys are Alertmanager's config.Route, so a pasted "route:"
 * block loads unchanged.  group_interval and repeat_interval are accepted
 * for that reason and printed by -T, but alertsink has no use for them:
 * Alertmanager itself repeats notifications, and alertsink delivers each
 * one it is given (see README).
 */
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/pool.h"
#include "core/route.h"

static const as_conf_key_t as_route_keys[];
static const as_conf_section_t as_route_section = {as_route_keys, sizeof(as_route_t)};

static const as_conf_key_t as_route_keys[] = {
    {"receiver", &as_conf_string, offsetof(as_route_t, receiver), 0, NULL, NULL},
    {"group_by", &as_conf_strings, offsetof(as_route_t, group_by), 0, NULL, NULL},
    {"group_wait", &as_conf_duration, offsetof(as_route_t, group_wait), 0, NULL, NULL},
    {"group_interval", &as_conf_duration, offsetof(as_route_t, group_interval), 0, NULL, NULL},
    {"repeat_interval", &as_conf_duration, offsetof(as_route_t, repeat_interval), 0, NULL, NULL},
    {"continue", &as_conf_bool, offsetof(as_route_t, cont), 0, NULL, NULL},
    {"matchers", &as_conf_matchers, offsetof(as_route_t, matchers), 0, NULL, NULL},
    {"match", &as_conf_match_map, offsetof(as_route_t, matchers), 0, NULL, NULL},
    {"match_re", &as_conf_match_re_map, offsetof(as_route_t, matchers), 0, NULL, NULL},
    {"active_time_intervals", &as_conf_strings, offsetof(as_route_t, active_time_intervals), 0,
     NULL, NULL},
    {"mute_time_intervals", &as_conf_strings, offsetof(as_route_t, mute_time_intervals), 0, NULL,
     NULL},
    {"routes", &as_conf_routes, offsetof(as_route_t, routes), 0, NULL, &as_route_section},
    AS_CONF_END};

static int as_route_parse_one(as_conf_t *cf, const as_node_t *n, as_route_t *r)
{
    r->group_wait = r->group_interval = r->repeat_interval = -1;
    r->node = n;
    return as_conf_section_parse(cf, as_route_keys, n, r);
}

static int as_set_route(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    if (n->kind != AS_NODE_MAP) {
        as_conf_error(cf, n, "route: expected a map");
        return -1;
    }
    return as_route_parse_one(cf, n, field);
}

static int as_set_routes(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    as_array_t *a = field;
    int rc = 0;
    if (n->kind != AS_NODE_SEQ) {
        as_conf_error(cf, n, "routes: expected a list of routes");
        return -1;
    }
    a->elts = as_palloc(as_conf_pool(cf), (n->n ? n->n : 1) * sizeof(as_route_t));
    for (size_t i = 0; i < n->n; i++) {
        if (n->items[i]->kind != AS_NODE_MAP) {
            as_conf_error(cf, n->items[i], "routes: expected a map for each route");
            rc = -1;
            continue;
        }
        if (as_route_parse_one(cf, n->items[i], (as_route_t *)a->elts + a->n++) < 0)
            rc = -1;
    }
    return rc;
}

static void as_print_route(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    fputc('\n', out);
    as_conf_section_print(out, as_route_keys, field, indent + 2);
}

static void as_print_routes(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    as_conf_key_t self = {"routes", &as_conf_sections, 0, 0, NULL, &as_route_section};
    as_conf_sections.print(out, &self, field, indent);
}

const as_conf_type_t as_conf_route = {"route", as_set_route, as_print_route};
const as_conf_type_t as_conf_routes = {"list of routes", as_set_routes, as_print_routes};

/* --- resolution ------------------------------------------------------------------ */

static int as_route_intervals(as_conf_t *cf, const as_config_t *cfg, as_route_t *r,
                              const as_strv_t *names, const char *key,
                              const as_time_interval_t ***out, size_t *nout)
{
    int rc = 0;
    *out = as_palloc(cfg->pool, (names->n ? names->n : 1) * sizeof(**out));
    *nout = 0;
    for (size_t i = 0; i < names->n; i++) {
        const as_time_interval_t *ti = as_config_time_interval(cfg, names->v[i]);
        if (ti == NULL) {
            const as_node_t *at = as_yaml_get(r->node, key);
            if (at && at->kind == AS_NODE_SEQ && i < at->n)
                at = at->items[i];
            as_conf_error(cf, at ? at : r->node, "%s: unknown time interval '%s'", key,
                          names->v[i]);
            rc = -1;
            continue;
        }
        (*out)[(*nout)++] = ti;
    }
    return rc;
}

static void as_route_key(as_pool_t *pool, as_route_t *r, size_t index)
{
    /* Alertmanager's Route.Key(): the parent's key, "/", then this
     * route's matchers as {a="b", ...}; the root is "{}". */
    char buf[4096];
    size_t o = (size_t)snprintf(buf, sizeof(buf), "%s%s{", r->parent ? r->parent->key : "",
                                r->parent ? "/" : "");
    for (size_t i = 0; i < r->matchers.n && o < sizeof(buf); i++) {
        char m[1024];
        as_matcher_format(&r->matchers.v[i], m, sizeof(m));
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? ", " : "", m);
    }
    if (o < sizeof(buf))
        snprintf(buf + o, sizeof(buf) - o, "}");
    (void)index;
    r->key = as_pstrdup(pool, buf);
}

static int as_route_resolve(as_conf_t *cf, const as_config_t *cfg, as_route_t *r,
                            as_route_t *parent, size_t index)
{
    int rc = 0;
    r->parent = parent;
    if (r->receiver != NULL) {
        r->recv = as_config_receiver(cfg, r->receiver);
        if (r->recv == NULL) {
            as_conf_error(cf, as_yaml_get(r->node, "receiver"), "route: unknown receiver '%s'",
                          r->receiver);
            rc = -1;
        }
    } else if (parent != NULL) {
        r->recv = parent->recv;
    } else {
        as_conf_error(cf, r->node, "route: the root route must name a receiver");
        rc = -1;
    }

    if (r->group_by.v != NULL) {
        r->group_labels = &r->group_by;
        r->group_all = 0;
        for (size_t i = 0; i < r->group_by.n; i++)
            if (strcmp(r->group_by.v[i], "...") == 0) {
                if (r->group_by.n > 1) {
                    as_conf_error(cf, as_yaml_get(r->node, "group_by"),
                                  "group_by: '...' must be the only entry");
                    rc = -1;
                }
                r->group_all = 1;
            }
    } else if (parent != NULL) {
        r->group_labels = parent->group_labels;
        r->group_all = parent->group_all;
    }
    r->wait = r->group_wait >= 0 ? r->group_wait : parent ? parent->wait : 0;
    if (parent != NULL) {
        if (r->group_interval < 0)
            r->group_interval = parent->group_interval;
        if (r->repeat_interval < 0)
            r->repeat_interval = parent->repeat_interval;
    }

    rc |= as_route_intervals(cf, cfg, r, &r->active_time_intervals, "active_time_intervals",
                             &r->active, &r->nactive);
    rc |= as_route_intervals(cf, cfg, r, &r->mute_time_intervals, "mute_time_intervals", &r->mute,
                             &r->nmute);
    as_route_key(cfg->pool, r, index);

    as_route_t *kids = r->routes.elts;
    for (size_t i = 0; i < r->routes.n; i++)
        rc |= as_route_resolve(cf, cfg, &kids[i], r, i);
    return rc;
}

int as_route_finalize(as_conf_t *cf, as_config_t *cfg);
int as_route_finalize(as_conf_t *cf, as_config_t *cfg)
{
    as_route_t *root = &cfg->route;
    if (root->node == NULL)
        return -1; /* "route" missing: reported by the loader */
    /* Alertmanager's own checks on the root route. */
    if (root->matchers.n > 0)
        as_conf_error(cf, root->node, "route: the root route must not have matchers");
    if (root->cont)
        as_conf_error(cf, as_yaml_get(root->node, "continue"),
                      "route: the root route cannot have continue");
    if (root->mute_time_intervals.n > 0)
        as_conf_error(cf, as_yaml_get(root->node, "mute_time_intervals"),
                      "route: the root route must not have mute_time_intervals");
    if (root->active_time_intervals.n > 0)
        as_conf_error(cf, as_yaml_get(root->node, "active_time_intervals"),
                      "route: the root route must not have active_time_intervals");
    return as_route_resolve(cf, cfg, root, NULL, 0);
}
