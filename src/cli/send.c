/*
 * send.c - `alertsink send` (docs/inputs.md): read one notification from
 * the command line's words or stdin, deliver it, exit with what happened.
 *
 *   0  delivered on the primary channel(s)     3  only the fallback (or only
 *   1  not delivered                              some channels) delivered
 *   2  usage or configuration error            4  input rejected
 *
 * In-process, `send` is the daemon's engine without its threads: the
 * notification is written to the spool's maildrop/ first (durable, and
 * flock'ed so that a daemon on the same spool leaves it alone), routed,
 * and run through the same pipeline (dedup shared through the spool,
 * retries with the same backoff) until it is delivered or --timeout or
 * spool.max_age passes.  What is left stays in maildrop/ with its journal
 * for the daemon to finish.  When the spool cannot take it, it is
 * delivered all the same and `send` says at once, and again at the end,
 * that what is not delivered before the timeout is lost.
 *
 * With --socket, the notification is handed to a running daemon instead,
 * and `send` exits 0 once it answered OK; no daemon there is said so, with
 * how to start one.  With --dry-run it is routed and rendered
 * (preview.c), and nothing is sent or written.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "alertsink/input.h"
#include "alertsink/mem.h"
#include "cli/cli.h"
#include "cli/formats.h"
#include "deliver/chain.h"
#include "deliver/pipeline.h"
#include "lib/conf.h"
#include "lib/fdio.h"
#include "lib/json.h"
#include "lib/log.h"
#include "queue/engine.h"

static const char as_send_usage[] =
    "usage: alertsink send [OPTIONS] [MESSAGE...]\n"
    "  --receiver NAME   deliver to NAME without routing\n"
    "  --label k=v       set label k on every alert (repeatable)\n"
    "  --title T         the title (and the summary annotation)\n"
    "  --severity S      set label severity\n"
    "  --format F        auto (default), json, text, nagios or collectd\n"
    "  --timeout D       how long to try (default 20s); with --socket, the wait for the answer\n"
    "  --socket PATH     hand it to the daemon listening on PATH instead\n"
    "  --dry-run         route and render: print each receiver, channel and message;\n"
    "                    send nothing, write nothing\n"
    "  -c FILE           configuration (default $ALERTSINK_CONFIG, else "
    "/etc/alertsink/alertsink.yaml)\n"
    "The notification is MESSAGE (the words joined by spaces) or, without one, stdin.\n"
    "Exit: 0 delivered, 3 delivered by the fallback only, 1 not delivered, 2 usage or\n"
    "configuration error, 4 input rejected.\n";

typedef struct {
    const char *config, *receiver, *socket;
    int dry_run;
    char *const *words; /* the message, when given as arguments */
    size_t nwords;
    as_format_t format;
    int64_t timeout_ms;
    const char **labels;
    size_t nlabels;
    as_payload_opts_t popts;
} as_send_opts_t;

#define as_send_usage_error(...) as_cli_usage_error("alertsink send", as_send_usage, __VA_ARGS__)

static int as_send_parse(int argc, char **argv, as_send_opts_t *o)
{
    static const struct option longopts[] = {{"receiver", required_argument, NULL, 'r'},
                                             {"label", required_argument, NULL, 'l'},
                                             {"title", required_argument, NULL, 't'},
                                             {"severity", required_argument, NULL, 's'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             {"socket", required_argument, NULL, 'S'},
                                             {"config", required_argument, NULL, 'c'},
                                             {"dry-run", no_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->receiver = optarg;
            break;
        case 'l':
            o->labels = as_xrealloc(o->labels, (o->nlabels + 1) * sizeof(char *));
            o->labels[o->nlabels++] = optarg;
            break;
        case 't':
            o->popts.title = optarg;
            break;
        case 's':
            o->popts.severity = optarg;
            break;
        case 'f':
            if (as_format_from_name(optarg, &o->format) < 0)
                return as_send_usage_error("unknown format '%s'", optarg);
            break;
        case 'T':
            if (as_parse_duration(optarg, &o->timeout_ms) < 0 || o->timeout_ms <= 0)
                return as_send_usage_error("invalid --timeout '%s' (a duration, as 20s)", optarg);
            break;
        case 'S':
            o->socket = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'n':
            o->dry_run = 1;
            break;
        case 'h':
            fputs(as_send_usage, stdout);
            return -1;
        case ':':
            return as_send_usage_error("option %s needs a value", argv[optind - 1]);
        default:
            return as_send_usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    o->words = argv + optind;
    o->nwords = (size_t)(argc - optind);
    if (o->socket && o->receiver)
        return as_send_usage_error("--receiver cannot be used with --socket (the daemon "
                                   "routes what it receives)");
    if (o->socket && o->dry_run)
        return as_send_usage_error("--dry-run cannot be used with --socket (the daemon "
                                   "would deliver it)");
    o->popts.labels = o->labels;
    o->popts.nlabels = o->nlabels;
    as_err_t err;
    if (as_payload_opts_check(&o->popts, &err) < 0)
        return as_send_usage_error("%s", err.msg);
    return 0;
}

/* --socket: one line to the daemon, one line back. */
static int as_send_socket(const as_send_opts_t *o, cJSON *payload)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(o->socket) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "alertsink send: socket path too long: %s\n", o->socket);
        return AS_EXIT_USAGE;
    }
    memcpy(sa.sun_path, o->socket, strlen(o->socket) + 1);
    /* --timeout bounds the connect too (a daemon that stopped accepting,
     * its backlog full): SO_SNDTIMEO holds for a Unix socket's connect. */
    struct timeval tv = {.tv_sec = (time_t)(o->timeout_ms / 1000),
                         .tv_usec = (suseconds_t)(o->timeout_ms % 1000) * 1000};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        if (e == ECONNREFUSED || e == ENOENT)
            fprintf(stderr,
                    "alertsink send: no daemon is listening on %s (%s): start it with "
                    "`systemctl start alertsink` or `alertsink -c %s`, or send without "
                    "--socket to deliver from this process\n",
                    o->socket, strerror(e), o->config ? o->config : as_config_default_path());
        else if (e == EAGAIN || e == EINPROGRESS)
            fprintf(stderr,
                    "alertsink send: %s did not take the connection within --timeout (the "
                    "daemon is not accepting)\n",
                    o->socket);
        else
            fprintf(stderr, "alertsink send: cannot connect to %s: %s\n", o->socket, strerror(e));
        if (fd >= 0)
            close(fd);
        return AS_EXIT_FAIL;
    }
    char *json = as_json_print(payload);
    as_buf_t line = AS_BUF_INIT;
    as_buf_puts(&line, json);
    as_buf_putc(&line, '\n');
    cJSON_free(json);
    as_write_all(fd, line.data, line.len); /* a failure shows as no answer */
    as_buf_free(&line);
    char answer[1024];
    size_t n = 0;
    while (n < sizeof(answer) - 1) {
        ssize_t r = read(fd, answer + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || answer[n] == '\n')
            break;
        n++;
    }
    answer[n] = '\0';
    close(fd);
    if (strncmp(answer, "OK ", 3) == 0) {
        printf("%s\n", answer + 3);
        return AS_EXIT_OK;
    }
    if (n == 0) {
        fprintf(stderr, "alertsink send: no answer from %s\n", o->socket);
        return AS_EXIT_FAIL;
    }
    fprintf(stderr, "alertsink send: the daemon refused it: %s\n", answer);
    /* Refused for what it is (malformed, too long) vs. for the daemon's
     * state: the answers of the statuses that say so, as the daemon words
     * them. */
    static const as_submit_status_t state[] = {AS_SUBMIT_FULL, AS_SUBMIT_STOPPING,
                                               AS_SUBMIT_IO_ERROR, AS_SUBMIT_STARTING};
    int busy = strcmp(answer, "ERR " AS_INPUT_BUSY) == 0;
    for (size_t i = 0; i < sizeof(state) / sizeof(state[0]) && !busy; i++)
        busy = strncmp(answer, "ERR ", 4) == 0 &&
               strcmp(answer + 4, as_submit_status_text(state[i])) == 0;
    return busy ? AS_EXIT_FAIL : AS_EXIT_REJECTED;
}

/* What became of each note of the record, from the engine's reports. */
typedef struct {
    char id[AS_NID_LEN];
    as_verdict_t verdict;
    int code;      /* the note's exit code, once settled */
    int delivered; /* some channel delivered (for a note still pending) */
} as_send_note_t;

typedef struct {
    as_send_note_t *v;
    size_t n;
} as_send_report_t;

static void as_send_report(void *arg, const as_note_t *n, const as_attempt_t *a)
{
    as_send_report_t *r = arg;
    size_t i;
    for (i = 0; i < r->n && strcmp(r->v[i].id, n->id) != 0; i++)
        ;
    if (i == r->n) {
        r->v = as_xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
        memset(&r->v[i], 0, sizeof(r->v[i]));
        as_str_copy(r->v[i].id, sizeof(r->v[i].id), n->id);
        r->n++;
    }
    as_send_note_t *s = &r->v[i];
    s->verdict = a->verdict;
    for (size_t k = 0; k < n->nch; k++)
        s->delivered |= n->ch[k].state == AS_CH_DELIVERED;
    if (a->verdict == AS_VERDICT_DEFER)
        return;
    /* Nothing planned and finished: a duplicate already sent, or muted. */
    s->code =
        a->nplan == 0 && a->verdict == AS_VERDICT_FINISHED ? AS_EXIT_OK : as_chain_exit_code(a);
    if (a->verdict == AS_VERDICT_DEAD)
        fprintf(stderr, "alertsink send: %s not delivered: %s\n", n->id, a->why);
    else if (a->why[0])
        fprintf(stderr, "alertsink send: %s: %s\n", n->id, a->why);
    if (s->code != AS_EXIT_FAIL)
        printf("%s\n", n->id);
}

/* Deliver in this process, with the daemon's engine (one-shot); or with
 * --dry-run only route and render. */
static int as_send_local(const as_send_opts_t *o, cJSON *payload, int grouped)
{
    const char *path = o->config ? o->config : as_config_default_path();
    as_cycle_t *cycle =
        as_cli_cycle_flags("alertsink send", path, o->dry_run ? AS_LOAD_NO_SEND : 0);
    if (cycle == NULL) {
        cJSON_Delete(payload);
        return AS_EXIT_USAGE;
    }
    if (cycle->cfg->log.level < AS_LOG_WARN && cycle->cfg->log.level != AS_LOG_DEBUG)
        as_log_set_level(AS_LOG_WARN); /* a command: quiet unless asked to be verbose */
    if (o->receiver && as_config_receiver(cycle->cfg, o->receiver) == NULL) {
        fprintf(stderr, "alertsink send: no receiver named '%s' in %s\n", o->receiver, path);
        as_cycle_unref(cycle);
        cJSON_Delete(payload);
        return AS_EXIT_USAGE;
    }
    if (o->dry_run) {
        int rc = as_cli_render_input(cycle, payload, grouped, o->receiver, "alertsink send");
        as_cycle_unref(cycle);
        return rc;
    }

    as_err_t err;
    int opened = as_engine_open(cycle, AS_ENGINE_ONESHOT, &err) == 0;
    as_cycle_unref(cycle); /* the engine holds it */
    as_send_report_t report = {NULL, 0};
    as_engine_on_attempt(as_send_report, &report);

    as_note_t *rec = as_cli_record(payload, grouped, o->receiver);
    int lockfd;
    as_err_t werr;
    int spooled = as_engine_oneshot_accept(rec, &lockfd, &werr) == 0;
    if (!spooled) {
        char timeout[64];
        as_format_duration(o->timeout_ms, timeout, sizeof(timeout));
        fprintf(stderr,
                "alertsink send: the spool cannot take it (%s): delivering without it; if it is "
                "not delivered within --timeout (%s), it is lost\n",
                opened ? werr.msg : err.msg, timeout);
    }
    size_t left = as_engine_oneshot(rec, as_now_ms() + o->timeout_ms, lockfd);

    int all_ok = 1, none = 1;
    size_t pending = 0;
    for (size_t i = 0; i < report.n; i++) {
        as_send_note_t *s = &report.v[i];
        if (s->verdict == AS_VERDICT_DEFER) { /* still pending at the deadline */
            pending++;
            fprintf(stderr, "alertsink send: %s not delivered within the timeout%s\n", s->id,
                    spooled ? "; it stays in the spool's maildrop/ for the daemon"
                            : ": it is lost (the spool could not take it)");
            s->code = s->delivered ? AS_EXIT_FALLBACK : AS_EXIT_FAIL;
        }
        all_ok &= s->code == AS_EXIT_OK;
        none &= s->code == AS_EXIT_FAIL;
    }
    if (left > pending) {
        /* Notes the deadline came before any attempt of (a record routed to
         * several notes, the first one slow): not delivered either. */
        if (report.n == 0)
            fprintf(stderr, "alertsink send: not delivered within the timeout%s\n",
                    spooled ? "; it stays in the spool's maildrop/ for the daemon"
                            : ": it is lost (the spool could not take it)");
        else
            fprintf(stderr,
                    "alertsink send: %zu more notification%s not attempted within the "
                    "timeout%s\n",
                    left - pending, left - pending == 1 ? "" : "s",
                    spooled ? "; it stays in the spool's maildrop/ for the daemon"
                            : ": lost (the spool could not take it)");
        all_ok = 0;
    }
    size_t n = report.n;
    free(report.v);
    as_engine_stop();
    if (n == 0)
        return AS_EXIT_FAIL;
    return all_ok ? AS_EXIT_OK : none ? AS_EXIT_FAIL : AS_EXIT_FALLBACK;
}

int as_cli_send(int argc, char **argv)
{
    as_send_opts_t o = {.format = AS_FORMAT_AUTO, .timeout_ms = 20000};
    int rc = as_send_parse(argc, argv, &o);
    if (rc != 0) {
        free(o.labels);
        return rc < 0 ? AS_EXIT_OK : rc;
    }
    signal(SIGPIPE, SIG_IGN);
    umask(077);

    as_err_t err;
    int grouped = 0;
    cJSON *payload =
        as_cli_input("alertsink send", o.words, o.nwords, NULL, o.format, &o.popts, &grouped, &err);
    if (payload == NULL) {
        fprintf(stderr, "alertsink send: input rejected: %s\n", err.msg);
        free(o.labels);
        return AS_EXIT_REJECTED;
    }
    rc = o.socket ? as_send_socket(&o, payload) : as_send_local(&o, payload, grouped);
    if (o.socket)
        cJSON_Delete(payload);
    free(o.labels);
    return rc;
}
