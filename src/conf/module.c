/*
 * module.c - the module registry (see module.h).
 *
 * Built-in modules sit in one static table, in the order their hooks run;
 * the table is the application's (src/app/modules.c, as nginx generates
 * objs/ngx_modules.c), handed over before any configuration loads, so
 * the core depends on no module.
 * A shared object named under "modules:" must export `alertsink_module`;
 * it is refused, with the file named, when it cannot be opened, lacks the
 * symbol, was built for another ABI, or reuses a name.  The binary exports
 * its AS_API functions (-rdynamic) for modules to call.
 */
#include <dlfcn.h>
#include <string.h>

#include "conf/module.h"

static const as_module_t *const *as_builtins;

void as_modset_builtins(const as_module_t *const *table)
{
    as_builtins = table;
}

void as_modset_init(as_modset_t *set)
{
    memset(set, 0, sizeof(*set));
    for (size_t i = 0; as_builtins != NULL && as_builtins[i] != NULL; i++)
        set->v[set->n++] = as_builtins[i];
}

int as_modset_find(const as_modset_t *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i]->name, name) == 0)
            return (int)i;
    return -1;
}

_Static_assert(AS_CHANNEL_KEY_MAX == 23, "the message below says 23");

static const char *as_module_check(const as_module_t *m)
{
    if (m->name == NULL || m->name[0] == '\0' ||
        strspn(m->name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(m->name))
        return "its name is empty or not [a-z0-9_]";
    if (m->kind != AS_MODULE_INPUT && m->kind != AS_MODULE_SINK)
        return "its kind is neither input nor sink";
    if (m->kind == AS_MODULE_SINK &&
        ((m->deliver == NULL && m->deliver_batch == NULL) || m->channel_key == NULL))
        return "a sink needs a channel key and a deliver or deliver_batch hook";
    /* A longer key was cut in notes and journals, and never found again:
     * the channel looked pending for ever and was delivered again and again. */
    if (m->channel_key != NULL &&
        (m->channel_key[0] == '\0' || strlen(m->channel_key) > AS_CHANNEL_KEY_MAX ||
         strspn(m->channel_key, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(m->channel_key)))
        return "its channel key is empty, longer than 23 bytes or not [a-z0-9_]";
    if (m->kind == AS_MODULE_INPUT && m->start == NULL)
        return "an input needs a start hook";
    if ((m->conf_key != NULL) != (m->conf_keys != NULL))
        return "conf_key and conf_keys go together";
    if (m->channel_key != NULL && m->channel_size < sizeof(as_channel_conf_t))
        return "its channel struct must start with as_channel_conf_t";
    return NULL;
}

int as_modset_load(as_modset_t *set, const char *path, as_err_t *err)
{
    if (set->n == AS_MODULES_MAX)
        return as_err_set(err, "module %s: too many modules (at most %d)", path, AS_MODULES_MAX);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL)
        return as_err_set(err, "module %s: cannot load: %s", path, dlerror());
    const as_module_t *m = dlsym(dl, AS_MODULE_SYMBOL);
    const char *why = NULL;
    if (m == NULL) {
        dlclose(dl);
        return as_err_set(err, "module %s: no symbol '%s': not an alertsink module", path,
                          AS_MODULE_SYMBOL);
    }
    if (m->abi != AS_ABI_VERSION) {
        unsigned abi = m->abi;
        dlclose(dl);
        return as_err_set(err,
                          "module %s: built for module ABI %u, this alertsink has ABI %d: "
                          "rebuild it against this alertsink's module.h",
                          path, abi, AS_ABI_VERSION);
    }
    if ((why = as_module_check(m)) != NULL) {
        dlclose(dl);
        return as_err_set(err, "module %s: invalid: %s", path, why);
    }
    if (as_modset_find(set, m->name) >= 0) {
        char name[128];
        as_str_copy(name, sizeof(name), m->name);
        dlclose(dl);
        return as_err_set(err, "module %s: a module named '%s' is already loaded", path, name);
    }
    for (size_t i = 0; i < set->n; i++) {
        const as_module_t *o = set->v[i];
        if ((m->conf_key && o->conf_key && strcmp(m->conf_key, o->conf_key) == 0) ||
            (m->channel_key && o->channel_key && strcmp(m->channel_key, o->channel_key) == 0)) {
            char name[128];
            as_str_copy(name, sizeof(name), o->name);
            dlclose(dl);
            return as_err_set(err, "module %s: its configuration key is already owned by '%s'",
                              path, name);
        }
    }
    set->dl[set->n] = dl;
    set->v[set->n++] = m;
    return 0;
}

void as_modset_close(as_modset_t *set)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->dl[i] != NULL) {
            dlclose(set->dl[i]);
            set->dl[i] = NULL;
        }
}
