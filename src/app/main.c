/*
 * main.c - alertsink's entry point: the daemon's options (-c -t -T -V) or
 * a subcommand (send, render, routes, wa, wa-cloud, requeue, ready).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/config.h"

static const char as_usage[] =
    "usage: alertsink [-c FILE]            run in the foreground\n"
    "       alertsink -t [-c FILE]         test the configuration\n"
    "       alertsink -T [-c FILE]         test, then print the effective configuration\n"
    "       alertsink -V                   version, modules and libraries\n"
    "       alertsink send [OPTIONS]       deliver what arrives on stdin, then exit\n"
    "       alertsink render --template FILE [--partials DIR] [--data FILE]\n"
    "       alertsink routes --labels k=v[,k=v...] [-c FILE]\n"
    "       alertsink wa login|pair|devices|logout|send ...\n"
    "       alertsink wa-cloud check [-c FILE]   can the Cloud API accounts send?\n"
    "       alertsink requeue [-c FILE] ID... | --all\n"
    "       alertsink ready [-c FILE] [--timeout 2s]   is the daemon taking alerts?\n"
    "The configuration is FILE, else $ALERTSINK_CONFIG, else "
    "/etc/alertsink/alertsink.yaml.\n";

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} as_commands[] = {
    {"send", as_cli_send},   {"render", as_cli_render},     {"routes", as_cli_routes},
    {"wa", as_cli_wa},       {"wa-cloud", as_cli_wa_cloud}, {"requeue", as_cli_requeue},
    {"ready", as_cli_ready},
};

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof(as_commands) / sizeof(as_commands[0]); i++)
            if (strcmp(argv[1], as_commands[i].name) == 0)
                return as_commands[i].run(argc - 1, argv + 1);
        return as_cli_usage_error("alertsink", as_usage, "unknown command '%s'", argv[1]);
    }

    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int test = 0, print = 0, version = 0, c;
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
    if (version)
        return as_cli_version(path ? path : as_config_default_path(), path != NULL);
    if (path == NULL)
        path = as_config_default_path();
    if (test)
        return as_cli_check(path, print);
    return as_daemon_run(path);
}
