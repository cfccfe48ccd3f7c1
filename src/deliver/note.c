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
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertsink/mem.h"
#include "deliver/note.h"
#include "lib/clock.h"
#include "lib/json.h"

static const char *const as_ch_state_names[] = {"pending", "delivered", "failed", "superseded"};

const char *as_chan_state_name(as_ch_state_t s)
{
    return (unsigned)s < sizeof(as_ch_state_names) / sizeof(as_ch_state_names[0])
               ? as_ch_state_names[s]
               : "pending";
}

as_mem_t *as_mem_new(as_pool_t *pool, cJSON *heap_payload)
{
    if (pool == NULL)
        pool = as_pool_create();
    as_mem_t *m = as_pnalloc(pool, sizeof(*m));
    m->pool = pool;
    m->heap_payload = heap_payload;
    atomic_init(&m->refs, 1);
    return m;
}

void as_mem_ref(as_mem_t *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void as_mem_unref(as_mem_t *m)
{
    if (m == NULL || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    cJSON *heap = m->heap_payload;
    as_pool_destroy(m->pool); /* m was in it */
    if (heap != NULL) {
        as_pool_t *prev = as_json_use_pool(NULL);
        cJSON_Delete(heap);
        as_json_use_pool(prev);
    }
}

as_note_t *as_note_new(as_mem_t *mem)
{
    as_note_t *n;
    if (mem != NULL) {
        n = as_palloc(mem->pool, sizeof(*n));
        as_mem_ref(mem);
        n->mem = mem;
    } else {
        n = as_xcalloc(1, sizeof(*n));
    }
    n->heap_pos = -1;
    return n;
}

char *as_note_str(as_note_t *n, const char *s)
{
    if (s == NULL)
        return NULL;
    return n->mem ? as_pstrdup(n->mem->pool, s) : as_xstrdup(s);
}

void as_note_free(as_note_t *n)
{
    if (n == NULL)
        return;
    /* What a note gathers after routing is on the heap, pooled or not. */
    as_pool_t *prev = as_json_use_pool(NULL);
    cJSON_Delete(n->errors);
    cJSON_Delete(n->members);
    for (size_t i = 0; i < n->nch; i++)
        free(n->ch[i].error);
    if (n->mem != NULL) {
        as_mem_unref(n->mem); /* n itself may go with the pool */
    } else {
        free((char *)n->input);
        free(n->receiver);
        free(n->group_key);
        free(n->route);
        cJSON_Delete(n->payload);
        free(n);
    }
    as_json_use_pool(prev);
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
    as_str_copy(c->name, sizeof(c->name), name);
    return c;
}

int as_note_handled(const as_note_t *n)
{
    for (size_t i = 0; i < n->nch; i++)
        if (n->ch[i].attempts > 0 || n->ch[i].state != AS_CH_PENDING || n->ch[i].next_ms != 0)
            return 1;
    return 0;
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
    char *fixed = as_utf8_valid(line, strlen(line)) ? NULL : as_utf8_repair(line, strlen(line));
    as_pool_t *prev = as_json_use_pool(NULL); /* the note's history outlives any pool */
    if (n->errors == NULL)
        n->errors = cJSON_CreateArray();
    /* Bounded: a notification retried for a day keeps its last 64 reasons. */
    if (cJSON_GetArraySize(n->errors) >= 64)
        cJSON_DeleteItemFromArray(n->errors, 0);
    cJSON_AddItemToArray(n->errors, cJSON_CreateString(fixed ? fixed : line)); /* UTF-8 */
    free(fixed);
    as_json_use_pool(prev);
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

static void as_put_key(as_buf_t *b, const char *key)
{
    as_buf_putc(b, ',');
    as_buf_json(b, key, strlen(key));
    as_buf_putc(b, ':');
}

/* A string of an entry: always UTF-8, so that the entry reads back (bytes
 * that are not, from a peer's answer, become U+FFFD, as inputs repair
 * text): an entry that did not went to corrupt/ with its notification. */
static void as_put_str(as_buf_t *b, const char *key, const char *v)
{
    as_put_key(b, key);
    if (v == NULL) {
        as_buf_puts(b, "null");
    } else if (as_utf8_valid(v, strlen(v))) {
        as_buf_json(b, v, strlen(v));
    } else {
        char *fixed = as_utf8_repair(v, strlen(v));
        as_buf_json(b, fixed, strlen(fixed));
        free(fixed);
    }
}

static void as_put_int(as_buf_t *b, const char *key, long long v)
{
    as_put_key(b, key);
    as_buf_int(b, v);
}

static void as_put_bool(as_buf_t *b, const char *key, int v)
{
    as_put_key(b, key);
    as_buf_puts(b, v ? "true" : "false");
}

void as_note_entry(const as_note_t *n, const char *raw, size_t raw_len, as_buf_t *out)
{
    /* Written by hand, not through a cJSON tree: a record's entry is made
     * on every request, and its payload is usually the body as it came. */
    as_buf_puts(out, "{\"kind\":");
    as_buf_puts(out, n->routed ? "\"note\"" : "\"record\"");
    as_put_str(out, "id", n->id);
    if (n->routed) {
        as_put_str(out, "record", n->record);
        as_put_int(out, "index", n->index);
    }
    as_put_int(out, "t", n->accepted_ms);
    as_put_str(out, "input", n->input);
    as_put_str(out, "receiver", n->receiver);
    as_put_bool(out, "grouped", n->grouped);
    if (n->routed) {
        as_put_str(out, "group_key", n->group_key);
        as_put_str(out, "route", n->route);
        as_put_int(out, "due", n->due_ms);
        as_put_key(out, "channels");
        as_buf_putc(out, '{');
        for (size_t i = 0; i < n->nch; i++) {
            const as_chan_t *c = &n->ch[i];
            if (i > 0)
                as_buf_putc(out, ',');
            as_buf_json(out, c->name, strlen(c->name));
            as_buf_puts(out, ":{\"state\":");
            as_buf_json(out, as_ch_state_names[c->state], strlen(as_ch_state_names[c->state]));
            as_put_int(out, "attempts", c->attempts);
            as_put_int(out, "next", c->next_ms);
            if (c->in_doubt)
                as_put_bool(out, "in_doubt", 1);
            if (c->unavailable)
                as_put_bool(out, "unavailable", 1);
            if (c->gave_up_ms)
                as_put_int(out, "gave_up", c->gave_up_ms);
            if (c->error)
                as_put_str(out, "error", c->error);
            as_buf_putc(out, '}');
        }
        as_buf_putc(out, '}');
        if (n->errors) {
            char *e = as_json_print(n->errors);
            as_put_key(out, "errors");
            as_buf_puts(out, e);
            cJSON_free(e);
        }
        if (n->digest) {
            as_put_bool(out, "digest", 1);
            if (n->members) {
                char *m = as_json_print(n->members);
                as_put_key(out, "members");
                as_buf_puts(out, m);
                cJSON_free(m);
            }
        }
    }
    as_put_key(out, "payload");
    if (raw != NULL) {
        /* Valid JSON has line breaks only between tokens: spaces there. */
        size_t at = out->len;
        as_buf_append(out, raw, raw_len);
        char *e = out->data + out->len;
        for (char *p = out->data + at; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
            *p = ' ';
        for (char *p = out->data + at; (p = memchr(p, '\r', (size_t)(e - p))) != NULL; p++)
            *p = ' ';
    } else if (n->payload != NULL) {
        char *p = as_json_print(n->payload);
        as_buf_puts(out, p);
        cJSON_free(p);
    } else {
        as_buf_puts(out, "null");
    }
    as_buf_puts(out, "}\n");
}

static char *as_dup_str(as_note_t *n, const cJSON *o, const char *k)
{
    return as_note_str(n, as_json_str(o, k));
}

static as_note_t *as_note_read(as_mem_t *mem, cJSON *o, as_err_t *err);

as_note_t *as_note_parse(as_mem_t *mem, const char *line, size_t len, as_err_t *err)
{
    as_pool_t *prev = as_json_use_pool(mem ? mem->pool : NULL);
    cJSON *o = as_json_parse_entry(line, len, err);
    as_note_t *n = o ? as_note_read(mem, o, err) : NULL;
    as_json_use_pool(prev);
    return n;
}

static as_note_t *as_note_read(as_mem_t *mem, cJSON *o, as_err_t *err)
{
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
    as_note_t *n = as_note_new(mem);
    n->routed = strcmp(kind, "note") == 0;
    as_str_copy(n->id, sizeof(n->id), id);
    as_str_copy(n->record, sizeof(n->record),
                n->routed && as_json_str(o, "record") ? as_json_str(o, "record") : id);
    n->index = (int)as_json_int(o, "index", 0, 0, INT_MAX);
    n->accepted_ms = as_json_int(o, "t", 0, 0, AS_JSON_MS_MAX);
    n->due_ms = as_json_int(o, "due", 0, 0, AS_JSON_MS_MAX);
    n->input = as_dup_str(n, o, "input");
    n->receiver = as_dup_str(n, o, "receiver");
    n->grouped = as_json_bool(o, "grouped", 0) != 0;
    n->group_key = as_dup_str(n, o, "group_key");
    n->route = as_dup_str(n, o, "route");
    n->payload = payload;
    const cJSON *chs = as_json_obj(o, "channels"), *c;
    cJSON_ArrayForEach(c, chs)
    {
        as_chan_t *ch = as_note_chan(n, c->string);
        const char *st = as_json_str(c, "state");
        for (int s = 0; st && s < 4; s++)
            if (strcmp(st, as_ch_state_names[s]) == 0)
                ch->state = (as_ch_state_t)s;
        ch->attempts = (int)as_json_int(c, "attempts", 0, 0, INT_MAX);
        ch->next_ms = as_json_int(c, "next", 0, 0, AS_JSON_MS_MAX);
        ch->in_doubt = as_json_bool(c, "in_doubt", 0);
        ch->unavailable = as_json_bool(c, "unavailable", 0);
        ch->gave_up_ms = as_json_int(c, "gave_up", 0, 0, AS_JSON_MS_MAX);
        {
            const char *e = as_json_str(c, "error");
            ch->error = e ? as_xstrdup(e) : NULL;
        }
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
