/*
 * payload.c - validation and wrapping into the Alertmanager webhook shape
 * (see payload.h).
 *
 * Validation is table-driven: each object alertsink reads (the payload,
 * an Alertmanager alert, a single alert) has a table of its keys and their
 * kinds, and one walker checks an object against its table in document
 * order, so the first bad field is the first one a reader would find.  An
 * Alertmanager payload tolerates keys it does not know (newer versions add
 * some); a single alert is alertsink's own format and refuses them, so a
 * typo ("lables") is an error rather than an alert without labels.
 *
 * Wrapping a single alert (docs/inputs.md) follows these rules:
 *   - status defaults to "firing" ("resolved" when endsAt is already past);
 *   - startsAt defaults to now, endsAt to 0001-01-01T00:00:00Z as in
 *     Alertmanager, or to now for a resolved alert;
 *   - title becomes annotations.summary and message annotations.description
 *     unless those are set; both also stay on the alert as "title" and
 *     "message" for templates;
 *   - an alert without an alertname label is named after its title, or
 *     AS_PAYLOAD_DEFAULT_ALERTNAME;
 *   - the fingerprint is Alertmanager's over the final labels; for an alert
 *     that came without labels of its own (plain text), the message is
 *     hashed in after them (docs/inputs.md), so two texts are two alerts.
 * The payload around wrapped alerts has receiver "" (the router names it),
 * groupLabels = commonLabels (what the alerts share) and groupKey
 * "{}:" followed by groupLabels as Alertmanager prints a label set.
 *
 * Duplicate keys are refused in every object read here: cJSON would keep
 * the first and Go's decoder the last, and a label set with two values
 * for one name has no fingerprint.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/buf.h"
#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "route/group.h"
#include "route/payload.h"
#include "route/route.h"

#define AS_FNV_OFFSET 14695981039346656037ULL
#define AS_FNV_PRIME  1099511628211ULL
#define AS_PATH_MAX   512

/* 0001-01-01T00:00:00Z, Go's zero time.Time, in ms since the epoch. */
#define AS_ZERO_TIME_MS (-62135596800000LL)

/* ---------------------------------------------------------------------- */
/* Label sets.                                                             */

/* Reorder obj's members by name, as Go's encoder writes a map. */
static void as_obj_sort(cJSON *obj)
{
    size_t n;
    cJSON **v = as_json_sorted(obj, &n, NULL);
    for (size_t i = 0; i < n; i++)
        cJSON_DetachItemViaPointer(obj, v[i]);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToObject(obj, v[i]->string, v[i]);
    free(v);
}

/* cJSON_HasObjectItem() ignores case; JSON keys do not. */
static int as_json_has(const cJSON *obj, const char *key)
{
    return as_json_get(obj, key) != NULL;
}

static void as_obj_set_str(cJSON *obj, const char *key, const char *value)
{
    cJSON *s = cJSON_CreateString(value);
    if (s == NULL)
        abort(); /* out of memory: see pool.h */
    as_json_set(obj, key, s);
}

static cJSON *as_obj_child(cJSON *obj, const char *key)
{
    cJSON *c = as_json_get(obj, key);
    if (!cJSON_IsObject(c)) {
        c = cJSON_CreateObject();
        as_json_set(obj, key, c);
    }
    return c;
}

static uint64_t as_fnv_add(uint64_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= AS_FNV_PRIME;
    }
    return h;
}

static uint64_t as_fnv_sep(uint64_t h)
{
    h ^= 0xff;
    return h * AS_FNV_PRIME;
}

uint64_t as_labels_fingerprint(const cJSON *labels)
{
    size_t n;
    cJSON **v = as_json_sorted(labels, &n, NULL);
    uint64_t h = AS_FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        const char *value = cJSON_IsString(v[i]) ? v[i]->valuestring : "";
        if (value[0] == '\0')
            continue; /* Alertmanager drops empty labels before it fingerprints */
        h = as_fnv_sep(as_fnv_add(h, v[i]->string, strlen(v[i]->string)));
        h = as_fnv_sep(as_fnv_add(h, value, strlen(value)));
    }
    free(v);
    return h;
}

/* ---------------------------------------------------------------------- */
/* Validation.                                                             */

typedef enum {
    AS_F_STRING,  /* any string */
    AS_F_STATUS,  /* "firing" | "resolved" */
    AS_F_TIME,    /* RFC 3339 string */
    AS_F_MAP,     /* object of strings */
    AS_F_LABELS,  /* object of strings with valid label names */
    AS_F_VERSION, /* "4" */
    AS_F_COUNT,   /* non-negative integer */
    AS_F_ALERTS,  /* array of Alertmanager alerts */
} as_field_kind_t;

typedef struct as_field_s {
    const char *name;
    as_field_kind_t kind;
} as_field_t;

static const as_field_t as_am_fields[] = {{"receiver", AS_F_STRING},
                                          {"status", AS_F_STATUS},
                                          {"alerts", AS_F_ALERTS},
                                          {"groupLabels", AS_F_MAP},
                                          {"commonLabels", AS_F_MAP},
                                          {"commonAnnotations", AS_F_MAP},
                                          {"externalURL", AS_F_STRING},
                                          {"version", AS_F_VERSION},
                                          {"groupKey", AS_F_STRING},
                                          {"truncatedAlerts", AS_F_COUNT},
                                          {NULL, 0}};

static const as_field_t as_am_alert_fields[] = {
    {"status", AS_F_STATUS},      {"labels", AS_F_MAP},
    {"annotations", AS_F_MAP},    {"startsAt", AS_F_TIME},
    {"endsAt", AS_F_TIME},        {"generatorURL", AS_F_STRING},
    {"fingerprint", AS_F_STRING}, {NULL, 0}};

/* A single alert (docs/inputs.md), plus what an Alertmanager alert carries, so one copied
 * out of a payload is accepted (its fingerprint is recomputed). */
static const as_field_t as_alert_fields[] = {
    {"labels", AS_F_LABELS},      {"annotations", AS_F_MAP},
    {"status", AS_F_STATUS},      {"title", AS_F_STRING},
    {"message", AS_F_STRING},     {"startsAt", AS_F_TIME},
    {"endsAt", AS_F_TIME},        {"generatorURL", AS_F_STRING},
    {"fingerprint", AS_F_STRING}, {NULL, 0}};

typedef struct as_check_s {
    const as_field_t *fields;
    int strict; /* unknown keys are errors */
} as_check_t;

/*
 * Where a field is, for errors: a chain from the field up to the body,
 * written out ("alerts[2].labels") only when an error names it, so that a
 * valid body costs no formatting.  A path cut short by a huge key still
 * names where the problem starts, so truncation is fine.
 */
typedef struct as_path_s {
    const struct as_path_s *up;
    const char *key; /* NULL: an index */
    int index;
} as_path_t;

static size_t as_path_write(const as_path_t *p, char *out, size_t room)
{
    if (p == NULL)
        return 0;
    size_t o = as_path_write(p->up, out, room);
    char idx[24];
    const char *piece = p->key;
    if (piece == NULL) {
        snprintf(idx, sizeof(idx), "[%d]", p->index);
        piece = idx;
    } else if (o > 0 && o + 1 < room) {
        out[o++] = '.';
    }
    size_t n = strlen(piece);
    if (o + n >= room)
        n = room - 1 - o;
    memcpy(out + o, piece, n);
    out[o + n] = '\0';
    return o + n;
}

/* The path as text, "" for the body itself. */
static const char *as_path_str(const as_path_t *p, char out[AS_PATH_MAX])
{
    out[0] = '\0';
    as_path_write(p, out, AS_PATH_MAX);
    return out;
}

static int as_path_err(as_err_t *err, const as_path_t *p, const char *what)
{
    char buf[AS_PATH_MAX];
    return as_err_set(err, "%s: %s", as_path_str(p, buf), what);
}

static int as_check_string(const cJSON *it, const as_path_t *path, as_err_t *err)
{
    if (!cJSON_IsString(it))
        return as_path_err(err, path, "expected string");
    /* The whole body was valid UTF-8 (as_json_parse), but a tree built in
     * the process (stdin formats) may not be. */
    if (!as_utf8_valid(it->valuestring, strlen(it->valuestring)))
        return as_path_err(err, path, "not valid UTF-8");
    return 0;
}

/* No key twice in obj (see the top of this file); the error names the
 * first such key in name order. */
static int as_check_unique(const cJSON *obj, const as_path_t *path, as_err_t *err)
{
    const char *dup = NULL;
    size_t n = 0;
    const cJSON *a, *b;
    cJSON_ArrayForEach(a, obj)
    {
        n++;
    }
    if (n > 16) {
        /* Many members: sort them, n log n. */
        free(as_json_sorted(obj, &n, &dup));
    } else {
        for (a = obj->child; a != NULL; a = a->next)
            for (b = a->next; b != NULL; b = b->next)
                if (strcmp(a->string, b->string) == 0 &&
                    (dup == NULL || strcmp(a->string, dup) < 0))
                    dup = a->string;
    }
    if (dup == NULL)
        return 0;
    as_path_t sub = {path, dup, 0};
    return as_path_err(err, &sub, "duplicate key");
}

/* Are obj's keys in strictly increasing order (so none is there twice)?
 * Go writes a map's keys sorted: Alertmanager's labels are. */
static int as_keys_increasing(const cJSON *obj)
{
    for (const cJSON *a = obj->child; a != NULL && a->next != NULL; a = a->next)
        if (strcmp(a->string, a->next->string) >= 0)
            return 0;
    return 1;
}

static int as_check_map(const cJSON *obj, const as_path_t *path, int names, as_err_t *err)
{
    if (!cJSON_IsObject(obj))
        return as_path_err(err, path, "expected object");
    if (!as_keys_increasing(obj) && as_check_unique(obj, path, err) != 0)
        return -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        as_path_t sub = {path, it->string, 0};
        if (names && !as_label_name_valid(it->string))
            return as_path_err(err, &sub, "invalid label name");
        if (as_check_string(it, &sub, err) != 0)
            return -1;
    }
    return 0;
}

static int as_check_object(const cJSON *obj, const as_path_t *path, const as_check_t *c,
                           as_err_t *err);

static const as_check_t as_am_alert_check = {as_am_alert_fields, 0};

static int as_check_alerts(const cJSON *arr, const as_path_t *path, as_err_t *err)
{
    int n = cJSON_GetArraySize(arr), i = 0;
    if (!cJSON_IsArray(arr))
        return as_path_err(err, path, "expected array");
    if (n == 0)
        return as_path_err(err, path, "expected at least one alert");
    if (n > AS_PAYLOAD_MAX_ALERTS) {
        char buf[AS_PATH_MAX];
        return as_err_set(err, "%s: more than %d alerts", as_path_str(path, buf),
                          AS_PAYLOAD_MAX_ALERTS);
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        as_path_t sub = {path, NULL, i++};
        if (as_check_object(a, &sub, &as_am_alert_check, err) != 0)
            return -1;
    }
    return 0;
}

static int as_check_field(const cJSON *it, const as_path_t *path, as_field_kind_t kind,
                          as_err_t *err)
{
    switch (kind) {
    case AS_F_STRING:
        return as_check_string(it, path, err);
    case AS_F_STATUS:
        if (as_check_string(it, path, err) != 0)
            return -1;
        if (strcmp(it->valuestring, "firing") != 0 && strcmp(it->valuestring, "resolved") != 0)
            return as_path_err(err, path, "expected \"firing\" or \"resolved\"");
        return 0;
    case AS_F_TIME:
        if (as_check_string(it, path, err) != 0)
            return -1;
        if (!as_rfc3339_valid(it->valuestring))
            return as_path_err(err, path, "expected an RFC 3339 time");
        return 0;
    case AS_F_MAP:
        return as_check_map(it, path, 0, err);
    case AS_F_LABELS:
        return as_check_map(it, path, 1, err);
    case AS_F_VERSION:
        if (!cJSON_IsString(it) || strcmp(it->valuestring, "4") != 0)
            return as_path_err(err, path, "expected \"4\"");
        return 0;
    case AS_F_COUNT:
        /* cJSON turns 1e999 into infinity: refuse it with the rest. */
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
            it->valuedouble > 9007199254740992.0 || it->valuedouble != floor(it->valuedouble))
            return as_path_err(err, path, "expected a non-negative integer");
        return 0;
    case AS_F_ALERTS:
        return as_check_alerts(it, path, err);
    }
    return 0;
}

/* The field of the table named name, looked for from *hint on (the
 * field after the last one found: a payload's fields come in the table's
 * order), then before it; *hint moves past a field found after it.
 * *ordered becomes 0 when a field is out of order or unknown. */
static const as_field_t *as_field_find(const as_field_t *fields, const char *name, size_t *hint,
                                       int *ordered)
{
    for (size_t k = *hint; fields[k].name != NULL; k++)
        if (strcmp(fields[k].name, name) == 0) {
            *hint = k + 1;
            return &fields[k];
        }
    *ordered = 0;
    for (size_t k = 0; k < *hint; k++)
        if (strcmp(fields[k].name, name) == 0)
            return &fields[k];
    return NULL;
}

static int as_check_object(const cJSON *obj, const as_path_t *path, const as_check_t *c,
                           as_err_t *err)
{
    if (!cJSON_IsObject(obj)) {
        if (path == NULL)
            return as_err_set(err, "body: expected object");
        return as_path_err(err, path, "expected object");
    }
    /* Known fields in the table's order cannot repeat: only an object
     * that is not so is checked for duplicate keys. */
    const cJSON *it;
    size_t hint = 0;
    int ordered = 1;
    cJSON_ArrayForEach(it, obj)
    {
        if (as_field_find(c->fields, it->string, &hint, &ordered) == NULL)
            ordered = 0;
    }
    if (!ordered && as_check_unique(obj, path, err) != 0)
        return -1;
    hint = 0;
    cJSON_ArrayForEach(it, obj)
    {
        const as_field_t *f = as_field_find(c->fields, it->string, &hint, &ordered);
        as_path_t sub = {path, it->string, 0};
        if (f == NULL) {
            if (c->strict)
                return as_path_err(err, &sub, "unknown key");
            continue;
        }
        if (as_check_field(it, &sub, f->kind, err) != 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Building.                                                               */

static int as_opts_labels(const as_payload_opts_t *o)
{
    return o != NULL && (o->nlabels > 0 || o->severity != NULL);
}

int as_payload_opts_check(const as_payload_opts_t *o, as_err_t *err)
{
    if (o == NULL)
        return 0;
    for (size_t i = 0; i < o->nlabels; i++) {
        const char *eq = strchr(o->labels[i], '=');
        if (eq == NULL)
            return as_err_set(err, "--label %s: expected NAME=VALUE", o->labels[i]);
        char *name = as_xstrndup(o->labels[i], (size_t)(eq - o->labels[i]));
        int valid = as_label_name_valid(name);
        free(name);
        if (!valid)
            return as_err_set(err, "--label %s: invalid label name", o->labels[i]);
        if (!as_utf8_valid(eq + 1, strlen(eq + 1)))
            return as_err_set(err, "--label %.*s: not valid UTF-8", (int)(eq - o->labels[i]),
                              o->labels[i]);
    }
    if (o->title != NULL && !as_utf8_valid(o->title, strlen(o->title)))
        return as_err_set(err, "--title: not valid UTF-8");
    if (o->severity != NULL && !as_utf8_valid(o->severity, strlen(o->severity)))
        return as_err_set(err, "--severity: not valid UTF-8");
    return 0;
}

/* The options win over what the alert says. */
static void as_alert_apply(cJSON *alert, const as_payload_opts_t *o)
{
    if (o == NULL)
        return;
    if (as_opts_labels(o)) {
        cJSON *labels = as_obj_child(alert, "labels");
        for (size_t i = 0; i < o->nlabels; i++) {
            const char *eq = strchr(o->labels[i], '=');
            char *name = as_xstrndup(o->labels[i], (size_t)(eq - o->labels[i]));
            as_obj_set_str(labels, name, eq + 1);
            free(name);
        }
        if (o->severity != NULL)
            as_obj_set_str(labels, "severity", o->severity);
        as_obj_sort(labels);
    }
    if (o->title != NULL) {
        as_obj_set_str(alert, "title", o->title);
        cJSON *ann = as_obj_child(alert, "annotations");
        as_obj_set_str(ann, "summary", o->title);
        as_obj_sort(ann);
    }
}

static void as_alert_fingerprint(cJSON *alert, const char *message)
{
    uint64_t h = as_labels_fingerprint(as_json_obj(alert, "labels"));
    if (message != NULL)
        h = as_fnv_sep(as_fnv_add(h, message, strlen(message)));
    char fp[17];
    snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)h);
    as_obj_set_str(alert, "fingerprint", fp);
}

/* Alertmanager's Alert.Status(): resolved once endsAt has passed. */
static const char *as_alert_status(const cJSON *alert, int64_t now)
{
    const char *status = as_json_str(alert, "status");
    const char *ends = as_json_str(alert, "endsAt");
    int64_t t;
    if (status != NULL)
        return status;
    if (ends != NULL && as_rfc3339_parse(ends, &t) == 0 && t != AS_ZERO_TIME_MS && t <= now)
        return "resolved";
    return "firing";
}

/* Fill what Alertmanager always sends and this alert lacks; returns
 * whether anything was added. */
static int as_alert_defaults(cJSON *alert, int64_t now)
{
    char ts[40];
    int added = 0;
    const char *status = as_alert_status(alert, now);
    if (as_json_str(alert, "status") == NULL) {
        as_obj_set_str(alert, "status", status);
        added = 1;
    }
    if (!as_json_has(alert, "labels")) {
        cJSON_AddItemToObject(alert, "labels", cJSON_CreateObject());
        added = 1;
    }
    if (!as_json_has(alert, "annotations")) {
        cJSON_AddItemToObject(alert, "annotations", cJSON_CreateObject());
        added = 1;
    }
    if (!as_json_has(alert, "startsAt")) {
        as_obj_set_str(alert, "startsAt", as_rfc3339_ms(now, ts, sizeof(ts)));
        added = 1;
    }
    if (!as_json_has(alert, "endsAt")) {
        as_obj_set_str(alert, "endsAt",
                       strcmp(status, "resolved") == 0 ? as_rfc3339_ms(now, ts, sizeof(ts))
                                                       : AS_PAYLOAD_ZERO_TIME);
        added = 1;
    }
    if (!as_json_has(alert, "generatorURL")) {
        as_obj_set_str(alert, "generatorURL", "");
        added = 1;
    }
    return added;
}

/* Put obj's members in this order; others keep theirs, after them. */
static void as_obj_order(cJSON *obj, const char *const *order, size_t n)
{
    cJSON *rest = cJSON_CreateObject();
    cJSON *it;
    while ((it = obj->child) != NULL)
        cJSON_AddItemToObject(rest, it->string, cJSON_DetachItemViaPointer(obj, it));
    for (size_t i = 0; i < n; i++)
        if ((it = cJSON_DetachItemFromObjectCaseSensitive(rest, order[i])) != NULL)
            cJSON_AddItemToObject(obj, order[i], it);
    while ((it = rest->child) != NULL)
        cJSON_AddItemToObject(obj, it->string, cJSON_DetachItemViaPointer(rest, it));
    cJSON_Delete(rest);
}

typedef struct {
    const char *fp;
    int index;
    cJSON *alert;
} as_fp_t;

static int as_fp_cmp(const void *a, const void *b)
{
    const as_fp_t *x = a, *y = b;
    int c = strcmp(x->fp, y->fp);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/* Alerts of one input with one fingerprint are one alert: the last, as
 * Alertmanager keeps one alert per fingerprint (the same alert firing and
 * resolved in one array was sent as both). */
static void as_alerts_dedupe(cJSON *alerts)
{
    int n = cJSON_GetArraySize(alerts), i = 0;
    if (n < 2)
        return;
    as_fp_t *v = as_xcalloc((size_t)n, sizeof(*v));
    cJSON *a;
    cJSON_ArrayForEach(a, alerts)
    {
        const char *fp = as_json_str(a, "fingerprint");
        v[i] = (as_fp_t){fp ? fp : "", i, a};
        i++;
    }
    qsort(v, (size_t)n, sizeof(*v), as_fp_cmp);
    for (i = 0; i + 1 < n; i++)
        if (strcmp(v[i].fp, v[i + 1].fp) == 0 && v[i].fp[0] != '\0')
            cJSON_Delete(cJSON_DetachItemViaPointer(alerts, v[i].alert));
    free(v);
}

/* A single alert (docs/inputs.md), already validated, in Alertmanager's shape. */
static cJSON *as_alert_wrap(const cJSON *in, const as_payload_opts_t *o, int64_t now)
{
    static const char *const order[] = {"status",      "labels", "annotations",
                                        "startsAt",    "endsAt", "generatorURL",
                                        "fingerprint", "title",  "message"};
    cJSON *a = cJSON_Duplicate(in, 1);
    /* Labels of its own: a non-empty value (Alertmanager drops empty ones,
     * and so does the fingerprint: with only {"team": ""}, two messages
     * shared a fingerprint, and the second was a duplicate of the first). */
    int own_labels = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, as_json_obj(in, "labels"))
    {
        own_labels |= cJSON_IsString(l) && l->valuestring[0] != '\0';
    }
    cJSON_DeleteItemFromObjectCaseSensitive(a, "fingerprint");
    /* An empty title is no title: kept, it stood in the templates' way of
     * falling back to the alertname ("** is firing"). */
    const char *t0 = as_json_str(a, "title");
    if (t0 != NULL && t0[0] == '\0')
        cJSON_DeleteItemFromObjectCaseSensitive(a, "title");
    as_alert_defaults(a, now);
    as_alert_apply(a, o);

    cJSON *ann = as_obj_child(a, "annotations");
    const char *title = as_json_str(a, "title");
    const char *message = as_json_str(a, "message");
    if (title != NULL && *title && as_json_str(ann, "summary") == NULL)
        as_obj_set_str(ann, "summary", title);
    if (message != NULL && *message && as_json_str(ann, "description") == NULL)
        as_obj_set_str(ann, "description", message);
    as_obj_sort(ann);

    cJSON *lab = as_obj_child(a, "labels");
    if (as_json_str(lab, "alertname") == NULL)
        as_obj_set_str(lab, "alertname",
                       title != NULL && *title ? title : AS_PAYLOAD_DEFAULT_ALERTNAME);
    as_obj_sort(lab);
    as_alert_fingerprint(a, own_labels ? NULL : (message != NULL ? message : ""));
    as_obj_order(a, order, sizeof(order) / sizeof(order[0]));
    return a;
}

/* as_group_common() of the alerts of a payload. */
static cJSON *as_common(const cJSON *alerts, const char *field)
{
    size_t n = (size_t)cJSON_GetArraySize(alerts), i = 0;
    const cJSON **v = as_xcalloc(n ? n : 1, sizeof(*v));
    const cJSON *a;
    cJSON_ArrayForEach(a, alerts)
    {
        v[i++] = a;
    }
    cJSON *common = as_group_common(v, n, field);
    free(v);
    return common;
}

static const char *as_payload_status(const cJSON *alerts)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, alerts)
    {
        const char *s = as_json_str(a, "status");
        if (s == NULL || strcmp(s, "firing") == 0)
            return "firing";
    }
    return "resolved";
}

static char *as_group_key(const cJSON *group_labels)
{
    as_buf_t b = AS_BUF_INIT;
    as_buf_puts(&b, "{}:");
    as_labelset_append(&b, group_labels);
    return as_buf_steal(&b);
}

/* A member the payload lacks: the value made only then. */
typedef enum {
    AS_MISSING_RECEIVER,
    AS_MISSING_STATUS,
    AS_MISSING_GROUP_LABELS,
    AS_MISSING_COMMON_LABELS,
    AS_MISSING_COMMON_ANNOTATIONS,
    AS_MISSING_EXTERNAL_URL,
    AS_MISSING_VERSION,
    AS_MISSING_GROUP_KEY,
    AS_MISSING_TRUNCATED,
} as_missing_t;

static cJSON *as_missing_value(cJSON *p, as_missing_t m)
{
    cJSON *alerts = as_json_get(p, "alerts");
    switch (m) {
    case AS_MISSING_RECEIVER:
    case AS_MISSING_EXTERNAL_URL:
        return cJSON_CreateString("");
    case AS_MISSING_STATUS:
        return cJSON_CreateString(as_payload_status(alerts));
    case AS_MISSING_GROUP_LABELS:
        return cJSON_CreateObject();
    case AS_MISSING_COMMON_LABELS:
        return as_common(alerts, "labels");
    case AS_MISSING_COMMON_ANNOTATIONS:
        return as_common(alerts, "annotations");
    case AS_MISSING_VERSION:
        return cJSON_CreateString("4");
    case AS_MISSING_GROUP_KEY: {
        char *key = as_group_key(as_json_obj(p, "groupLabels"));
        cJSON *v = cJSON_CreateString(key);
        free(key);
        return v;
    }
    case AS_MISSING_TRUNCATED:
        return cJSON_CreateNumber(0);
    }
    return cJSON_CreateNull();
}

/* Fill in what the payload lacks; recompute the common sets when the
 * options changed the alerts under them.  Returns whether anything was
 * added or changed. */
static int as_payload_finish(cJSON *p, int changed)
{
    static const struct {
        const char *key;
        as_missing_t what;
    } fields[] = {
        {"receiver", AS_MISSING_RECEIVER},
        {"status", AS_MISSING_STATUS},
        {"groupLabels", AS_MISSING_GROUP_LABELS},
        {"commonLabels", AS_MISSING_COMMON_LABELS},
        {"commonAnnotations", AS_MISSING_COMMON_ANNOTATIONS},
        {"externalURL", AS_MISSING_EXTERNAL_URL},
        {"version", AS_MISSING_VERSION},
        {"groupKey", AS_MISSING_GROUP_KEY},
        {"truncatedAlerts", AS_MISSING_TRUNCATED},
    };
    if (changed) {
        cJSON *alerts = as_json_get(p, "alerts");
        as_json_set(p, "commonLabels", as_common(alerts, "labels"));
        as_json_set(p, "commonAnnotations", as_common(alerts, "annotations"));
    }
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (as_json_has(p, fields[i].key))
            continue;
        cJSON_AddItemToObject(p, fields[i].key, as_missing_value(p, fields[i].what));
        changed = 1;
    }
    return changed;
}

/* An Alertmanager payload: validated, kept as it came, completed.
 * *verbatim: nothing had to be added (the tree is the text). */
static cJSON *as_payload_grouped(cJSON *root, const as_payload_opts_t *o, int *verbatim,
                                 as_err_t *err)
{
    static const as_check_t check = {as_am_fields, 0};
    if (as_check_object(root, NULL, &check, err) != 0) {
        cJSON_Delete(root);
        return NULL;
    }
    int64_t now = o != NULL && o->now_ms != 0 ? o->now_ms : as_now_ms();
    int changed = o != NULL && (as_opts_labels(o) || o->title != NULL);
    cJSON *a;
    cJSON_ArrayForEach(a, as_json_get(root, "alerts"))
    {
        changed |= as_alert_defaults(a, now);
        as_alert_apply(a, o);
        if (as_opts_labels(o) || !as_json_has(a, "fingerprint")) {
            as_alert_fingerprint(a, NULL);
            changed = 1;
        }
    }
    changed = as_payload_finish(root, changed);
    *verbatim = !changed;
    return root;
}

static int as_check_single(const cJSON *a, const as_path_t *path, as_err_t *err)
{
    static const as_check_t check = {as_alert_fields, 1};
    if (as_check_object(a, path, &check, err) != 0)
        return -1;
    const cJSON *labels = as_json_obj(a, "labels");
    const char *title = as_json_str(a, "title"), *message = as_json_str(a, "message");
    if ((labels == NULL || labels->child == NULL) && (title == NULL || !*title) &&
        (message == NULL || !*message)) {
        if (path == NULL)
            return as_err_set(err, "an alert needs labels, a title or a message");
        return as_path_err(err, path, "an alert needs labels, a title or a message");
    }
    return 0;
}

/* Alerts in the single-alert form, as an array: validated and wrapped.
 * prefix_index: name them [i] in errors (an array came), else by key only. */
static cJSON *as_payload_wrap(const cJSON *arr, int prefix_index, const as_payload_opts_t *o,
                              as_err_t *err)
{
    int n = cJSON_GetArraySize(arr), i = 0;
    if (n == 0) {
        as_err_set(err, "expected at least one alert");
        return NULL;
    }
    if (n > AS_PAYLOAD_MAX_ALERTS) {
        as_err_set(err, "more than %d alerts", AS_PAYLOAD_MAX_ALERTS);
        return NULL;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        as_path_t at = {NULL, NULL, i++};
        if (as_check_single(a, prefix_index ? &at : NULL, err) != 0)
            return NULL;
    }
    int64_t now = o != NULL && o->now_ms != 0 ? o->now_ms : as_now_ms();
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "receiver", "");
    cJSON *alerts = cJSON_CreateArray();
    cJSON_ArrayForEach(a, arr)
    {
        cJSON_AddItemToArray(alerts, as_alert_wrap(a, o, now));
    }
    as_alerts_dedupe(alerts);
    cJSON_AddStringToObject(p, "status", as_payload_status(alerts));
    cJSON_AddItemToObject(p, "alerts", alerts);
    cJSON *common = as_common(alerts, "labels");
    cJSON_AddItemToObject(p, "groupLabels", cJSON_Duplicate(common, 1));
    cJSON_AddItemToObject(p, "commonLabels", common);
    cJSON_AddItemToObject(p, "commonAnnotations", as_common(alerts, "annotations"));
    cJSON_AddStringToObject(p, "externalURL", "");
    cJSON_AddStringToObject(p, "version", "4");
    char *key = as_group_key(common);
    cJSON_AddStringToObject(p, "groupKey", key);
    free(key);
    cJSON_AddNumberToObject(p, "truncatedAlerts", 0);
    return p;
}

cJSON *as_payload_parse_opts(as_pool_t *pool, const char *json, size_t len,
                             const as_payload_opts_t *opts, unsigned *flags, as_err_t *err)
{
    if (flags != NULL)
        *flags = 0;
    if (as_payload_opts_check(opts, err) != 0)
        return NULL;
    as_pool_t *prev = as_json_use_pool(pool);
    int ctl = 0, verbatim = 0;
    cJSON *p = NULL, *root = as_json_parse_raw(json, len, &ctl, err);
    if (root == NULL) {
        /* the error is in err */
    } else if (cJSON_IsObject(root) && as_json_has(root, "alerts")) {
        p = as_payload_grouped(root, opts, &verbatim, err);
        if (p != NULL && flags != NULL)
            *flags = AS_SUB_GROUPED | (verbatim && !ctl ? AS_SUB_VERBATIM : 0);
    } else {
        if (cJSON_IsArray(root)) {
            p = as_payload_wrap(root, 1, opts, err);
        } else if (cJSON_IsObject(root)) {
            cJSON *one = cJSON_CreateArray();
            cJSON_AddItemToArray(one, root);
            root = one; /* deleted with it */
            p = as_payload_wrap(one, 0, opts, err);
        } else {
            as_err_set(err,
                       "expected an Alertmanager payload, an alert object or an array of alerts");
        }
        cJSON_Delete(root);
    }
    as_json_use_pool(prev);
    return p;
}

cJSON *as_payload_parse(as_pool_t *pool, const char *json, size_t len, unsigned *flags,
                        as_err_t *err)
{
    return as_payload_parse_opts(pool, json, len, NULL, flags, err);
}

cJSON *as_payload_from_alerts(cJSON *alerts, const char *what, const as_payload_opts_t *opts,
                              as_err_t *err)
{
    as_err_t e;
    cJSON *p = NULL;
    if (as_payload_opts_check(opts, err) != 0) {
        cJSON_Delete(alerts);
        return NULL;
    }
    if (!cJSON_IsArray(alerts))
        as_err_set(&e, "expected an array of alerts");
    else
        p = as_payload_wrap(alerts, cJSON_GetArraySize(alerts) > 1, opts, &e);
    if (p == NULL)
        as_err_set(err, "%s: %s", what, e.msg);
    cJSON_Delete(alerts);
    return p;
}

int as_payload_looks_json(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return i < len && (data[i] == '{' || data[i] == '[');
}

cJSON *as_payload_parse_or_text(as_pool_t *pool, const char *data, size_t len, unsigned *flags,
                                as_err_t *err)
{
    if (as_payload_looks_json(data, len))
        return as_payload_parse_opts(pool, data, len, NULL, flags, err);
    if (flags != NULL)
        *flags = 0;
    as_pool_t *prev = as_json_use_pool(pool);
    cJSON *p = as_payload_from_text(data, len, NULL, err);
    as_json_use_pool(prev);
    return p;
}

cJSON *as_payload_from_text(const char *text, size_t len, const as_payload_opts_t *opts,
                            as_err_t *err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        as_err_set(err, "text: NUL byte at offset %zu", (size_t)(nul - text));
        return NULL;
    }
    while (len > 0 && strchr(" \t\r\n\v\f", text[len - 1]) != NULL)
        len--;
    /* `send --title T </dev/null` says all there is to say. */
    int titled = opts != NULL && opts->title != NULL && *opts->title != '\0';
    if (len == 0 && !titled) {
        as_err_set(err, "text: empty message");
        return NULL;
    }
    cJSON *alerts = cJSON_CreateArray(), *a = cJSON_CreateObject();
    if (len > 0) {
        char *msg = as_utf8_repair(text, len);
        cJSON_AddStringToObject(a, "message", msg);
        free(msg);
    } else {
        cJSON_AddStringToObject(a, "title", opts->title);
    }
    cJSON_AddItemToArray(alerts, a);
    return as_payload_from_alerts(alerts, "text", opts, err);
}
