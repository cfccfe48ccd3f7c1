/*
 * cycle.c - configuration generations (see cycle.h).
 */
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "conf/cycle.h"
#include "lib/json.h"
#include "lib/log.h"
#include "render/template.h"

static void as_cycle_free(as_cycle_t *c)
{
    const as_modset_t *mods = &c->cfg->mods;
    for (size_t i = mods->n; i-- > 0;)
        if (c->inst[i] != NULL && mods->v[i]->fini != NULL)
            mods->v[i]->fini(c->inst[i]);
    as_config_free(c->cfg);
    free(c);
}

static void as_mustache_release(void *t)
{
    as_mustache_free(t);
}

/* A template by name, or an error at the channel's position. */
static const as_mustache_t *as_cycle_tpl(as_conf_t *cf, as_cycle_t *c, const as_node_t *at,
                                         const char *name, int required)
{
    const as_mustache_t *t = as_tpl_lib_get(c->tpl, name);
    if (t == NULL && required)
        as_conf_error(cf, at, "template '%s' not found (no %s.mustache in templates.dir '%s')",
                      name, name, c->cfg->templates.dir ? c->cfg->templates.dir : "");
    return t;
}

/* Compile the template library and resolve every channel's templates, so a
 * delivery never compiles and a missing template is a configuration error. */
static void as_cycle_templates(as_conf_t *cf, as_cycle_t *c)
{
    as_config_t *cfg = c->cfg;
    const as_template_src_t *shipped[AS_MODULES_MAX];
    size_t nshipped = 0;
    for (size_t m = 0; m < cfg->mods.n; m++)
        if (cfg->mods.v[m]->templates != NULL)
            shipped[nshipped++] = cfg->mods.v[m]->templates;
    as_node_t file = {.file = cfg->file};
    const as_node_t *dir_at = cfg->templates.node ? cfg->templates.node : &file;
    c->tpl = as_tpl_lib_load(cf, cfg->pool, cfg->templates.dir, dir_at, shipped, nshipped);
    if (c->tpl == NULL)
        return;
    size_t nr = cfg->receivers.n;
    c->chtpl = as_palloc(cfg->pool, (nr ? nr : 1) * AS_MODULES_MAX * sizeof(as_chan_tpl_t));
    const as_receiver_t *rv = cfg->receivers.elts;
    for (size_t r = 0; r < nr; r++)
        for (size_t m = 0; m < cfg->mods.n; m++) {
            const as_module_t *mod = cfg->mods.v[m];
            const as_channel_conf_t *ch = rv[r].channel[m].conf;
            const as_node_t *at = rv[r].channel[m].node;
            as_chan_tpl_t *t = &c->chtpl[r * AS_MODULES_MAX + m];
            if (ch == NULL)
                continue;
            const char *name = ch->template ? ch->template : mod->default_template;
            char sub[256];
            if (name == NULL)
                continue; /* the sink renders nothing: it sends the data itself */
            t->text = as_cycle_tpl(cf, c, at, name, 1);
            t->text_escape = mod->flags & AS_SINK_JSON ? AS_ESCAPE_JSON : AS_ESCAPE_NONE;
            if (mod->flags & AS_SINK_HTML)
                t->html = as_tpl_lib_get_html(c->tpl, name);
            if (!(mod->flags & AS_SINK_SUBJECT))
                continue;
            if (ch->subject != NULL) {
                as_err_t err;
                char where[512];
                snprintf(where, sizeof(where), "%s:%d:%d: subject", at ? at->file : cfg->file,
                         at ? at->line : 0, at ? at->col : 0);
                as_mustache_t *st =
                    as_mustache_compile(ch->subject, strlen(ch->subject), where, &err);
                if (st == NULL) {
                    as_conf_error(cf, NULL, "%s", err.msg);
                    continue;
                }
                as_pool_cleanup(cfg->pool, as_mustache_release, st);
                t->subject = st;
            } else {
                snprintf(sub, sizeof(sub), "%s.subject", name);
                t->subject = as_cycle_tpl(cf, c, at, sub, 0);
                if (t->subject == NULL && mod->default_template != NULL) {
                    snprintf(sub, sizeof(sub), "%s.subject", mod->default_template);
                    t->subject = as_cycle_tpl(cf, c, at, sub, 0);
                }
            }
        }
}

const as_chan_tpl_t *as_cycle_chan_tpl(const as_cycle_t *c, size_t r, size_t m)
{
    return &c->chtpl[r * AS_MODULES_MAX + m];
}

int as_cycle_render(const as_cycle_t *c, as_pool_t *pool, size_t r, size_t m, const cJSON *ctx,
                    as_rendered_t *out, as_err_t *err)
{
    const as_receiver_t *rv = c->cfg->receivers.elts;
    const as_channel_conf_t *cc = rv[r].channel[m].conf;
    return as_render_message(pool, c->tpl, as_cycle_chan_tpl(c, r, m), cc ? cc->max_length : 0, ctx,
                             out, err);
}

/* Render every channel's templates once, with a sample notification, as a
 * delivery would: a template that cannot finish (partials that include
 * each other without end, stopped by the render budget) is refused by -t
 * and by a reload, not found at its first delivery. */
static void as_cycle_try_templates(as_conf_t *cf, as_cycle_t *c)
{
    const as_config_t *cfg = c->cfg;
    const as_receiver_t *rv = cfg->receivers.elts;
    as_node_t file = {.file = cfg->file};
    as_pool_t *pool = as_pool_create();
    as_pool_t *prev = as_json_use_pool(pool);
    cJSON *sample = as_tpl_sample();
    cJSON *ctx = as_tpl_context(sample);
    as_json_use_pool(prev);
    for (size_t r = 0; r < cfg->receivers.n; r++)
        for (size_t m = 0; m < cfg->mods.n; m++) {
            as_rendered_t out;
            as_err_t err;
            if (rv[r].channel[m].conf == NULL)
                continue;
            if (as_cycle_render(c, pool, r, m, ctx, &out, &err) < 0) {
                const as_node_t *at = rv[r].channel[m].node;
                as_conf_error(cf, at ? at : &file,
                              "receiver '%s', channel %s, a sample notification: %s", rv[r].name,
                              cfg->mods.v[m]->channel_key, err.msg);
                continue;
            }
        }
    as_pool_destroy(pool); /* the sample, its context and the messages */
}

as_cycle_t *as_cycle_create(as_conf_t *cf, const char *path, unsigned flags)
{
    as_config_t *cfg = as_config_load_flags(cf, path, flags);
    if (cfg == NULL)
        return NULL;
    as_cycle_t *c = as_xcalloc(1, sizeof(*c));
    c->cfg = cfg;
    atomic_init(&c->refs, 1);

    const as_modset_t *mods = &cfg->mods;
    as_node_t file = {.file = cfg->file};
    for (size_t i = 0; i < mods->n; i++) {
        const as_module_t *m = mods->v[i];
        as_err_t err = {{0}};
        as_module_ctx_t *ctx = &c->ctx[i];
        ctx->name = m->name;
        ctx->config_file = cfg->file;
        ctx->state_dir = as_config_state_dir(cfg, m->name);
        ctx->flags = (flags & (AS_LOAD_CHECK | AS_LOAD_NO_SEND)) ? AS_CTX_CHECK : 0;
        ctx->loading = cfg;
        if (m->init != NULL && m->init(&c->inst[i], cfg->mconf[i].conf, ctx, &err) < 0) {
            const as_node_t *at = cfg->mconf[i].node ? cfg->mconf[i].node : &file;
            as_conf_error(cf, at, "%s", err.msg);
        }
    }
    if (as_conf_errors(cf) == 0) {
        const as_receiver_t *rv = cfg->receivers.elts;
        for (size_t r = 0; r < cfg->receivers.n; r++)
            for (size_t i = 0; i < mods->n; i++) {
                const as_module_t *m = mods->v[i];
                as_err_t err = {{0}};
                if (rv[r].channel[i].conf == NULL || m->channel_init == NULL)
                    continue;
                if (m->channel_init(c->inst[i], rv[r].channel[i].conf, rv[r].name, &err) < 0)
                    as_conf_error(cf, rv[r].channel[i].node, "%s", err.msg);
            }
    }
    if (as_conf_errors(cf) == 0)
        as_cycle_templates(cf, c);
    if (as_conf_errors(cf) == 0)
        as_cycle_try_templates(cf, c);
    if (as_conf_errors(cf) != 0) {
        as_cycle_free(c);
        return NULL;
    }
    as_log_set_level(cfg->log.level);
    as_log_set_format(cfg->log.format);
    return c;
}

as_cycle_t *as_cycle_ref(as_cycle_t *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void as_cycle_unref(as_cycle_t *c)
{
    if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1)
        as_cycle_free(c);
}

int as_cycle_start_inputs(as_cycle_t *c, as_cycle_t *prev, as_err_t *err)
{
    const as_modset_t *mods = &c->cfg->mods;
    for (size_t i = 0; i < mods->n; i++) {
        const as_module_t *m = mods->v[i];
        if (m->kind != AS_MODULE_INPUT)
            continue;
        void *old = NULL;
        if (prev != NULL) {
            int j = as_modset_find(&prev->cfg->mods, m->name);
            old = j >= 0 ? prev->inst[j] : NULL;
        }
        if (m->start(c->inst[i], old, err) < 0) {
            as_cycle_stop_inputs(c);
            return -1;
        }
        c->started[i] = 1;
    }
    return 0;
}

void as_cycle_stop_inputs(as_cycle_t *c)
{
    const as_modset_t *mods = &c->cfg->mods;
    for (size_t i = mods->n; i-- > 0;)
        if (c->started[i] && mods->v[i]->stop != NULL) {
            mods->v[i]->stop(c->inst[i]);
            c->started[i] = 0;
        }
}

int as_module_setting(const as_module_ctx_t *ctx, const char *key, int64_t *value, as_err_t *err)
{
    if (ctx == NULL || ctx->loading == NULL)
        return as_err_set(err, "%s: no configuration is being loaded", key);
    return as_config_setting(ctx->loading, key, value, err);
}
