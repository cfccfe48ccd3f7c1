/*
 * queue.c - `alertsink queue`: what the spool holds, one notification in
 * full, and changing the queue beside a running daemon (alertsink(8),
 * docs/delivery.md).
 *
 *   alertsink queue [--state S] [--json]          every notification waiting
 *   alertsink queue show ID [--json]              its state, attempts, messages
 *   alertsink queue retry ID... | --dead | --deferred
 *   alertsink queue drop ID... | --dead
 *   alertsink requeue ID... | --all               the old name of `queue retry`
 *
 * Listing and showing only read (spool_view.c).  Retrying and dropping
 * change files the daemon may be working on, and the daemon keeps what is
 * due in memory, so each change is one the daemon notices by itself:
 *
 *   retry, dead/      the letter is reset (every channel that did not
 *                     deliver pending with no attempts, its age from now)
 *                     and written to maildrop/, flock'ed until dead/ID is
 *                     removed; the daemon picks it up within a second.
 *   retry, deferred/  the same with the note due now (its attempts and
 *                     history kept).  Its copy in the daemon's schedule is
 *                     replaced when the pickup loads the new one, and a
 *                     worker that finds deferred/ID gone first forgets its
 *                     copy (queue/worker.c, queue/recover.c).  The note is
 *                     read again from its file just before, and the file is
 *                     removed only if no worker wrote it again meanwhile
 *                     (its retry came due: a channel may have delivered);
 *                     else it is read again and the copy made anew.
 *   drop, dead/ or    the file is removed; the daemon, which holds a
 *   deferred/         deferred note in memory, forgets it when it comes
 *                     due and finds no file.
 *   drop, maildrop/   under the file's flock (a `send` at work holds it):
 *                     an "X" line in its journal, as the daemon finishes a
 *                     note; the pickup then skips it.
 *   in flight         a note in incoming/ or active/ is in a worker's
 *                     hands or about to be: with a daemon running, retry
 *                     has nothing to do and drop refuses (drop it once it
 *                     is in deferred/ or dead/); with none, the daemon's
 *                     lock is held while the journal says "X" (or the
 *                     file goes), so that none starts meanwhile.
 *
 * A crash in between leaves the original and the maildrop/ copy; the
 * pickup skips a copy whose note still has a file in deferred/ or dead/,
 * so nothing is delivered twice or lost.  retry and drop must run as the
 * spool's owner.  A dropped notification gives its deduplication claim
 * back, as a dead one does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "cli/cli.h"
#include "cli/spool_view.h"
#include "deliver/chain.h"
#include "deliver/dedup.h"
#include "lib/json.h"
#include "lib/log.h"
#include "queue/recover.h"
#include "render/template.h"

static const char as_queue_list_usage[] =
    "usage: alertsink queue [--state STATE] [--json] [-c FILE]\n"
    "  Every notification in the spool, oldest first: id, state, receiver, age, attempts,\n"
    "  when it is tried next, and its last error.\n"
    "  --state STATE  incoming, maildrop, active, deferred, dead or all (default all)\n"
    "  --json         one JSON object a line\n";
static const char as_queue_show_usage[] =
    "usage: alertsink queue show ID [--json] [-c FILE]\n"
    "  One notification: its state, channels, attempts and errors, its alerts, and the\n"
    "  message each channel would send now, rendered as the daemon renders it.\n"
    "  --json  one JSON object\n";
static const char as_queue_retry_usage[] =
    "usage: alertsink queue retry ID... | --dead | --deferred [-c FILE]\n"
    "  Queue notifications again; a running daemon takes them within a second, a stopped\n"
    "  one when it starts. A dead letter starts afresh (its age from now); a deferred one\n"
    "  is due now. --dead: every dead letter; --deferred: everything waiting for a retry.\n"
    "  Run it as the spool's owner.\n";
static const char as_queue_drop_usage[] =
    "usage: alertsink queue drop ID... | --dead [-c FILE]\n"
    "  Delete notifications from the spool, each logged; they are never delivered.\n"
    "  --dead: every dead letter. A notification being delivered right now (incoming/,\n"
    "  active/) cannot be dropped while the daemon runs. Run it as the spool's owner.\n";
static const char as_queue_common[] =
    "  -c FILE  configuration (default $ALERTSINK_CONFIG, else /etc/alertsink/alertsink.yaml)\n"
    "Exit 0, 1 when something could not be done (said on stderr), 2 usage or configuration "
    "error.\n";
static const char as_requeue_usage[] =
    "usage: alertsink requeue [-c FILE] ID... | --all\n"
    "  The old name of `alertsink queue retry ID... | --dead`: dead letters (and deferred\n"
    "  notifications) back to the queue.\n";

typedef enum { AS_QUEUE_LIST, AS_QUEUE_SHOW, AS_QUEUE_RETRY, AS_QUEUE_DROP } as_queue_cmd_t;

typedef struct {
    as_queue_cmd_t cmd;
    const char *who, *config;
    int json, dead, deferred;
    unsigned states;
    char **ids;
    size_t nids;
} as_queue_opts_t;

static const char *const as_queue_cmds[] = {"list", "show", "retry", "drop"};

static void as_queue_print_usage(FILE *out, as_queue_cmd_t cmd, int all, int alias)
{
    if (alias) {
        fputs(as_requeue_usage, out);
    } else {
        const char *u[] = {as_queue_list_usage, as_queue_show_usage, as_queue_retry_usage,
                           as_queue_drop_usage};
        for (int i = 0; i < 4; i++)
            if (all || (int)cmd == i)
                fputs(u[i], out);
    }
    fputs(as_queue_common, out);
}

static int as_queue_usage_error(const as_queue_opts_t *o, int alias, const char *msg,
                                const char *arg)
{
    fprintf(stderr, "%s: ", o->who);
    fprintf(stderr, msg, arg);
    fputc('\n', stderr);
    as_queue_print_usage(stderr, o->cmd, 0, alias);
    return AS_EXIT_USAGE;
}

static int as_queue_state_mask(const char *s, unsigned *mask)
{
    if (strcmp(s, "all") == 0) {
        *mask = AS_VIEW_STATES;
        return 0;
    }
    for (int q = AS_Q_MAILDROP; q <= AS_Q_DEAD; q++)
        if (strcmp(s, as_queue_names[q]) == 0) {
            *mask = 1u << q;
            return 0;
        }
    return -1;
}

/* One parser for every form; alias: `requeue`, whose --all is --dead.
 * Returns -1 to go on, else the exit code. */
static int as_queue_parse(int argc, char **argv, as_queue_opts_t *o, int alias)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"state", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},         {"dead", no_argument, NULL, 'd'},
        {"deferred", no_argument, NULL, 'D'},     {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *state = NULL;
    int help = 0, all = 0, c;
    o->cmd = alias ? AS_QUEUE_RETRY : AS_QUEUE_LIST;
    o->states = AS_VIEW_STATES;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 's':
            state = optarg;
            break;
        case 'j':
            o->json = 1;
            break;
        case 'd':
            o->dead = 1;
            break;
        case 'D':
            o->deferred = 1;
            break;
        case 'a':
            all = 1;
            break;
        case 'h':
            help = 1;
            break;
        case ':':
            return as_queue_usage_error(o, alias, "option %s needs a value", argv[optind - 1]);
        default:
            return as_queue_usage_error(o, alias, "unknown option %s", argv[optind - 1]);
        }
    }
    o->ids = argv + optind;
    o->nids = (size_t)(argc - optind);
    int named = 0; /* the command was named ("queue list --help": its usage alone) */
    if (!alias && o->nids > 0) {
        for (int i = 0; i < 4; i++)
            if (strcmp(o->ids[0], as_queue_cmds[i]) == 0) {
                o->cmd = (as_queue_cmd_t)i;
                o->ids++;
                o->nids--;
                named = 1;
                break;
            }
    }
    if (help) {
        as_queue_print_usage(stdout, o->cmd, !alias && !named, alias);
        return AS_EXIT_OK;
    }
    static const char *const names[] = {"alertsink queue", "alertsink queue show",
                                        "alertsink queue retry", "alertsink queue drop"};
    if (!alias)
        o->who = names[o->cmd];
    if (alias && all)
        o->dead = 1;
    else if (all)
        return as_queue_usage_error(o, alias, "unknown option %s", "--all");
    if (state != NULL && (o->cmd != AS_QUEUE_LIST || as_queue_state_mask(state, &o->states) < 0))
        return as_queue_usage_error(o, alias,
                                    o->cmd != AS_QUEUE_LIST
                                        ? "--state %s goes with the list"
                                        : "unknown state '%s' (incoming, maildrop, active, "
                                          "deferred, dead or all)",
                                    state);
    if (o->json && o->cmd != AS_QUEUE_LIST && o->cmd != AS_QUEUE_SHOW)
        return as_queue_usage_error(o, alias, "%s goes with the list and show", "--json");
    if ((o->dead && o->cmd < AS_QUEUE_RETRY) || (o->deferred && o->cmd != AS_QUEUE_RETRY))
        return as_queue_usage_error(o, alias, "%s does not go with this command",
                                    o->dead ? "--dead" : "--deferred");
    switch (o->cmd) {
    case AS_QUEUE_LIST:
        if (o->nids > 0)
            return as_queue_usage_error(
                o, alias, "unknown command '%s' (list, show, retry or drop)", o->ids[0]);
        break;
    case AS_QUEUE_SHOW:
        if (o->nids != 1)
            return as_queue_usage_error(o, alias, "%s", "name one notification id");
        break;
    default:
        if ((o->nids > 0) == (o->dead || o->deferred))
            return as_queue_usage_error(o, alias, "%s",
                                        alias ? "name the ids, or --all"
                                        : o->cmd == AS_QUEUE_RETRY
                                            ? "name the ids, or --dead or --deferred"
                                            : "name the ids, or --dead");
        break;
    }
    return -1;
}

/* --- reading -------------------------------------------------------------------------- */

/* The receiver's chain for n as an attempt plans it (recv NULL: gone). */
static void as_queue_plan(as_cycle_t *c, const as_note_t *n, as_attempt_t *a)
{
    memset(a, 0, sizeof(*a));
    a->cycle = c;
    a->note = (as_note_t *)n;
    a->now = as_now_ms();
    a->recv = n->receiver ? as_config_receiver(c->cfg, n->receiver) : NULL;
    if (a->recv != NULL) {
        a->recv_index = (size_t)(a->recv - (const as_receiver_t *)c->cfg->receivers.elts);
        as_chain_plan(a);
    }
}

static void as_queue_time(cJSON *o, const char *key, int64_t ms)
{
    if (ms <= 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char buf[40];
    cJSON_AddStringToObject(o, key, as_rfc3339_ms(ms, buf, sizeof(buf)));
}

/* A channel's next try: the chain decides (its backoff, and in mode
 * fallback when the chain reaches it); -1: none. */
static int64_t as_queue_chan_next(const as_view_row_t *r, const as_attempt_t *a, size_t i)
{
    const as_chan_t *ch = as_note_chan_find(r->note, a->plan[i].name);
    if (r->state == AS_Q_DEAD || (ch != NULL && ch->state != AS_CH_PENDING) || as_chain_done(a))
        return -1;
    int64_t due = as_chain_due(a, &a->plan[i]);
    return r->state == AS_Q_DEFERRED || due > a->now ? due : 0;
}

static cJSON *as_queue_row_json(as_cycle_t *c, const as_view_row_t *r, int64_t now)
{
    const as_note_t *n = r->note;
    cJSON *o = cJSON_CreateObject();
    char buf[1024], file[128];
    cJSON_AddStringToObject(o, "id", n->id);
    cJSON_AddStringToObject(o, "state", as_queue_names[r->state]);
    if (n->receiver)
        cJSON_AddStringToObject(o, "receiver", n->receiver);
    else
        cJSON_AddNullToObject(o, "receiver");
    as_queue_time(o, "accepted", n->accepted_ms);
    cJSON_AddNumberToObject(o, "age_seconds", (double)((now - n->accepted_ms) / 1000));
    cJSON_AddNumberToObject(o, "attempts", as_view_attempts(n));
    int64_t next = as_view_next(r);
    as_queue_time(o, "next", next == 0 ? now : next);
    int64_t at;
    const char *last = as_view_last_error(n, buf, sizeof(buf), &at);
    if (last)
        cJSON_AddStringToObject(o, "last_error", last);
    else
        cJSON_AddNullToObject(o, "last_error");
    as_queue_time(o, "last_error_at", at);
    cJSON_AddStringToObject(o, "status", as_note_status(n));
    if (n->group_key)
        cJSON_AddStringToObject(o, "group_key", n->group_key);
    snprintf(file, sizeof(file), "%s/%s", as_queue_names[r->state], r->file);
    cJSON_AddStringToObject(o, "file", file);

    as_attempt_t a;
    as_queue_plan(c, n, &a);
    cJSON *chs = cJSON_AddObjectToObject(o, "channels");
    for (size_t i = 0; i < a.nplan; i++) {
        const as_chan_t *ch = as_note_chan_find(n, a.plan[i].name);
        cJSON *cj = cJSON_AddObjectToObject(chs, a.plan[i].name);
        cJSON_AddStringToObject(cj, "state", ch ? as_chan_state_name(ch->state) : "pending");
        cJSON_AddNumberToObject(cj, "attempts", ch ? ch->attempts : 0);
        int64_t cn = as_queue_chan_next(r, &a, i);
        if (cn < 0)
            cJSON_AddNullToObject(cj, "next");
        else
            as_queue_time(cj, "next", cn == 0 ? now : cn);
        if (ch && ch->error)
            cJSON_AddStringToObject(cj, "error", ch->error);
        else
            cJSON_AddNullToObject(cj, "error");
        cJSON_AddBoolToObject(cj, "unavailable", ch && ch->unavailable);
    }
    /* Channels the receiver no longer has (a reload changed it). */
    for (size_t i = 0; i < n->nch; i++)
        if (!cJSON_HasObjectItem(chs, n->ch[i].name)) {
            cJSON *cj = cJSON_AddObjectToObject(chs, n->ch[i].name);
            cJSON_AddStringToObject(cj, "state", as_chan_state_name(n->ch[i].state));
            cJSON_AddNumberToObject(cj, "attempts", n->ch[i].attempts);
            cJSON_AddNullToObject(cj, "next");
            if (n->ch[i].error)
                cJSON_AddStringToObject(cj, "error", n->ch[i].error);
            else
                cJSON_AddNullToObject(cj, "error");
            cJSON_AddBoolToObject(cj, "unavailable", n->ch[i].unavailable);
        }
    return o;
}

static void as_queue_put_json(cJSON *o)
{
    char *s = as_json_print(o);
    puts(s);
    cJSON_free(s);
}

/* The table: columns as wide as their widest cell, the last error last. */
static void as_queue_table(const as_view_t *v, int64_t now)
{
    enum { ID, STATE, RECEIVER, AGE, ATTEMPTS, NEXT, NCOLS };
    static const char *const head[NCOLS] = {"ID", "STATE", "RECEIVER", "AGE", "ATTEMPTS", "NEXT"};
    char(*cell)[NCOLS][64] = as_xcalloc(v->n ? v->n : 1, sizeof(*cell));
    int width[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        width[k] = (int)strlen(head[k]);
    for (size_t i = 0; i < v->n; i++) {
        const as_note_t *n = v->v[i].note;
        char age[48];
        as_tpl_duration((long long)((now - n->accepted_ms) / 1000), age, sizeof(age));
        as_str_copy(cell[i][ID], 64, n->id);
        as_str_copy(cell[i][STATE], 64, as_queue_names[v->v[i].state]);
        as_str_copy(cell[i][RECEIVER], 64, n->receiver ? n->receiver : "-");
        as_str_copy(cell[i][AGE], 64, age);
        snprintf(cell[i][ATTEMPTS], 64, "%d", as_view_attempts(n));
        as_view_when(as_view_next(&v->v[i]), now, cell[i][NEXT], 64);
        for (int k = 0; k < NCOLS; k++)
            if ((int)strlen(cell[i][k]) > width[k])
                width[k] = (int)strlen(cell[i][k]);
    }
    printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  LAST ERROR\n", width[ID], head[ID], width[STATE],
           head[STATE], width[RECEIVER], head[RECEIVER], width[AGE], head[AGE], width[ATTEMPTS],
           head[ATTEMPTS], width[NEXT], head[NEXT]);
    for (size_t i = 0; i < v->n; i++) {
        char err[1024];
        int64_t at;
        const char *last = as_view_last_error(v->v[i].note, err, sizeof(err), &at);
        printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", width[ID], cell[i][ID], width[STATE],
               cell[i][STATE], width[RECEIVER], cell[i][RECEIVER], width[AGE], cell[i][AGE],
               width[ATTEMPTS], cell[i][ATTEMPTS], width[NEXT], cell[i][NEXT], last ? last : "-");
    }
    free(cell);
}

static int as_queue_list(const as_queue_opts_t *o, as_cycle_t *c, as_spool_t *sp)
{
    as_view_t v;
    as_view_read(&v, sp, c, o->states);
    int64_t now = as_now_ms();
    if (o->json) {
        for (size_t i = 0; i < v.n; i++) {
            cJSON *j = as_queue_row_json(c, &v.v[i], now);
            as_queue_put_json(j);
            cJSON_Delete(j);
        }
    } else {
        as_queue_table(&v, now);
        if (v.n == 0)
            fprintf(stderr, "%s: nothing %s in %s\n", o->who,
                    o->states == AS_VIEW_STATES ? "is waiting" : "in that state", sp->dir);
    }
    as_view_free(&v);
    return AS_EXIT_OK;
}

/* "alertname=X a=b ..." of an alert, alertname first. */
static void as_queue_alert_line(const cJSON *al, as_buf_t *out)
{
    const cJSON *labels = as_json_obj(al, "labels"), *l;
    const char *name = as_json_str(labels, "alertname");
    as_buf_printf(out, "  %-8s %s",
                  as_json_str(al, "status") ? as_json_str(al, "status") : "firing",
                  name ? name : "(no alertname)");
    cJSON_ArrayForEach(l, labels)
    {
        if (cJSON_IsString(l) && strcmp(l->string, "alertname") != 0)
            as_buf_printf(out, " %s=%s", l->string, l->valuestring);
    }
    const char *since = as_json_str(al, "since"); /* the template context's */
    if (since)
        as_buf_printf(out, "  since %s", since);
    as_buf_putc(out, '\n');
}

static int as_queue_show(const as_queue_opts_t *o, as_cycle_t *c, as_spool_t *sp)
{
    as_view_t v;
    as_view_read(&v, sp, c, AS_VIEW_STATES);
    const as_view_row_t *r = as_view_find(&v, o->ids[0]);
    if (r == NULL) {
        fprintf(stderr,
                "%s: %s is not in the spool %s (delivered, dropped, or never accepted; "
                "`alertsink queue` lists what is)\n",
                o->who, o->ids[0], sp->dir);
        as_view_free(&v);
        return AS_EXIT_FAIL;
    }
    const as_note_t *n = r->note;
    int64_t now = as_now_ms();
    int rc = AS_EXIT_OK;
    if (o->json) {
        cJSON *j = as_queue_row_json(c, r, now);
        cJSON_AddItemToObject(j, "alerts", cJSON_Duplicate(as_json_arr(n->payload, "alerts"), 1));
        cJSON_AddItemToObject(j, "errors",
                              n->errors ? cJSON_Duplicate(n->errors, 1) : cJSON_CreateArray());
        if (as_cli_messages(NULL, j, c, n, o->who) < 0)
            rc = AS_EXIT_FAIL;
        as_queue_put_json(j);
        cJSON_Delete(j);
        as_view_free(&v);
        return rc;
    }

    char buf[1024], when[64], age[48];
    as_tpl_duration((long long)((now - n->accepted_ms) / 1000), age, sizeof(age));
    const cJSON *alerts = as_json_arr(n->payload, "alerts");
    as_attempt_t a;
    as_queue_plan(c, n, &a);
    printf("id:        %s\n", n->id);
    printf("state:     %s (%s/%s/%s)\n", as_queue_names[r->state], sp->dir,
           as_queue_names[r->state], r->file);
    if (a.recv != NULL) {
        printf("receiver:  %s (channels:", n->receiver);
        for (size_t i = 0; i < a.nplan; i++)
            printf("%s %s", i ? "," : "", a.plan[i].name);
        printf("; mode %s)\n", a.recv->mode ? a.recv->mode : "fallback");
    } else {
        printf("receiver:  %s (not in %s any more: it goes to dead/)\n",
               n->receiver ? n->receiver : "", c->cfg->file);
    }
    printf("status:    %s, %d alert%s\n", as_note_status(n), cJSON_GetArraySize(alerts),
           cJSON_GetArraySize(alerts) == 1 ? "" : "s");
    if (n->group_key)
        printf("group:     %s\n", n->group_key);
    printf("accepted:  %s (%s ago, from %s)\n", as_rfc3339_ms(n->accepted_ms, buf, sizeof(buf)),
           age, n->input ? n->input : "?");
    printf("next:      %s%s\n", as_view_when(as_view_next(r), now, when, sizeof(when)),
           r->state == AS_Q_DEAD       ? " (dead: `alertsink queue retry` queues it again)"
           : r->state == AS_Q_DEFERRED ? ""
           : r->state == AS_Q_MAILDROP ? " (waiting for the daemon's pickup)"
           : r->state == AS_Q_ACTIVE   ? " (being attempted)"
                                       : " (in a worker's hands)");
    printf("attempts:  %d\n", as_view_attempts(n));
    printf("channels:\n");
    for (size_t i = 0; i < a.nplan; i++) {
        const as_chan_t *ch = as_note_chan_find(n, a.plan[i].name);
        int64_t cn = as_queue_chan_next(r, &a, i);
        char st[32];
        snprintf(st, sizeof(st), "%s%s", ch ? as_chan_state_name(ch->state) : "pending",
                 ch && ch->unavailable ? " (unavailable)" : "");
        printf("  %-10s %-22s %3d attempt%s", a.plan[i].name, st, ch ? ch->attempts : 0,
               ch && ch->attempts == 1 ? " " : "s");
        if (cn >= 0)
            printf("  next %s", as_view_when(cn, now, when, sizeof(when)));
        if (ch && ch->error)
            printf("  last error: %s", ch->error);
        printf("\n");
    }
    printf("errors:%s\n", cJSON_GetArraySize(n->errors) ? "" : " none");
    const cJSON *e;
    cJSON_ArrayForEach(e, n->errors)
    {
        if (cJSON_IsString(e))
            printf("  %s\n", e->valuestring);
    }
    as_buf_t lines = AS_BUF_INIT;
    cJSON *ctx = as_tpl_context(n->payload);
    cJSON_ArrayForEach(e, as_json_arr(ctx, "alerts"))
    {
        as_queue_alert_line(e, &lines);
    }
    cJSON_Delete(ctx);
    printf("alerts:\n%s", lines.data ? lines.data : "");
    as_buf_free(&lines);
    printf("messages (what each channel would send now):\n");
    fflush(stdout);
    if (as_cli_messages(stdout, NULL, c, n, o->who) < 0)
        rc = AS_EXIT_FAIL;
    as_view_free(&v);
    return rc;
}

/* --- changing ------------------------------------------------------------------------- */

typedef struct {
    const as_queue_opts_t *o;
    as_cycle_t *cycle;
    as_spool_t *sp;
    int daemon; /* 1 a daemon runs on the spool; 0 none (its lock is held here) */
    size_t queued;
} as_change_t;

/* The identity of a file, to tell whether it was written again. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim;
} as_file_ident_t;

static int as_file_ident(int dirfd, const char *name, as_file_ident_t *id)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, 0) < 0)
        return -1;
    *id = (as_file_ident_t){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return 0;
}

static int as_file_ident_same(const as_file_ident_t *a, const as_file_ident_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec;
}

/* deferred/ID or dead/ID is gone (dropped, or retried as a new copy): with
 * no daemon running, an active/ID a crash left beside it goes too, as
 * start-up recovery would have removed it (that file stood for it), or it
 * would come back at the next start. */
static void as_queue_forget_leftover(as_change_t *x, const char *id)
{
    if (!x->daemon)
        as_spool_remove(x->sp, AS_Q_ACTIVE, id);
}

/* A new copy of n in maildrop/, then the file it replaces goes (see the
 * top of this file for why in that order).  -1 with errno ENOENT when the
 * original had gone first (a worker took it); with EAGAIN when it was
 * written again since it was read (was: its identity then; NULL: not
 * checked), and nothing changed. */
static int as_queue_resubmit_if(as_change_t *x, as_note_t *n, as_queue_t from,
                                const as_file_ident_t *was)
{
    as_buf_t line = AS_BUF_INIT;
    as_err_t err;
    char name[AS_ID_LEN];
    int lockfd = -1;
    as_note_entry(n, NULL, 0, &line);
    as_spool_id(name);
    int rc = as_spool_write_locked(x->sp, AS_Q_MAILDROP, name, line.data, line.len, &lockfd, &err);
    as_buf_free(&line);
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", x->o->who, n->id, err.msg);
        errno = EIO;
        return -1;
    }
    as_file_ident_t now;
    int again = was != NULL && (as_file_ident(x->sp->dirfd[from], n->id, &now) < 0
                                    ? errno != ENOENT
                                    : !as_file_ident_same(was, &now));
    if (again || as_spool_remove(x->sp, from, n->id) < 0) {
        int e = again ? EAGAIN : errno;
        as_spool_remove(x->sp, AS_Q_MAILDROP, name); /* still ours: nobody took it */
        close(lockfd);
        errno = e;
        return -1;
    }
    close(lockfd);
    if (from == AS_Q_DEFERRED || from == AS_Q_DEAD)
        as_queue_forget_leftover(x, n->id);
    x->queued++;
    return 0;
}

static int as_queue_resubmit(as_change_t *x, as_note_t *n, as_queue_t from)
{
    return as_queue_resubmit_if(x, n, from, NULL);
}

/* deferred/ID as it is now, with its identity: NULL (errno ENOENT) when
 * it has gone. */
static as_note_t *as_queue_read_deferred(as_change_t *x, const char *id, as_file_ident_t *ident)
{
    as_buf_t buf = AS_BUF_INIT;
    as_err_t err;
    as_note_t *n = NULL;
    if (as_file_ident(x->sp->dirfd[AS_Q_DEFERRED], id, ident) == 0 &&
        as_spool_read(x->sp, AS_Q_DEFERRED, id, &buf, &err) == 0) {
        n = as_note_parse(NULL, buf.data, buf.len, &err);
        if (n == NULL)
            errno = EINVAL;
    } else {
        errno = ENOENT;
    }
    as_buf_free(&buf);
    return n;
}

static int as_queue_retry_one(as_change_t *x, as_view_row_t *r)
{
    as_note_t *n = r->note;
    int64_t now = as_now_ms();
    switch (r->state) {
    case AS_Q_DEAD:
        /* As if just accepted: its age from now (or max_age would kill
         * it at once), every channel that did not deliver pending with no
         * attempts; its error history stays. */
        n->accepted_ms = n->due_ms = now;
        for (size_t i = 0; i < n->nch; i++) {
            as_chan_t *c = &n->ch[i];
            if (c->state == AS_CH_DELIVERED || c->state == AS_CH_SUPERSEDED)
                continue;
            c->state = AS_CH_PENDING;
            c->attempts = 0;
            c->next_ms = c->gave_up_ms = 0;
            c->in_doubt = c->unavailable = 0;
        }
        if (as_queue_resubmit(x, n, AS_Q_DEAD) < 0) {
            if (errno == ENOENT)
                fprintf(stderr, "%s: %s: it left dead/ meanwhile\n", x->o->who, n->id);
            return -1;
        }
        printf("requeued %s\n", n->id);
        return 0;
    case AS_Q_DEFERRED:
        /* Due now; attempts and history kept (so the backoff, the
         * deduplication and the mute stages see a retry, not a new one).
         * From the file as it is now: a worker may have written it again
         * since the listing (see the top of this file). */
        for (int tries = 0;; tries++) {
            as_file_ident_t ident;
            as_note_t *fresh = as_queue_read_deferred(x, n->id, &ident);
            int rc = -1;
            if (fresh != NULL) {
                fresh->due_ms = now;
                for (size_t i = 0; i < fresh->nch; i++)
                    if (fresh->ch[i].state == AS_CH_PENDING)
                        fresh->ch[i].next_ms = 0;
                rc = as_queue_resubmit_if(x, fresh, AS_Q_DEFERRED, &ident);
                as_note_free(fresh);
            }
            if (rc == 0)
                break;
            if (errno == EAGAIN && tries < 10)
                continue;
            if (errno == ENOENT)
                fprintf(stderr,
                        "%s: %s is being attempted right now (it left deferred/ for active/): "
                        "nothing to do\n",
                        x->o->who, n->id);
            else if (errno == EAGAIN)
                fprintf(stderr, "%s: %s: its file keeps changing: try again\n", x->o->who, n->id);
            return -1;
        }
        printf("retrying %s\n", n->id);
        return 0;
    default:
        printf("queued %s (already in %s/: %s)\n", n->id, as_queue_names[r->state],
               x->daemon ? "the daemon is on it" : "the daemon takes it when it starts");
        return 0;
    }
}

static void as_queue_discard(void *arg, as_note_t *n)
{
    (void)arg;
    as_note_free(n);
}

/* Batch file r->file in r->state: "X" for the note (and "R" first when
 * its record was never routed, so that the replay routes it and finishes
 * this note alone), then the file goes if nothing is left in it. */
static int as_queue_finish_in_batch(as_change_t *x, const as_view_row_t *r)
{
    char line[2 * AS_NID_LEN + 32];
    const as_note_t *n = r->note;
    int rc = 0;
    if (r->record_notes > 0) {
        snprintf(line, sizeof(line), "R %s %zu\n", n->record, r->record_notes);
        rc = as_spool_journal(x->sp, r->state, r->file, line);
    }
    snprintf(line, sizeof(line), "X %s\n", n->id);
    if (rc < 0 || as_spool_journal(x->sp, r->state, r->file, line) < 0) {
        fprintf(stderr, "%s: %s: cannot write the journal of %s/%s: %s\n", x->o->who, n->id,
                as_queue_names[r->state], r->file, strerror(errno));
        return -1;
    }
    as_err_t err;
    if (as_replay_file(x->sp, x->cycle, r->state, r->file, as_queue_discard, NULL, &err) == 0)
        as_spool_remove(x->sp, r->state, r->file);
    return 0;
}

static int as_queue_drop_one(as_change_t *x, as_view_row_t *r)
{
    as_note_t *n = r->note;
    const char *who = x->o->who;
    int rc = -1;
    switch (r->state) {
    case AS_Q_DEAD:
    case AS_Q_DEFERRED:
        rc = as_spool_remove(x->sp, r->state, n->id);
        if (rc == 0)
            as_queue_forget_leftover(x, n->id);
        if (rc < 0 && errno == ENOENT)
            fprintf(stderr, "%s: %s %s\n", who, n->id,
                    r->state == AS_Q_DEFERRED && x->daemon
                        ? "is being attempted right now (it left deferred/ for active/): "
                          "drop it once it is back"
                        : "left the spool meanwhile");
        else if (rc < 0)
            fprintf(stderr, "%s: %s: cannot remove %s/%s: %s\n", who, n->id,
                    as_queue_names[r->state], n->id, strerror(errno));
        break;
    case AS_Q_ACTIVE:
        if (x->daemon) {
            fprintf(stderr,
                    "%s: %s is being attempted right now (active/): drop it once it is back in "
                    "deferred/ or dead/\n",
                    who, n->id);
            return -1;
        }
        rc = as_spool_remove(x->sp, AS_Q_ACTIVE, n->id);
        if (rc < 0)
            fprintf(stderr, "%s: %s: cannot remove active/%s: %s\n", who, n->id, n->id,
                    strerror(errno));
        break;
    case AS_Q_INCOMING:
        if (x->daemon) {
            fprintf(stderr,
                    "%s: %s is in incoming/: the running daemon holds it in memory and is "
                    "delivering it; drop it once it waits in deferred/ or dead/ (`alertsink "
                    "queue` shows where it is)\n",
                    who, n->id);
            return -1;
        }
        rc = as_queue_finish_in_batch(x, r);
        break;
    case AS_Q_MAILDROP: {
        /* A `send` at work, or the pickup, holds the file's lock. */
        int fd = openat(x->sp->dirfd[AS_Q_MAILDROP], r->file, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
            fprintf(stderr,
                    "%s: %s is being delivered right now by `alertsink send` (maildrop/%s is "
                    "locked): drop it once it is done or in the spool\n",
                    who, n->id, r->file);
            if (fd >= 0)
                close(fd);
            return -1;
        }
        rc = faccessat(x->sp->dirfd[AS_Q_MAILDROP], r->file, F_OK, 0) == 0
                 ? as_queue_finish_in_batch(x, r)
                 : -1; /* picked up meanwhile */
        if (rc < 0)
            fprintf(stderr, "%s: %s: maildrop/%s was picked up meanwhile: try again\n", who, n->id,
                    r->file);
        close(fd);
        break;
    }
    default:
        break;
    }
    if (rc < 0)
        return -1;
    /* Never delivered: a later copy may try again, as after dead/. */
    as_dedup_release(x->sp->dedupfd, n);
    char err[1024];
    int64_t at;
    const char *last = as_view_last_error(n, err, sizeof(err), &at);
    as_log(AS_LOG_WARN, "notification dropped", AS_S("id", n->id), AS_S("receiver", n->receiver),
           AS_S("state", as_queue_names[r->state]), AS_I("attempts", as_view_attempts(n)),
           AS_S("last_error", last), AS_S("by", who));
    printf("dropped %s\n", n->id);
    return 0;
}

static int as_queue_change(const as_queue_opts_t *o, as_cycle_t *c, as_spool_t *sp)
{
    as_change_t x = {o, c, sp, 0, 0};
    int hold = -1;
    long pid = 0;
    x.daemon = as_spool_daemon(sp->dir, &hold, &pid) != 0;

    /* With no daemon, what its start would finish first (recover.h). */
    if (!x.daemon)
        as_replay_finish_apart(sp, c);
    as_view_t v;
    as_view_read(&v, sp, c, AS_VIEW_STATES);
    int failed = 0;
    size_t done = 0;
    for (size_t i = 0; i < v.n; i++) {
        as_view_row_t *r = &v.v[i];
        if ((o->dead && r->state == AS_Q_DEAD) || (o->deferred && r->state == AS_Q_DEFERRED)) {
            failed |= (o->cmd == AS_QUEUE_RETRY ? as_queue_retry_one(&x, r)
                                                : as_queue_drop_one(&x, r)) < 0;
            done++;
        }
    }
    for (size_t k = 0; k < o->nids; k++) {
        as_view_row_t *r = as_view_find(&v, o->ids[k]);
        if (r == NULL) {
            fprintf(stderr,
                    "%s: %s is not in the spool %s (delivered, dropped, or never "
                    "accepted; `alertsink queue` lists what is)\n",
                    o->who, o->ids[k], sp->dir);
            failed = 1;
            continue;
        }
        failed |=
            (o->cmd == AS_QUEUE_RETRY ? as_queue_retry_one(&x, r) : as_queue_drop_one(&x, r)) < 0;
        done++;
    }
    if ((o->dead || o->deferred) && done == 0)
        fprintf(stderr, "%s: no %s notification in %s\n", o->who, o->dead ? "dead" : "deferred",
                sp->dir);
    if (x.queued > 0) {
        if (x.daemon && pid > 0)
            fprintf(stderr, "%s: the daemon (pid %ld) takes %s within a second\n", o->who, pid,
                    x.queued == 1 ? "it" : "them");
        else if (!x.daemon)
            fprintf(stderr, "%s: no daemon runs on %s: delivered when it starts\n", o->who,
                    sp->dir);
    }
    as_view_free(&v);
    if (hold >= 0)
        close(hold);
    return failed ? AS_EXIT_FAIL : AS_EXIT_OK;
}

static int as_queue_run(int argc, char **argv, int alias)
{
    as_queue_opts_t o = {.who = alias ? "alertsink requeue" : "alertsink queue"};
    /* A line at a time: what is done (stdout) and what is logged or went
     * wrong (stderr) stay in order when both go to one file. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = as_queue_parse(argc, argv, &o, alias);
    if (rc >= 0)
        return rc;
    as_log_set_level(AS_LOG_ERROR); /* loading: nothing of it matters here */
    as_cycle_t *c = as_cli_cycle_flags(o.who, o.config, AS_LOAD_NO_SEND | AS_CLI_QUIET);
    if (c == NULL)
        return AS_EXIT_USAGE;
    as_log_set_level(AS_LOG_WARN);
    int writing = o.cmd == AS_QUEUE_RETRY || o.cmd == AS_QUEUE_DROP;
    as_spool_t *sp = as_view_open(o.who, c->cfg, writing);
    if (sp == NULL) {
        as_cycle_unref(c);
        return AS_EXIT_FAIL;
    }
    switch (o.cmd) {
    case AS_QUEUE_LIST:
        rc = as_queue_list(&o, c, sp);
        break;
    case AS_QUEUE_SHOW:
        rc = as_queue_show(&o, c, sp);
        break;
    default:
        rc = as_queue_change(&o, c, sp);
        break;
    }
    as_spool_close(sp);
    as_cycle_unref(c);
    return rc;
}

int as_cli_queue(int argc, char **argv)
{
    return as_queue_run(argc, argv, 0);
}

int as_cli_requeue(int argc, char **argv)
{
    return as_queue_run(argc, argv, 1);
}
