/*
 * cli.c - what the subcommands share (see cli.h): the form of a usage
 * error, and loading the configuration with its errors and warnings
 * reported one way.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int as_cli_bad_option(const char *who, const char *usage, int c, char **argv)
{
    return as_cli_usage_error(
        who, usage, c == ':' ? "option %s needs a value" : "unknown option %s", argv[optind - 1]);
}

static void as_cli_invalid(const char *who, const char *path, const as_conf_t *cf)
{
    size_t n = as_conf_errors(cf);
    as_conf_print_errors(cf, stderr);
    fprintf(stderr, "%s: configuration %s is invalid (%zu error%s)\n", who, path, n,
            n == 1 ? "" : "s");
    struct stat st;
    if (stat(path, &st) < 0 && errno == ENOENT) {
        const char *env = getenv("ALERTSINK_CONFIG");
        fprintf(stderr,
                "%s: there is no configuration file at %s%s: name one with -c FILE or "
                "$ALERTSINK_CONFIG (rules/quickstart.yaml in the source tree needs no "
                "credentials)\n",
                who, path, env && *env ? " ($ALERTSINK_CONFIG)" : "");
    }
}

as_config_t *as_cli_config_flags(const char *who, const char *path, unsigned flags)
{
    as_conf_t cf;
    if (path == NULL)
        path = as_config_default_path();
    as_config_t *cfg = as_config_load_flags(&cf, path, flags & ~(unsigned)AS_CLI_QUIET);
    if (!(flags & AS_CLI_QUIET))
        as_conf_print_warnings(&cf, stderr);
    if (cfg == NULL)
        as_cli_invalid(who, path, &cf);
    as_conf_free_errors(&cf);
    return cfg;
}

as_config_t *as_cli_config(const char *who, const char *path)
{
    return as_cli_config_flags(who, path, 0);
}

as_cycle_t *as_cli_cycle_flags(const char *who, const char *path, unsigned flags)
{
    as_conf_t cf;
    if (path == NULL)
        path = as_config_default_path();
    as_cycle_t *c = as_cycle_create(&cf, path, flags & ~(unsigned)AS_CLI_QUIET);
    if (!(flags & AS_CLI_QUIET))
        as_conf_print_warnings(&cf, stderr);
    if (c == NULL)
        as_cli_invalid(who, path, &cf);
    as_conf_free_errors(&cf);
    return c;
}

as_cycle_t *as_cli_cycle(const char *who, const char *path)
{
    return as_cli_cycle_flags(who, path, 0);
}
