/*
 * cli.h - the subcommands of CONTRACT §3.  Each takes its own argv (argv[0]
 * is the subcommand's name) and returns the process exit code.  Usage
 * errors print the usage on stderr and return AS_EXIT_USAGE.
 */
#ifndef AS_CLI_H
#define AS_CLI_H

enum {
    AS_EXIT_OK = 0,
    AS_EXIT_FAIL = 1,     /* not delivered / API failure / invalid configuration */
    AS_EXIT_USAGE = 2,    /* usage or configuration error */
    AS_EXIT_FALLBACK = 3, /* send: delivered by the fallback only */
    AS_EXIT_REJECTED = 4, /* send: input rejected */
};

int as_cli_check(const char *path, int print);
int as_cli_version(const char *path, int explicit_path);
int as_cli_send(int argc, char **argv);
int as_cli_render(int argc, char **argv);
int as_cli_routes(int argc, char **argv);
int as_cli_wa(int argc, char **argv);
int as_cli_requeue(int argc, char **argv); /* dead/ back to the queue */

/* The daemon: run in the foreground until SIGTERM/SIGINT. */
int as_daemon_run(const char *path);

#endif
