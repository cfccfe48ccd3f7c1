/*
 * module.h (core) - the module registry: the built-in static table, as
 * nginx's ngx_modules[], plus the shared objects a configuration loads.
 */
#ifndef AS_CORE_MODULE_H
#define AS_CORE_MODULE_H

#include "alertsink/module.h"

#define AS_MODULES_MAX 32

/* The modules of one configuration: built-ins first, then loaded ones. */
typedef struct as_modset_s {
    const as_module_t *v[AS_MODULES_MAX];
    void *dl[AS_MODULES_MAX]; /* dlopen handle, NULL for built-ins */
    size_t n;
} as_modset_t;

/* The built-in table (NULL-terminated), given once at start. */
void as_modset_builtins(const as_module_t *const *table);
/* Fill set with the built-ins. */
void as_modset_init(as_modset_t *set);
/* Load one shared object into set; -1 with err naming the file and why. */
int as_modset_load(as_modset_t *set, const char *path, as_err_t *err);
/* Close the loaded objects. */
void as_modset_close(as_modset_t *set);
/* Index of a module by name, -1 if absent. */
int as_modset_find(const as_modset_t *set, const char *name);

#endif
