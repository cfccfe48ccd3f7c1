/*
 * preview.c - `alertsink preview --receiver NAME [--data FILE]`: the
 * messages each channel of a receiver would send for an input, and the
 * printing of a note's messages that `send --dry-run` and `queue show`
 * share (see cli.h).
 *
 * Nothing here renders on its own: the input is read as `send` reads it,
 * routed by the daemon's routing code (as_worker_route(), the receiver
 * given as `send --receiver` gives it), and each channel of the
 * receiver's chain is rendered by as_cycle_render() with as_tpl_context()
 * of the note's payload, the call a delivery makes.  So what is printed
 * is what the sink would be handed: the text (or its numbered parts when
 * it is longer than the channel's max_length) and, for a sink with a
 * subject, the subject; for a channel with no template, the data (what a
 * webhook posts).  Sinks that render more of their own (a title) are not
 * shown that part.
 *
 * The configuration is loaded with AS_LOAD_NO_SEND: nothing is sent, so
 * no secret is needed, and nothing is written.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "cli/cli.h"
#include "deliver/chain.h"
#include "lib/json.h"
#include "lib/log.h"
#include "queue/worker.h"
#include "render/template.h"

static const char as_preview_usage[] =
    "usage: alertsink preview --receiver NAME [--data FILE] [--format F] [-c FILE]\n"
    "  --receiver NAME  the receiver whose channels to render\n"
    "  --data FILE      the input (default: stdin): an Alertmanager payload, a JSON alert or\n"
    "                   array of alerts, plain text, or what `send --format` reads\n"
    "  --format F       auto (default), json, text, nagios or collectd\n"
    "  -c FILE          configuration (default $ALERTSINK_CONFIG, else "
    "/etc/alertsink/alertsink.yaml)\n"
    "Prints, for each channel of NAME, a line \"== NAME CHANNEL ==\" and the message that\n"
    "channel would send (with a subject: \"Subject: ...\" first), rendered as the daemon\n"
    "renders it. Sends nothing, writes nothing, needs no secrets.\n"
    "Exit 0, 1 when the input cannot be read or a message cannot be rendered, 2 usage or\n"
    "configuration error.\n";

/* Text as it is, ending with one newline. */
static void as_print_text(FILE *out, const char *text)
{
    size_t len = strlen(text);
    fputs(text, out);
    if (len == 0 || text[len - 1] != '\n')
        fputc('\n', out);
}

int as_cli_messages(FILE *out, cJSON *json, as_cycle_t *c, const as_note_t *n, const char *who)
{
    const as_receiver_t *recv = n->receiver ? as_config_receiver(c->cfg, n->receiver) : NULL;
    if (recv == NULL) {
        fprintf(stderr, "%s: %s: receiver '%s' is not in %s: nothing to render\n", who, n->id,
                n->receiver ? n->receiver : "", c->cfg->file);
        return -1;
    }
    as_attempt_t a;
    memset(&a, 0, sizeof(a));
    a.cycle = c;
    a.note = (as_note_t *)n;
    a.recv = recv;
    a.recv_index = (size_t)(recv - (const as_receiver_t *)c->cfg->receivers.elts);
    a.now = as_now_ms();
    as_chain_plan(&a);

    cJSON *ctx = as_tpl_context(n->payload);
    cJSON *texts = json ? cJSON_AddObjectToObject(json, "messages") : NULL;
    cJSON *subjects = NULL, *parts = NULL;
    int rc = 0;
    as_pool_t *pool = as_pool_create(); /* the messages */
    for (size_t i = 0; i < a.nplan; i++) {
        const as_plan_t *p = &a.plan[i];
        as_rendered_t r;
        as_err_t err;
        if (as_cycle_render(c, pool, a.recv_index, (size_t)p->module, ctx, &r, &err) < 0) {
            fprintf(stderr, "%s: %s %s: the message cannot be rendered: %s\n", who, n->receiver,
                    p->name, err.msg);
            if (texts)
                cJSON_AddNullToObject(texts, p->name);
            rc = -1;
            continue;
        }
        if (out != NULL) {
            fprintf(out, "== %s %s ==\n", n->receiver, p->name);
            if (r.subject != NULL)
                fprintf(out, "Subject: %s\n", r.subject);
            if (r.text == NULL) {
                /* No template: the sink is handed the data alone (a
                 * webhook posts it as it is). */
                char *data = as_json_print(n->payload);
                as_print_text(out, data);
                cJSON_free(data);
            } else if (r.nparts <= 1)
                as_print_text(out, r.text);
            else
                for (size_t k = 0; k < r.nparts; k++)
                    as_print_text(out, r.parts[k]);
        }
        if (texts) {
            if (r.text != NULL)
                cJSON_AddStringToObject(texts, p->name, r.text);
            else
                cJSON_AddNullToObject(texts, p->name);
            if (r.subject != NULL) {
                if (subjects == NULL)
                    subjects = cJSON_AddObjectToObject(json, "subjects");
                cJSON_AddStringToObject(subjects, p->name, r.subject);
            }
            if (r.nparts > 1) {
                if (parts == NULL)
                    parts = cJSON_AddObjectToObject(json, "parts");
                cJSON *list = cJSON_AddArrayToObject(parts, p->name);
                for (size_t k = 0; k < r.nparts; k++)
                    cJSON_AddItemToArray(list, cJSON_CreateString(r.parts[k]));
            }
        }
    }
    as_pool_destroy(pool);
    cJSON_Delete(ctx);
    return rc;
}

int as_cli_render_input(as_cycle_t *c, cJSON *payload, int grouped, const char *receiver,
                        const char *who)
{
    as_note_t *rec = as_cli_record(payload, grouped, receiver);
    as_note_t **notes;
    size_t count = as_worker_route(c, rec, &notes);
    as_note_free(rec);
    int rc = count > 0 ? AS_EXIT_OK : AS_EXIT_FAIL;
    if (count == 0)
        fprintf(stderr, "%s: nothing would be sent: the input holds no alerts\n", who);
    for (size_t i = 0; i < count; i++) {
        const char *why = NULL;
        const as_route_t *r = as_route_of(&c->cfg->route, notes[i]->route, notes[i]->group_key);
        if (r != NULL && as_route_muted(r, (time_t)(as_now_ms() / 1000), &why))
            fprintf(stderr, "%s: %s: muted now (%s): it would not be sent at this time\n", who,
                    notes[i]->receiver, why ? why : "a time interval");
        if (as_cli_messages(stdout, NULL, c, notes[i], who) < 0)
            rc = AS_EXIT_FAIL;
        as_note_free(notes[i]);
    }
    free(notes);
    return rc;
}

/* A receiver that is not there: the names that are. */
static void as_preview_no_receiver(const as_config_t *cfg, const char *name)
{
    const as_receiver_t *rv = cfg->receivers.elts;
    fprintf(stderr, "alertsink preview: no receiver named '%s' in %s (receivers:", name, cfg->file);
    for (size_t i = 0; i < cfg->receivers.n; i++)
        fprintf(stderr, "%s %s", i ? "," : "", rv[i].name);
    fputs(")\n", stderr);
}

int as_cli_preview(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"receiver", required_argument, NULL, 'r'}, {"data", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},   {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *path = NULL, *receiver = NULL, *data = NULL, *who = "alertsink preview";
    as_format_t format = AS_FORMAT_AUTO;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            receiver = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 'f':
            if (as_format_from_name(optarg, &format) < 0)
                return as_cli_usage_error(who, as_preview_usage, "unknown format '%s'", optarg);
            break;
        case 'c':
            path = optarg;
            break;
        case 'h':
            fputs(as_preview_usage, stdout);
            return AS_EXIT_OK;
        default:
            return as_cli_bad_option(who, as_preview_usage, c, argv);
        }
    }
    if (optind < argc)
        return as_cli_usage_error(who, as_preview_usage, "unexpected argument '%s'", argv[optind]);
    if (receiver == NULL)
        return as_cli_usage_error(who, as_preview_usage, "name the receiver: --receiver NAME");

    as_cycle_t *cycle = as_cli_cycle_flags(who, path, AS_LOAD_NO_SEND);
    if (cycle == NULL)
        return AS_EXIT_USAGE;
    as_log_set_level(AS_LOG_WARN);
    if (as_config_receiver(cycle->cfg, receiver) == NULL) {
        as_preview_no_receiver(cycle->cfg, receiver);
        as_cycle_unref(cycle);
        return AS_EXIT_USAGE;
    }
    as_err_t err;
    int grouped;
    cJSON *payload = as_cli_input(who, NULL, 0, data, format, NULL, &grouped, &err);
    int rc;
    if (payload == NULL) {
        fprintf(stderr, "%s: input rejected: %s\n", who, err.msg);
        rc = AS_EXIT_FAIL;
    } else {
        rc = as_cli_render_input(cycle, payload, grouped, receiver, who);
    }
    as_cycle_unref(cycle);
    return rc;
}
