/*
 * render_bench.c - how long the daemon spends rendering one notification:
 * a payload (default: tests/fixtures/alertmanager-0.25/firing-group-30.json)
 * rendered N times with a built-in template (default: whatsapp).  Prints
 * microseconds of CPU time per render for
 *   render only          the compiled template into one reused buffer
 *   as_tpl_render        the same through the library: one malloc'd string
 *   context + render     as_tpl_context() and as_tpl_render(), then free
 *                        both: what a delivery costs from the payload on
 *   split                as_tpl_split() of the text at 4096 bytes
 *
 *   render_bench [PAYLOAD.json [N [TEMPLATE]]]       (bench/render.sh runs it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/module.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "alertsink/mem.h"
#include "render/template.h"

/* CPU time, not wall time: on a shared machine other processes' time
 * would be counted as ours. */
static double as_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "tests/fixtures/alertmanager-0.25/firing-group-30.json";
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
    const char *name = argc > 3 ? argv[3] : "whatsapp";
    if (n <= 0) {
        fprintf(stderr, "usage: render_bench [PAYLOAD.json [N [TEMPLATE]]]\n");
        return 2;
    }
    FILE *fp = fopen(path, "rb");
    as_buf_t in = AS_BUF_INIT;
    if (fp == NULL || as_buf_read(&in, fp, 0) < 0) {
        perror(path);
        return 1;
    }
    fclose(fp);
    as_err_t err;
    cJSON *payload = as_json_parse(in.data, in.len, &err);
    as_buf_free(&in);
    if (payload == NULL) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return 1;
    }
    as_pool_t *pool = as_pool_create();
    as_conf_t cf;
    as_conf_init(&cf, pool);
    /* The templates the built-in sinks ship. */
    as_modset_t mods;
    as_modset_init(&mods);
    const as_template_src_t *shipped[AS_MODULES_MAX];
    size_t nshipped = 0;
    for (size_t i = 0; i < mods.n; i++)
        if (mods.v[i]->templates != NULL)
            shipped[nshipped++] = mods.v[i]->templates;
    as_tpl_lib_t *lib = as_tpl_lib_load(&cf, pool, NULL, NULL, shipped, nshipped);
    const as_mustache_t *t = lib ? as_tpl_lib_get(lib, name) : NULL;
    if (t == NULL) {
        as_conf_print_errors(&cf, stderr);
        fprintf(stderr, "no built-in template '%s'\n", name);
        return 1;
    }

    cJSON *ctx = as_tpl_context(payload);
    as_buf_t out = AS_BUF_INIT;
    size_t bytes = 0;
    for (long i = 0; i < n / 10 + 1; i++) { /* warm up caches and the buffer */
        as_buf_reset(&out);
        as_mustache_render(t, ctx, NULL, NULL, 0, &out, NULL);
    }
    bytes = out.len;

    double t0 = as_now_us();
    for (long i = 0; i < n; i++) {
        as_buf_reset(&out);
        as_mustache_render(t, ctx, NULL, NULL, 0, &out, NULL);
    }
    double render_only = (as_now_us() - t0) / (double)n;

    t0 = as_now_us();
    for (long i = 0; i < n; i++)
        free(as_tpl_render(lib, t, ctx, 0, NULL));
    double lib_render = (as_now_us() - t0) / (double)n;

    t0 = as_now_us();
    for (long i = 0; i < n; i++) {
        cJSON *c = as_tpl_context(payload);
        free(as_tpl_render(lib, t, c, 0, NULL));
        cJSON_Delete(c);
    }
    double full = (as_now_us() - t0) / (double)n;

    char **parts;
    size_t nparts = 0;
    t0 = as_now_us();
    for (long i = 0; i < n; i++) {
        nparts = as_tpl_split(out.data, 4096, &parts);
        as_tpl_parts_free(parts, nparts);
    }
    double split = (as_now_us() - t0) / (double)n;

    printf("%s with '%s': %zu bytes, %ld renders\n", path, name, bytes, n);
    printf("  render only        %8.2f us\n", render_only);
    printf("  as_tpl_render      %8.2f us\n", lib_render);
    printf("  context + render   %8.2f us\n", full);
    printf("  split at 4096      %8.2f us (%zu parts)\n", split, nparts);

    as_buf_free(&out);
    cJSON_Delete(ctx);
    cJSON_Delete(payload);
    as_conf_free_errors(&cf);
    as_pool_destroy(pool);
    return 0;
}
