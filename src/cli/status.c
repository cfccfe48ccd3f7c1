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
                snprintf(v[i].error, sizeof(v[i].error), "%s", colon + 2);
            }
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
    const as_config_t *cfg = cy->cfg;
    int64_t now = as_now_ms();

    /* The daemon. */
    long pid = 0;
    int running = as_spool_daemon(cfg->spool.dir, NULL, &pid);
    char health[1024];
    int ready = as_cli_ready_check(cfg, timeout_ms, health, sizeof(health));

    /* The spool. */
    as_view_t v = {NULL, 0};
    size_t count[AS_Q_COUNT] = {0};
    as_spool_t *sp = as_view_open(who, cfg, 0);
    if (sp != NULL) {
        as_view_read(&v, sp, cy, AS_VIEW_STATES);
        /* Files that did not read back at start: for a human to look at. */
        char **names;
        count[AS_Q_CORRUPT] = as_spool_list(sp, AS_Q_CORRUPT, &names);
        as_spool_list_free(names, count[AS_Q_CORRUPT]);
    }
    const as_view_row_t *oldest = NULL, *next = NULL;
    as_status_chan_t chans[AS_MODULES_MAX];
    size_t nchans = 0;
    const as_receiver_t *rv = cfg->receivers.elts;
    for (size_t r = 0; r < cfg->receivers.n; r++)
        for (size_t k = 0; k < rv[r].nchain; k++)
            as_status_chan(chans, &nchans, cfg->mods.v[rv[r].chain[k]]->channel_key);
    for (size_t i = 0; i < v.n; i++) {
        const as_view_row_t *r = &v.v[i];
        count[r->state]++;
        as_status_errors(chans, nchans, r->note);
        if (r->state == AS_Q_DEAD)
            continue;
        if (oldest == NULL)
            oldest = r; /* the view is sorted by acceptance */
        if (r->state == AS_Q_DEFERRED && (next == NULL || r->note->due_ms < next->note->due_ms))
            next = r;
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
            as_status_chan_t *sc = as_status_chan(chans, &nchans, a.plan[k].name);
            if (sc != NULL && (ch == NULL || ch->state == AS_CH_PENDING))
                sc->waiting++;
        }
    }

    if (json) {
        char buf[128];
        cJSON *o = cJSON_CreateObject(), *dj = cJSON_AddObjectToObject(o, "daemon");
        cJSON_AddBoolToObject(dj, "running", running == 1);
        if (running == 1 && pid > 0)
            cJSON_AddNumberToObject(dj, "pid", (double)pid);
        else
            cJSON_AddNullToObject(dj, "pid");
        cJSON_AddBoolToObject(dj, "ready", ready > 0);
        cJSON_AddStringToObject(dj, "health", health);
        cJSON *sj = cJSON_AddObjectToObject(o, "spool");
        cJSON_AddStringToObject(sj, "dir", cfg->spool.dir);
        cJSON_AddBoolToObject(sj, "readable", sp != NULL);
        for (int q = AS_Q_MAILDROP; q < AS_Q_COUNT; q++)
            cJSON_AddNumberToObject(sj, as_queue_names[q], (double)count[q]);
        const as_view_row_t *pick[2] = {oldest, next};
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
        for (size_t i = 0; i < nchans; i++) {
            cJSON *ch = cJSON_AddObjectToObject(cj, chans[i].name);
            cJSON_AddNumberToObject(ch, "waiting", (double)chans[i].waiting);
            if (chans[i].error_at > 0) {
                cJSON_AddStringToObject(ch, "last_error", chans[i].error);
                cJSON_AddStringToObject(ch, "last_error_at",
                                        as_rfc3339_ms(chans[i].error_at, buf, sizeof(buf)));
            } else {
                cJSON_AddNullToObject(ch, "last_error");
                cJSON_AddNullToObject(ch, "last_error_at");
            }
        }
        char *s = as_json_print(o);
        puts(s);
        cJSON_free(s);
        cJSON_Delete(o);
    } else {
        char d[64];
        if (running == 1)
            printf("daemon:    running (pid %ld); %s: %s\n", pid,
                   ready > 0 ? "taking alerts" : "NOT taking alerts", health);
        else
            printf("daemon:    %s; %s\n",
                   running == 0 ? "NOT running (nothing holds the spool's lock)"
                                : "unknown (the spool's lock cannot be read)",
                   health);
        if (sp != NULL) {
            printf("spool:     %s:", cfg->spool.dir);
            for (int q = AS_Q_MAILDROP; q < AS_Q_COUNT; q++)
                printf("%s %zu %s", q == AS_Q_MAILDROP ? "" : ",", count[q], as_queue_names[q]);
            printf("\n");
        } else {
            printf("spool:     %s: cannot be read (above)\n", cfg->spool.dir);
        }
        if (oldest != NULL) {
            as_tpl_duration((long long)((now - oldest->note->accepted_ms) / 1000), d, sizeof(d));
            printf("oldest:    %s (%s, %s), accepted %s ago\n", oldest->note->id,
                   as_queue_names[oldest->state],
                   oldest->note->receiver ? oldest->note->receiver : "", d);
        } else {
            printf("oldest:    nothing is waiting\n");
        }
        if (next != NULL)
            printf("next try:  %s (%s, %s)\n", as_view_when(next->note->due_ms, now, d, sizeof(d)),
                   next->note->id, next->note->receiver ? next->note->receiver : "");
        if (count[AS_Q_DEAD] > 0)
            printf("dead:      %zu dead letter%s: alertsink queue --state dead, then queue retry "
                   "or queue drop\n",
                   count[AS_Q_DEAD], count[AS_Q_DEAD] == 1 ? "" : "s");
        if (count[AS_Q_CORRUPT] > 0)
            printf("corrupt:   %zu file%s that did not read back at start, kept as they were in "
                   "%s/corrupt/\n",
                   count[AS_Q_CORRUPT], count[AS_Q_CORRUPT] == 1 ? "" : "s", cfg->spool.dir);
        for (size_t i = 0; i < nchans; i++) {
            char label[64];
            snprintf(label, sizeof(label), "%s:", chans[i].name);
            printf("%-10s %zu waiting", label, chans[i].waiting);
            if (chans[i].error_at > 0) {
                as_tpl_duration((long long)((now - chans[i].error_at) / 1000), d, sizeof(d));
                printf("; last error %s ago: %s", d, chans[i].error);
            } else {
                printf("; no error in the spool");
            }
            if (strcmp(chans[i].name, "whatsapp") == 0)
                printf(" (ask the API now: alertsink wa devices)");
            else if (strcmp(chans[i].name, "whatsapp_cloud") == 0)
                printf(" (ask the API now: alertsink wa-cloud check)");
            printf("\n");
        }
    }
    as_view_free(&v);
    if (sp != NULL)
        as_spool_close(sp);
    as_cycle_unref(cy);
    return ready > 0 ? AS_EXIT_OK : AS_EXIT_FAIL;
}
