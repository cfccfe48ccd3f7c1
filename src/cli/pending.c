/*
 * pending.c - TEMPORARY: subcommands whose issues have not landed yet.
 * Each moves to its own file with its issue.
 */
#include <stdio.h>

#include "cli/cli.h"

static int as_cli_pending(const char *name)
{
    fprintf(stderr, "alertsink: '%s' is not built yet\n", name);
    return AS_EXIT_USAGE;
}

int as_cli_wa(int argc, char **argv)
{
    return as_cli_pending(argv[0]);
}
