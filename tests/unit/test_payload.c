/*
 * test_payload.c - the notification model (route/payload.c).
 *
 * Data-driven: every case of tests/fixtures/payload/ (NAME.json, the body,
 * and NAME.out.json or NAME.err, see payload_cases.h) goes through
 * as_payload_parse_opts().  The Alertmanager 0.25 fixtures check the
 * fingerprints and common label sets against what a real Alertmanager
 * computed.  A few small tables cover the helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alertsink/clock.h"
#include "lib/json.h"
#include "payload_cases.h"

static const char *as_data_dir(void)
{
    const char *d = getenv("AS_TEST_DATA");
    return d != NULL ? d : "tests";
}

static void test_fixture_cases(void **state)
{
    as_case_t c;
    char **names;
    snprintf(c.dir, sizeof(c.dir), "%s/fixtures/payload", as_data_dir());
    size_t n = as_case_list(c.dir, &names), failed = 0;
    assert_true(n >= 40); /* the directory is there and was read */
    for (size_t i = 0; i < n; i++) {
        as_str_copy(c.name, sizeof(c.name), names[i]);
        as_case_load_args(&c);
        size_t len = 0;
        char *body = as_case_file(&c, ".json", &len);
        if (body == NULL) {
            fprintf(stderr, "FAIL %s/%s: no %s.json\n", c.dir, c.name, c.name);
            failed++;
        } else {
            as_err_t err = {{0}};
            unsigned flags = 0;
            cJSON *p = as_payload_parse_opts(NULL, body, len, &c.opts, &flags, &err);
            failed += as_case_check(&c, p, (flags & AS_SUB_GROUPED) != 0, NULL, err.msg) != 0;
            cJSON_Delete(p);
        }
        free(body);
        free(c.args);
        free(names[i]);
    }
    free(names);
    assert_int_equal(failed, 0);
}

/* Remove key from every alert of payload (or from payload itself). */
static void as_strip(cJSON *payload, const char *key, int in_alerts)
{
    if (!in_alerts) {
        cJSON_DeleteItemFromObjectCaseSensitive(payload, key);
        return;
    }
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(payload, "alerts"))
        cJSON_DeleteItemFromObjectCaseSensitive(a, key);
}

static void test_alertmanager_fixtures(void **state)
{
    static const char *const files[] = {"firing-group-2.json", "firing-group-30.json",
                                        "mixed-resolved-firing.json", "resolved.json"};
    size_t checked = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[1024];
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/fixtures/alertmanager-0.25/%s", as_data_dir(), files[i]);
        char *body = as_case_slurp(path, &len);
        assert_non_null(body);
        cJSON *orig = cJSON_Parse(body);
        assert_non_null(orig);

        /* Taken as it came. */
        as_err_t err = {{0}};
        unsigned flags = 0;
        cJSON *p = as_payload_parse(NULL, body, len, &flags, &err);
        if (p == NULL)
            fail_msg("%s: %s", files[i], err.msg);
        /* Nothing was missing: the spool may store the text itself. */
        assert_int_equal(flags, AS_SUB_GROUPED | AS_SUB_VERBATIM);
        assert_true(cJSON_Compare(orig, p, 1));
        cJSON_Delete(p);

        /* Without fingerprints and common sets, they are computed as
         * Alertmanager computed them. */
        cJSON *bare = cJSON_Duplicate(orig, 1);
        as_strip(bare, "fingerprint", 1);
        as_strip(bare, "commonLabels", 0);
        as_strip(bare, "commonAnnotations", 0);
        char *text = cJSON_PrintUnformatted(bare);
        p = as_payload_parse(NULL, text, strlen(text), &flags, &err);
        assert_int_equal(flags, AS_SUB_GROUPED);
        if (p == NULL)
            fail_msg("%s: %s", files[i], err.msg);
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(orig, "alerts"), *got;
        got = cJSON_GetObjectItemCaseSensitive(p, "alerts");
        assert_int_equal(cJSON_GetArraySize(want), cJSON_GetArraySize(got));
        for (int k = 0; k < cJSON_GetArraySize(want); k++) {
            const char *fw = as_json_str(cJSON_GetArrayItem(want, k), "fingerprint");
            const char *fg = as_json_str(cJSON_GetArrayItem(got, k), "fingerprint");
            assert_non_null(fg);
            assert_string_equal(fw, fg);
            checked++;
        }
        assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(orig, "commonLabels"),
                                  cJSON_GetObjectItemCaseSensitive(p, "commonLabels"), 1));
        assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(orig, "commonAnnotations"),
                                  cJSON_GetObjectItemCaseSensitive(p, "commonAnnotations"), 1));
        cJSON_Delete(p);
        cJSON_free(text);
        cJSON_Delete(bare);
        cJSON_Delete(orig);
        free(body);
    }
    assert_true(checked >= 35);
}

static void test_labels_fingerprint(void **state)
{
    /* Alertmanager's fingerprint of the empty label set is FNV-1a's basis. */
    cJSON *l = cJSON_CreateObject();
    assert_true(as_labels_fingerprint(l) == 0xcbf29ce484222325ULL);
    cJSON_AddStringToObject(l, "severity", "critical");
    cJSON_AddStringToObject(l, "instance", "db1:9100");
    cJSON_AddStringToObject(l, "cluster", "prod");
    cJSON_AddStringToObject(l, "alertname", "DiskFull");
    /* Insertion order does not matter: firing-group-2.json's first alert. */
    assert_true(as_labels_fingerprint(l) == 0xe053a12065c4882dULL);
    cJSON_Delete(l);
}

static cJSON *as_text(const char *s, const as_payload_opts_t *o, as_err_t *err)
{
    return as_payload_from_text(s, strlen(s), o, err);
}

static const char *as_fp0(const cJSON *p)
{
    return as_json_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "alerts"), 0),
                       "fingerprint");
}

static void test_text_fingerprints(void **state)
{
    as_err_t err = {{0}};
    const char *labels[] = {"team=db"};
    as_payload_opts_t o = {labels, 1, NULL, "critical", AS_CASE_NOW_MS};
    cJSON *a = as_text("disk full on db1\n", NULL, &err);
    cJSON *b = as_text("disk full on db1", NULL, &err);
    cJSON *c = as_text("disk full on db2", NULL, &err);
    cJSON *d = as_text("disk full on db1", &o, &err);
    cJSON *e = as_text("disk full on db2", &o, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    assert_non_null(e);
    /* The same text is the same alert, trailing newline or not; two texts
     * are two alerts, also when options give them the same labels. */
    assert_string_equal(as_fp0(a), as_fp0(b));
    assert_string_not_equal(as_fp0(b), as_fp0(c));
    assert_string_not_equal(as_fp0(d), as_fp0(e));
    assert_string_not_equal(as_fp0(b), as_fp0(d));
    /* ... and a text alert is not the alert of its labels alone. */
    char buf[17];
    const cJSON *al = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "alerts"), 0);
    snprintf(buf, sizeof(buf), "%016llx",
             (unsigned long long)as_labels_fingerprint(as_json_obj(al, "labels")));
    assert_string_not_equal(buf, as_fp0(b));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    cJSON_Delete(d);
    cJSON_Delete(e);
}

static void test_text_errors(void **state)
{
    as_err_t err = {{0}};
    assert_null(as_payload_from_text("", 0, NULL, &err));
    assert_string_equal(err.msg, "text: empty message");
    assert_null(as_payload_from_text(" \n\t\r\n", 5, NULL, &err));
    assert_string_equal(err.msg, "text: empty message");
    assert_null(as_payload_from_text("ab\0cd", 5, NULL, &err));
    assert_string_equal(err.msg, "text: NUL byte at offset 2");

    /* Not UTF-8: repaired, not refused. */
    cJSON *p = as_payload_from_text("caf\xe9 au lait", 12, NULL, &err);
    assert_non_null(p);
    const cJSON *al = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "alerts"), 0);
    assert_string_equal(as_json_str(al, "message"), "caf\xef\xbf\xbd au lait");
    cJSON_Delete(p);

    const char *bad[] = {"no-equals"};
    as_payload_opts_t o = {bad, 1, NULL, NULL, 0};
    assert_null(as_text("x", &o, &err));
    assert_string_equal(err.msg, "--label no-equals: expected NAME=VALUE");
}

static void test_opts_check(void **state)
{
    static const struct {
        const char *label, *err;
    } cases[] = {
        {"team=db", NULL},
        {"team=", NULL},
        {"_x9=a=b", NULL},
        {"=db", "--label =db: invalid label name"},
        {"9team=db", "--label 9team=db: invalid label name"},
        {"my-team=db", "--label my-team=db: invalid label name"},
        {"team", "--label team: expected NAME=VALUE"},
        {"team=\xff", "--label team: not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        as_err_t err = {{0}};
        as_payload_opts_t o = {&cases[i].label, 1, NULL, NULL, 0};
        int rc = as_payload_opts_check(&o, &err);
        if (cases[i].err == NULL) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(err.msg, cases[i].err);
        }
    }
    as_err_t err = {{0}};
    as_payload_opts_t o = {NULL, 0, "\xc3", NULL, 0};
    assert_int_equal(as_payload_opts_check(&o, &err), -1);
    assert_string_equal(err.msg, "--title: not valid UTF-8");
}

static void test_rfc3339(void **state)
{
    static const char *const good[] = {
        "2026-11-24T13:46:31.697740356Z", "0001-01-01T00:00:00Z",   "2026-11-24T13:46:53Z",
        "2024-02-29T23:59:59+03:00",      "2026-01-01t00:00:00.5z", "2026-06-30T12:00:00-07:30",
    };
    static const char *const bad[] = {
        "",
        "2026-11-24",
        "2026-11-24 13:46:31Z",
        "2026-11-24T13:46:31",
        "x",
        "2023-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "26-11-24T13:46:31Z",
        "2026-11-24T24:00:00Z",
        "2026-11-24T13:46:31.Z",
        "2026-11-24T13:46:31Zjunk",
        "2026-11-24T13:46:31+0300",
        "2016-12-31T23:59:60Z",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!as_rfc3339_valid(good[i]))
            fail_msg("refused %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (as_rfc3339_valid(bad[i]))
            fail_msg("accepted %s", bad[i]);

    char buf[40];
    assert_string_equal(as_rfc3339_ms(AS_CASE_NOW_MS, buf, sizeof(buf)),
                        "2023-11-14T22:13:20.123Z");
    assert_string_equal(as_rfc3339_ms(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000Z");
    assert_string_equal(as_rfc3339_ms(1200928930515LL, buf, sizeof(buf)),
                        "2008-01-21T15:22:10.515Z");
}

static void test_utf8_repair(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"plain", 5, "plain"},
        {"\xc3\xa7ok", 4, "\xc3\xa7ok"},
        {"\xc3", 1, "\xef\xbf\xbd"},
        {"a\xff"
         "b",
         3,
         "a\xef\xbf\xbd"
         "b"},
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
        {"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = as_utf8_repair(cases[i].in, cases[i].len);
        assert_string_equal(s, cases[i].out);
        assert_true(as_utf8_valid(s, strlen(s)));
        free(s);
    }
}

/* Socket lines: JSON when they start with { or [, else text (docs/inputs.md). */
static void test_parse_or_text(void **state)
{
    static const struct {
        const char *line, *err, *alertname;
    } cases[] = {
        {"disk full on db1", NULL, AS_PAYLOAD_DEFAULT_ALERTNAME},
        {"  {\"labels\":{\"alertname\":\"DiskFull\"}}", NULL, "DiskFull"},
        {"[{\"title\":\"Backup\"}]", NULL, "Backup"},
        {"\"quoted\" text", NULL, AS_PAYLOAD_DEFAULT_ALERTNAME},
        {"{not json", "invalid JSON at offset ", NULL}, /* where exactly is cJSON's business */
        {" [\"x\"", "invalid JSON: unexpected end of input", NULL},
        {"{\"message\":\"x\"} trailing",
         "invalid JSON: unexpected data after the value at offset 16", NULL},
        /* What cJSON lets pass, refused as JSON's grammar says */
        {"\xef\xbb\xbf{\"message\":\"x\"}", NULL, AS_PAYLOAD_DEFAULT_ALERTNAME}, /* text */
        {"{\"message\":\"x\",\"n\":01}",
         "invalid JSON: a number outside JSON's grammar at offset 19", NULL},
        {"{\"message\":\"x\",\"n\":1.}", "invalid JSON: a number outside JSON's grammar", NULL},
        {"{\"message\":\"x\",\"n\":-.5}", "invalid JSON: a number outside JSON's grammar", NULL},
        {"{\"message\":\"x\",\"n\":1e}", "invalid JSON: a number outside JSON's grammar", NULL},
        {"{\"message\":\x01\"x\"}", "invalid JSON: a control character between tokens at offset 11",
         NULL},
        {"{\"message\":\"a\\u0000b\"}", "invalid JSON: \\u0000 in a string at offset 13", NULL},
        {"{\"message\":\"a\\\\u0000b\"}", NULL, AS_PAYLOAD_DEFAULT_ALERTNAME},
        {"", "text: empty message", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        as_err_t err = {{0}};
        unsigned flags = 0;
        cJSON *p =
            as_payload_parse_or_text(NULL, cases[i].line, strlen(cases[i].line), &flags, &err);
        int grouped = (flags & AS_SUB_GROUPED) != 0;
        if (cases[i].err != NULL) {
            if (p != NULL)
                fail_msg("%s: accepted, expected \"%s...\"", cases[i].line, cases[i].err);
            if (strncmp(err.msg, cases[i].err, strlen(cases[i].err)) != 0)
                fail_msg("%s: error \"%s\", expected \"%s...\"", cases[i].line, err.msg,
                         cases[i].err);
            continue;
        }
        if (p == NULL)
            fail_msg("%s: %s", cases[i].line, err.msg);
        assert_int_equal(grouped, 0);
        const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "alerts"), 0);
        assert_string_equal(as_json_str(as_json_obj(a, "labels"), "alertname"), cases[i].alertname);
        cJSON_Delete(p);
    }
}

/* A body that starts with a byte order mark: cJSON skips it, but a body
 * stored as it came must parse where the spool copies it, so it is
 * refused (RFC 8259: a JSON text has none). */
static void test_byte_order_mark(void **state)
{
    static const char body[] = "\xef\xbb\xbf{\"receiver\":\"r\",\"status\":\"firing\","
                               "\"alerts\":[{\"labels\":{\"alertname\":\"A\"}}]}";
    as_err_t err = {{0}};
    cJSON *p = as_payload_parse(NULL, body, sizeof(body) - 1, NULL, &err);
    assert_null(p);
    assert_string_equal(err.msg,
                        "invalid JSON: a byte order mark (U+FEFF) before the value at offset 0");
    (void)state;
}

/* Found by review: an empty title is no title (the templates fall back to
 * the alertname); only non-empty label values make an alert's labels its
 * own (else the message is hashed into the fingerprint, or two texts are
 * one alert); alerts of one input with one fingerprint are one, the last. */
static void test_single_alert_edges(void **state)
{
    (void)state;
    as_err_t err = {{0}};
    static const char t[] = "{\"labels\":{\"alertname\":\"DiskFull\"},\"title\":\"\"}";
    cJSON *p = as_payload_parse(NULL, t, sizeof(t) - 1, NULL, &err);
    assert_non_null(p);
    assert_null(as_json_get(cJSON_GetArrayItem(as_json_arr(p, "alerts"), 0), "title"));
    cJSON_Delete(p);

    static const char a[] = "{\"labels\":{\"team\":\"\"},\"message\":\"disk full on db1\"}";
    static const char b[] = "{\"labels\":{\"team\":\"\"},\"message\":\"CPU melting on web3\"}";
    cJSON *pa = as_payload_parse(NULL, a, sizeof(a) - 1, NULL, &err);
    cJSON *pb = as_payload_parse(NULL, b, sizeof(b) - 1, NULL, &err);
    assert_non_null(pa);
    assert_non_null(pb);
    const char *fa = as_json_str(cJSON_GetArrayItem(as_json_arr(pa, "alerts"), 0), "fingerprint");
    const char *fb = as_json_str(cJSON_GetArrayItem(as_json_arr(pb, "alerts"), 0), "fingerprint");
    assert_string_not_equal(fa, fb);
    cJSON_Delete(pa);
    cJSON_Delete(pb);

    static const char d[] =
        "[{\"labels\":{\"alertname\":\"X\",\"i\":\"1\"},\"message\":\"a\"},"
        "{\"labels\":{\"alertname\":\"X\",\"i\":\"1\"},\"message\":\"b\"},"
        "{\"labels\":{\"alertname\":\"Y\"}},"
        "{\"labels\":{\"alertname\":\"X\",\"i\":\"1\"},\"status\":\"resolved\"}]";
    p = as_payload_parse(NULL, d, sizeof(d) - 1, NULL, &err);
    assert_non_null(p);
    const cJSON *alerts = as_json_arr(p, "alerts");
    assert_int_equal(cJSON_GetArraySize(alerts), 2);
    assert_string_equal(
        as_json_str(as_json_obj(cJSON_GetArrayItem(alerts, 0), "labels"), "alertname"), "Y");
    assert_string_equal(as_json_str(cJSON_GetArrayItem(alerts, 1), "status"), "resolved");
    cJSON_Delete(p);
}

/* Common and group labels as Alertmanager's API sees them: it drops a
 * label with an empty value, so c="" (in one alert, absent from the
 * other) is not common, while an annotation with an empty value is. */
static void test_empty_label_is_no_label(void **state)
{
    static const char body[] = "[{\"labels\":{\"alertname\":\"A\",\"c\":\"\"},"
                               "\"annotations\":{\"x\":\"\"}},{\"labels\":{\"alertname\":\"A\","
                               "\"d\":\"1\"},\"annotations\":{\"x\":\"\"}}]";
    as_err_t err = {{0}};
    cJSON *p = as_payload_parse(NULL, body, sizeof(body) - 1, NULL, &err);
    if (p == NULL)
        fail_msg("%s", err.msg);
    char *s = as_json_print(as_json_obj(p, "commonLabels"));
    assert_string_equal(s, "{\"alertname\":\"A\"}");
    cJSON_free(s);
    s = as_json_print(as_json_obj(p, "groupLabels"));
    assert_string_equal(s, "{\"alertname\":\"A\"}");
    cJSON_free(s);
    s = as_json_print(as_json_obj(p, "commonAnnotations"));
    assert_string_equal(s, "{\"x\":\"\"}");
    cJSON_free(s);
    assert_string_equal(as_json_str(p, "groupKey"), "{}:{alertname=\"A\"}");
    cJSON_Delete(p);
}

/* A body of one alert with very many labels: accepted, and the common sets
 * come out whole (they are computed by sorting, not by pairwise lookups). */
static void test_many_labels(void **state)
{
    enum { N = 50000 };
    as_buf_t b = AS_BUF_INIT;
    as_buf_puts(&b, "[{\"labels\":{");
    for (int i = 0; i < N; i++)
        as_buf_printf(&b, "%s\"l%d\":\"v%d\"", i ? "," : "", i, i % 7);
    as_buf_puts(&b, "}}]");
    as_err_t err = {{0}};
    cJSON *p = as_payload_parse(NULL, b.data, b.len, NULL, &err);
    if (p == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "commonLabels")),
                     N + 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "groupLabels")), N + 1);
    cJSON_Delete(p);
    as_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_cases),
        cmocka_unit_test(test_alertmanager_fixtures),
        cmocka_unit_test(test_labels_fingerprint),
        cmocka_unit_test(test_text_fingerprints),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_opts_check),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_parse_or_text),
        cmocka_unit_test(test_single_alert_edges),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_many_labels),
        cmocka_unit_test(test_empty_label_is_no_label),
        cmocka_unit_test(test_utf8_repair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
