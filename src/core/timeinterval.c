/*
 * timeinterval.c - TEMPORARY: names only, until the time-interval work
 * lands (issue 5).  as_time_interval_contains() is not implemented yet.
 */
#include <string.h>

#include "core/conf.h"
#include "core/pool.h"
#include "core/timeinterval.h"

static int as_set_tis(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    as_array_t *a = field;
    if (n->kind != AS_NODE_SEQ) {
        as_conf_error(cf, n, "%s: expected a list", k->name);
        return -1;
    }
    a->elts = as_palloc(as_conf_pool(cf), (n->n + 1) * sizeof(as_time_interval_t));
    for (size_t i = 0; i < n->n; i++) {
        as_time_interval_t *ti = (as_time_interval_t *)a->elts + a->n++;
        const as_node_t *name = as_yaml_get(n->items[i], "name");
        ti->node = n->items[i];
        ti->name = name ? name->value : NULL;
    }
    return 0;
}

static void as_print_tis(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    fputs(" []\n", out);
}

const as_conf_type_t as_conf_time_intervals = {"time intervals", as_set_tis, as_print_tis};

int as_time_interval_contains(const as_time_interval_t *ti, time_t t)
{
    return 0;
}
