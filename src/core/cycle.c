/*
 * cycle.c - configuration generations (see cycle.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/cycle.h"
#include "core/log.h"
#include "core/pool.h"

static _Thread_local const as_config_t *as_loading;

const as_config_t *as_cycle_loading(void)
{
    return as_loading;
}

static void as_cycle_free(as_cycle_t *c)
{
    const as_modset_t *mods = &c->cfg->mods;
    for (size_t i = mods->n; i-- > 0;)
        if (c->inst[i] != NULL && mods->v[i]->fini != NULL)
            mods->v[i]->fini(c->inst[i]);
    as_config_free(c->cfg);
    free(c);
}

as_cycle_t *as_cycle_create(as_conf_t *cf, const char *path)
{
    as_config_t *cfg = as_config_load(cf, path);
    if (cfg == NULL)
        return NULL;
    as_cycle_t *c = as_xcalloc(1, sizeof(*c));
    c->cfg = cfg;
    atomic_init(&c->refs, 1);

    const as_modset_t *mods = &cfg->mods;
    as_node_t file = {.file = cfg->file};
    as_loading = cfg;
    for (size_t i = 0; i < mods->n; i++) {
        const as_module_t *m = mods->v[i];
        as_err_t err = {{0}};
        if (m->init != NULL && m->init(&c->inst[i], cfg->mconf[i].conf, &err) < 0) {
            const as_node_t *at = cfg->mconf[i].node ? cfg->mconf[i].node : &file;
            as_conf_error(cf, at, "%s", err.msg);
        }
    }
    as_loading = NULL;
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
    if (as_conf_errors(cf) != 0) {
        as_cycle_free(c);
        return NULL;
    }
    as_log_set_level(cfg->log.level);
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
