/*
 * config.c - the top-level configuration (alertsink.yaml(5)): includes, module
 * loading, the key tables of the core's own sections, receivers, and the
 * checks that need the whole file (names referring to each other).
 *
 * The key table is built per load because modules (built-in or loaded
 * with "modules:") contribute their own top-level keys and their own keys
 * inside a receiver.  Loading goes:
 *
 *   1. YAML of the main file, then every include: glob merged into it;
 *   2. modules: loaded, so their keys are known;
 *   3. the whole tree parsed through the tables (all errors collected);
 *   4. cross-references checked: receivers named by routes exist, time
 *      intervals named by routes exist, receiver names are unique, every
 *      receiver has a channel, and its chain (channels:, mode:) names
 *      only channels it has.
 */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alertsink/mem.h"
#include "conf/config.h"
#include "lib/log.h"

#define AS_INCLUDE_DEPTH 8

static const as_conf_enum_t as_log_levels[] = {{"debug", AS_LOG_DEBUG},
                                               {"info", AS_LOG_INFO},
                                               {"warn", AS_LOG_WARN},
                                               {"error", AS_LOG_ERROR},
                                               {NULL, 0}};

static const as_conf_enum_t as_log_formats[] = {
    {"logfmt", AS_LOG_LOGFMT}, {"json", AS_LOG_JSON}, {NULL, 0}};

static const as_conf_key_t as_log_keys[] = {
    {"level", &as_conf_enum, offsetof(as_log_conf_t, level), 0, "info", as_log_levels},
    {"format", &as_conf_enum, offsetof(as_log_conf_t, format), 0, "logfmt", as_log_formats},
    AS_CONF_END};

static const as_conf_key_t as_spool_keys[] = {
    {"dir", &as_conf_string, offsetof(as_spool_conf_t, dir), 0, "/var/lib/alertsink", NULL},
    {"max_age", &as_conf_duration, offsetof(as_spool_conf_t, max_age), 0, "24h", NULL},
    {"max_size", &as_conf_size, offsetof(as_spool_conf_t, max_size), 0, "1GiB", NULL},
    AS_CONF_END};

static const as_conf_key_t as_templates_keys[] = {
    {"dir", &as_conf_string, offsetof(as_templates_conf_t, dir), 0, NULL, NULL}, AS_CONF_END};

static const as_conf_key_t as_defaults_keys[] = {
    {"fallback_after", &as_conf_duration, offsetof(as_defaults_conf_t, fallback_after), 0, "2m",
     NULL},
    {"dedup_window", &as_conf_duration, offsetof(as_defaults_conf_t, dedup_window), 0, "5m", NULL},
    AS_CONF_END};

/* include: the files are merged into the main one as it loads, so the
 * effective configuration (-T) has nothing left to include: printed as an
 * empty list, it stays a configuration that loads as it is. */
static int as_set_include(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    return as_conf_strings.parse(cf, k, n, field);
}

static void as_print_include(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    fputs(" []  # merged into what follows\n", out);
}

static const as_conf_type_t as_conf_include = {"list of file names or patterns", as_set_include,
                                               as_print_include};

static const as_conf_section_t as_log_section = {as_log_keys, 0};
static const as_conf_section_t as_spool_section = {as_spool_keys, 0};
static const as_conf_section_t as_templates_section = {as_templates_keys, 0};
static const as_conf_section_t as_defaults_section = {as_defaults_keys, 0};

/* templates: is a section; Alertmanager's (and what prometheus-operator
 * and the Helm chart generate) is a list of Go template files. */
static int as_set_templates(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    if (n != NULL && n->kind == AS_NODE_SEQ) {
        as_conf_error(cf, n,
                      "templates: a list of files is Alertmanager's form (Go templates, *.tmpl), "
                      "which alertsink does not read: its templates are Mustache files, "
                      "NAME.mustache, in one directory: templates: {dir: /etc/alertsink/templates} "
                      "(see alertsink.yaml(5), Templates)");
        return -1;
    }
    return as_conf_section.parse(cf, k, n, field);
}

static void as_print_templates(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    as_conf_section.print(out, k, field, indent);
}

static const as_conf_type_t as_conf_templates_section = {"map", as_set_templates,
                                                         as_print_templates, AS_CONF_TYPE_ALWAYS};

/* What an Alertmanager user should write instead of an unknown key: the
 * application's (src/cli/advice.c), handed over at start. */
static as_conf_hint_fn as_advice;

void as_config_advice(as_conf_hint_fn fn)
{
    as_advice = fn;
}

/* --- module sections and receiver channels -------------------------------- */

static int as_set_modsection(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const as_module_t *m = k->data;
    as_slot_t *slot = field;
    slot->conf = as_palloc(as_conf_pool(cf), m->conf_size ? m->conf_size : 1);
    slot->node = n;
    return as_conf_section_parse(cf, m->conf_keys, n, slot->conf);
}

static void as_print_modsection(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_module_t *m = k->data;
    const as_slot_t *slot = field;
    fputc('\n', out);
    as_conf_section_print(out, m->conf_keys, slot->conf, indent + 2);
}

static const as_conf_type_t as_conf_modsection = {"map", as_set_modsection, as_print_modsection,
                                                  AS_CONF_TYPE_ALWAYS};

static int as_set_channel(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const as_module_t *m = k->data;
    as_slot_t *slot = field;
    slot->conf = as_palloc(as_conf_pool(cf), m->channel_size);
    slot->node = n;
    return as_conf_section_parse(cf, m->channel_keys, n, slot->conf);
}

static void as_print_channel(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_module_t *m = k->data;
    const as_slot_t *slot = field;
    if (slot->conf == NULL) {
        fputs(" null\n", out);
        return;
    }
    fputc('\n', out);
    as_conf_section_print(out, m->channel_keys, slot->conf, indent + 2);
}

static const as_conf_type_t as_conf_channel = {"map", as_set_channel, as_print_channel};

static int as_set_receivers(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const as_conf_section_t *s = k->data;
    as_array_t *a = field;
    int rc = 0;
    if (n->kind != AS_NODE_SEQ) {
        as_conf_error(cf, n, "receivers: expected a list of receivers");
        return -1;
    }
    a->elts = as_palloc(as_conf_pool(cf), (n->n ? n->n : 1) * sizeof(as_receiver_t));
    for (size_t i = 0; i < n->n; i++) {
        as_receiver_t *r = (as_receiver_t *)a->elts + a->n;
        if (n->items[i]->kind != AS_NODE_MAP) {
            as_conf_error(cf, n->items[i], "receivers: expected a map for each receiver");
            rc = -1;
            continue;
        }
        r->fallback_after = r->dedup_window = -1;
        r->node = n->items[i];
        if (as_conf_section_parse(cf, s->keys, n->items[i], r) < 0)
            rc = -1;
        a->n++;
    }
    return rc;
}

static void as_print_receivers(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    as_conf_sections.print(out, k, field, indent);
}

static const as_conf_type_t as_conf_receivers = {"list of receivers", as_set_receivers,
                                                 as_print_receivers};

/* --- the key tables, built per load ----------------------------------------- */

#define AS_CORE_KEYS 12

static as_conf_key_t *as_config_keys(as_pool_t *pool, const as_modset_t *mods)
{
    /* Receiver keys: the core's, then one per sink module. */
    as_conf_key_t *rk = as_palloc(pool, (6 + mods->n) * sizeof(*rk));
    size_t nr = 0;
    rk[nr++] = (as_conf_key_t){
        "name", &as_conf_string, offsetof(as_receiver_t, name), AS_CONF_REQUIRED, NULL, NULL};
    rk[nr++] = (as_conf_key_t){"mode", &as_conf_string, offsetof(as_receiver_t, mode),
                               0,      "fallback",      NULL};
    rk[nr++] = (as_conf_key_t){
        "channels", &as_conf_strings, offsetof(as_receiver_t, channels), 0, NULL, NULL};
    rk[nr++] = (as_conf_key_t){"fallback_after",
                               &as_conf_duration,
                               offsetof(as_receiver_t, fallback_after),
                               0,
                               NULL,
                               NULL};
    rk[nr++] = (as_conf_key_t){
        "dedup_window", &as_conf_duration, offsetof(as_receiver_t, dedup_window), 0, NULL, NULL};
    for (size_t i = 0; i < mods->n; i++) {
        const as_module_t *m = mods->v[i];
        if (m->kind == AS_MODULE_SINK && m->channel_key != NULL)
            rk[nr++] = (as_conf_key_t){m->channel_key,
                                       &as_conf_channel,
                                       offsetof(as_receiver_t, channel) + i * sizeof(as_slot_t),
                                       0,
                                       NULL,
                                       m};
    }
    rk[nr] = (as_conf_key_t)AS_CONF_END;
    as_conf_section_t *rs = as_palloc(pool, sizeof(*rs));
    rs->keys = rk;
    rs->size = sizeof(as_receiver_t);

    as_conf_key_t *k = as_palloc(pool, (AS_CORE_KEYS + 1 + mods->n) * sizeof(*k));
    size_t n = 0;
    k[n++] =
        (as_conf_key_t){"include", &as_conf_include, offsetof(as_config_t, include), 0, NULL, NULL};
    k[n++] = (as_conf_key_t){"log", &as_conf_section, offsetof(as_config_t, log), 0,
                             NULL,  &as_log_section};
    k[n++] =
        (as_conf_key_t){"modules", &as_conf_strings, offsetof(as_config_t, modules), 0, NULL, NULL};
    k[n++] = (as_conf_key_t){"workers", &as_conf_int, offsetof(as_config_t, workers), 0, "8", NULL};
    k[n++] = (as_conf_key_t){"spool", &as_conf_section, offsetof(as_config_t, spool), 0,
                             NULL,    &as_spool_section};
    k[n++] = (as_conf_key_t){
        "templates", &as_conf_templates_section, offsetof(as_config_t, templates), 0,
        NULL,        &as_templates_section};
    k[n++] = (as_conf_key_t){"defaults", &as_conf_section,    offsetof(as_config_t, defaults), 0,
                             NULL,       &as_defaults_section};
    for (size_t i = 0; i < mods->n; i++)
        if (mods->v[i]->conf_key != NULL)
            k[n++] = (as_conf_key_t){mods->v[i]->conf_key,
                                     &as_conf_modsection,
                                     offsetof(as_config_t, mconf) + i * sizeof(as_slot_t),
                                     0,
                                     NULL,
                                     mods->v[i]};
    k[n++] = (as_conf_key_t){
        "receivers", &as_conf_receivers, offsetof(as_config_t, receivers), AS_CONF_REQUIRED, NULL,
        rs};
    k[n++] = (as_conf_key_t){"time_intervals",
                             &as_conf_time_intervals,
                             offsetof(as_config_t, time_intervals),
                             0,
                             NULL,
                             NULL};
    k[n++] = (as_conf_key_t){"mute_time_intervals",
                             &as_conf_time_intervals,
                             offsetof(as_config_t, mute_time_intervals),
                             0,
                             NULL,
                             NULL};
    k[n++] = (as_conf_key_t){"route",          &as_conf_route, offsetof(as_config_t, route),
                             AS_CONF_REQUIRED, NULL,           NULL};
    k[n] = (as_conf_key_t)AS_CONF_END;
    return k;
}

/* --- includes -------------------------------------------------------------------- */

/* The files of one configuration, by device and inode: each is loaded
 * once.  Files that include each other (a conf.d/ whose files include
 * "*.yaml") were loaded again at every level: 3 such files made the load
 * exponential, it ran out of memory, and a reload killed the daemon. */
typedef struct {
    struct as_file_id_s {
        dev_t dev;
        ino_t ino;
    } * v;
    size_t n;
} as_files_t;

/* 1: path is new (now seen), 0: loaded already, -1: cannot stat it (the
 * load says why). */
static int as_files_add(as_files_t *f, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].dev == st.st_dev && f->v[i].ino == st.st_ino)
            return 0;
    f->v = as_xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
    f->v[f->n++] = (struct as_file_id_s){st.st_dev, st.st_ino};
    return 1;
}

static int as_config_includes(as_conf_t *cf, as_node_t *root, const char *file, int depth,
                              as_files_t *seen);

static int as_config_include_one(as_conf_t *cf, as_node_t *root, const as_node_t *at,
                                 const char *base, const char *pattern, int depth, as_files_t *seen)
{
    char path[PATH_MAX];
    glob_t g;
    int len = pattern[0] == '/' ? snprintf(path, sizeof(path), "%s", pattern)
                                : snprintf(path, sizeof(path), "%s/%s", base, pattern);
    if (len < 0 || (size_t)len >= sizeof(path)) {
        as_conf_error(cf, at, "include: path too long");
        return -1;
    }
    int rc = glob(path, GLOB_ERR, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        /* A pattern with wildcards may match nothing; a plain name must exist. */
        if (strpbrk(pattern, "*?[") == NULL)
            as_conf_error(cf, at, "include: '%s' does not exist", path);
        return strpbrk(pattern, "*?[") ? 0 : -1;
    }
    if (rc != 0) {
        as_conf_error(cf, at, "include: cannot read '%s'", path);
        return -1;
    }
    int res = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) { /* glob() sorts */
        if (as_files_add(seen, g.gl_pathv[i]) == 0)
            continue; /* loaded already: the main file, or through another include */
        as_node_t *doc = as_yaml_load(cf, g.gl_pathv[i]);
        if (doc == NULL) {
            res = -1;
            continue;
        }
        if (doc->kind == AS_NODE_NULL)
            continue;
        if (doc->kind != AS_NODE_MAP) {
            as_conf_error(cf, doc, "an included file must be a map of keys");
            res = -1;
            continue;
        }
        if (as_config_includes(cf, doc, g.gl_pathv[i], depth + 1, seen) < 0)
            res = -1;
        /* The included file's own include: has been processed; drop it so
         * the merge does not collect it into the main file's list. */
        for (size_t j = 0; j < doc->n; j++)
            if (strcmp(doc->keys[j]->value, "include") == 0) {
                memmove(doc->keys + j, doc->keys + j + 1, (doc->n - j - 1) * sizeof(as_node_t *));
                memmove(doc->items + j, doc->items + j + 1, (doc->n - j - 1) * sizeof(as_node_t *));
                doc->n--;
                break;
            }
        if (as_yaml_merge(cf, root, doc) < 0)
            res = -1;
    }
    globfree(&g);
    return res;
}

static int as_config_includes(as_conf_t *cf, as_node_t *root, const char *file, int depth,
                              as_files_t *seen)
{
    const as_node_t *inc = as_yaml_get(root, "include");
    if (as_yaml_is_null(inc))
        return 0;
    if (depth >= AS_INCLUDE_DEPTH) {
        as_conf_error(cf, inc, "include: nested more than %d deep (a loop?)", AS_INCLUDE_DEPTH);
        return -1;
    }
    char *copy = as_xstrdup(file);
    char base[PATH_MAX];
    as_str_copy(base, sizeof(base), dirname(copy));
    free(copy);

    size_t count = inc->kind == AS_NODE_SEQ ? inc->n : 1;
    /* Copy the list: merging may append to the main file's include list. */
    const as_node_t **items = as_xcalloc(count, sizeof(*items));
    for (size_t i = 0; i < count; i++)
        items[i] = inc->kind == AS_NODE_SEQ ? inc->items[i] : inc;
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        const char *pat = as_conf_scalar(cf, items[i], "a file name or pattern");
        if (pat == NULL || as_config_include_one(cf, root, items[i], base, pat, depth, seen) < 0)
            rc = -1;
    }
    free(items);
    return rc;
}

/* --- checks across the file ------------------------------------------------------ */

/* The receiver's channel keys, for messages: "whatsapp, email". */
static void as_channel_list(const as_config_t *cfg, const as_receiver_t *r, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t m = 0; m < cfg->mods.n && o < len; m++)
        if (r == NULL ? cfg->mods.v[m]->channel_key != NULL : r->channel[m].conf != NULL)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
                                  cfg->mods.v[m]->channel_key);
}

/* The module whose channel key is name and which the receiver has, or -1. */
static int as_receiver_channel(const as_config_t *cfg, const as_receiver_t *r, const char *name)
{
    for (size_t m = 0; m < cfg->mods.n; m++)
        if (r->channel[m].conf != NULL && strcmp(cfg->mods.v[m]->channel_key, name) == 0)
            return (int)m;
    return -1;
}

/* The chain: channels: in its order, else the channel keys in the order
 * they are written (their nodes' positions). */
static void as_receiver_chain(as_conf_t *cf, const as_config_t *cfg, as_receiver_t *r)
{
    char have[256];
    as_channel_list(cfg, r, have, sizeof(have));
    const as_node_t *at = as_yaml_get(r->node, "channels");
    r->nchain = 0;
    for (size_t i = 0; i < r->channels.n; i++) {
        int m = as_receiver_channel(cfg, r, r->channels.v[i]);
        int dup = 0;
        for (size_t k = 0; k < r->nchain; k++)
            dup |= r->chain[k] == m;
        if (m < 0 || dup) {
            as_conf_error(cf, at,
                          dup ? "receiver '%s': channels: '%s' is named twice"
                              : "receiver '%s': channels: '%s' is not a channel of this receiver "
                                "(it has: %s)",
                          r->name, r->channels.v[i], have);
            continue;
        }
        if (r->nchain < AS_CHAIN_MAX)
            r->chain[r->nchain++] = m;
    }
    if (r->channels.n > 0) {
        for (size_t m = 0; m < cfg->mods.n; m++) {
            int listed = 0;
            for (size_t k = 0; k < r->nchain; k++)
                listed |= r->chain[k] == (int)m;
            if (r->channel[m].conf != NULL && !listed)
                as_conf_error(cf, at,
                              "receiver '%s': channel '%s' is configured but not in channels",
                              r->name, cfg->mods.v[m]->channel_key);
        }
        return;
    }
    for (size_t m = 0; m < cfg->mods.n; m++) {
        if (r->channel[m].conf == NULL || r->nchain == AS_CHAIN_MAX)
            continue;
        /* Insertion by the position of the key's value in the file. */
        const as_node_t *nm = r->channel[m].node;
        size_t k = r->nchain++;
        while (k > 0) {
            const as_node_t *prev = r->channel[r->chain[k - 1]].node;
            int after = prev != NULL && nm != NULL &&
                        (prev->line > nm->line || (prev->line == nm->line && prev->col > nm->col));
            if (!after)
                break;
            r->chain[k] = r->chain[k - 1];
            k--;
        }
        r->chain[k] = (int)m;
    }
}

static void as_receiver_mode(as_conf_t *cf, const as_config_t *cfg, as_receiver_t *r)
{
    const char *mode = r->mode ? r->mode : "fallback";
    if (strcmp(mode, "fallback") == 0) {
        r->chain_mode = AS_CHAIN_FALLBACK;
        return;
    }
    if (strcmp(mode, "all") == 0 || strcmp(mode, "both") == 0) {
        r->chain_mode = AS_CHAIN_ALL;
        return;
    }
    for (size_t k = 0; k < r->nchain; k++)
        if (strcmp(cfg->mods.v[r->chain[k]]->channel_key, mode) == 0) {
            r->chain_mode = AS_CHAIN_ONE;
            r->chain[0] = r->chain[k];
            r->nchain = 1;
            return;
        }
    char have[256];
    as_channel_list(cfg, r, have, sizeof(have));
    as_conf_error(cf, as_yaml_get(r->node, "mode"),
                  "receiver '%s': mode '%s': expected fallback, all, or one of its channels (%s)",
                  r->name, mode, have);
}

static size_t as_name_hash(const char *s)
{
    size_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The table of receivers by name (the first of a name, should the
 * configuration repeat one: an error anyway). */
static void as_config_index_receivers(as_config_t *cfg)
{
    size_t n = 8;
    while (n < 2 * cfg->receivers.n)
        n *= 2;
    cfg->recv_slots = as_palloc(cfg->pool, n * sizeof(*cfg->recv_slots));
    cfg->nrecv_slots = n;
    const as_receiver_t *rv = cfg->receivers.elts;
    for (size_t i = 0; i < cfg->receivers.n; i++) {
        if (rv[i].name == NULL)
            continue;
        size_t k = as_name_hash(rv[i].name) & (n - 1);
        while (cfg->recv_slots[k] != NULL && strcmp(cfg->recv_slots[k]->name, rv[i].name) != 0)
            k = (k + 1) & (n - 1);
        if (cfg->recv_slots[k] == NULL)
            cfg->recv_slots[k] = &rv[i];
    }
}

static void as_config_check_receivers(as_conf_t *cf, as_config_t *cfg)
{
    as_config_index_receivers(cfg);
    as_receiver_t *rv = cfg->receivers.elts;
    for (size_t i = 0; i < cfg->receivers.n; i++) {
        as_receiver_t *r = &rv[i];
        if (r->name == NULL)
            continue; /* reported as missing */
        for (size_t j = 0; j < i; j++)
            if (rv[j].name && strcmp(rv[j].name, r->name) == 0)
                as_conf_error(cf, as_yaml_get(r->node, "name"),
                              "duplicate receiver name '%s' (first at line %d)", r->name,
                              rv[j].node->line);
        int channels = 0;
        for (size_t m = 0; m < cfg->mods.n; m++)
            channels += r->channel[m].conf != NULL;
        if (channels == 0) {
            char all[256];
            as_channel_list(cfg, NULL, all, sizeof(all));
            as_conf_error(cf, r->node, "receiver '%s' has no channel (one of: %s)", r->name, all);
            continue;
        }
        if (channels > AS_CHAIN_MAX) {
            as_conf_error(cf, r->node, "receiver '%s' has more than %d channels", r->name,
                          AS_CHAIN_MAX);
            continue;
        }
        as_receiver_chain(cf, cfg, r);
        as_receiver_mode(cf, cfg, r);
        if (r->fallback_after < 0)
            r->fallback_after = cfg->defaults.fallback_after;
        if (r->dedup_window < 0)
            r->dedup_window = cfg->defaults.dedup_window;
    }
}

/* The i-th time interval of time_intervals: then of the deprecated
 * top-level mute_time_intervals:; NULL past the end. */
static const as_time_interval_t *as_config_nth_interval(const as_config_t *cfg, size_t i)
{
    if (i < cfg->time_intervals.n)
        return (const as_time_interval_t *)cfg->time_intervals.elts + i;
    i -= cfg->time_intervals.n;
    return i < cfg->mute_time_intervals.n
               ? (const as_time_interval_t *)cfg->mute_time_intervals.elts + i
               : NULL;
}

/* Names are unique across both lists: a route may name either. */
static void as_config_check_intervals(as_conf_t *cf, as_config_t *cfg)
{
    const as_time_interval_t *a, *b;
    for (size_t i = 0; (a = as_config_nth_interval(cfg, i)) != NULL; i++)
        for (size_t j = 0; j < i && a->name; j++) {
            b = as_config_nth_interval(cfg, j);
            if (b->name && strcmp(a->name, b->name) == 0) {
                as_conf_error(cf, a->node, "duplicate time interval name '%s' (first at line %d)",
                              a->name, b->node->line);
                break;
            }
        }
}

static int as_config_has_receiver(void *data, const char *name)
{
    return as_config_receiver(data, name) != NULL;
}

static const as_time_interval_t *as_config_interval(void *data, const char *name)
{
    return as_config_time_interval(data, name);
}

/* --- load ----------------------------------------------------------------------------- */

static void as_config_modset_close(void *data)
{
    as_modset_close(data);
}

as_config_t *as_config_load(as_conf_t *cf, const char *path)
{
    return as_config_load_flags(cf, path, 0);
}

as_config_t *as_config_load_flags(as_conf_t *cf, const char *path, unsigned flags)
{
    as_pool_t *pool = as_pool_create();
    as_conf_init(cf, pool);
    cf->flags = flags;
    cf->unknown_key = as_advice;
    as_config_t *cfg = as_palloc(pool, sizeof(*cfg));
    cfg->pool = pool;
    cfg->file = as_pstrdup(pool, path);
    as_modset_init(&cfg->mods);
    as_pool_cleanup(pool, as_config_modset_close, &cfg->mods);

    as_node_t *root = as_yaml_load(cf, path);
    if (root == NULL)
        goto fail;
    if (root->kind == AS_NODE_NULL) {
        as_conf_error(cf, root, "the configuration is empty");
        goto fail;
    }
    if (root->kind != AS_NODE_MAP) {
        as_conf_error(cf, root, "the configuration must be a map of keys");
        goto fail;
    }
    as_files_t seen = {NULL, 0};
    as_files_add(&seen, path);
    as_config_includes(cf, root, path, 0, &seen);
    free(seen.v);

    const as_node_t *mods = as_yaml_get(root, "modules");
    if (!as_yaml_is_null(mods)) {
        size_t count = mods->kind == AS_NODE_SEQ ? mods->n : 1;
        for (size_t i = 0; i < count; i++) {
            const as_node_t *it = mods->kind == AS_NODE_SEQ ? mods->items[i] : mods;
            const char *so = as_conf_scalar(cf, it, "a module file name");
            as_err_t err;
            if (so != NULL && as_modset_load(&cfg->mods, so, &err) < 0)
                as_conf_error(cf, it, "%s", err.msg);
        }
    }

    cfg->keys = as_config_keys(pool, &cfg->mods);
    as_conf_section_parse(cf, cfg->keys, root, cfg);
    cfg->templates.node = as_yaml_get(as_yaml_get(root, "templates"), "dir");
    if (cfg->workers < 1 || cfg->workers > 256)
        as_conf_error(cf, as_yaml_get(root, "workers"), "workers: must be between 1 and 256");
    if (cfg->spool.dir == NULL || cfg->spool.dir[0] == '\0')
        as_conf_error(cf, as_yaml_get(root, "spool"), "spool.dir: must be set");

    as_config_check_receivers(cf, cfg);
    as_config_check_intervals(cf, cfg);
    if (cfg->route.node != NULL) { /* else "route" is missing: reported by the loader */
        as_route_env_t env = {cfg, as_config_has_receiver, as_config_interval};
        as_route_finalize(cf, &cfg->route, &env);
    }

    if (as_conf_errors(cf) == 0)
        return cfg;
fail:
    as_pool_destroy(pool);
    return NULL;
}

void as_config_free(as_config_t *cfg)
{
    if (cfg != NULL)
        as_pool_destroy(cfg->pool);
}

void as_config_print(FILE *out, const as_config_t *cfg)
{
    fprintf(out, "# effective configuration of %s\n", cfg->file);
    as_conf_section_print(out, cfg->keys, cfg, 0);
}

const as_receiver_t *as_config_receiver(const as_config_t *cfg, const char *name)
{
    if (cfg->recv_slots == NULL) {
        /* Not indexed yet (while loading): look through them. */
        const as_receiver_t *rv = cfg->receivers.elts;
        for (size_t i = 0; i < cfg->receivers.n; i++)
            if (rv[i].name != NULL && strcmp(rv[i].name, name) == 0)
                return &rv[i];
        return NULL;
    }
    size_t mask = cfg->nrecv_slots - 1;
    for (size_t k = as_name_hash(name) & mask; cfg->recv_slots[k] != NULL; k = (k + 1) & mask)
        if (strcmp(cfg->recv_slots[k]->name, name) == 0)
            return cfg->recv_slots[k];
    return NULL;
}

const as_time_interval_t *as_config_time_interval(const as_config_t *cfg, const char *name)
{
    const as_time_interval_t *ti;
    for (size_t i = 0; (ti = as_config_nth_interval(cfg, i)) != NULL; i++)
        if (ti->name != NULL && strcmp(ti->name, name) == 0)
            return ti;
    return NULL;
}

void *as_config_module_conf(const as_config_t *cfg, const char *module)
{
    int i = as_modset_find(&cfg->mods, module);
    return i < 0 ? NULL : cfg->mconf[i].conf;
}

const char *as_config_default_path(void)
{
    const char *env = getenv("ALERTSINK_CONFIG");
    return env && *env ? env : "/etc/alertsink/alertsink.yaml";
}

const char *as_config_state_dir(const as_config_t *cfg, const char *module)
{
    return as_psprintf(cfg->pool, "%s/state/%s", cfg->spool.dir, module);
}

/* The field of a dotted key: walk the key tables as the loader did. */
const void *as_config_field(const as_config_t *cfg, const char *key, const as_conf_type_t **type)
{
    const as_conf_key_t *keys = cfg->keys;
    const char *base = (const char *)cfg, *p = key;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        const as_conf_key_t *k = keys;
        while (k->name != NULL && (strlen(k->name) != len || strncmp(k->name, p, len) != 0))
            k++;
        if (k->name == NULL || base == NULL)
            return NULL;
        const char *field = base + k->offset;
        if (dot == NULL) {
            *type = k->type;
            return field;
        }
        if (k->type == &as_conf_section) {
            keys = ((const as_conf_section_t *)k->data)->keys;
            base = field;
        } else if (k->type == &as_conf_modsection) {
            keys = ((const as_module_t *)k->data)->conf_keys;
            base = ((const as_slot_t *)field)->conf;
        } else {
            return NULL;
        }
        p = dot + 1;
    }
}

int as_config_setting(const as_config_t *cfg, const char *key, int64_t *value, as_err_t *err)
{
    const as_conf_type_t *t = NULL;
    const void *field = as_config_field(cfg, key, &t);
    if (field == NULL)
        return as_err_set(err, "no setting '%s'", key);
    if (t != &as_conf_int && t != &as_conf_duration && t != &as_conf_size)
        return as_err_set(err, "setting '%s' is not a number", key);
    memcpy(value, field, sizeof(*value));
    return 0;
}
