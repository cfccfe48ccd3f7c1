/*
 * main.c - alertsink's entry point: the daemon's options (-c -t -T -V
 * --no-env) or a subcommand (send, preview, render, routes, status, queue,
 * requeue, wa, wa-cloud, ready, help), alertsink(8).
 *
 * Each subcommand keeps its usage text in its own file and prints it for
 * --help; `alertsink help CMD [SUBCMD]` runs "CMD [SUBCMD] --help", so the
 * text lives in one place.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/config.h"

static const char as_usage[] =
    "usage: alertsink [-c FILE]            run in the foreground\n"
    "       alertsink -t [--no-env] [-c FILE]\n"
    "                                      test the configuration and what the daemon meets at "
    "start\n"
    "       alertsink -T [--no-env] [-c FILE]\n"
    "                                      test, then print the effective configuration\n"
    "       alertsink -V                   version, modules and libraries\n"
    "       alertsink send [OPTIONS] [MESSAGE...]\n"
    "                                      deliver MESSAGE or what arrives on stdin, then exit\n"
    "       alertsink send --dry-run [OPTIONS] [MESSAGE...]\n"
    "                                      route and render it, print each message; send nothing\n"
    "       alertsink preview --receiver NAME [--data FILE]\n"
    "                                      the messages each channel of NAME would send\n"
    "       alertsink render --template FILE [--partials DIR] [--data FILE]\n"
    "       alertsink routes --labels k=v[,k=v...] [-c FILE]\n"
    "       alertsink status [--json]      the daemon, the spool, the channels at a glance\n"
    "       alertsink queue [--state STATE] [--json]   what the spool holds\n"
    "       alertsink queue show ID | retry ID...|--dead|--deferred | drop ID...|--dead\n"
    "       alertsink wa login|pair|devices|logout|send ...\n"
    "       alertsink wa-cloud check [-c FILE]   can the Cloud API accounts send?\n"
    "       alertsink requeue ID... | --all        the old name of queue retry\n"
    "       alertsink ready [-c FILE] [--timeout 2s]   is the daemon taking alerts?\n"
    "       alertsink help [COMMAND [SUBCOMMAND]]\n"
    "  --no-env   check away from the machine the configuration is for: an unset ${NAME},\n"
    "             an unreadable *_file secret, the spool and file checks are warnings\n"
    "The configuration is FILE, else $ALERTSINK_CONFIG, else "
    "/etc/alertsink/alertsink.yaml.\n"
    "`alertsink help COMMAND` or `alertsink COMMAND --help` prints a command's options.\n";

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} as_commands[] = {
    {"send", as_cli_send},       {"preview", as_cli_preview}, {"render", as_cli_render},
    {"routes", as_cli_routes},   {"status", as_cli_status},   {"queue", as_cli_queue},
    {"requeue", as_cli_requeue}, {"wa", as_cli_wa},           {"wa-cloud", as_cli_wa_cloud},
    {"ready", as_cli_ready},
};

#define AS_NCOMMANDS (sizeof(as_commands) / sizeof(as_commands[0]))

/* `alertsink help [CMD [SUBCMD]]`: CMD's own --help. */
static int as_help(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0) {
        fputs(as_usage, stdout);
        return AS_EXIT_OK;
    }
    if (argc > 3)
        return as_cli_usage_error("alertsink help", as_usage, "unexpected argument '%s'", argv[3]);
    for (size_t i = 0; i < AS_NCOMMANDS; i++)
        if (strcmp(argv[1], as_commands[i].name) == 0) {
            char help[] = "--help", *cmd = argv[1], *sub = argc > 2 ? argv[2] : NULL;
            char *av[] = {cmd, sub ? sub : help, sub ? help : NULL, NULL};
            return as_commands[i].run(sub ? 3 : 2, av);
        }
    return as_cli_usage_error("alertsink help", as_usage, "unknown command '%s'", argv[1]);
}

int main(int argc, char **argv)
{
    /* One malloc arena for all threads: a notification's memory comes
     * from pools (a chunk at a time), so the threads seldom meet in
     * malloc, and an arena per thread would keep its own idle pages (a
     * tenth of the daemon's private memory at rest). */
    mallopt(M_ARENA_MAX, 1);
    as_config_advice(as_cli_advice);
    /* `-c FILE CMD ...` (or -cFILE) runs as `CMD -c FILE ...`: the
     * configuration may be named before or after a subcommand. */
    char *av[argc + 1];
    int cn = argc > 1 && strncmp(argv[1], "-c", 2) == 0 ? (argv[1][2] != '\0' ? 1 : 2) : 0;
    if (cn > 0 && argc > cn + 1 && argv[cn + 1][0] != '-') {
        av[0] = argv[0];
        av[1] = argv[cn + 1];
        memcpy(av + 2, argv + 1, (size_t)cn * sizeof(*av));
        memcpy(av + 2 + cn, argv + cn + 2, (size_t)(argc - cn - 2) * sizeof(*av));
        av[argc] = NULL;
        argv = av;
    }
    if (argc > 1 && argv[1][0] != '-') {
        if (strcmp(argv[1], "help") == 0)
            return as_help(argc - 1, argv + 1);
        for (size_t i = 0; i < AS_NCOMMANDS; i++)
            if (strcmp(argv[1], as_commands[i].name) == 0)
                return as_commands[i].run(argc - 1, argv + 1);
        return as_cli_usage_error("alertsink", as_usage, "unknown command '%s'", argv[1]);
    }

    enum { AS_OPT_NO_ENV = 256 };
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {"no-env", no_argument, NULL, AS_OPT_NO_ENV},
                                             {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int test = 0, print = 0, version = 0, no_env = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:tTVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 't':
            test = 1;
            break;
        case 'T':
            test = print = 1;
            break;
        case 'V':
            version = 1;
            break;
        case AS_OPT_NO_ENV:
            no_env = 1;
            break;
        case 'h':
            fputs(as_usage, stdout);
            return AS_EXIT_OK;
        case ':':
            return as_cli_usage_error("alertsink", as_usage, "option -%c needs a value", optopt);
        default:
            if (optopt)
                return as_cli_usage_error("alertsink", as_usage, "unknown option -%c", optopt);
            return as_cli_usage_error("alertsink", as_usage, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return as_cli_usage_error("alertsink", as_usage, "unexpected argument '%s'", argv[optind]);
    if (no_env && !test)
        return as_cli_usage_error("alertsink", as_usage,
                                  "--no-env goes with -t or -T (the daemon needs its secrets)");
    if (version)
        return as_cli_version(path ? path : as_config_default_path(), path != NULL);
    if (path == NULL)
        path = as_config_default_path();
    if (test)
        return as_cli_check(path, print, no_env);
    return as_daemon_run(path);
}
