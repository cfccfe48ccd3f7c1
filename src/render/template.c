/*
 * template.c - the template library, the rendering context and the
 * splitting of long messages (see template.h).
 *
 * The library is a small array of (name, compiled template), the
 * directory's entries first and the built-in ones after them, so that a
 * lookup by name finds the user's template before the default of the same
 * name.  It is searched linearly: a configuration holds a handful.
 *
 * The context copies none of the payload: it is a new object of cJSON
 * references to the payload's members, under the payload's own keys, and
 * each alert is a new object of references to the alert's members, to
 * which the extras are added.  "firing" and "resolved" refer to those.
 * Building it for 30 alerts is then a few hundred small nodes, not a deep
 * copy of thousands; the price is that it must go before the payload.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alertsink/mem.h"
#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "render/template.h"

#define AS_TPL_SUFFIX   ".mustache"
#define AS_TPL_MAX_SIZE (1024 * 1024)

typedef struct {
    const char *name;
    as_mustache_t *t;
    int builtin;
} as_tpl_entry_t;

struct as_tpl_lib_s {
    as_tpl_entry_t *v;
    size_t n;
};

static void as_tpl_lib_free(void *data)
{
    as_tpl_lib_t *lib = data;
    for (size_t i = 0; i < lib->n; i++)
        as_mustache_free(lib->v[i].t);
    free(lib->v);
}

static void as_tpl_lib_add(as_tpl_lib_t *lib, const char *name, as_mustache_t *t, int builtin)
{
    lib->v = as_xrealloc(lib->v, (lib->n + 1) * sizeof(*lib->v));
    lib->v[lib->n++] = (as_tpl_entry_t){name, t, builtin};
}

static int as_tpl_by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read and compile one file of the directory; errors go to cf. */
static as_mustache_t *as_tpl_load_file(as_conf_t *cf, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        as_conf_error(cf, NULL, "%s: %s", path, strerror(errno));
        return NULL;
    }
    as_buf_t b = AS_BUF_INIT;
    int rc = as_buf_read(&b, fp, AS_TPL_MAX_SIZE), error = errno;
    fclose(fp);
    as_mustache_t *t = NULL;
    as_err_t err;
    if (rc < 0 && error == EFBIG)
        as_conf_error(cf, NULL, "%s: larger than %d bytes", path, AS_TPL_MAX_SIZE);
    else if (rc < 0)
        as_conf_error(cf, NULL, "%s: %s", path, strerror(error));
    else if (!as_utf8_valid(b.data ? b.data : "", b.len))
        as_conf_error(cf, NULL, "%s: not valid UTF-8", path);
    else if ((t = as_mustache_compile(b.data ? b.data : "", b.len, path, &err)) == NULL)
        as_conf_error(cf, NULL, "%s", err.msg);
    as_buf_free(&b);
    return t;
}

static int as_tpl_load_dir(as_conf_t *cf, as_pool_t *pool, as_tpl_lib_t *lib, const char *dir,
                           const as_node_t *at)
{
    DIR *d = opendir(dir);
    if (d == NULL && errno == ENOENT) {
        /* Not an error: a template the configuration names and only this
         * directory could hold is reported missing by whoever asks for it. */
        as_log(AS_LOG_WARN, "templates.dir does not exist: built-in templates only",
               AS_S("dir", dir));
        return 0;
    }
    if (d == NULL) {
        as_conf_error(cf, at, "templates.dir '%s': %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name), slen = strlen(AS_TPL_SUFFIX);
        if (len <= slen || de->d_name[0] == '.' ||
            strcmp(de->d_name + len - slen, AS_TPL_SUFFIX) != 0)
            continue;
        names = as_xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = as_xstrndup(de->d_name, len - slen);
    }
    closedir(d);
    /* Sorted, so that errors come out in the same order every time (an
     * empty folder: names is NULL, which qsort must not be given). */
    if (n > 1)
        qsort(names, n, sizeof(*names), as_tpl_by_name);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char *path = as_psprintf(pool, "%s/%s%s", dir, names[i], AS_TPL_SUFFIX);
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
            free(names[i]);
            continue;
        }
        as_mustache_t *t = as_tpl_load_file(cf, path);
        if (t == NULL)
            rc = -1;
        else
            as_tpl_lib_add(lib, as_pstrdup(pool, names[i]), t, 0);
        free(names[i]);
    }
    free(names);
    return rc;
}

as_tpl_lib_t *as_tpl_lib_load(as_conf_t *cf, as_pool_t *pool, const char *dir, const as_node_t *at,
                              const as_template_src_t *const *shipped, size_t nshipped)
{
    as_tpl_lib_t *lib = as_palloc(pool, sizeof(*lib));
    as_pool_cleanup(pool, as_tpl_lib_free, lib);
    int rc = dir != NULL ? as_tpl_load_dir(cf, pool, lib, dir, at) : 0;
    for (size_t i = 0; i < nshipped; i++)
        for (const as_template_src_t *b = shipped[i]; b && b->name; b++) {
            as_err_t err;
            as_mustache_t *t = as_mustache_compile(b->text, strlen(b->text), b->name, &err);
            if (t == NULL) {
                as_conf_error(cf, NULL, "built-in template %s", err.msg);
                rc = -1;
                continue;
            }
            as_tpl_lib_add(lib, b->name, t, 1);
        }
    return rc == 0 ? lib : NULL;
}

static const as_tpl_entry_t *as_tpl_lib_find(const as_tpl_lib_t *lib, const char *name)
{
    for (size_t i = 0; lib && i < lib->n; i++)
        if (strcmp(lib->v[i].name, name) == 0)
            return &lib->v[i];
    return NULL;
}

const as_mustache_t *as_tpl_lib_get(const as_tpl_lib_t *lib, const char *name)
{
    const as_tpl_entry_t *e = as_tpl_lib_find(lib, name);
    return e ? e->t : NULL;
}

const as_mustache_t *as_tpl_lib_get_html(const as_tpl_lib_t *lib, const char *name)
{
    const as_tpl_entry_t *text = as_tpl_lib_find(lib, name);
    char html[256];
    if (text == NULL || snprintf(html, sizeof(html), "%s.html", name) >= (int)sizeof(html))
        return NULL;
    /* The directory's entries come first: a built-in one found here means
     * the directory has none. */
    const as_tpl_entry_t *e = as_tpl_lib_find(lib, html);
    return e && (!e->builtin || text->builtin) ? e->t : NULL;
}

static const as_mustache_t *as_tpl_partial(void *data, const char *name)
{
    return as_tpl_lib_get(data, name);
}

int as_tpl_render_into(const as_tpl_lib_t *lib, const as_mustache_t *t, const cJSON *ctx,
                       int escape, as_buf_t *out, as_err_t *err)
{
    as_err_t why;
    if (as_mustache_render(t, ctx, as_tpl_partial, (void *)lib, escape, out, &why) < 0)
        return as_err_set(err, "template %s: %s", as_mustache_name(t), why.msg);
    return 0;
}

char *as_tpl_render(const as_tpl_lib_t *lib, const as_mustache_t *t, const cJSON *ctx, int escape,
                    as_err_t *err)
{
    as_buf_t out = AS_BUF_INIT;
    if (as_tpl_render_into(lib, t, ctx, escape, &out, err) < 0) {
        /* What rendered before the stop is cut short: not a message to send. */
        as_buf_free(&out);
        return NULL;
    }
    return as_buf_steal(&out);
}

/* --- templates a module compiles itself (alertsink/sink.h) ------------------------- */

as_template_t *as_template_compile(const char *src, const char *where, as_err_t *err)
{
    if (src == NULL || !as_utf8_valid(src, strlen(src))) {
        as_err_set(err, "%s: not valid UTF-8", where ? where : "template");
        return NULL;
    }
    return (as_template_t *)as_mustache_compile(src, strlen(src), where ? where : "template", err);
}

void as_template_free(as_template_t *t)
{
    as_mustache_free((as_mustache_t *)t);
}

char *as_template_render(const as_template_t *t, const as_notification_t *n, int escape,
                         as_err_t *err)
{
    return as_tpl_render(n->core, (const as_mustache_t *)t, n->context, escape, err);
}

/* ---------------------------------------------------------------------- */
/* The context                                                             */

/* RFC 3339 as Alertmanager writes it (fractions of seconds, Z or an
 * offset) into seconds and nanoseconds since the epoch.  Returns -1 when
 * malformed, 0 for a time in the year 1 or before (Go's zero time is
 * Alertmanager's "not set"), 1 when set. */
static int as_tpl_time(const char *s, int64_t *sec, int32_t *nsec)
{
    /* 0002-01-01T00:00:00Z: the end of the year 1. */
    if (s == NULL || as_rfc3339_parse_ns(s, sec, nsec) < 0)
        return -1;
    return *sec >= -62104060800LL ? 1 : 0;
}

/* Extras are added under constant keys (cJSON does not copy them), and
 * never where the alert has the key already. */
static void as_tpl_add_string(cJSON *obj, const char *key, const char *value)
{
    if (as_json_get(obj, key) == NULL)
        cJSON_AddItemToObjectCS(obj, key, cJSON_CreateString(value));
}

static void as_tpl_add_time(cJSON *alert, const char *key, int64_t sec)
{
    char buf[40];
    if (as_time_format(sec * 1000, AS_TIME_HUMAN, buf, sizeof(buf)) > 0)
        as_tpl_add_string(alert, key, buf);
}

static char *as_tpl_unit(char *o, long long v, char unit)
{
    o += as_int_text(o, v);
    *o++ = unit;
    return o;
}

/* "45s", "4m 3s", "2h 5m", "3d 4h": the two largest units, the second
 * left out when 0; without printf (it runs for every alert rendered). */
void as_tpl_duration(long long s, char *buf, size_t len)
{
    static const struct {
        long long size;
        char unit;
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    char tmp[2 * AS_INT_TEXT + 4], *o = tmp;
    if (s < 0)
        s = 0;
    size_t u = 0;
    while (u < 3 && s < units[u].size)
        u++;
    o = as_tpl_unit(o, s / units[u].size, units[u].unit);
    if (u < 3 && s % units[u].size / units[u + 1].size != 0) {
        *o++ = ' ';
        o = as_tpl_unit(o, s % units[u].size / units[u + 1].size, units[u + 1].unit);
    }
    *o = '\0';
    as_str_copy(buf, len, tmp);
}

static void as_tpl_add_duration(cJSON *alert, long long s)
{
    char buf[64];
    if (s < 0)
        return;
    as_tpl_duration(s, buf, sizeof(buf));
    as_tpl_add_string(alert, "duration", buf);
}

/* [{"name","value"}] of the string members of obj but the skipped keys. */
static void as_tpl_add_pairs(cJSON *alert, const char *key, const cJSON *obj,
                             const char *const *skip)
{
    if (as_json_get(alert, key) != NULL)
        return;
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToObjectCS(alert, key, list);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, obj)
    {
        int skipped = !cJSON_IsString(kv) || kv->string == NULL;
        for (const char *const *s = skip; *s && !skipped; s++)
            skipped = strcmp(kv->string, *s) == 0;
        if (skipped)
            continue;
        /* The strings are the context's own copy: refer to them. */
        cJSON *pair = cJSON_CreateObject();
        cJSON_AddItemToObjectCS(pair, "name", cJSON_CreateStringReference(kv->string));
        cJSON_AddItemToObjectCS(pair, "value", cJSON_CreateStringReference(kv->valuestring));
        cJSON_AddItemToArray(list, pair);
    }
}

static const char *as_tpl_nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static void as_tpl_alert_extras(cJSON *alert, int resolved)
{
    static const char *const skip_labels[] = {"alertname", NULL};
    static const char *const skip_annotations[] = {"summary", "description", "title", NULL};
    const cJSON *labels = as_json_obj(alert, "labels");
    const cJSON *annotations = as_json_obj(alert, "annotations");
    const char *title = as_tpl_nonempty(as_json_str(labels, "alertname"));
    if (title == NULL)
        title = as_tpl_nonempty(as_json_str(annotations, "title"));
    if (title == NULL)
        title = as_tpl_nonempty(as_json_str(annotations, "summary"));
    as_tpl_add_string(alert, "title", title ? title : "alert");

    int64_t start = 0, end = 0;
    int32_t start_ns = 0, end_ns = 0;
    int has_start = as_tpl_time(as_json_str(alert, "startsAt"), &start, &start_ns) > 0;
    int has_end = resolved && as_tpl_time(as_json_str(alert, "endsAt"), &end, &end_ns) > 0;
    if (has_start)
        as_tpl_add_time(alert, "since", start);
    if (has_end)
        as_tpl_add_time(alert, "resolvedAt", end);
    if (has_start && has_end) {
        /* Whole seconds between the two instants, cut toward zero; in
         * seconds, as nanoseconds overflow past 292 years. */
        int64_t secs = end - start;
        int32_t dn = end_ns - start_ns;
        if (secs > 0 && dn < 0)
            secs--;
        else if (secs < 0 && dn > 0)
            secs++;
        as_tpl_add_duration(alert, secs);
    }
    as_tpl_add_pairs(alert, "otherLabels", labels, skip_labels);
    as_tpl_add_pairs(alert, "otherAnnotations", annotations, skip_annotations);
}

/* The group's title: the common alertname, else every distinct one. */
static void as_tpl_add_title(cJSON *ctx, const cJSON *alerts)
{
    if (as_json_get(ctx, "title") != NULL)
        return;
    const char *common =
        as_tpl_nonempty(as_json_str(as_json_obj(ctx, "commonLabels"), "alertname"));
    if (common) {
        as_tpl_add_string(ctx, "title", common);
        return;
    }
    as_buf_t b = AS_BUF_INIT;
    const cJSON *a, *prev;
    cJSON_ArrayForEach(a, alerts)
    {
        const char *name = as_tpl_nonempty(as_json_str(as_json_obj(a, "labels"), "alertname"));
        int seen = name == NULL;
        for (prev = alerts->child; prev != a && !seen; prev = prev->next) {
            const char *p = as_json_str(as_json_obj(prev, "labels"), "alertname");
            seen = p && strcmp(p, name) == 0;
        }
        if (seen)
            continue;
        if (b.len)
            as_buf_puts(&b, ", ");
        as_buf_puts(&b, name);
    }
    if (b.len == 0 && alerts && alerts->child)
        as_buf_puts(&b, as_json_str(alerts->child, "title"));
    as_tpl_add_string(ctx, "title", b.len ? b.data : "alert");
    as_buf_free(&b);
}

/* The keys of the payload the context computes (they replace the
 * payload's own, if it has them); "alerts" only when it is a list. */
static const char *const as_tpl_computed[] = {"alerts", "firing", "resolved", "firingCount",
                                              "resolvedCount"};

static int as_tpl_is_computed(const char *key, int alerts)
{
    for (size_t i = alerts ? 0 : 1; i < sizeof(as_tpl_computed) / sizeof(*as_tpl_computed); i++)
        if (strcmp(key, as_tpl_computed[i]) == 0)
            return 1;
    return 0;
}

/* A new object with references to the members of obj (with top set, but
 * the computed keys), under obj's own keys (not copied either). */
static cJSON *as_tpl_shallow(const cJSON *obj, int top, int alerts)
{
    cJSON *copy = cJSON_CreateObject();
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        if (m->string && !(top && as_tpl_is_computed(m->string, alerts)))
            cJSON_AddItemToObjectCS(copy, m->string, as_json_ref(m));
    }
    return copy;
}

cJSON *as_tpl_context(const cJSON *payload)
{
    const cJSON *palerts = as_json_arr(payload, "alerts"), *a;
    cJSON *ctx = as_tpl_shallow(cJSON_IsObject(payload) ? payload : NULL, 1, palerts != NULL);
    cJSON *alerts = cJSON_CreateArray(), *firing = cJSON_CreateArray();
    cJSON *resolved = cJSON_CreateArray();
    int nfiring = 0, nresolved = 0;
    cJSON_ArrayForEach(a, palerts)
    {
        if (!cJSON_IsObject(a)) {
            cJSON_AddItemToArray(alerts, as_json_ref(a));
            continue;
        }
        cJSON *w = as_tpl_shallow(a, 0, 0);
        const char *status = as_json_str(w, "status");
        int is_resolved = status && strcmp(status, "resolved") == 0;
        as_tpl_alert_extras(w, is_resolved);
        cJSON_AddItemToArray(alerts, w);
        /* w is complete: the reference shares its list of members */
        cJSON_AddItemToArray(is_resolved ? resolved : firing,
                             cJSON_CreateObjectReference(w->child));
        if (is_resolved)
            nresolved++;
        else
            nfiring++;
    }
    if (palerts)
        cJSON_AddItemToObjectCS(ctx, "alerts", alerts);
    else
        cJSON_Delete(alerts);
    cJSON_AddItemToObjectCS(ctx, "firing", firing);
    cJSON_AddItemToObjectCS(ctx, "resolved", resolved);
    cJSON_AddItemToObjectCS(ctx, "firingCount", cJSON_CreateNumber(nfiring));
    cJSON_AddItemToObjectCS(ctx, "resolvedCount", cJSON_CreateNumber(nresolved));
    as_tpl_add_title(ctx, palerts ? alerts : NULL);
    return ctx;
}

/* Two firing alerts as Alertmanager sends them (the shape of the fixture
 * tests/fixtures/alertmanager-0.25/firing-group-2.json): every field a
 * template may use is there, with an annotation of each kind, a
 * generatorURL empty and one set. */
static const char as_tpl_sample_json[] =
    "{\"receiver\":\"sample\",\"status\":\"firing\",\"alerts\":["
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"DiskFull\",\"cluster\":\"prod\","
    "\"instance\":\"db1:9100\",\"severity\":\"critical\"},\"annotations\":{\"description\":"
    "\"Only 3% left on /var\",\"summary\":\"Disk almost full on db1\",\"runbook\":"
    "\"https://runbooks.example/disk\"},\"startsAt\":\"2026-11-24T13:46:31.697740356Z\","
    "\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"\",\"fingerprint\":"
    "\"e053a12065c4882d\"},"
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"DiskFull\",\"cluster\":\"prod\","
    "\"instance\":\"db2:9100\",\"severity\":\"warning\"},\"annotations\":{\"summary\":"
    "\"Disk filling on db2\"},\"startsAt\":\"2026-11-24T13:46:31.71436439Z\",\"endsAt\":"
    "\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://prom.example:9090/graph\","
    "\"fingerprint\":\"007974ad92d6ff43\"}],"
    "\"groupLabels\":{\"alertname\":\"DiskFull\",\"cluster\":\"prod\"},\"commonLabels\":"
    "{\"alertname\":\"DiskFull\",\"cluster\":\"prod\"},\"commonAnnotations\":{},"
    "\"externalURL\":\"http://alertmanager.example:9093\",\"version\":\"4\",\"groupKey\":"
    "\"{}:{alertname=\\\"DiskFull\\\", cluster=\\\"prod\\\"}\",\"truncatedAlerts\":0}";

cJSON *as_tpl_sample(void)
{
    cJSON *p = cJSON_Parse(as_tpl_sample_json);
    if (p == NULL)
        abort(); /* the text is constant and valid: only memory can fail (see pool.h) */
    return p;
}

/* ---------------------------------------------------------------------- */
/* Splitting                                                               */

/* How many bytes of s make the next part's body: whole lines up to room,
 * or, for a longer line, as much of it as fits without cutting a
 * character. */
static size_t as_tpl_chunk(const char *s, size_t len, size_t room)
{
    if (len <= room)
        return len;
    const char *nl = memrchr(s, '\n', room);
    if (nl != NULL)
        return (size_t)(nl - s) + 1;
    size_t k = room;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--;
    return k > 0 ? k : room; /* k == 0 only for bytes that are not UTF-8 */
}

static size_t as_tpl_count(const char *s, size_t len, size_t room)
{
    size_t n = 0;
    while (len > 0) {
        size_t k = as_tpl_chunk(s, len, room);
        s += k;
        len -= k;
        n++;
    }
    return n;
}

static size_t as_tpl_digits(size_t n)
{
    size_t d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

/* The number of parts for a body, and the room each has for it, given the
 * header's length (0: none); 0 when not even one character fits. */
static size_t as_tpl_plan(const char *body, size_t blen, size_t max, size_t hlen, size_t *room)
{
    /* The room depends on the width of "(i/n) ", which depends on n: try
     * one digit, then more until n fits. */
    for (size_t digits = 1; digits < 20; digits++) {
        size_t overhead = 2 * digits + 4 + hlen; /* "(i/n) " */
        if (max < overhead + 4)                  /* a 4-byte character must fit */
            return 0;
        *room = max - overhead;
        size_t n = as_tpl_count(body, blen, *room);
        if (as_tpl_digits(n) <= digits)
            return n;
    }
    return 0;
}

size_t as_tpl_split(const char *text, size_t max, char ***parts)
{
    size_t len = strlen(text);
    if (max == 0 || len <= max) {
        *parts = as_xmalloc(sizeof(char *));
        (*parts)[0] = as_xstrdup(text);
        return 1;
    }
    const char *nl = memchr(text, '\n', len);
    size_t hlen = nl ? (size_t)(nl - text) : 0, room = 0, n = 0;
    const char *body = text;
    if (nl != NULL && hlen <= max / 2) {
        body = nl + 1;
        n = as_tpl_plan(body, len - hlen - 1, max, hlen + 1, &room);
    }
    if (n == 0) { /* no header, or no room left beside it */
        body = text;
        hlen = 0;
        n = as_tpl_plan(body, len, max, 0, &room);
    }
    if (n == 0) { /* max is too small for anything: one character a part */
        room = 4;
        n = as_tpl_count(body, len, room);
    }
    size_t blen = len - (size_t)(body - text);
    int header = body != text;
    char **v = as_xmalloc(n * sizeof(char *));
    as_buf_t b = AS_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        size_t k = as_tpl_chunk(body, blen, room);
        as_buf_printf(&b, "(%zu/%zu) ", i + 1, n);
        if (header) {
            as_buf_append(&b, text, hlen);
            as_buf_putc(&b, '\n');
        }
        as_buf_append(&b, body, k);
        v[i] = as_buf_steal(&b);
        body += k;
        blen -= k;
    }
    *parts = v;
    return n;
}

void as_tpl_parts_free(char **parts, size_t n)
{
    for (size_t i = 0; parts && i < n; i++)
        free(parts[i]);
    free(parts);
}
