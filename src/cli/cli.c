/*
 * cli.c - what the subcommands share (see cli.h): the form of a usage
 * error, and loading the configuration with its errors reported one way.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"
#include "lib/conf.h"

int as_cli_usage_error(const char *who, const char *usage, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", who);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    return AS_EXIT_USAGE;
}

static void as_cli_invalid(const char *who, const char *path, const as_conf_t *cf)
{
    size_t n = as_conf_errors(cf);
    as_conf_print_errors(cf, stderr);
    fprintf(stderr, "%s: configuration %s is invalid (%zu error%s)\n", who, path, n,
            n == 1 ? "" : "s");
}

as_config_t *as_cli_config(const char *who, const char *path)
{
    as_conf_t cf;
    if (path == NULL)
        path = as_config_default_path();
    as_config_t *cfg = as_config_load(&cf, path);
    if (cfg == NULL)
        as_cli_invalid(who, path, &cf);
    as_conf_free_errors(&cf);
    return cfg;
}

as_cycle_t *as_cli_cycle(const char *who, const char *path)
{
    as_conf_t cf;
    if (path == NULL)
        path = as_config_default_path();
    as_cycle_t *c = as_cycle_create(&cf, path, 0);
    if (c == NULL)
        as_cli_invalid(who, path, &cf);
    as_conf_free_errors(&cf);
    return c;
}
