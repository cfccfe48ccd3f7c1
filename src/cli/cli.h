/*
 * cli.h - the subcommands of alertsink(8).  Each takes its own argv (argv[0]
 * is the subcommand's name) and returns the process exit code.  Usage
 * errors print the usage on stderr and return AS_EXIT_USAGE.
 *
 * What they share is in cli.c: a usage error is "WHO: what is wrong", then
 * the usage; a configuration that does not load prints its errors
 * (FILE:LINE:COL: message, one a line), then "WHO: configuration PATH is
 * invalid (N errors)".  WHO is the command as typed ("alertsink send").
 */
#ifndef AS_CLI_H
#define AS_CLI_H

#include "cli/formats.h"
#include "conf/cycle.h"
#include "deliver/note.h"

enum {
    AS_EXIT_OK = 0,
    AS_EXIT_FAIL = 1,     /* not delivered / API failure / invalid configuration */
    AS_EXIT_USAGE = 2,    /* usage or configuration error */
    AS_EXIT_FALLBACK = 3, /* send: delivered by the fallback only */
    AS_EXIT_REJECTED = 4, /* send: input rejected */
};

/* "WHO: " and the message on stderr, then the usage; returns AS_EXIT_USAGE. */
int as_cli_usage_error(const char *who, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The usage error for what getopt_long() gave back that no case of the
 * caller took: ':' (an option without its value) or an unknown option. */
int as_cli_bad_option(const char *who, const char *usage, int c, char **argv);
/* The configuration at path (NULL: $ALERTSINK_CONFIG, else the default),
 * loaded; NULL, with its errors on stderr, when it is invalid. */
as_config_t *as_cli_config(const char *who, const char *path);
/* The same as a cycle: modules instantiated and templates loaded, what
 * delivering needs. */
as_cycle_t *as_cli_cycle(const char *who, const char *path);
/* Both with AS_LOAD_* flags (lib/conf.h): AS_LOAD_NO_SEND for commands
 * that never send, where a missing secret is a warning.  Warnings go to
 * stderr in every case. */
as_config_t *as_cli_config_flags(const char *who, const char *path, unsigned flags);
as_cycle_t *as_cli_cycle_flags(const char *who, const char *path, unsigned flags);
/* A flag of the two above, not the loader's: no warnings, for commands
 * that only look at the spool (queue, status), to which an unset secret
 * or a missing templates.dir means nothing. */
enum { AS_CLI_QUIET = 1u << 16 };

/* -t / -T: print the configuration (-T), check what the daemon meets at
 * start; no_env: unset ${NAME} and unreadable secret files are warnings. */
int as_cli_check(const char *path, int print, int no_env);
int as_cli_version(const char *path, int explicit_path);
int as_cli_send(int argc, char **argv);
int as_cli_render(int argc, char **argv);
int as_cli_routes(int argc, char **argv);
int as_cli_wa(int argc, char **argv);
int as_cli_wa_cloud(int argc, char **argv); /* the WhatsApp Cloud API accounts */
int as_cli_queue(int argc, char **argv);    /* list, show, retry, drop what the spool holds */
int as_cli_requeue(int argc, char **argv);  /* the old name of `queue retry` */
int as_cli_preview(int argc, char **argv);  /* a receiver's messages for an input */
int as_cli_status(int argc, char **argv);   /* the daemon, the spool, the channels at a glance */
int as_cli_ready(int argc, char **argv);    /* is the daemon taking alerts? */

/* Is the daemon of cfg ready?  1 ready, 0 not, -1 nothing to ask (both
 * inputs off); what it answered, or why not, in msg (ready.c). */
int as_cli_ready_check(const as_config_t *cfg, int64_t timeout_ms, char *msg, size_t len);

/* What send and preview read (input.c): the words joined by spaces when
 * nwords > 0, else the file at path (NULL or "-": stdin, with a hint when
 * it is a terminal: words NULL for a command that takes none), in format,
 * with opts (may be NULL).  NULL with err when it is rejected. */
cJSON *as_cli_input(const char *who, char *const *words, size_t nwords, const char *path,
                    as_format_t format, const as_payload_opts_t *opts, int *grouped, as_err_t *err);
/* The words of a command line's MESSAGE joined by single spaces, into b. */
void as_cli_words(as_buf_t *b, char *const *words, size_t nwords);
/* The record that stdin's payload (grouped as read) makes for receiver
 * (NULL: the route decides), as a request's record: a new id, accepted
 * now, input "stdin"; its memory takes the payload over. */
as_note_t *as_cli_record(cJSON *payload, int grouped, const char *receiver);
/* Print note n's messages (preview.c): for each channel of its receiver's
 * chain "== RECEIVER CHANNEL ==", "Subject: ..." when the channel has one,
 * then the text (or its parts), rendered as a delivery renders it.  out
 * may be NULL; json, when not NULL, gets "messages" (channel -> text),
 * and "subjects" and "parts" when there are some.  -1 when the receiver
 * is gone or a message cannot be rendered (said on stderr). */
int as_cli_messages(FILE *out, cJSON *json, as_cycle_t *c, const as_note_t *n, const char *who);
/* Route payload (ownership taken) as the daemon would (receiver: NULL to
 * route, else that receiver alone, as send --receiver) and print every
 * note's messages: `preview` and `send --dry-run`.  Exit code. */
int as_cli_render_input(as_cycle_t *c, cJSON *payload, int grouped, const char *receiver,
                        const char *who);

/* The loader's advice for Alertmanager's keys (advice.c): 1 and a
 * sentence in buf, or 0. */
int as_cli_advice(const as_node_t *key, const as_node_t *value, char *buf, size_t size);

/* The daemon: run in the foreground until SIGTERM/SIGINT. */
int as_daemon_run(const char *path);

#endif
