/*
 * fuzz_mustache.c - the Mustache engine: compile, then render with the
 * render budget of mustache.h.
 *
 * The input is a template, with optional sections:
 *
 *   #@partial NAME   a partial of that name (compiled like the template)
 *   #@data           JSON: a context of the input's own
 *
 * Partials are looked up in the input's sections first, then among the
 * templates of tests/fuzz/regressions/mustache/ (self, ping, pong, boom,
 * ...: partials that once ran away), so a regression file replayed here
 * renders as tests/e2e/test_render_budget.py renders it.  The template is
 * rendered three times: with the sample notification's context (what -t
 * uses), HTML-escaped; with that folder's data.json, not escaped; and
 * with the input's own data when it parses, JSON-escaped (a webhook's).
 *
 * What must hold besides not crashing or hanging: a compile error says
 * where ("fuzz:LINE:COL: ..."), a render that stops says why, and a
 * finished render stays within the output budget.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/json.h"
#include "alertsink/sink.h"
#include "fuzz.h"
#include "render/mustache.h"
#include "render/template.h"

#define FZ_REGRESSIONS "tests/fuzz/regressions/mustache"
#define FZ_MAX_FIXED   64

typedef struct {
    const char *name;
    as_mustache_t *t;
} fz_partial_t;

typedef struct {
    size_t n;
    fz_partial_t v[FZ_MAX_PARTS + FZ_MAX_FIXED];
} fz_partials_t;

static fz_partials_t fz_fixed;
static cJSON *fz_sample, *fz_sample_ctx, *fz_regression_ctx;

static void fz_load_regressions(void)
{
    char *dir = fz_source_path(FZ_REGRESSIONS);
    DIR *d = opendir(dir);
    free(dir);
    if (d == NULL)
        fz_fail("cannot read %s", FZ_REGRESSIONS);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && fz_fixed.n < FZ_MAX_FIXED) {
        size_t len = strlen(e->d_name);
        if (len <= 9 || strcmp(e->d_name + len - 9, ".mustache") != 0)
            continue;
        char rel[512], *src;
        size_t slen;
        snprintf(rel, sizeof(rel), "%s/%s", FZ_REGRESSIONS, e->d_name);
        if ((src = fz_source_file(rel, &slen)) == NULL)
            fz_fail("cannot read %s", rel);
        as_err_t err;
        as_mustache_t *t = as_mustache_compile(src, slen, rel, &err);
        if (t == NULL)
            fz_fail("%s", err.msg);
        free(src);
        fz_fixed.v[fz_fixed.n++] = (fz_partial_t){as_xstrndup(e->d_name, len - 9), t};
    }
    closedir(d);

    size_t dlen;
    char *data = fz_source_file(FZ_REGRESSIONS "/data.json", &dlen);
    as_err_t err;
    if (data == NULL || (fz_regression_ctx = as_json_parse(data, dlen, &err)) == NULL)
        fz_fail("cannot read %s/data.json", FZ_REGRESSIONS);
    free(data);
}

static void fz_cleanup(void)
{
    for (size_t i = 0; i < fz_fixed.n; i++) {
        free((char *)fz_fixed.v[i].name);
        as_mustache_free(fz_fixed.v[i].t);
    }
    cJSON_Delete(fz_sample_ctx); /* before the payload it refers to */
    cJSON_Delete(fz_sample);
    cJSON_Delete(fz_regression_ctx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    fz_load_regressions();
    fz_sample = as_tpl_sample();
    fz_sample_ctx = as_tpl_context(fz_sample);
    atexit(fz_cleanup);
    return 0;
}

static const as_mustache_t *fz_partial(void *data, const char *name)
{
    const fz_partials_t *p = data;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return p->v[i].t;
    for (size_t i = 0; i < fz_fixed.n; i++)
        if (strcmp(fz_fixed.v[i].name, name) == 0)
            return fz_fixed.v[i].t;
    return NULL;
}

/* Compile; a failure must say where. */
static as_mustache_t *fz_compile(const char *src, size_t len)
{
    as_err_t err = {{0}};
    as_mustache_t *t = as_mustache_compile(src, len, "fuzz", &err);
    if (t == NULL && strncmp(err.msg, "fuzz:", 5) != 0)
        fz_fail("a compile error that does not say where: %s", err.msg);
    return t;
}

static void fz_render(const as_mustache_t *t, const cJSON *ctx, fz_partials_t *partials, int escape)
{
    as_buf_t out = AS_BUF_INIT;
    as_err_t err = {{0}};
    int rc = as_mustache_render(t, ctx, fz_partial, partials, escape, &out, &err);
    if (rc < 0 && err.msg[0] == '\0')
        fz_fail("a render stopped without a reason");
    if (rc == 0 && out.len > AS_MUSTACHE_MAX_OUTPUT)
        fz_fail("a render of %zu bytes passed the budget", out.len);
    as_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input_t in;
    fz_input_split(&in, data, size);
    fz_partials_t partials = {0};
    const fz_part_t *p;
    for (size_t pos = 0; (p = fz_input_next(&in, "partial", &pos)) != NULL;) {
        as_mustache_t *t = fz_compile(p->data, p->len);
        if (t != NULL)
            partials.v[partials.n++] = (fz_partial_t){p->arg, t};
    }
    as_mustache_t *t = fz_compile(in.parts[0].data, in.parts[0].len);
    if (t != NULL) {
        fz_render(t, fz_sample_ctx, &partials, AS_ESCAPE_HTML);
        fz_render(t, fz_regression_ctx, &partials, AS_ESCAPE_NONE);
        const fz_part_t *d = fz_input_get(&in, "data");
        as_err_t err;
        cJSON *own = d ? as_json_parse(d->data, d->len, &err) : NULL;
        if (own != NULL)
            fz_render(t, own, &partials, AS_ESCAPE_JSON);
        cJSON_Delete(own);
        as_mustache_free(t);
    }
    for (size_t i = 0; i < partials.n; i++)
        as_mustache_free(partials.v[i].t);
    fz_input_free(&in);
    return 0;
}
