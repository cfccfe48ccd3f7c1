/*
 * test_template.c - the template library, the context of docs/templates.md and
 * the default templates, checked against every Alertmanager fixture, and
 * the splitting of long messages into numbered parts.
 *
 * The default templates are checked by content (every alertname,
 * instance, summary and description there, no Mustache left over, HTML
 * escaped where it must be) rather than against a copy of their output,
 * so that they can be reworded without rewriting the tests.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "alertsink/mem.h"
#include "conf/module.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "render/template.h"

static const char *const fixtures[] = {"firing-group-2.json", "firing-group-30.json",
                                       "mixed-resolved-firing.json", "resolved.json"};
#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        fail_msg("cannot read %s", path);
    as_buf_t b = AS_BUF_INIT;
    as_buf_read(&b, fp, 0);
    fclose(fp);
    if (len)
        *len = b.len;
    return as_buf_steal(&b);
}

static cJSON *load_fixture(const char *name)
{
    const char *data = getenv("AS_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof(path), "%s/fixtures/alertmanager-0.25/%s", data ? data : "tests", name);
    size_t len;
    char *text = read_file(path, &len);
    as_err_t err;
    cJSON *p = as_json_parse(text, len, &err);
    free(text);
    if (p == NULL)
        fail_msg("%s: %s", name, err.msg);
    return p;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += len)
        n++;
    return n;
}

static void assert_contains(const char *text, const char *what, const char *where)
{
    if (strstr(text, what) == NULL)
        fail_msg("%s lacks '%s':\n%s", where, what, text);
}

/* ---------------------------------------------------------------------- */
/* The library                                                             */

/* The templates the built-in sinks ship, as a cycle collects them. */
static size_t shipped(const as_template_src_t **out)
{
    as_modset_t mods;
    as_modset_init(&mods);
    size_t n = 0;
    for (size_t i = 0; i < mods.n; i++)
        if (mods.v[i]->templates != NULL)
            out[n++] = mods.v[i]->templates;
    return n;
}

static as_tpl_lib_t *load(as_pool_t *pool, const char *dir, as_conf_t *cf)
{
    const as_template_src_t *tables[AS_MODULES_MAX];
    size_t n = shipped(tables);
    as_conf_init(cf, pool);
    return as_tpl_lib_load(cf, pool, dir, NULL, tables, n);
}

static void test_builtins(void **state)
{
    static const char *const names[] = {"whatsapp", "whatsapp_cloud", "whatsapp_cloud.alert",
                                        "email",    "email.html",     "email.subject",
                                        "file"};
    as_pool_t *pool = as_pool_create();
    as_conf_t cf;
    as_tpl_lib_t *lib = load(pool, NULL, &cf);
    assert_non_null(lib);
    assert_int_equal(as_conf_errors(&cf), 0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_non_null(as_tpl_lib_get(lib, names[i]));
    assert_null(as_tpl_lib_get(lib, "nonexistent"));

    /* One source of truth: what the sinks ship is templates/NAME.mustache. */
    const char *src = getenv("AS_SOURCE_DIR");
    const as_template_src_t *tables[AS_MODULES_MAX];
    size_t ntables = shipped(tables), nbuiltin = 0;
    for (size_t i = 0; i < ntables; i++)
        for (const as_template_src_t *b = tables[i]; b->name; b++, nbuiltin++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/templates/%s.mustache", src ? src : ".", b->name);
            size_t len;
            char *text = read_file(path, &len);
            assert_int_equal(len, strlen(b->text));
            assert_memory_equal(text, b->text, len);
            free(text);
        }
    assert_int_equal(nbuiltin, 7);
    as_conf_free_errors(&cf);
    as_pool_destroy(pool);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void test_directory(void **state)
{
    char dir[] = "/tmp/as_tpl_XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "whatsapp.mustache", "mine: {{>footer}}");
    write_file(dir, "footer.mustache", "{{title}} ({{firingCount}})");
    write_file(dir, "notes.txt", "{{#not a template");
    write_file(dir, "report.mustache", "text");
    write_file(dir, "report.html.mustache", "<p>html</p>");
    as_pool_t *pool = as_pool_create();
    as_conf_t cf;
    as_tpl_lib_t *lib = load(pool, dir, &cf);
    assert_non_null(lib);
    assert_int_equal(as_conf_errors(&cf), 0);

    /* The directory's template wins over the built-in one of its name,
     * and partials resolve through the library. */
    cJSON *p = load_fixture("firing-group-2.json");
    cJSON *ctx = as_tpl_context(p);
    char *out = as_tpl_render(lib, as_tpl_lib_get(lib, "whatsapp"), ctx, 0, NULL);
    assert_string_equal(out, "mine: DiskFull (2)");
    free(out);
    assert_non_null(as_tpl_lib_get(lib, "email"));
    /* HTML parts: the built-in email.html goes with the built-in email
     * only; the directory's NAME.html goes with its NAME. */
    assert_ptr_equal(as_tpl_lib_get_html(lib, "email"), as_tpl_lib_get(lib, "email.html"));
    assert_null(as_tpl_lib_get_html(lib, "whatsapp"));
    assert_ptr_equal(as_tpl_lib_get_html(lib, "report"), as_tpl_lib_get(lib, "report.html"));
    assert_non_null(as_tpl_lib_get(lib, "report.html"));
    assert_null(as_tpl_lib_get_html(lib, "nonexistent"));
    cJSON_Delete(ctx);
    cJSON_Delete(p);
    as_conf_free_errors(&cf);
    as_pool_destroy(pool);

    /* Every broken file is reported, FILE:LINE:COL, and the load fails. */
    write_file(dir, "bad.mustache", "line one\n  {{#open}}\n");
    write_file(dir, "worse.mustache", "{{/close}}");
    pool = as_pool_create();
    lib = load(pool, dir, &cf);
    assert_null(lib);
    assert_int_equal(as_conf_errors(&cf), 2);
    char expected[4200];
    snprintf(expected, sizeof(expected), "%s/bad.mustache:2:3: unclosed section 'open'", dir);
    assert_string_equal(cf.errors[0], expected);
    snprintf(expected, sizeof(expected),
             "%s/worse.mustache:1:1: closing tag 'close' without an open section", dir);
    assert_string_equal(cf.errors[1], expected);
    as_conf_free_errors(&cf);
    as_pool_destroy(pool);
    remove_dir(dir);

    /* A directory's email without email.html: no HTML template, so the
     * HTML part falls back to the text (never the built-in HTML). */
    strcpy(dir, "/tmp/as_tpl_XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file(dir, "email.mustache", "{{title}}");
    pool = as_pool_create();
    lib = load(pool, dir, &cf);
    assert_non_null(lib);
    assert_null(as_tpl_lib_get_html(lib, "email"));
    assert_non_null(as_tpl_lib_get(lib, "email.html"));
    as_conf_free_errors(&cf);
    as_pool_destroy(pool);
    remove_dir(dir);

    /* A directory that does not exist leaves the built-ins (and a
     * warning); one that is not a directory is an error. */
    pool = as_pool_create();
    lib = load(pool, "/nonexistent/templates", &cf);
    assert_non_null(lib);
    assert_int_equal(as_conf_errors(&cf), 0);
    assert_non_null(as_tpl_lib_get(lib, "whatsapp"));
    as_pool_destroy(pool);
    pool = as_pool_create();
    assert_null(load(pool, "/dev/null", &cf));
    assert_int_equal(as_conf_errors(&cf), 1);
    assert_string_equal(cf.errors[0], "templates.dir '/dev/null': Not a directory");
    as_conf_free_errors(&cf);
    as_pool_destroy(pool);
}

/* ---------------------------------------------------------------------- */
/* The context                                                             */

static void test_context(void **state)
{
    for (size_t f = 0; f < NFIXTURES; f++) {
        cJSON *p = load_fixture(fixtures[f]);
        char *before = as_json_print(p);
        cJSON *ctx = as_tpl_context(p);
        char *after = as_json_print(p);
        assert_string_equal(before, after); /* the payload is left alone */

        /* everything of the payload is there as it came */
        const cJSON *kv;
        cJSON_ArrayForEach(kv, p)
        {
            if (strcmp(kv->string, "alerts") == 0)
                continue;
            assert_true(cJSON_Compare(kv, cJSON_GetObjectItemCaseSensitive(ctx, kv->string), 1));
        }
        const cJSON *alerts = as_json_arr(p, "alerts"), *a;
        const cJSON *calerts = as_json_arr(ctx, "alerts");
        assert_int_equal(cJSON_GetArraySize(alerts), cJSON_GetArraySize(calerts));
        int nfiring = 0, nresolved = 0, i = 0;
        cJSON_ArrayForEach(a, alerts)
        {
            const cJSON *ca = cJSON_GetArrayItem(calerts, i++);
            /* the alert's own members, unchanged */
            cJSON_ArrayForEach(kv, a)
                assert_true(cJSON_Compare(kv, cJSON_GetObjectItemCaseSensitive(ca, kv->string), 1));
            int resolved = strcmp(as_json_str(a, "status"), "resolved") == 0;
            resolved ? nresolved++ : nfiring++;
            /* the extras */
            assert_string_equal(as_json_str(ca, "title"),
                                as_json_str(as_json_obj(a, "labels"), "alertname"));
            const char *since = as_json_str(ca, "since");
            assert_non_null(since);
            assert_int_equal(strlen(since), strlen("2026-11-24 13:46:31 UTC"));
            assert_memory_equal(since, as_json_str(a, "startsAt"), 10);
            assert_memory_equal(since + 11, as_json_str(a, "startsAt") + 11, 8);
            if (resolved) {
                const char *at = as_json_str(ca, "resolvedAt");
                assert_non_null(at);
                assert_memory_equal(at + 11, as_json_str(a, "endsAt") + 11, 8);
                assert_non_null(as_json_str(ca, "duration"));
            } else {
                assert_null(cJSON_GetObjectItem(ca, "resolvedAt"));
                assert_null(cJSON_GetObjectItem(ca, "duration"));
            }
            const cJSON *other = as_json_arr(ca, "otherLabels");
            assert_int_equal(cJSON_GetArraySize(other),
                             cJSON_GetArraySize(as_json_obj(a, "labels")) - 1);
            const cJSON *pair;
            cJSON_ArrayForEach(pair, other)
            {
                const char *name = as_json_str(pair, "name");
                assert_string_not_equal(name, "alertname");
                assert_string_equal(as_json_str(pair, "value"),
                                    as_json_str(as_json_obj(a, "labels"), name));
            }
        }
        assert_int_equal(as_json_num(ctx, "firingCount", -1), nfiring);
        assert_int_equal(as_json_num(ctx, "resolvedCount", -1), nresolved);
        assert_int_equal(cJSON_GetArraySize(as_json_arr(ctx, "firing")), nfiring);
        assert_int_equal(cJSON_GetArraySize(as_json_arr(ctx, "resolved")), nresolved);
        const cJSON *x;
        cJSON_ArrayForEach(x, as_json_arr(ctx, "firing"))
            assert_string_equal(as_json_str(x, "status"), "firing");
        cJSON_ArrayForEach(x, as_json_arr(ctx, "resolved"))
            assert_string_equal(as_json_str(x, "status"), "resolved");
        assert_string_equal(as_json_str(ctx, "title"),
                            as_json_str(as_json_obj(p, "commonLabels"), "alertname"));
        cJSON_free(before);
        cJSON_free(after);
        cJSON_Delete(ctx);
        cJSON_Delete(p);
    }
}

static void test_context_extras(void **state)
{
    cJSON *p = cJSON_Parse(
        "{\"status\":\"resolved\",\"commonLabels\":{},\"alerts\":["
        "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"A\"},\"annotations\":{},"
        "\"startsAt\":\"2026-01-01T10:00:00.9+03:00\",\"endsAt\":\"2026-01-01T09:05:30Z\"},"
        "{\"status\":\"firing\",\"labels\":{\"alertname\":\"B\"},\"annotations\":{},"
        "\"startsAt\":\"0001-01-01T00:00:00Z\",\"since\":\"mine\"},"
        "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"}},"
        "{\"status\":\"firing\",\"labels\":{},\"annotations\":{\"summary\":\"disk full\"},"
        "\"startsAt\":\"garbage\"}]}");
    cJSON *ctx = as_tpl_context(p);
    const cJSON *alerts = as_json_arr(ctx, "alerts");
    const cJSON *a0 = cJSON_GetArrayItem(alerts, 0), *a1 = cJSON_GetArrayItem(alerts, 1);
    const cJSON *a3 = cJSON_GetArrayItem(alerts, 3);
    assert_string_equal(as_json_str(a0, "since"), "2026-01-01 07:00:00 UTC");
    assert_string_equal(as_json_str(a0, "resolvedAt"), "2026-01-01 09:05:30 UTC");
    assert_string_equal(as_json_str(a0, "duration"), "2h 5m");
    assert_string_equal(as_json_str(a1, "since"), "mine"); /* never replaced */
    assert_null(cJSON_GetObjectItem(a3, "since"));
    assert_string_equal(as_json_str(a3, "title"), "disk full");
    /* no common alertname: the distinct ones, in order */
    assert_string_equal(as_json_str(ctx, "title"), "A, B");
    assert_int_equal(as_json_num(ctx, "firingCount", -1), 3);
    cJSON_Delete(ctx);
    cJSON_Delete(p);

    /* not an object, or no alerts: still a context */
    ctx = as_tpl_context(NULL);
    assert_int_equal(as_json_num(ctx, "firingCount", -1), 0);
    assert_int_equal(cJSON_GetArraySize(as_json_arr(ctx, "resolved")), 0);
    cJSON_Delete(ctx);
}

/* ---------------------------------------------------------------------- */
/* The default templates                                                   */

typedef struct {
    as_pool_t *pool;
    as_tpl_lib_t *lib;
} lib_state_t;

static int lib_setup(void **state)
{
    lib_state_t *s = calloc(1, sizeof(*s));
    as_conf_t cf;
    s->pool = as_pool_create();
    s->lib = load(s->pool, NULL, &cf);
    as_conf_free_errors(&cf);
    *state = s;
    return s->lib ? 0 : -1;
}

static int lib_teardown(void **state)
{
    lib_state_t *s = *state;
    as_pool_destroy(s->pool);
    free(s);
    return 0;
}

static char *render(const lib_state_t *s, const char *name, const cJSON *ctx, int escape)
{
    const as_mustache_t *t = as_tpl_lib_get(s->lib, name);
    assert_non_null(t);
    as_err_t err = {""};
    char *out = as_tpl_render(s->lib, t, ctx, escape, &err);
    if (out == NULL)
        fail_msg("%s did not render: %s", name, err.msg);
    if (strstr(out, "{{") || strstr(out, "}}"))
        fail_msg("%s left Mustache in its output:\n%s", name, out);
    assert_true(as_utf8_valid(out, strlen(out)));
    return out;
}

/* What every rendering must say about every alert. */
static void assert_alerts_told(const char *out, const cJSON *payload, const char *where, int html)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, as_json_arr(payload, "alerts"))
    {
        const cJSON *labels = as_json_obj(a, "labels"), *ann = as_json_obj(a, "annotations");
        assert_contains(out, as_json_str(labels, "alertname"), where);
        assert_contains(out, as_json_str(labels, "instance"), where);
        assert_contains(out, as_json_str(ann, "summary"), where);
        if (as_json_str(ann, "description"))
            assert_contains(out, as_json_str(ann, "description"), where);
        const cJSON *kv;
        cJSON_ArrayForEach(kv, labels) assert_contains(out, kv->valuestring, where);
        const char *url = as_json_str(a, "generatorURL");
        if (url && *url && !html)
            assert_contains(out, url, where);
    }
}

static void test_defaults(void **state)
{
    const lib_state_t *s = *state;
    for (size_t f = 0; f < NFIXTURES; f++) {
        cJSON *p = load_fixture(fixtures[f]);
        cJSON *ctx = as_tpl_context(p);
        int nfiring = (int)as_json_num(ctx, "firingCount", 0);
        int nresolved = (int)as_json_num(ctx, "resolvedCount", 0);
        const char *name = as_json_str(as_json_obj(p, "commonLabels"), "alertname");
        char where[256];

        /* WhatsApp: plain text, *bold*, 🔥 / ✅, since when */
        snprintf(where, sizeof(where), "whatsapp(%s)", fixtures[f]);
        char *wa = render(s, "whatsapp", ctx, 0);
        assert_alerts_told(wa, p, where, 0);
        char header[256];
        if (nfiring)
            snprintf(header, sizeof(header), "🔥 *[FIRING:%d] %s*\n", nfiring, name);
        else
            snprintf(header, sizeof(header), "✅ *[RESOLVED] %s*\n", name);
        assert_memory_equal(wa, header, strlen(header));
        assert_int_equal(count(wa, " is firing"), nfiring);
        assert_int_equal(count(wa, " is resolved"), nresolved);
        assert_int_equal(count(wa, "🔥"), nfiring + (nfiring ? 1 : 0));
        assert_int_equal(count(wa, "✅"), nresolved + (nfiring ? 0 : 1));
        assert_int_equal(count(wa, "*Since:* 2026-11-24 13:46:"), nfiring + nresolved);
        assert_int_equal(count(wa, "*Resolved:* 2026-11-24 13:46:"), nresolved);
        assert_null(strstr(wa, "\n\n\n"));
        assert_null(strstr(wa, "alertname"));
        /* The Cloud API's text has the same shape, one alert a partial. */
        char *wac = render(s, "whatsapp_cloud", ctx, 0);
        assert_string_equal(wac, wa);
        free(wac);

        /* Email: subject, text, HTML */
        char *subject = render(s, "email.subject", ctx, 0);
        char expected[256];
        if (nfiring)
            snprintf(expected, sizeof(expected), "[FIRING:%d] %s", nfiring, name);
        else
            snprintf(expected, sizeof(expected), "[RESOLVED] %s", name);
        assert_string_equal(subject, expected);

        snprintf(where, sizeof(where), "email(%s)", fixtures[f]);
        char *text = render(s, "email", ctx, 0);
        assert_alerts_told(text, p, where, 0);
        assert_memory_equal(text, expected, strlen(expected));
        assert_int_equal(count(text, "\nFIRING: "), nfiring);
        assert_int_equal(count(text, "\nRESOLVED: "), nresolved);
        assert_contains(text, as_json_str(p, "externalURL"), where);

        snprintf(where, sizeof(where), "email.html(%s)", fixtures[f]);
        char *html = render(s, "email.html", ctx, 1);
        assert_alerts_told(html, p, where, 1);
        assert_memory_equal(html, "<!DOCTYPE html>\n", 16);
        assert_contains(html, "</html>\n", where);
        assert_int_equal(count(html, "<table"), nfiring + nresolved);
        assert_int_equal(count(html, "<tr>"), count(html, "</tr>"));

        /* File: a header, then one line an alert */
        snprintf(where, sizeof(where), "file(%s)", fixtures[f]);
        char *file = render(s, "file", ctx, 0);
        assert_alerts_told(file, p, where, 1);
        assert_memory_equal(file, expected, strlen(expected));
        assert_int_equal(count(file, "\n"), 1 + nfiring + nresolved);
        assert_int_equal(count(file, "\nFIRING "), nfiring);
        assert_int_equal(count(file, "\nRESOLVED "), nresolved);

        free(wa);
        free(subject);
        free(text);
        free(html);
        free(file);
        cJSON_Delete(ctx);
        cJSON_Delete(p);
    }
}

/* HTML is escaped in the HTML part only; WhatsApp text is not. */
static void test_defaults_escaping(void **state)
{
    const lib_state_t *s = *state;
    cJSON *p =
        cJSON_Parse("{\"status\":\"firing\",\"commonLabels\":{\"alertname\":\"Q&A\"},"
                    "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"Q&A\","
                    "\"instance\":\"<b>x</b>\"},\"annotations\":{\"summary\":\"a \\\"quoted\\\""
                    " <script>alert(1)</script>\"},\"generatorURL\":\"http://p/?a=1&b=2\","
                    "\"startsAt\":\"2026-11-24T13:46:31Z\"}]}");
    cJSON *ctx = as_tpl_context(p);
    char *html = render(s, "email.html", ctx, 1);
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "<b>x</b>"));
    assert_contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;", "html");
    assert_contains(html, "&quot;quoted&quot;", "html");
    assert_contains(html, "Q&amp;A", "html");
    assert_contains(html, "href=\"http://p/?a=1&amp;b=2\"", "html");
    char *wa = render(s, "whatsapp", ctx, 0);
    assert_contains(wa, "<script>alert(1)</script>", "whatsapp");
    assert_contains(wa, "• instance: <b>x</b>", "whatsapp");
    assert_contains(wa, "🔗 http://p/?a=1&b=2", "whatsapp");
    assert_null(strstr(wa, "&amp;"));
    free(html);
    free(wa);
    cJSON_Delete(ctx);
    cJSON_Delete(p);
}

/* A plain message, shaped as the payload layer shapes one (its text in
 * annotations.description and in "message"), still says something to act
 * on, once. */
static void test_defaults_plain_alert(void **state)
{
    const lib_state_t *s = *state;
    cJSON *p = cJSON_Parse("{\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
                           "\"labels\":{\"alertname\":\"Notification\"},\"annotations\":"
                           "{\"description\":\"backup failed on nas1\\nexit code 23\"},"
                           "\"message\":\"backup failed on nas1\\nexit code 23\","
                           "\"startsAt\":\"2026-11-24T13:46:31.5Z\"}],"
                           "\"commonLabels\":{\"alertname\":\"Notification\"}}");
    cJSON *ctx = as_tpl_context(p);
    static const char *const names[] = {"whatsapp", "email", "email.html", "file",
                                        "whatsapp_cloud"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *out = render(s, names[i], ctx, i == 2);
        assert_int_equal(count(out, "backup failed on nas1"), 1);
        assert_int_equal(count(out, "exit code 23"), 1);
        assert_contains(out, "2026-11-24 13:46:31 UTC", names[i]);
        free(out);
    }
    cJSON_Delete(ctx);
    cJSON_Delete(p);
    /* no labels at all: the summary names it */
    p = cJSON_Parse("{\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
                    "\"labels\":{},\"annotations\":{\"summary\":\"disk full\"}}]}");
    ctx = as_tpl_context(p);
    char *subject = render(s, "email.subject", ctx, 0);
    assert_string_equal(subject, "[FIRING:1] disk full");
    free(subject);
    cJSON_Delete(ctx);
    cJSON_Delete(p);
}

/* ---------------------------------------------------------------------- */
/* Splitting                                                               */

/* Check the parts of text split at max and return their number. */
static size_t check_split(const char *text, size_t max)
{
    char **parts;
    size_t n = as_tpl_split(text, max, &parts), len = strlen(text);
    assert_true(n >= 1);
    if (max == 0 || len <= max) {
        assert_int_equal(n, 1);
        assert_string_equal(parts[0], text);
        as_tpl_parts_free(parts, n);
        return n;
    }
    const char *nl = strchr(text, '\n');
    size_t hlen = nl ? (size_t)(nl - text) : 0;
    int header = nl && hlen <= max / 2;
    as_buf_t joined = AS_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "(%zu/%zu) ", i + 1, n);
        size_t plen = strlen(parts[i]);
        if (plen > max)
            fail_msg("part %zu/%zu has %zu bytes, more than %zu", i + 1, n, plen, max);
        assert_true(as_utf8_valid(parts[i], plen));
        assert_memory_equal(parts[i], prefix, strlen(prefix));
        const char *rest = parts[i] + strlen(prefix);
        if (header) {
            assert_memory_equal(rest, text, hlen);
            assert_int_equal(rest[hlen], '\n');
            rest += hlen + 1;
        }
        assert_true(*rest != '\0');
        as_buf_puts(&joined, rest);
    }
    /* nothing lost, nothing added */
    assert_string_equal(joined.data, header ? nl + 1 : text);
    as_buf_free(&joined);
    as_tpl_parts_free(parts, n);
    return n;
}

static void test_split_whatsapp(void **state)
{
    const lib_state_t *s = *state;
    cJSON *p = load_fixture("firing-group-30.json");
    cJSON *ctx = as_tpl_context(p);
    char *wa = render(s, "whatsapp", ctx, 0);
    size_t len = strlen(wa);
    assert_true(len > 4096);
    size_t n = check_split(wa, 4096);
    assert_int_equal(n, 2);
    /* split at line boundaries: the body of each part ends a line */
    char **parts;
    n = as_tpl_split(wa, 1000, &parts);
    assert_true(n >= 8);
    for (size_t i = 0; i < n; i++) {
        assert_memory_equal(strchr(parts[i], ' ') + 1, "🔥 *[FIRING:30] HighLatency*\n",
                            strlen("🔥 *[FIRING:30] HighLatency*\n"));
        assert_int_equal(parts[i][strlen(parts[i]) - 1], '\n');
    }
    as_tpl_parts_free(parts, n);
    /* two-digit numbering */
    assert_true(check_split(wa, 300) >= 10);
    check_split(wa, 120);
    check_split(wa, len);
    check_split(wa, len - 1);
    free(wa);
    cJSON_Delete(ctx);
    cJSON_Delete(p);
}

static void test_split_utf8(void **state)
{
    /* lines far longer than a part, of 2-, 3- and 4-byte characters */
    as_buf_t b = AS_BUF_INIT;
    as_buf_puts(&b, "✅ header\n");
    for (int i = 0; i < 200; i++)
        as_buf_puts(&b, "é€🔥");
    as_buf_puts(&b, "\nshort line\n");
    for (int i = 0; i < 100; i++)
        as_buf_puts(&b, "🔥");
    for (size_t max = 40; max < 90; max++)
        check_split(b.data, max);
    /* a single line: no header, just numbered pieces */
    const char *one = "ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé";
    for (size_t max = 12; max < strlen(one); max++) /* "(nn/nn) " and 4 bytes */
        check_split(one, max);
    /* a header longer than half of max is not repeated */
    as_buf_reset(&b);
    for (int i = 0; i < 30; i++)
        as_buf_puts(&b, "header ");
    as_buf_puts(&b, "\nline 1\nline 2\nline 3\nline 4\nline 5\nline 6\n");
    char **parts;
    size_t n = as_tpl_split(b.data, 100, &parts);
    assert_true(n > 2);
    assert_memory_equal(parts[0], "(1/", 3);
    size_t total = 0; /* the parts hold the text once, beside their numbers */
    for (size_t i = 0; i < n; i++)
        total += strlen(strchr(parts[i], ' ') + 1);
    assert_int_equal(total, b.len);
    as_tpl_parts_free(parts, n);
    check_split(b.data, 100);
    /* short enough, or no limit: one part, the text itself */
    check_split("short\ntext\n", 100);
    check_split(b.data, 0);
    /* an absurd limit still makes progress, one character a part */
    n = as_tpl_split("a🔥b", 3, &parts);
    assert_int_equal(n, 3);
    assert_string_equal(parts[1], "(2/3) 🔥");
    as_tpl_parts_free(parts, n);
    as_buf_free(&b);
}

/* ---------------------------------------------------------------------- */
/* The render budget, as the library applies it                            */

/* A directory template whose partials include each other does not render:
 * NULL and an error naming the file and the partial, never a hang, never
 * a truncated text to send. */
static void test_runaway_in_library(void **state)
{
    char dir[] = "/tmp/as_tpl_XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "self.mustache", "{{>self}}{{>self}}");
    write_file(dir, "ping.mustache", "ping {{>pong}}");
    write_file(dir, "pong.mustache", "pong {{>ping}}{{>ping}}");
    /* Recursion only for alerts labelled boom: a sample of two alerts
     * without it renders; a group with one such alert does not. */
    write_file(dir, "sometimes.mustache",
               "{{#alerts}}{{title}} {{#labels}}{{>boom}}{{/labels}}\n{{/alerts}}");
    write_file(dir, "boom.mustache", "{{#boom}}{{>boom}}{{>boom}}{{/boom}}");
    as_pool_t *pool = as_pool_create();
    as_conf_t cf;
    as_tpl_lib_t *lib = load(pool, dir, &cf);
    assert_non_null(lib);
    cJSON *sample = as_tpl_sample();
    cJSON *ctx = as_tpl_context(sample);
    static const char *const runaway[][2] = {{"self", "self"}, {"ping", "pong"}};
    for (size_t i = 0; i < 2; i++) {
        as_err_t err = {""};
        char want[4300];
        assert_null(as_tpl_render(lib, as_tpl_lib_get(lib, runaway[i][0]), ctx, 0, &err));
        snprintf(want, sizeof(want),
                 "template %s/%s.mustache: rendering stopped in partial '%s': partials nested "
                 "deeper than 64",
                 dir, runaway[i][0], runaway[i][1]);
        if (strncmp(err.msg, want, strlen(want)) != 0)
            fail_msg("expected '%s...', got '%s'", want, err.msg);
    }
    char *out = as_tpl_render(lib, as_tpl_lib_get(lib, "sometimes"), ctx, 0, NULL);
    assert_string_equal(out, "DiskFull \nDiskFull \n");
    free(out);
    cJSON_Delete(ctx);

    cJSON *alert = cJSON_GetArrayItem(cJSON_GetObjectItem(sample, "alerts"), 1);
    cJSON_AddStringToObject(cJSON_GetObjectItem(alert, "labels"), "boom", "yes");
    ctx = as_tpl_context(sample);
    as_err_t err = {""};
    assert_null(as_tpl_render(lib, as_tpl_lib_get(lib, "sometimes"), ctx, 0, &err));
    assert_non_null(strstr(err.msg, "rendering stopped in partial 'boom'"));
    cJSON_Delete(ctx);
    cJSON_Delete(sample);
    as_conf_free_errors(&cf);
    as_pool_destroy(pool);
    remove_dir(dir);
}

/* The budget is generous: every built-in template renders a group of 1000
 * alerts (labels, annotations, resolved ones among them) in full. */
static void test_large_group_within_budget(void **state)
{
    const lib_state_t *s = *state;
    cJSON *p = as_tpl_sample();
    cJSON *alerts = cJSON_GetObjectItem(p, "alerts");
    cJSON *first = cJSON_DetachItemFromArray(alerts, 0);
    cJSON_DeleteItemFromArray(alerts, 0);
    for (int i = 0; i < 1000; i++) {
        char v[64];
        cJSON *a = cJSON_Duplicate(first, 1);
        cJSON *labels = cJSON_GetObjectItem(a, "labels");
        snprintf(v, sizeof(v), "db%d.example.com:9100", i);
        cJSON_ReplaceItemInObject(labels, "instance", cJSON_CreateString(v));
        cJSON_AddStringToObject(labels, "job", "node-exporter");
        snprintf(v, sizeof(v), "Disk almost full on db%d <&>", i);
        cJSON_ReplaceItemInObject(cJSON_GetObjectItem(a, "annotations"), "summary",
                                  cJSON_CreateString(v));
        if (i % 4 == 0) {
            cJSON_ReplaceItemInObject(a, "status", cJSON_CreateString("resolved"));
            cJSON_ReplaceItemInObject(a, "endsAt", cJSON_CreateString("2026-11-24T14:00:00Z"));
        }
        cJSON_AddItemToArray(alerts, a);
    }
    cJSON_Delete(first);
    cJSON *ctx = as_tpl_context(p);
    static const char *const names[] = {"whatsapp",   "whatsapp_cloud", "email",
                                        "email.html", "email.subject",  "file"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *out = render(s, names[i], ctx, strcmp(names[i], "email.html") == 0);
        if (strcmp(names[i], "email.subject") != 0) {
            assert_true(count(out, "db999.example.com:9100") >= 1);
            assert_true(count(out, "Disk almost full on db") >= 1000);
        }
        free(out);
    }
    cJSON_Delete(ctx);
    cJSON_Delete(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_context_extras),
        cmocka_unit_test_setup_teardown(test_defaults, lib_setup, lib_teardown),
        cmocka_unit_test_setup_teardown(test_defaults_escaping, lib_setup, lib_teardown),
        cmocka_unit_test_setup_teardown(test_defaults_plain_alert, lib_setup, lib_teardown),
        cmocka_unit_test_setup_teardown(test_split_whatsapp, lib_setup, lib_teardown),
        cmocka_unit_test(test_split_utf8),
        cmocka_unit_test(test_runaway_in_library),
        cmocka_unit_test_setup_teardown(test_large_group_within_budget, lib_setup, lib_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
