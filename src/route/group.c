/*
 * group.c - splitting a payload into notifications (see group.h).
 *
 * The split is done in two passes: the first routes every alert and
 * collects, per (receiver, group key), the alerts in payload order; the
 * second builds each notification's payload from them.  Groups are found
 * by a linear search: a payload holds at most a few thousand alerts and
 * routes to a handful of groups, and the order of first appearance is
 * what the caller needs anyway.
 *
 * A notification's payload copies nothing of the input: its alerts, and
 * the members kept as they came, are cJSON references to the input's
 * (the worker keeps both in the record's pool, which goes when the last
 * note does).  Only what is recomputed is new: a routed webhook of 30
 * alerts costs a few dozen nodes, not a deep copy of a thousand.
 */
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "lib/json.h"
#include "route/group.h"

/* One notification being collected. */
typedef struct as_collect_s {
    const char *receiver;
    const as_route_t *route;
    char *key;
    cJSON *group_labels; /* handed over to the payload made of it */
    const cJSON **alerts;
    size_t n, cap;
} as_collect_t;

static void as_collect_add(as_collect_t *c, const cJSON *alert)
{
    /* An alert reaching the group twice (two routes, one key) counts once;
     * its entries for one group arrive one after the other. */
    if (c->n > 0 && c->alerts[c->n - 1] == alert)
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->alerts = as_xrealloc(c->alerts, c->cap * sizeof(*c->alerts));
    }
    c->alerts[c->n++] = alert;
}

/* The string value of name in obj; absent or not a string is "" (Go's
 * map lookup of a missing label). */
static const char *as_value(const cJSON *obj, const char *name)
{
    const char *v = as_json_str(obj, name);
    return v ? v : "";
}

/* Sort by name, insertion sort: the pairs of an alert are few and
 * usually sorted already (Go writes a map's keys in order). */
static void as_sort_by_name(const cJSON **v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const cJSON *x = v[i];
        size_t j = i;
        while (j > 0 && strcmp(v[j - 1]->string, x->string) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

cJSON *as_group_common(const cJSON *const *alerts, size_t n, const char *field)
{
    /* The first alert's pairs, then at each other alert the ones it has
     * with the same value (a missing name is the empty value, as a Go map
     * lookup).  Up to AS_COMMON_SMALL pairs, a lookup by name in each
     * other alert; beyond that, both lists sorted by name and walked
     * together: n log n for an alert of very many labels, not n squared. */
    enum { AS_COMMON_SMALL = 32 };
    int labels = strcmp(field, "labels") == 0;
    const cJSON *first = n > 0 ? as_json_obj(alerts[0], field) : NULL, *it;
    size_t m = 0, kept = 0;
    cJSON_ArrayForEach(it, first)
    {
        m++;
    }
    cJSON *out = cJSON_CreateObject();
    if (m <= AS_COMMON_SMALL) {
        const cJSON *common[AS_COMMON_SMALL];
        cJSON_ArrayForEach(it, first)
        {
            if (it->string == NULL || !cJSON_IsString(it) || (labels && it->valuestring[0] == '\0'))
                continue;
            /* A repeated name: the first counts, as a lookup finds it. */
            if (as_json_get(first, it->string) != it)
                continue;
            common[kept++] = it;
        }
        m = kept;
        for (size_t a = 1; a < n && m > 0; a++) {
            const cJSON *obj = as_json_obj(alerts[a], field);
            kept = 0;
            for (size_t i = 0; i < m; i++) {
                const cJSON *w = as_json_get(obj, common[i]->string);
                if (strcmp(common[i]->valuestring, cJSON_IsString(w) ? w->valuestring : "") == 0)
                    common[kept++] = common[i];
            }
            m = kept;
        }
        as_sort_by_name(common, m);
        for (size_t i = 0; i < m; i++)
            cJSON_AddStringToObject(out, common[i]->string, common[i]->valuestring);
        return out;
    }
    cJSON **common = as_json_sorted(first, &m, NULL);
    for (size_t i = 0; i < m; i++)
        if (cJSON_IsString(common[i]) && !(labels && common[i]->valuestring[0] == '\0'))
            common[kept++] = common[i];
    m = kept;
    for (size_t a = 1; a < n && m > 0; a++) {
        size_t mo, j = 0;
        cJSON **other = as_json_sorted(as_json_obj(alerts[a], field), &mo, NULL);
        kept = 0;
        for (size_t i = 0; i < m; i++) {
            while (j < mo && strcmp(other[j]->string, common[i]->string) < 0)
                j++;
            const cJSON *w =
                j < mo && strcmp(other[j]->string, common[i]->string) == 0 ? other[j] : NULL;
            if (strcmp(common[i]->valuestring, cJSON_IsString(w) ? w->valuestring : "") == 0)
                common[kept++] = common[i];
        }
        m = kept;
        free(other);
    }
    for (size_t i = 0; i < m; i++)
        cJSON_AddStringToObject(out, common[i]->string, common[i]->valuestring);
    free(common);
    return out;
}

static int as_resolved(const cJSON *alert)
{
    const char *s = as_json_str(alert, "status");
    return s != NULL && strcmp(s, "resolved") == 0;
}

/* The fields recomputed per notification, in the order Alertmanager's
 * webhook writes them; the kept ones (NULL value) are copied when present. */
static const char *const as_payload_fields[] = {
    "receiver",          "status",      "alerts",  "groupLabels", "commonLabels",
    "commonAnnotations", "externalURL", "version", "groupKey",    "truncatedAlerts"};

static int as_known_field(const char *name)
{
    for (size_t i = 0; i < sizeof(as_payload_fields) / sizeof(*as_payload_fields); i++)
        if (name[0] == as_payload_fields[i][0] && strcmp(name, as_payload_fields[i]) == 0)
            return 1;
    return 0;
}

/* The members kept as they came refer to the input's (see the top). */
static void as_copy_field(cJSON *to, const cJSON *from, const char *name)
{
    const cJSON *it = as_json_get(from, name);
    if (it != NULL)
        cJSON_AddItemToObjectCS(to, name, as_json_ref(it));
}

static cJSON *as_group_payload(const cJSON *in, const as_collect_t *c)
{
    cJSON *p = cJSON_CreateObject();
    int firing = 0;
    cJSON *alerts = cJSON_CreateArray();
    for (size_t i = 0; i < c->n; i++) {
        firing |= !as_resolved(c->alerts[i]);
        cJSON_AddItemToArray(alerts, as_json_ref(c->alerts[i]));
    }
    cJSON_AddStringToObject(p, "receiver", c->receiver);
    cJSON_AddStringToObject(p, "status", firing ? "firing" : "resolved");
    cJSON_AddItemToObject(p, "alerts", alerts);
    cJSON_AddItemToObjectCS(p, "groupLabels", c->group_labels); /* handed over */
    cJSON_AddItemToObject(p, "commonLabels", as_group_common(c->alerts, c->n, "labels"));
    cJSON_AddItemToObject(p, "commonAnnotations", as_group_common(c->alerts, c->n, "annotations"));
    as_copy_field(p, in, "externalURL");
    as_copy_field(p, in, "version");
    cJSON_AddStringToObject(p, "groupKey", c->key);
    as_copy_field(p, in, "truncatedAlerts");
    const cJSON *it;
    cJSON_ArrayForEach(it, in)
    {
        if (it->string != NULL && !as_known_field(it->string) && as_json_get(p, it->string) == NULL)
            cJSON_AddItemToObject(p, it->string, as_json_ref(it));
    }
    return p;
}

/* The override's group labels: the root's group labels of the first alert
 * that every other alert has with the same value. */
static cJSON *as_override_labels(const as_route_t *root, const cJSON *alerts)
{
    cJSON *common = NULL;
    const cJSON *a;
    cJSON_ArrayForEach(a, alerts)
    {
        cJSON *g = as_route_group_labels(root, as_json_obj(a, "labels"));
        if (common == NULL) {
            common = g;
            continue;
        }
        cJSON *it = common->child;
        while (it != NULL) {
            cJSON *next = it->next;
            if (strcmp(as_value(g, it->string), it->valuestring) != 0)
                cJSON_Delete(cJSON_DetachItemViaPointer(common, it));
            it = next;
        }
        cJSON_Delete(g);
    }
    return common ? common : cJSON_CreateObject();
}

static as_collect_t *as_collect_find(as_collect_t *v, size_t n, const char *receiver,
                                     const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].receiver, receiver) == 0 && strcmp(v[i].key, key) == 0)
            return &v[i];
    return NULL;
}

int as_group_split(const as_route_t *root, const cJSON *payload, const char *receiver,
                   as_groups_t *out, as_err_t *err)
{
    out->n = 0;
    out->v = NULL;
    const cJSON *alerts = as_json_arr(payload, "alerts");
    if (!cJSON_IsObject(payload) || alerts == NULL)
        return as_err_set(err, "alerts: expected an array of alerts");
    size_t nalerts = (size_t)cJSON_GetArraySize(alerts);

    as_collect_t *groups = NULL;
    size_t n = 0, cap = 0;
    if (receiver != NULL) {
        if (nalerts > 0) {
            groups = as_xcalloc(1, sizeof(*groups));
            n = 1;
            groups[0].receiver = receiver;
            groups[0].route = root;
            groups[0].group_labels = as_override_labels(root, alerts);
            as_buf_t b = AS_BUF_INIT;
            as_buf_puts(&b, root->key);
            as_buf_putc(&b, ':');
            as_labelset_append(&b, groups[0].group_labels);
            groups[0].key = as_buf_steal(&b);
            const cJSON *a;
            cJSON_ArrayForEach(a, alerts)
            {
                as_collect_add(&groups[0], a);
            }
        }
    } else {
        size_t max = as_route_count(root);
        const as_route_t **routes = as_xcalloc(max, sizeof(*routes));
        const cJSON *a;
        cJSON_ArrayForEach(a, alerts)
        {
            const cJSON *labels = as_json_obj(a, "labels");
            size_t m = as_route_match(root, labels, routes, max);
            for (size_t i = 0; i < m && i < max; i++) {
                const as_route_t *r = routes[i];
                if (r->recv == NULL)
                    continue; /* only in a configuration that failed to load */
                char *key = as_route_group_key(r, labels);
                as_collect_t *g = as_collect_find(groups, n, r->recv, key);
                if (g != NULL) {
                    free(key);
                } else {
                    if (n == cap) {
                        cap = cap ? 2 * cap : 4;
                        groups = as_xrealloc(groups, cap * sizeof(*groups));
                    }
                    g = &groups[n++];
                    *g = (as_collect_t){0};
                    g->receiver = r->recv;
                    g->route = r;
                    g->key = key;
                    g->group_labels = as_route_group_labels(r, labels);
                }
                as_collect_add(g, a);
            }
        }
        free(routes);
    }

    out->v = as_xcalloc(n ? n : 1, sizeof(*out->v));
    for (size_t i = 0; i < n; i++) {
        as_group_t *g = &out->v[out->n++];
        g->receiver = groups[i].receiver;
        g->route = groups[i].route;
        g->key = groups[i].key; /* handed over */
        g->payload = as_group_payload(payload, &groups[i]);
        free(groups[i].alerts);
    }
    free(groups);
    return 0;
}

void as_groups_free(as_groups_t *groups)
{
    for (size_t i = 0; i < groups->n; i++) {
        free(groups->v[i].key);
        cJSON_Delete(groups->v[i].payload);
    }
    free(groups->v);
    groups->v = NULL;
    groups->n = 0;
}

cJSON *as_group_merge(const cJSON *const *payloads, size_t n)
{
    /* The first payload's receiver, group key and group labels: every
     * payload merged here shares them (one receiver, one group key). */
    as_collect_t c = {0};
    const char *receiver = as_json_str(payloads[0], "receiver");
    const char *key = as_json_str(payloads[0], "groupKey");
    const cJSON *labels = as_json_obj(payloads[0], "groupLabels");
    c.receiver = receiver ? receiver : "";
    c.key = (char *)(key ? key : "");
    c.group_labels = labels ? as_json_ref(labels) : cJSON_CreateObject();
    for (size_t i = 0; i < n; i++) {
        const cJSON *a;
        cJSON_ArrayForEach(a, as_json_arr(payloads[i], "alerts"))
        {
            as_collect_add(&c, a);
        }
    }
    /* A digest outlives its members: a copy, not references. */
    cJSON *p = as_group_payload(payloads[0], &c);
    cJSON *copy = cJSON_Duplicate(p, 1);
    cJSON_Delete(p);
    free(c.alerts);
    return copy;
}
