/*
 * fuzz_payload.c - the Alertmanager payload: what every JSON body (HTTP,
 * `send`, socket lines that look like JSON) goes through.
 *
 * The input is a body as it would arrive.  It is parsed and validated
 * (as_payload_parse_opts, "now" fixed so runs repeat); when it is
 * accepted, every alert's labels are fingerprinted, the payload is split
 * into notifications through a small fixed route tree (regexes, continue,
 * group_by '...', a time interval) and again for one receiver by name,
 * each notification gets its template context and is rendered by every
 * channel of its receiver with the built-in templates, and the
 * notifications are merged back into one (group_wait's digest).
 *
 * What must hold besides not crashing:
 *   - a refusal says why (a non-empty message);
 *   - an accepted payload printed as JSON is accepted again, as an
 *     Alertmanager payload (the spool stores it so and reads it back);
 *   - its spool entry, made as the inputs make it (the body copied as it
 *     came when it may be), reads back (a body that did not was answered
 *     200 and lost at the next start);
 *   - every alert lands in at least one notification.
 */
#include <string.h>

#include "deliver/note.h"
#include "fuzz.h"
#include "lib/json.h"
#include "queue/spool.h"
#include "render/template.h"
#include "route/group.h"
#include "route/payload.h"

static const char fz_config[] =
    "spool: {dir: /nonexistent/alertsink-fuzz}\n"
    "whatsapp: {phone: '905550000000', password: fuzz}\n"
    "smtp: {host: localhost, tls: none, from: 'alertsink <as@example.org>'}\n"
    "time_intervals:\n"
    "  - name: weekends\n"
    "    time_intervals: [{weekdays: [saturday, sunday], location: Europe/Istanbul}]\n"
    "receivers:\n"
    "  - {name: default, file: {path: /nonexistent/alertsink-fuzz/out.jsonl}}\n"
    "  - name: db\n"
    "    whatsapp: {to: ['905550000001'], max_length: 160}\n"
    "    email: {to: [db@example.org], subject: '{{title}} ({{firingCount}})'}\n"
    "  - {name: pager, email: {to: ['Pager <pager@example.org>']}}\n"
    "  - {name: web, file: {path: /nonexistent/alertsink-fuzz/web.jsonl}}\n"
    "route:\n"
    "  receiver: default\n"
    "  group_by: [alertname, cluster]\n"
    "  routes:\n"
    "    - matchers: ['service=~\"db|mysql.*\"']\n"
    "      receiver: db\n"
    "      group_by: ['...']\n"
    "      continue: true\n"
    "      routes:\n"
    "        - matchers: [severity=\"critical\"]\n"
    "          receiver: pager\n"
    "          mute_time_intervals: [weekends]\n"
    "    - match: {team: web}\n"
    "      receiver: web\n"
    "      group_by: []\n"
    "    - matchers: ['alertname!~\"Watchdog|Info.*\"', 'env!=\"\"']\n"
    "      receiver: pager\n"
    "      continue: true\n";

static as_cycle_t *fz_c;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    fz_c = fz_cycle(fz_config);
    return 0;
}

static void fz_groups(const as_groups_t *g, size_t nalerts)
{
    size_t seen = 0;
    for (size_t i = 0; i < g->n; i++) {
        const cJSON *alerts = as_json_arr(g->v[i].payload, "alerts");
        if (alerts == NULL || cJSON_GetArraySize(alerts) == 0)
            fz_fail("notification %zu has no alerts", i);
        seen += (size_t)cJSON_GetArraySize(alerts);
        cJSON *ctx = as_tpl_context(g->v[i].payload);
        fz_render_channels(fz_c, g->v[i].receiver, ctx);
        cJSON_Delete(ctx);
        as_route_muted(g->v[i].route, (time_t)(FZ_NOW_MS / 1000), NULL);
    }
    if (seen < nalerts)
        fz_fail("%zu alerts, %zu in the notifications", nalerts, seen);
    if (g->n > 0) {
        const cJSON **all = as_xcalloc(g->n, sizeof(*all));
        for (size_t i = 0; i < g->n; i++)
            all[i] = g->v[i].payload;
        cJSON_Delete(as_group_merge(all, g->n));
        free(all);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_payload_opts_t opts = {.now_ms = FZ_NOW_MS};
    as_err_t err = {{0}};
    unsigned grouped = 0;
    /* In a pool, as the inputs parse (cJSON_Delete below does nothing). */
    as_pool_t *pool = as_pool_create();
    cJSON *p = as_payload_parse_opts(pool, (const char *)data, size, &opts, &grouped, &err);
    if (p == NULL) {
        if (err.msg[0] == '\0')
            fz_fail("a payload refused without a reason");
        as_pool_destroy(pool);
        return 0;
    }

    char *text = as_json_print(p);
    unsigned again = 0;
    cJSON *p2 = as_payload_parse_opts(NULL, text, strlen(text), &opts, &again, &err);
    if (p2 == NULL)
        fz_fail("an accepted payload, printed, is refused: %s\n%s", err.msg, text);
    if (!(again & AS_SUB_GROUPED))
        fz_fail("an accepted payload, printed, is not an Alertmanager payload:\n%s", text);
    cJSON_Delete(p2);
    cJSON_free(text);

    const cJSON *alerts = as_json_arr(p, "alerts"), *a;
    size_t nalerts = alerts ? (size_t)cJSON_GetArraySize(alerts) : 0;
    cJSON_ArrayForEach(a, alerts)
    {
        as_labels_fingerprint(as_json_obj(a, "labels"));
    }

    as_groups_t g;
    if (as_group_split(&fz_c->cfg->route, p, NULL, &g, &err) < 0)
        fz_fail("a valid payload cannot be split: %s", err.msg);
    fz_groups(&g, nalerts);
    as_groups_free(&g);
    if (as_group_split(&fz_c->cfg->route, p, "db", &g, &err) < 0)
        fz_fail("a valid payload cannot be split for one receiver: %s", err.msg);
    fz_groups(&g, nalerts);
    as_groups_free(&g);

    /* The spool entry, as as_submit() makes it; the record owns the pool. */
    as_mem_t *mem = as_mem_new(pool, NULL);
    as_note_t *n = as_note_new(mem);
    as_mem_unref(mem);
    as_spool_id(n->id);
    memcpy(n->record, n->id, sizeof(n->record));
    n->payload = p;
    int verbatim = (grouped & AS_SUB_VERBATIM) != 0;
    as_buf_t line = AS_BUF_INIT;
    as_note_entry(n, verbatim ? (const char *)data : NULL, verbatim ? size : 0, &line);
    as_note_t *back = as_note_parse(NULL, line.data, line.len, &err);
    if (back == NULL)
        fz_fail("an accepted payload's spool entry does not read back: %s\n%.*s", err.msg,
                (int)line.len, line.data);
    as_note_free(back);
    as_buf_free(&line);
    as_note_free(n);
    return 0;
}
