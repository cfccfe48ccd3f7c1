/*
 * config.c - the top-level configuration (CONTRACT §4): includes, module
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
 *      receiver has a channel that its mode can use.
 */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "lib/log.h"
#include "lib/pool.h"

#define AS_INCLUDE_DEPTH 8

static const as_conf_enum_t as_log_levels[] = {{"debug", AS_LOG_DEBUG},
                                               {"info", AS_LOG_INFO},
                                               {"warn", AS_LOG_WARN},
                                               {"error", AS_LOG_ERROR},
                                               {NULL, 0}};

static const as_conf_enum_t as_modes[] = {{"fallback", AS_MODE_FALLBACK},
                                          {"both", AS_MODE_BOTH},
                                          {"whatsapp", AS_MODE_WHATSAPP},
                                          {"email", AS_MODE_EMAIL},
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

/* --- advice for Alertmanager's keys ---------------------------------------------- */

/* Alertmanager's global: keys that have a place here. */
static const struct {
    const char *am, *here;
} as_am_global[] = {
    {"smtp_smarthost", "smtp.host and smtp.port (host:port written apart)"},
    {"smtp_from", "smtp.from"},
    {"smtp_auth_username", "smtp.username"},
    {"smtp_auth_password", "smtp.password"},
    {"smtp_auth_password_file", "smtp.password_file"},
    {"smtp_require_tls", "smtp.tls (starttls, or none)"},
    {NULL, NULL},
};

static void as_hint_global(const as_node_t *value, char *buf, size_t size)
{
    /* Name the smtp_* keys the section has; all of them when it has none. */
    int any = 0;
    for (size_t i = 0; as_am_global[i].am; i++)
        any |= as_yaml_get(value, as_am_global[i].am) != NULL;
    size_t o = (size_t)snprintf(buf, size,
                                "Alertmanager's global: section is not read here; SMTP settings "
                                "go under smtp:");
    const char *sep = " ";
    for (size_t i = 0; as_am_global[i].am && o < size; i++) {
        if (any && as_yaml_get(value, as_am_global[i].am) == NULL)
            continue;
        o += (size_t)snprintf(buf + o, size - o, "%s%s -> %s", sep, as_am_global[i].am,
                              as_am_global[i].here);
        sep = ", ";
    }
    if (o < size)
        snprintf(buf + o, size - o,
                 "; resolve_timeout, http_config and the *_api_url settings are Alertmanager's "
                 "and have no equivalent");
}

/* The unknown-key hook of the loader (conf.h): what an Alertmanager user
 * should write instead. */
static int as_config_hint(const as_node_t *key, const as_node_t *value, char *buf, size_t size)
{
    const char *k = key->value;
    size_t len = strlen(k);
    if (strcmp(k, "inhibit_rules") == 0) {
        snprintf(buf, size,
                 "inhibition is not supported. Route the alerts that would be inhibited to a "
                 "receiver of their own (or to none of the paging ones), mute them with "
                 "mute_time_intervals, or keep the inhibit_rules in an Alertmanager in front of "
                 "alertsink (its webhook_configs pointing at /api/v1/alertmanager)");
        return 1;
    }
    if (strcmp(k, "global") == 0) {
        as_hint_global(value, buf, size);
        return 1;
    }
    if (strcmp(k, "email_configs") == 0) {
        snprintf(buf, size,
                 "Alertmanager's receiver form: here a receiver has channels; write email: {to: "
                 "[...]} in the receiver, and the server once under the top-level smtp: section");
        return 1;
    }
    if (strcmp(k, "webhook_configs") == 0) {
        snprintf(buf, size,
                 "Alertmanager's receiver form: alertsink delivers by itself, with the channels "
                 "whatsapp:, email: and file: (or a module's); a webhook receiver stays in "
                 "Alertmanager");
        return 1;
    }
    if (len > 8 && strcmp(k + len - 8, "_configs") == 0) {
        snprintf(buf, size,
                 "Alertmanager's receiver form: alertsink has no %.*s channel; a receiver here "
                 "has whatsapp:, email: or file: (or a loaded module's key); keep this one in "
                 "Alertmanager, or send it by WhatsApp or email",
                 (int)(len - 8), k);
        return 1;
    }
    return 0;
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
    as_conf_key_t *rk = as_palloc(pool, (5 + mods->n) * sizeof(*rk));
    size_t nr = 0;
    rk[nr++] = (as_conf_key_t){
        "name", &as_conf_string, offsetof(as_receiver_t, name), AS_CONF_REQUIRED, NULL, NULL};
    rk[nr++] = (as_conf_key_t){"mode", &as_conf_enum, offsetof(as_receiver_t, mode),
                               0,      "fallback",    as_modes};
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
        (as_conf_key_t){"include", &as_conf_strings, offsetof(as_config_t, include), 0, NULL, NULL};
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

static int as_config_includes(as_conf_t *cf, as_node_t *root, const char *file, int depth);

static int as_config_include_one(as_conf_t *cf, as_node_t *root, const as_node_t *at,
                                 const char *base, const char *pattern, int depth)
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
        if (as_config_includes(cf, doc, g.gl_pathv[i], depth + 1) < 0)
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

static int as_config_includes(as_conf_t *cf, as_node_t *root, const char *file, int depth)
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
    snprintf(base, sizeof(base), "%s", dirname(copy));
    free(copy);

    size_t count = inc->kind == AS_NODE_SEQ ? inc->n : 1;
    /* Copy the list: merging may append to the main file's include list. */
    const as_node_t **items = as_xcalloc(count, sizeof(*items));
    for (size_t i = 0; i < count; i++)
        items[i] = inc->kind == AS_NODE_SEQ ? inc->items[i] : inc;
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        const char *pat = as_conf_scalar(cf, items[i], "a file name or pattern");
        if (pat == NULL || as_config_include_one(cf, root, items[i], base, pat, depth) < 0)
            rc = -1;
    }
    free(items);
    return rc;
}

/* --- checks across the file ------------------------------------------------------ */

static void as_config_check_receivers(as_conf_t *cf, as_config_t *cfg)
{
    int wa = as_modset_find(&cfg->mods, "whatsapp");
    int em = as_modset_find(&cfg->mods, "email");
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
            as_conf_error(cf, r->node, "receiver '%s' has no channel (whatsapp, email or file)",
                          r->name);
            continue;
        }
        int has_wa = wa >= 0 && r->channel[wa].conf != NULL;
        int has_em = em >= 0 && r->channel[em].conf != NULL;
        const as_node_t *at = as_yaml_get(r->node, "mode");
        if (r->mode == AS_MODE_WHATSAPP && !has_wa)
            as_conf_error(cf, at, "receiver '%s': mode whatsapp needs a whatsapp channel", r->name);
        if (r->mode == AS_MODE_EMAIL && !has_em)
            as_conf_error(cf, at, "receiver '%s': mode email needs an email channel", r->name);
        if (r->mode == AS_MODE_BOTH && (!has_wa || !has_em))
            as_conf_error(cf, at, "receiver '%s': mode both needs whatsapp and email channels",
                          r->name);
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

int as_route_finalize(as_conf_t *cf, as_config_t *cfg);

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
    cf->unknown_key = as_config_hint;
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
    as_config_includes(cf, root, path, 0);

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
    if (cfg->workers < 1 || cfg->workers > 256)
        as_conf_error(cf, as_yaml_get(root, "workers"), "workers: must be between 1 and 256");
    if (cfg->spool.dir == NULL || cfg->spool.dir[0] == '\0')
        as_conf_error(cf, as_yaml_get(root, "spool"), "spool.dir: must be set");

    as_config_check_receivers(cf, cfg);
    as_config_check_intervals(cf, cfg);
    as_route_finalize(cf, cfg);

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
    const as_receiver_t *rv = cfg->receivers.elts;
    for (size_t i = 0; i < cfg->receivers.n; i++)
        if (rv[i].name != NULL && strcmp(rv[i].name, name) == 0)
            return &rv[i];
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
