/*
 * cycle.h - one configuration generation and everything built from it:
 * the parsed configuration and one instance of every module (nginx's
 * ngx_cycle_t).  A cycle is reference-counted: the daemon holds the current
 * one, and every delivery holds the cycle it started with, so a reload
 * swaps the pointer while deliveries in flight finish with their own.
 */
#ifndef AS_CYCLE_H
#define AS_CYCLE_H

#include <stdatomic.h>

#include "conf/config.h"
#include "render/render.h"

typedef struct as_cycle_s {
    as_config_t *cfg;
    as_tpl_lib_t *tpl;
    as_chan_tpl_t *chtpl;       /* [receiver index * AS_MODULES_MAX + module index] */
    void *inst[AS_MODULES_MAX]; /* by module index */
    as_module_ctx_t ctx[AS_MODULES_MAX];
    int started[AS_MODULES_MAX];
    atomic_int refs;
} as_cycle_t;

/* Load path, initialise every module and check every receiver's channels,
 * rendering each channel's templates once with as_tpl_sample() (so that a
 * template past its render budget is a configuration error).  flags:
 * AS_LOAD_* (lib/conf.h).  NULL on error, every error in cf as
 * FILE:LINE:COL: message. */
as_cycle_t *as_cycle_create(as_conf_t *cf, const char *path, unsigned flags);
as_cycle_t *as_cycle_ref(as_cycle_t *c);
void as_cycle_unref(as_cycle_t *c);

/* The templates of receiver r's channel of module m. */
const as_chan_tpl_t *as_cycle_chan_tpl(const as_cycle_t *c, size_t r, size_t m);
/* Receiver r's channel of module m rendered with ctx (as_tpl_context() of
 * a note's payload): the message a delivery hands to the sink, which
 * `alertsink preview` and `queue show` print; out lives in pool.  -1 with
 * err when a template cannot finish. */
int as_cycle_render(const as_cycle_t *c, as_pool_t *pool, size_t r, size_t m, const cJSON *ctx,
                    as_rendered_t *out, as_err_t *err);

/* Start the inputs (prev: the cycle being replaced, or NULL). */
int as_cycle_start_inputs(as_cycle_t *c, as_cycle_t *prev, as_err_t *err);
void as_cycle_stop_inputs(as_cycle_t *c);

#endif
