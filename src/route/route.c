/*
 * route.c - parsing the route tree, resolving it, matching alerts against
 * it and building group keys (see route.h).
 *
 * A route's keys are Alertmanager's config.Route, so a pasted "route:"
 * block loads unchanged.  group_interval and repeat_interval are accepted
 * for that reason and printed by -T, but alertsink has no use for them:
 * Alertmanager itself repeats notifications, and alertsink delivers each
 * one it is given (see README).
 *
 * Matching and group keys follow dispatch/route.go and dispatch.go
 * closely (see route.h); where Go's formatting is the contract (the %q of
 * label values, the sort of "name=value" strings in a label set) it is
 * reproduced here rather than approximated, because group keys reach the
 * templates and deduplication and must equal what Alertmanager sends.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/buf.h"
#include "alertsink/mem.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "route/route.h"
#include "route/timeinterval.h"

static const as_conf_key_t as_route_keys[];
static const as_conf_type_t as_conf_routes;
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
    int rc = as_conf_section_parse(cf, as_route_keys, n, r);
    /* Alertmanager sorts a route's matchers (match:, match_re: and
     * matchers: together); its route keys, and so group keys, show them
     * in that order. */
    as_matchers_sort(&r->matchers);
    return rc;
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
static const as_conf_type_t as_conf_routes = {"list of routes", as_set_routes, as_print_routes};

/* --- resolution ------------------------------------------------------------------ */

static int as_route_intervals(as_conf_t *cf, const as_route_env_t *env, as_route_t *r,
                              const as_strv_t *names, const char *key,
                              const as_time_interval_t ***out, size_t *nout)
{
    int rc = 0;
    *out = as_palloc(as_conf_pool(cf), (names->n ? names->n : 1) * sizeof(**out));
    *nout = 0;
    for (size_t i = 0; i < names->n; i++) {
        const as_time_interval_t *ti = env->interval(env->data, names->v[i]);
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

static void as_route_key(as_pool_t *pool, as_route_t *r)
{
    /* Route.Key(): the parent's key, "/", then this route's matchers as
     * Matchers.String() prints them, {a="b",c=~"d"} (no space after the
     * comma, unlike a label set); the root is "{}". */
    as_buf_t b = AS_BUF_INIT;
    if (r->parent != NULL) {
        as_buf_puts(&b, r->parent->key);
        as_buf_putc(&b, '/');
    }
    as_buf_putc(&b, '{');
    for (size_t i = 0; i < r->matchers.n; i++) {
        if (i > 0)
            as_buf_putc(&b, ',');
        as_matcher_append(&b, &r->matchers.v[i]);
    }
    as_buf_putc(&b, '}');
    r->key = as_pstrdup(pool, b.data);
    as_buf_free(&b);
}

/* config.Route's checks on group_by, then NewRoute's inheritance: a list
 * of label names replaces the parent's; ['...'] keeps the parent's names
 * but groups by all labels; an empty list (or none) inherits both. */
/* Label names as they order in model.LabelSet.String(), where each label
 * prints as name="value" and the strings are sorted: by name, but a name
 * that is a prefix of another sorts as if followed by '='. */
static int as_label_key_cmp(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a,
                        *y = *(const unsigned char *const *)b;
    while (*x && *x == *y) {
        x++;
        y++;
    }
    unsigned cx = *x ? *x : '=', cy = *y ? *y : '=';
    return (cx > cy) - (cx < cy);
}

static int as_route_group_by(as_conf_t *cf, as_route_t *r, const as_route_t *parent)
{
    int rc = 0, all = 0;
    size_t names = 0;
    const as_node_t *at = as_yaml_get(r->node, "group_by");
    for (size_t i = 0; i < r->group_by.n; i++) {
        const char *l = r->group_by.v[i];
        if (strcmp(l, "...") == 0) {
            all = 1;
            continue;
        }
        names++;
        const as_node_t *item = at && at->kind == AS_NODE_SEQ && i < at->n ? at->items[i] : at;
        if (!as_label_name_valid(l)) {
            as_conf_error(cf, item ? item : r->node, "group_by: invalid label name '%s'", l);
            rc = -1;
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->group_by.v[j], l) == 0) {
                as_conf_error(cf, item ? item : r->node, "group_by: duplicated label '%s'", l);
                rc = -1;
                break;
            }
    }
    if (all && names > 0) {
        as_conf_error(cf, at ? at : r->node,
                      "group_by: '...' (all labels) cannot be combined with other labels");
        rc = -1;
    }
    if (names > 0) {
        r->group_labels = &r->group_by;
        r->group_all = 0;
        const char **v = as_palloc(as_conf_pool(cf), r->group_by.n * sizeof(*v));
        size_t k = 0;
        for (size_t i = 0; i < r->group_by.n; i++)
            if (strcmp(r->group_by.v[i], "...") != 0)
                v[k++] = r->group_by.v[i];
        qsort(v, k, sizeof(*v), as_label_key_cmp);
        r->group_sorted = v;
        r->ngroup_sorted = k;
    } else {
        r->group_labels = parent ? parent->group_labels : NULL;
        r->group_all = all || (parent && parent->group_all);
        r->group_sorted = parent ? parent->group_sorted : NULL;
        r->ngroup_sorted = parent ? parent->ngroup_sorted : 0;
    }
    return rc;
}

static int as_route_resolve(as_conf_t *cf, const as_route_env_t *env, as_route_t *r,
                            as_route_t *parent, size_t index)
{
    int rc = 0;
    r->parent = parent;
    if (r->receiver != NULL && r->receiver[0] != '\0') { /* "" is unset, as in Alertmanager */
        r->recv = env->has_receiver(env->data, r->receiver) ? r->receiver : NULL;
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

    rc |= as_route_group_by(cf, r, parent);
    r->wait = r->group_wait >= 0 ? r->group_wait : parent ? parent->wait : 0;
    if (r->group_interval == 0 || r->repeat_interval == 0) {
        const char *k = r->group_interval == 0 ? "group_interval" : "repeat_interval";
        as_conf_error(cf, as_yaml_get(r->node, k), "%s cannot be zero", k);
        rc = -1;
    }
    if (parent != NULL) {
        if (r->group_interval < 0)
            r->group_interval = parent->group_interval;
        if (r->repeat_interval < 0)
            r->repeat_interval = parent->repeat_interval;
    }

    rc |= as_route_intervals(cf, env, r, &r->active_time_intervals, "active_time_intervals",
                             &r->active, &r->nactive);
    rc |= as_route_intervals(cf, env, r, &r->mute_time_intervals, "mute_time_intervals", &r->mute,
                             &r->nmute);
    as_route_key(as_conf_pool(cf), r);

    as_route_t *kids = r->routes.elts;
    for (size_t i = 0; i < r->routes.n; i++)
        rc |= as_route_resolve(cf, env, &kids[i], r, i);
    return rc;
}

int as_route_finalize(as_conf_t *cf, as_route_t *root, const as_route_env_t *env)
{ /* Alertmanager's own checks on the root route. */
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
    return as_route_resolve(cf, env, root, NULL, 0);
}

/* --- time intervals ---------------------------------------------------------------- */

int as_route_muted(const as_route_t *r, time_t t, const char **why)
{
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    *why = NULL;
    for (size_t i = 0; i < r->nmute; i++)
        if (as_time_interval_contains(r->mute[i], t)) {
            *why = r->mute[i]->why_mute;
            return 1;
        }
    if (r->nactive == 0)
        return 0;
    for (size_t i = 0; i < r->nactive; i++)
        if (as_time_interval_contains(r->active[i], t))
            return 0;
    *why = r->nactive == 1 ? r->active[0]->why_inactive : "outside all its active time intervals";
    return 1;
}

/* --- matching ---------------------------------------------------------------------- */

/* Route.Match: depth first, children in order; a child that matches ends
 * the search among its siblings unless it says continue; a route none of
 * whose children matched is itself the match.  n counts every match, out
 * holds the first max of them. */
static size_t as_route_walk(const as_route_t *r, const cJSON *labels, const as_route_t **out,
                            size_t max, size_t n)
{
    if (!as_matchers_match(&r->matchers, labels))
        return n;
    size_t start = n;
    const as_route_t *kids = r->routes.elts;
    for (size_t i = 0; i < r->routes.n; i++) {
        size_t before = n;
        n = as_route_walk(&kids[i], labels, out, max, n);
        if (n > before && !kids[i].cont)
            break;
    }
    if (n == start) {
        if (n < max)
            out[n] = r;
        n++;
    }
    return n;
}

size_t as_route_match(const as_route_t *root, const cJSON *labels, const as_route_t **out,
                      size_t max)
{
    return as_route_walk(root, labels, out, max, 0);
}

size_t as_route_count(const as_route_t *root)
{
    size_t n = 1;
    const as_route_t *kids = root->routes.elts;
    for (size_t i = 0; i < root->routes.n; i++)
        n += as_route_count(&kids[i]);
    return n;
}

/* --- group keys -------------------------------------------------------------------- */

/* The string value of a label, NULL when absent, not a string or empty
 * (Alertmanager's API drops a label with an empty value). */
static const char *as_label_value(const cJSON *labels, const char *name)
{
    const cJSON *it = as_json_get(labels, name);
    return cJSON_IsString(it) && it->valuestring[0] != '\0' ? it->valuestring : NULL;
}

cJSON *as_route_group_labels(const as_route_t *r, const cJSON *labels)
{
    /* getGroupLabels(): the alert's labels named by group_by, or all of
     * them; sorted by name, as Go's encoding/json writes a map.  A label
     * with an empty value is no label: Alertmanager's API drops it. */
    cJSON *g = cJSON_CreateObject();
    if (r->group_all) {
        size_t n;
        cJSON **v = as_json_sorted(labels, &n, NULL); /* a repeated name: the first counts */
        for (size_t i = 0; i < n; i++)
            if (cJSON_IsString(v[i]) && v[i]->valuestring[0] != '\0')
                cJSON_AddStringToObject(g, v[i]->string, v[i]->valuestring);
        free(v);
        return g;
    }
    /* group_by's names, already in order: a lookup each, no sorting. */
    for (size_t i = 0; i < r->ngroup_sorted; i++) {
        const char *v = as_label_value(labels, r->group_sorted[i]);
        if (v != NULL)
            cJSON_AddStringToObject(g, r->group_sorted[i], v); /* copied: it outlives a reload */
    }
    return g;
}

static pcre2_code *as_printable_re;
static pthread_once_t as_printable_once = PTHREAD_ONCE_INIT;

static void as_printable_free(void)
{
    pcre2_code_free(as_printable_re);
}

static void as_printable_init(void)
{
    int code;
    PCRE2_SIZE off;
    as_printable_re =
        pcre2_compile((PCRE2_SPTR) "[\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}]", PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_ANCHORED, &code, &off, NULL);
    atexit(as_printable_free);
}

/* Go's unicode.IsPrint for one non-ASCII code point (w bytes at s): letters,
 * marks, numbers, punctuation and symbols, from PCRE2's Unicode tables. */
static int as_go_printable(const char *s, size_t w)
{
    pthread_once(&as_printable_once, as_printable_init);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int rc = pcre2_match(as_printable_re, (PCRE2_SPTR)s, w, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc > 0;
}

/* Go's strconv.Quote (the %q of fmt). */
static void as_go_quote(as_buf_t *b, const char *s)
{
    static const char esc[] = "\a\b\f\n\r\t\v", letter[] = "abfnrtv";
    size_t len = strlen(s), w;
    long cp;
    as_buf_putc(b, '"');
    for (size_t i = 0; i < len; i += w) {
        /* A run of printable ASCII in one append. */
        size_t run = i;
        while (run < len && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            as_buf_append(b, s + i, run - i);
            w = run - i;
            continue;
        }
        w = as_utf8_decode(s + i, len - i, &cp);
        const char *e;
        if (cp < 0)
            as_buf_printf(b, "\\x%02x", (unsigned char)s[i]);
        else if (cp == '"' || cp == '\\')
            as_buf_printf(b, "\\%c", (int)cp);
        else if (cp >= 0x20 && cp < 0x7f)
            as_buf_putc(b, (char)cp);
        else if (cp >= 0x80 && as_go_printable(s + i, w))
            as_buf_append(b, s + i, w);
        else if (cp > 0 && cp < 0x20 && (e = strchr(esc, (int)cp)) != NULL)
            as_buf_printf(b, "\\%c", letter[e - esc]);
        else if (cp < 0x20 || cp == 0x7f)
            as_buf_printf(b, "\\x%02x", (unsigned)cp);
        else if (cp < 0x10000)
            as_buf_printf(b, "\\u%04lx", cp);
        else
            as_buf_printf(b, "\\U%08lx", cp);
    }
    as_buf_putc(b, '"');
}

void as_labelset_append(as_buf_t *b, const cJSON *labels)
{
    /* model.LabelSet.String(): name=%q for each label, the strings sorted
     * as strings (so "a1=..." comes before "a=..."), joined by ", ".  The
     * names of a label set differ, so sorting the names as the strings
     * would sort (as_label_key_cmp) gives the order. */
    const cJSON *small[32], **v = small, *it;
    size_t n = 0, cap = sizeof(small) / sizeof(small[0]);
    cJSON_ArrayForEach(it, labels)
    {
        if (!cJSON_IsString(it) || it->string == NULL)
            continue;
        if (n == cap) {
            const cJSON **nv = as_xmalloc(2 * cap * sizeof(*nv));
            memcpy(nv, v, n * sizeof(*nv));
            if (v != small)
                free(v);
            v = nv;
            cap *= 2;
        }
        v[n++] = it;
    }
    /* Insertion sort: label sets are small and usually sorted already. */
    for (size_t i = 1; i < n; i++) {
        const cJSON *x = v[i];
        size_t j = i;
        while (j > 0 && as_label_key_cmp(&v[j - 1]->string, &x->string) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    as_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            as_buf_puts(b, ", ");
        as_buf_puts(b, v[i]->string);
        as_buf_putc(b, '=');
        as_go_quote(b, v[i]->valuestring);
    }
    as_buf_putc(b, '}');
    if (v != small)
        free(v);
}

char *as_route_group_key(const as_route_t *r, const cJSON *labels)
{
    /* aggrGroup.GroupKey(): route key ":" group labels. */
    as_buf_t b = AS_BUF_INIT;
    as_buf_reserve(&b, 128);
    as_buf_puts(&b, r->key);
    as_buf_putc(&b, ':');
    if (r->group_all) {
        cJSON *g = as_route_group_labels(r, labels);
        as_labelset_append(&b, g);
        cJSON_Delete(g);
        return as_buf_steal(&b);
    }
    /* The group labels, straight from the alert's. */
    as_buf_putc(&b, '{');
    int first = 1;
    for (size_t i = 0; i < r->ngroup_sorted; i++) {
        const char *v = as_label_value(labels, r->group_sorted[i]);
        if (v == NULL)
            continue;
        if (!first)
            as_buf_puts(&b, ", ");
        first = 0;
        as_buf_puts(&b, r->group_sorted[i]);
        as_buf_putc(&b, '=');
        as_go_quote(&b, v);
    }
    as_buf_putc(&b, '}');
    return as_buf_steal(&b);
}

void as_route_id(const as_route_t *r, char *buf, size_t len)
{
    /* Built leaf to root, then reversed as a list of numbers. */
    size_t idx[64], n = 0;
    for (const as_route_t *p = r; p->parent != NULL && n < 64; p = p->parent) {
        const as_route_t *kids = p->parent->routes.elts;
        idx[n++] = (size_t)(p - kids);
    }
    char tmp[AS_INT_TEXT + 1];
    size_t o = as_str_copy(buf, len, "0");
    while (n > 0 && o + 1 < len) {
        tmp[0] = '.';
        as_int_text(tmp + 1, (long long)idx[--n]);
        o += as_str_copy(buf + o, len - o, tmp);
    }
}

/* Does group_key start with r's key and a ':'? */
static int as_route_names(const as_route_t *r, const char *group_key)
{
    size_t n = strlen(r->key);
    return strncmp(group_key, r->key, n) == 0 && group_key[n] == ':';
}

static const as_route_t *as_route_find_key(const as_route_t *r, const char *group_key)
{
    if (as_route_names(r, group_key))
        return r;
    for (size_t i = 0; i < r->routes.n; i++) {
        const as_route_t *f = as_route_find_key((const as_route_t *)r->routes.elts + i, group_key);
        if (f != NULL)
            return f;
    }
    return NULL;
}

const as_route_t *as_route_of(const as_route_t *root, const char *id, const char *group_key)
{
    const as_route_t *r = as_route_by_id(root, id);
    if (group_key == NULL || (r != NULL && as_route_names(r, group_key)))
        return r;
    return as_route_find_key(root, group_key);
}

const as_route_t *as_route_by_id(const as_route_t *root, const char *id)
{
    if (id == NULL || id[0] != '0')
        return NULL;
    const as_route_t *r = root;
    for (const char *p = id + 1; *p;) {
        char *end;
        if (*p != '.')
            return NULL;
        unsigned long i = strtoul(p + 1, &end, 10);
        if (end == p + 1 || i >= r->routes.n)
            return NULL;
        r = (const as_route_t *)r->routes.elts + i;
        p = end;
    }
    return r;
}
