/*
 * note.c - notifications in memory and their spool entries (see note.h).
 *
 * An entry is one JSON object on one line.  Records and notes share the
 * format; "kind" tells them apart:
 *
 *   {"kind":"record","id":..,"t":..,"input":..,"receiver":..|null,
 *    "grouped":bool,"payload":{..}}
 *   {"kind":"note","id":..,"record":..,"index":n,"t":..,"input":..,
 *    "receiver":..,"group_key":..,"route":..,"due":..,
 *    "channels":{"whatsapp":{"state":"pending","attempts":2,"next":..,
 *    "error":".."}},"errors":[..],"digest":true,"members":[ids],
 *    "payload":{..}}
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertsink/mem.h"
#include "deliver/note.h"
#include "lib/json.h"

static const char *const as_ch_state_names[] = {"pending", "delivered", "failed", "superseded"};

const char *as_chan_state_name(as_ch_state_t s)
{
    return (unsigned)s < sizeof(as_ch_state_names) / sizeof(as_ch_state_names[0])
               ? as_ch_state_names[s]
               : "pending";
}

as_note_t *as_note_new(void)
{
    as_note_t *n = as_xcalloc(1, sizeof(*n));
    n->heap_pos = -1;
    return n;
}

void as_note_free(as_note_t *n)
{
    if (n == NULL)
        return;
    free(n->input);
    free(n->receiver);
    free(n->group_key);
    free(n->route);
    cJSON_Delete(n->payload);
    cJSON_Delete(n->errors);
    cJSON_Delete(n->members);
    for (size_t i = 0; i < n->nch; i++)
        free(n->ch[i].error);
    free(n);
}

as_chan_t *as_note_chan(as_note_t *n, const char *name)
{
    for (size_t i = 0; i < n->nch; i++)
        if (strcmp(n->ch[i].name, name) == 0)
            return &n->ch[i];
    if (n->nch == AS_CHANNELS_MAX)
        return &n->ch[AS_CHANNELS_MAX - 1]; /* more channels than any receiver has */
    as_chan_t *c = &n->ch[n->nch++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    return c;
}

const as_chan_t *as_note_chan_find(const as_note_t *n, const char *name)
{
    for (size_t i = 0; i < n->nch; i++)
        if (strcmp(n->ch[i].name, name) == 0)
            return &n->ch[i];
    return NULL;
}

void as_note_error(as_note_t *n, const char *channel, const char *reason)
{
    char ts[32], line[768];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(line, sizeof(line), "%s %s: %s", ts, channel, reason);
    if (n->errors == NULL)
        n->errors = cJSON_CreateArray();
    /* Bounded: a notification retried for a day keeps its last 64 reasons. */
    if (cJSON_GetArraySize(n->errors) >= 64)
        cJSON_DeleteItemFromArray(n->errors, 0);
    cJSON_AddItemToArray(n->errors, cJSON_CreateString(line));
}

const char *as_note_status(const as_note_t *n)
{
    const cJSON *alerts = as_json_arr(n->payload, "alerts"), *a;
    cJSON_ArrayForEach(a, alerts)
    {
        const char *s = as_json_str(a, "status");
        if (s == NULL || strcmp(s, "resolved") != 0)
            return "firing";
    }
    return alerts && cJSON_GetArraySize(alerts) > 0 ? "resolved" : "firing";
}

static void as_add_str(cJSON *o, const char *k, const char *v)
{
    if (v != NULL)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

void as_note_entry(const as_note_t *n, as_buf_t *out)
{
    /* Build the envelope without the payload, print it, and splice the
     * payload in: the payload is the bulk and is printed only once. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", n->routed ? "note" : "record");
    cJSON_AddStringToObject(o, "id", n->id);
    if (n->routed) {
        cJSON_AddStringToObject(o, "record", n->record);
        cJSON_AddNumberToObject(o, "index", n->index);
    }
    cJSON_AddNumberToObject(o, "t", (double)n->accepted_ms);
    as_add_str(o, "input", n->input);
    as_add_str(o, "receiver", n->receiver);
    cJSON_AddBoolToObject(o, "grouped", n->grouped);
    if (n->routed) {
        as_add_str(o, "group_key", n->group_key);
        as_add_str(o, "route", n->route);
        cJSON_AddNumberToObject(o, "due", (double)n->due_ms);
        cJSON *chs = cJSON_AddObjectToObject(o, "channels");
        for (size_t i = 0; i < n->nch; i++) {
            const as_chan_t *c = &n->ch[i];
            cJSON *cj = cJSON_AddObjectToObject(chs, c->name);
            cJSON_AddStringToObject(cj, "state", as_ch_state_names[c->state]);
            cJSON_AddNumberToObject(cj, "attempts", c->attempts);
            cJSON_AddNumberToObject(cj, "next", (double)c->next_ms);
            if (c->in_doubt)
                cJSON_AddBoolToObject(cj, "in_doubt", 1);
            if (c->unavailable)
                cJSON_AddBoolToObject(cj, "unavailable", 1);
            if (c->gave_up_ms)
                cJSON_AddNumberToObject(cj, "gave_up", (double)c->gave_up_ms);
            if (c->error)
                cJSON_AddStringToObject(cj, "error", c->error);
        }
        if (n->errors)
            cJSON_AddItemReferenceToObject(o, "errors", n->errors);
        if (n->digest) {
            cJSON_AddBoolToObject(o, "digest", 1);
            if (n->members)
                cJSON_AddItemReferenceToObject(o, "members", n->members);
        }
    }
    char *env = as_json_print(o);
    cJSON_Delete(o);
    char *payload = n->payload ? as_json_print(n->payload) : NULL;
    size_t elen = strlen(env);
    as_buf_append(out, env, elen - 1); /* without the closing brace */
    as_buf_puts(out, ",\"payload\":");
    as_buf_puts(out, payload ? payload : "null");
    as_buf_puts(out, "}\n");
    cJSON_free(env);
    cJSON_free(payload);
}

static char *as_dup_str(const cJSON *o, const char *k)
{
    const char *s = as_json_str(o, k);
    return s ? as_xstrdup(s) : NULL;
}

as_note_t *as_note_parse(const char *line, size_t len, as_err_t *err)
{
    cJSON *o = as_json_parse(line, len, err);
    if (o == NULL)
        return NULL;
    const char *kind = as_json_str(o, "kind"), *id = as_json_str(o, "id");
    cJSON *payload = cJSON_DetachItemFromObjectCaseSensitive(o, "payload");
    /* The id names files in the spool: it must be one of ours, never a
     * path ("../x") or a dot file. */
    if (kind == NULL || id == NULL || id[0] == '\0' || id[0] == '.' || strchr(id, '/') != NULL ||
        strlen(id) >= AS_NID_LEN || !cJSON_IsObject(payload)) {
        as_err_set(err, "spool entry without a kind, a valid id or a payload");
        cJSON_Delete(payload);
        cJSON_Delete(o);
        return NULL;
    }
    as_note_t *n = as_note_new();
    n->routed = strcmp(kind, "note") == 0;
    snprintf(n->id, sizeof(n->id), "%s", id);
    snprintf(n->record, sizeof(n->record), "%s",
             n->routed && as_json_str(o, "record") ? as_json_str(o, "record") : id);
    n->index = (int)as_json_num(o, "index", 0);
    n->accepted_ms = (int64_t)as_json_num(o, "t", 0);
    n->due_ms = (int64_t)as_json_num(o, "due", 0);
    n->input = as_dup_str(o, "input");
    n->receiver = as_dup_str(o, "receiver");
    n->grouped = as_json_bool(o, "grouped", 0) != 0;
    n->group_key = as_dup_str(o, "group_key");
    n->route = as_dup_str(o, "route");
    n->payload = payload;
    const cJSON *chs = as_json_obj(o, "channels"), *c;
    cJSON_ArrayForEach(c, chs)
    {
        as_chan_t *ch = as_note_chan(n, c->string);
        const char *st = as_json_str(c, "state");
        for (int s = 0; st && s < 4; s++)
            if (strcmp(st, as_ch_state_names[s]) == 0)
                ch->state = (as_ch_state_t)s;
        ch->attempts = (int)as_json_num(c, "attempts", 0);
        ch->next_ms = (int64_t)as_json_num(c, "next", 0);
        ch->in_doubt = as_json_bool(c, "in_doubt", 0);
        ch->unavailable = as_json_bool(c, "unavailable", 0);
        ch->gave_up_ms = (int64_t)as_json_num(c, "gave_up", 0);
        ch->error = as_dup_str(c, "error");
    }
    n->digest = as_json_bool(o, "digest", 0) != 0;
    cJSON *members = cJSON_DetachItemFromObjectCaseSensitive(o, "members");
    if (cJSON_IsArray(members))
        n->members = members;
    else
        cJSON_Delete(members);
    cJSON *errors = cJSON_DetachItemFromObjectCaseSensitive(o, "errors");
    if (cJSON_IsArray(errors))
        n->errors = errors;
    else
        cJSON_Delete(errors);
    cJSON_Delete(o);
    return n;
}
