/*
 * status.c - `alertsink status`: the first command to run when paged.
 * Is the daemon up and taking alerts, what is stuck in the spool and
 * since when, when is the next retry, and what did each channel last
 * fail with.
 *
 *   daemon    whether a process holds the spool's lock (its pid), and
 *             what /healthz answers (ready.c's check)
 *   spool     the files in each state, the oldest notification waiting,
 *             the next retry (spool_view.c: the daemon's journal replay)
 *   channels  for every channel of the configuration: how many
 *             notifications wait on it, and its newest error in the spool
 *             with its age, which is the daemon's own latest word on
 *             whether that peer is reachable.  WhatsApp gets a pointer to
 *             `alertsink wa devices`, which asks the API now.
 *
 * It only reads.  Exit 0 when the daemon takes alerts, 1 when it does
 * not (or is not running), 2 on a usage or configuration error.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "alertsink/clock.h"
#include "cli/cli.h"
#include "cli/spool_view.h"
#include "deliver/chain.h"
#include "lib/json.h"
#include "lib/log.h"
#include "render/template.h"

static const char as_status_usage[] =
    "usage: alertsink status [--json] [--timeout DURATION] [-c FILE]\n"
    "  The daemon, the spool and the channels at a glance: is the daemon running and\n"
    "  taking alerts, what waits in the spool and since when, when the next retry is,\n"
    "  and each channel's newest error.\n"
    "  --json              one JSON object\n"
    "  --timeout DURATION  how long to wait for the daemon's /healthz (default 2s)\n"
    "  -c FILE             configuration (default $ALERTSINK_CONFIG, else "
    "/etc/alertsink/alertsink.yaml)\n"
    "Exit 0 when the daemon takes alerts, 1 when not, 2 usage or configuration error.\n";

typedef struct {
    const char *name;
    size_t waiting;
    int64_t error_at;
    char error[512];
} as_status_chan_t;

static as_status_chan_t *as_status_chan(as_status_chan_t *v, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    if (*n == AS_MODULES_MAX)
        return NULL;
    memset(&v[*n], 0, sizeof(v[*n]));
    v[*n].name = name;
    return &v[(*n)++];
}

/* Every error of n ("TIME CHANNEL: reason") that is newer than what its
 * channel has. */
static void as_status_errors(as_status_chan_t *v, size_t nv, const as_note_t *n)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, n->errors)
    {
        if (!cJSON_IsString(e))
            continue;
        const char *s = e->valuestring, *sp = strchr(s, ' '), *colon;
        char when[64], ch[64];
        int64_t at;
        if (sp == NULL || (size_t)(sp - s) >= sizeof(when) || (colon = strstr(sp, ": ")) == NULL ||
            (size_t)(colon - sp - 1) >= sizeof(ch))
            continue;
        snprintf(when, sizeof(when), "%.*s", (int)(sp - s), s);
        snprintf(ch, sizeof(ch), "%.*s", (int)(colon - sp - 1), sp + 1);
        if (as_rfc3339_parse(when, &at) < 0)
            continue;
        for (size_t i = 0; i < nv; i++)
            if (strcmp(v[i].name, ch) == 0 && at >= v[i].error_at) {
                v[i].error_at = at;
                as_str_copy(v[i].error, sizeof(v[i].error), colon + 2);
            }
    }
}

/* What status found out, for either form of output. */
typedef struct {
    const as_config_t *cfg;
    int64_t now;
    int running, ready; /* as_spool_daemon(), as_cli_ready_check() */
    long pid;
    char health[1024];
    as_spool_t *sp; /* NULL: the spool cannot be read */
    as_view_t v;
    size_t count[AS_Q_COUNT];
    const as_view_row_t *oldest, *next;
    as_status_chan_t chans[AS_MODULES_MAX];
    size_t nchans;
} as_status_t;

/* The channels of every receiver's chain, and what waits on each. */
static void as_status_gather(as_status_t *st, as_cycle_t *cy, const char *who, int64_t timeout_ms)
{
    const as_config_t *cfg = cy->cfg;
    st->cfg = cfg;
    st->now = as_now_ms();
    st->running = as_spool_daemon(cfg->spool.dir, NULL, &st->pid);
    st->ready = as_cli_ready_check(cfg, timeout_ms, st->health, sizeof(st->health));
    st->sp = as_view_open(who, cfg, 0);
    if (st->sp != NULL) {
        as_view_read(&st->v, st->sp, cy, AS_VIEW_STATES);
        /* Files that did not read back at start: for a human to look at. */
        char **names;
        st->count[AS_Q_CORRUPT] = as_spool_list(st->sp, AS_Q_CORRUPT, &names);
        as_spool_list_free(names, st->count[AS_Q_CORRUPT]);
    }
    const as_receiver_t *rv = cfg->receivers.elts;
    for (size_t r = 0; r < cfg->receivers.n; r++)
        for (size_t k = 0; k < rv[r].nchain; k++)
            as_status_chan(st->chans, &st->nchans, cfg->mods.v[rv[r].chain[k]]->channel_key);
    for (size_t i = 0; i < st->v.n; i++) {
        const as_view_row_t *r = &st->v.v[i];
        st->count[r->state]++;
        as_status_errors(st->chans, st->nchans, r->note);
        if (r->state == AS_Q_DEAD)
            continue;
        if (st->oldest == NULL)
            st->oldest = r; /* the view is sorted by acceptance */
        if (r->state == AS_Q_DEFERRED &&
            (st->next == NULL || r->note->due_ms < st->next->note->due_ms))
            st->next = r;
        as_attempt_t a;
        memset(&a, 0, sizeof(a));
        a.cycle = cy;
        a.note = r->note;
        a.recv = as_config_receiver(cfg, r->note->receiver ? r->note->receiver : "");
        if (a.recv == NULL)
            continue;
        a.recv_index = (size_t)(a.recv - rv);
        as_chain_plan(&a);
        if (as_chain_done(&a))
            continue;
        for (size_t k = 0; k < a.nplan; k++) {
            const as_chan_t *ch = as_note_chan_find(r->note, a.plan[k].name);
            as_status_chan_t *sc = as_status_chan(st->chans, &st->nchans, a.plan[k].name);
            if (sc != NULL && (ch == NULL || ch->state == AS_CH_PENDING))
                sc->waiting++;
        }
    }
}

static void as_status_json(const as_status_t *st)
{
    char buf[128];
    cJSON *o = cJSON_CreateObject(), *dj = cJSON_AddObjectToObject(o, "daemon");
    cJSON_AddBoolToObject(dj, "running", st->running == 1);
    if (st->running == 1 && st->pid > 0)
        cJSON_AddNumberToObject(dj, "pid", (double)st->pid);
    else
        cJSON_AddNullToObject(dj, "pid");
    cJSON_AddBoolToObject(dj, "ready", st->ready > 0);
    cJSON_AddStringToObject(dj, "health", st->health);
    cJSON *sj = cJSON_AddObjectToObject(o, "spool");
    cJSON_AddStringToObject(sj, "dir", st->cfg->spool.dir);
    cJSON_AddBoolToObject(sj, "readable", st->sp != NULL);
    for (int q = AS_Q_MAILDROP; q < AS_Q_COUNT; q++)
        cJSON_AddNumberToObject(sj, as_queue_names[q], (double)st->count[q]);
    const as_view_row_t *pick[2] = {st->oldest, st->next};
    const char *keys[2] = {"oldest", "next"};
    for (int k = 0; k < 2; k++) {
        if (pick[k] == NULL) {
            cJSON_AddNullToObject(o, keys[k]);
            continue;
        }
        cJSON *p = cJSON_AddObjectToObject(o, keys[k]);
        cJSON_AddStringToObject(p, "id", pick[k]->note->id);
        cJSON_AddStringToObject(p, "state", as_queue_names[pick[k]->state]);
        cJSON_AddStringToObject(p, "receiver",
                                pick[k]->note->receiver ? pick[k]->note->receiver : "");
        cJSON_AddStringToObject(p, "accepted",
                                as_rfc3339_ms(pick[k]->note->accepted_ms, buf, sizeof(buf)));
        if (k == 1)
            cJSON_AddStringToObject(p, "at",
                                    as_rfc3339_ms(pick[k]->note->due_ms, buf, sizeof(buf)));
    }
    cJSON *cj = cJSON_AddObjectToObject(o, "channels");
    for (size_t i = 0; i < st->nchans; i++) {
        cJSON *ch = cJSON_AddObjectToObject(cj, st->chans[i].name);
        cJSON_AddNumberToObject(ch, "waiting", (double)st->chans[i].waiting);
        if (st->chans[i].error_at > 0) {
            cJSON_AddStringToObject(ch, "last_error", st->chans[i].error);
            cJSON_AddStringToObject(ch, "last_error_at",
                                    as_rfc3339_ms(st->chans[i].error_at, buf, sizeof(buf)));
        } else {
            cJSON_AddNullToObject(ch, "last_error");
            cJSON_AddNullToObject(ch, "last_error_at");
        }
    }
    char *s = as_json_print(o);
    puts(s);
    cJSON_free(s);
    cJSON_Delete(o);
}

static void as_status_text(const as_status_t *st)
{
    char d[64];
    const char *dir = st->cfg->spool.dir;
    if (st->running == 1)
        printf("daemon:    running (pid %ld); %s: %s\n", st->pid,
               st->ready > 0 ? "taking alerts" : "NOT taking alerts", st->health);
    else
        printf("daemon:    %s; %s\n",
               st->running == 0 ? "NOT running (nothing holds the spool's lock)"
                                : "unknown (the spool's lock cannot be read)",
               st->health);
    if (st->sp != NULL) {
        printf("spool:     %s:", dir);
        for (int q = AS_Q_MAILDROP; q < AS_Q_COUNT; q++)
            printf("%s %zu %s", q == AS_Q_MAILDROP ? "" : ",", st->count[q], as_queue_names[q]);
        printf("\n");
    } else {
        printf("spool:     %s: cannot be read (above)\n", dir);
    }
    const as_note_t *o = st->oldest ? st->oldest->note : NULL;
    if (o != NULL) {
        as_tpl_duration((long long)((st->now - o->accepted_ms) / 1000), d, sizeof(d));
        printf("oldest:    %s (%s, %s), accepted %s ago\n", o->id,
               as_queue_names[st->oldest->state], o->receiver ? o->receiver : "", d);
    } else {
        printf("oldest:    nothing is waiting\n");
    }
    const as_note_t *nx = st->next ? st->next->note : NULL;
    if (nx != NULL)
        printf("next try:  %s (%s, %s)\n", as_view_when(nx->due_ms, st->now, d, sizeof(d)), nx->id,
               nx->receiver ? nx->receiver : "");
    if (st->count[AS_Q_DEAD] > 0)
        printf("dead:      %zu dead letter%s: alertsink queue --state dead, then queue retry "
               "or queue drop\n",
               st->count[AS_Q_DEAD], st->count[AS_Q_DEAD] == 1 ? "" : "s");
    if (st->count[AS_Q_CORRUPT] > 0)
        printf("corrupt:   %zu file%s that did not read back at start, kept as they were in "
               "%s/corrupt/\n",
               st->count[AS_Q_CORRUPT], st->count[AS_Q_CORRUPT] == 1 ? "" : "s", dir);
    for (size_t i = 0; i < st->nchans; i++) {
        const as_status_chan_t *c = &st->chans[i];
        char label[64];
        snprintf(label, sizeof(label), "%s:", c->name);
        printf("%-10s %zu waiting", label, c->waiting);
        if (c->error_at > 0) {
            as_tpl_duration((long long)((st->now - c->error_at) / 1000), d, sizeof(d));
            printf("; last error %s ago: %s", d, c->error);
        } else {
            printf("; no error in the spool");
        }
        if (strcmp(c->name, "whatsapp") == 0)
            printf(" (ask the API now: alertsink wa devices)");
        else if (strcmp(c->name, "whatsapp_cloud") == 0)
            printf(" (ask the API now: alertsink wa-cloud check)");
        printf("\n");
    }
}

int as_cli_status(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *path = NULL, *who = "alertsink status";
    int json = 0, c;
    int64_t timeout_ms = 2000;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'T':
            if (as_parse_duration(optarg, &timeout_ms) < 0 || timeout_ms <= 0)
                return as_cli_usage_error(who, as_status_usage,
                                          "invalid --timeout '%s': a duration such as 2s", optarg);
            break;
        case 'h':
            fputs(as_status_usage, stdout);
            return AS_EXIT_OK;
        default:
            return as_cli_bad_option(who, as_status_usage, c, argv);
        }
    }
    if (optind < argc)
        return as_cli_usage_error(who, as_status_usage, "unexpected argument '%s'", argv[optind]);

    as_log_set_level(AS_LOG_ERROR); /* loading: nothing of it matters here */
    as_cycle_t *cy = as_cli_cycle_flags(who, path, AS_LOAD_NO_SEND | AS_CLI_QUIET);
    if (cy == NULL)
        return AS_EXIT_USAGE;
    as_log_set_level(AS_LOG_ERROR);
    as_status_t st;
    memset(&st, 0, sizeof(st));
    as_status_gather(&st, cy, who, timeout_ms);
    if (json)
        as_status_json(&st);
    else
        as_status_text(&st);
    as_view_free(&st.v);
    if (st.sp != NULL)
        as_spool_close(st.sp);
    as_cycle_unref(cy);
    return st.ready > 0 ? AS_EXIT_OK : AS_EXIT_FAIL;
}
