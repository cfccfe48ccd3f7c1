/*
 * render.c - `alertsink render --template FILE [--partials DIR] [--data
 * FILE]` (docs/templates.md): render one Mustache template with JSON data
 * to stdout, to write and try templates without sending anything.
 *
 * Unlike a delivery, the data is the context exactly as given (any JSON
 * value; no firing/resolved added) and {{name}} is HTML-escaped, as the
 * spec says.  Partials are the NAME.mustache files of --partials DIR, read
 * and compiled the first time the template names them; a missing one
 * renders as nothing, as does a name with a '/' in it.
 *
 * Exit codes: 0 rendered; 1 a template or partial that does not compile
 * ("FILE:LINE:COL: message" on stderr, nothing on stdout), a render that
 * stopped before its end (partials that include each other without end:
 * the budget of mustache.h; "FILE: why" on stderr, nothing on stdout),
 * data that is not JSON, a file that cannot be read; 2 a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/buf.h"
#include "alertsink/mem.h"
#include "cli/cli.h"
#include "lib/json.h"
#include "render/mustache.h"

#define AS_RENDER_MAX_INPUT (64 * 1024 * 1024)

static const char as_render_usage[] =
    "usage: alertsink render --template FILE [--partials DIR] [--data FILE]\n"
    "  Render the Mustache template FILE with the JSON of --data (default: stdin)\n"
    "  to stdout.  {{name}} is HTML-escaped, {{{name}}} and {{& name}} are not;\n"
    "  {{> name}} reads DIR/name.mustache.\n";

typedef struct {
    const char *dir;
    char **names; /* the partials asked for so far, found or not */
    as_mustache_t **tpl;
    size_t n;
    int failed; /* a partial could not be read or compiled */
} as_render_partials_t;

/* Read path ("-": stdin) into b; print why not and return -1. */
static int as_render_read(const char *path, as_buf_t *b)
{
    int std = strcmp(path, "-") == 0;
    FILE *fp = std ? stdin : fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "alertsink: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = as_buf_read(b, fp, AS_RENDER_MAX_INPUT), error = errno;
    if (!std)
        fclose(fp);
    if (rc < 0)
        fprintf(stderr, "alertsink: %s: %s\n", std ? "stdin" : path,
                error == EFBIG ? "larger than 64 MiB" : strerror(error));
    return rc;
}

static const as_mustache_t *as_render_partial(void *data, const char *name)
{
    as_render_partials_t *p = data;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->names[i], name) == 0)
            return p->tpl[i];
    as_mustache_t *t = NULL;
    if (p->dir != NULL && *name && strchr(name, '/') == NULL) {
        size_t size = strlen(p->dir) + strlen(name) + sizeof("/.mustache");
        char *path = as_xmalloc(size);
        snprintf(path, size, "%s/%s.mustache", p->dir, name);
        FILE *fp = fopen(path, "rb");
        if (fp == NULL && errno != ENOENT) {
            fprintf(stderr, "alertsink: %s: %s\n", path, strerror(errno));
            p->failed = 1;
        } else if (fp != NULL) {
            fclose(fp);
            as_buf_t b = AS_BUF_INIT;
            as_err_t err;
            if (as_render_read(path, &b) < 0) {
                p->failed = 1;
            } else if ((t = as_mustache_compile(b.data, b.len, path, &err)) == NULL) {
                fprintf(stderr, "%s\n", err.msg);
                p->failed = 1;
            }
            as_buf_free(&b);
        }
        free(path);
    }
    p->names = as_xrealloc(p->names, (p->n + 1) * sizeof(*p->names));
    p->tpl = as_xrealloc(p->tpl, (p->n + 1) * sizeof(*p->tpl));
    p->names[p->n] = as_xstrdup(name);
    p->tpl[p->n++] = t;
    return t;
}

#define as_render_usage_error(...)                                                                 \
    as_cli_usage_error("alertsink render", as_render_usage, __VA_ARGS__)

static int as_render_run(const char *tpl_path, const char *data_path, as_render_partials_t *p)
{
    as_buf_t src = AS_BUF_INIT, data = AS_BUF_INIT, out = AS_BUF_INIT;
    as_mustache_t *t = NULL;
    cJSON *ctx = NULL;
    as_err_t err;
    int rc = AS_EXIT_FAIL;
    if (as_render_read(tpl_path, &src) < 0)
        goto done;
    if ((t = as_mustache_compile(src.data, src.len, tpl_path, &err)) == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    if (as_render_read(data_path, &data) < 0)
        goto done;
    const char *what = strcmp(data_path, "-") == 0 ? "stdin" : data_path;
    if (data.len == 0) {
        fprintf(stderr, "alertsink: %s: no data: expected JSON\n", what);
        goto done;
    }
    if ((ctx = as_json_parse(data.data, data.len, &err)) == NULL) {
        fprintf(stderr, "alertsink: %s: %s\n", what, err.msg);
        goto done;
    }
    if (as_mustache_render(t, ctx, as_render_partial, p, 1, &out, &err) < 0) {
        fprintf(stderr, "alertsink: %s: %s\n", tpl_path, err.msg);
        goto done;
    }
    if (p->failed)
        goto done;
    if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        fprintf(stderr, "alertsink: stdout: %s\n", strerror(errno));
        goto done;
    }
    rc = AS_EXIT_OK;
done:
    cJSON_Delete(ctx);
    as_mustache_free(t);
    as_buf_free(&src);
    as_buf_free(&data);
    as_buf_free(&out);
    return rc;
}

int as_cli_render(int argc, char **argv)
{
    static const struct option longopts[] = {{"template", required_argument, NULL, 't'},
                                             {"partials", required_argument, NULL, 'p'},
                                             {"data", required_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *tpl = NULL, *data = "-";
    as_render_partials_t p = {NULL, NULL, NULL, 0, 0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            tpl = optarg;
            break;
        case 'p':
            p.dir = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 'h':
            fputs(as_render_usage, stdout);
            return AS_EXIT_OK;
        case ':':
            return as_render_usage_error("option %s needs a value", argv[optind - 1]);
        default:
            return as_render_usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return as_render_usage_error("unexpected argument '%s'", argv[optind]);
    if (tpl == NULL)
        return as_render_usage_error("--template FILE is required");

    int rc = as_render_run(tpl, data, &p);
    for (size_t i = 0; i < p.n; i++) {
        free(p.names[i]);
        as_mustache_free(p.tpl[i]);
    }
    free(p.names);
    free(p.tpl);
    return rc;
}
