/*
 * test_mustache.c - the Mustache engine against the official spec files
 * (the JSON files of tests/spec/mustache, read with cJSON: every test of every file
 * is one cmocka case, one group per file), then the engine's own choices:
 * error positions, falsey values, numbers, escaping off, runaway partials.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json.h"
#include "alertsink/mem.h"
#include "render/mustache.h"

/* ---------------------------------------------------------------------- */
/* The spec files                                                           */

typedef struct {
    const char *names[16];
    as_mustache_t *tpl[16];
    size_t n;
} spec_partials_t;

static const as_mustache_t *spec_partial(void *data, const char *name)
{
    const spec_partials_t *p = data;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->names[i], name) == 0)
            return p->tpl[i];
    return NULL;
}

static as_mustache_t *compile_str(const char *src, const char *name)
{
    as_err_t err = {""};
    as_mustache_t *t = as_mustache_compile(src, strlen(src), name, &err);
    if (t == NULL)
        fail_msg("%s does not compile: %s", name, err.msg);
    return t;
}

static void spec_case(void **state)
{
    const cJSON *test = *state;
    const char *tpl = as_json_str(test, "template");
    const char *expected = as_json_str(test, "expected");
    assert_non_null(tpl);
    assert_non_null(expected);

    spec_partials_t parts = {{NULL}, {NULL}, 0};
    const cJSON *p;
    cJSON_ArrayForEach(p, as_json_obj(test, "partials"))
    {
        assert_true(parts.n < 16 && cJSON_IsString(p));
        parts.names[parts.n] = p->string;
        parts.tpl[parts.n++] = compile_str(p->valuestring, p->string);
    }
    as_mustache_t *t = compile_str(tpl, "template");
    as_buf_t out = AS_BUF_INIT;
    as_err_t err = {""};
    int rc = as_mustache_render(t, cJSON_GetObjectItemCaseSensitive(test, "data"), spec_partial,
                                &parts, 1, &out, &err);
    char *got = as_buf_steal(&out);
    if (rc != 0 || strcmp(got, expected) != 0)
        print_error("%s\n  template: %s\n  expected: [%s]\n  got:      [%s] %s\n",
                    as_json_str(test, "desc"), tpl, expected, got, rc ? err.msg : "");
    assert_int_equal(rc, 0);
    assert_string_equal(got, expected);
    free(got);
    as_mustache_free(t);
    for (size_t i = 0; i < parts.n; i++)
        as_mustache_free(parts.tpl[i]);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    as_buf_t b = AS_BUF_INIT;
    as_buf_read(&b, fp, 0);
    fclose(fp);
    *len = b.len;
    return as_buf_steal(&b);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every test of one spec file as a cmocka group; returns failures. */
static int run_spec_file(const char *dir, const char *file, int *count)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path)) {
        fprintf(stderr, "%s/%s: path too long\n", dir, file);
        return 1;
    }
    size_t len;
    char *text = read_file(path, &len);
    if (text == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    as_err_t err;
    cJSON *doc = as_json_parse(text, len, &err);
    free(text);
    const cJSON *tests = as_json_arr(doc, "tests");
    if (tests == NULL) {
        fprintf(stderr, "%s: no tests: %s\n", path, doc ? "" : err.msg);
        cJSON_Delete(doc);
        return 1;
    }
    int n = cJSON_GetArraySize(tests), i = 0;
    struct CMUnitTest *cases = calloc((size_t)n, sizeof(*cases));
    const cJSON *test;
    cJSON_ArrayForEach(test, tests)
    {
        cases[i].name = as_json_str(test, "name");
        cases[i].test_func = spec_case;
        cases[i].initial_state = (void *)test;
        i++;
    }
    int failed = _cmocka_run_group_tests(file, cases, (size_t)n, NULL, NULL);
    printf("spec %s: %d tests, %d failed\n", file, n, failed);
    *count = n;
    free(cases);
    cJSON_Delete(doc);
    return failed;
}

/* ---------------------------------------------------------------------- */
/* Errors and the engine's own choices                                    */

static void assert_compile_error(const char *src, const char *expected)
{
    as_err_t err = {""};
    as_mustache_t *t = as_mustache_compile(src, strlen(src), "t.mustache", &err);
    if (t != NULL)
        fail_msg("'%s' compiled; expected %s", src, expected);
    assert_string_equal(err.msg, expected);
}

static void test_errors(void **state)
{
    assert_compile_error("Hello {{name", "t.mustache:1:7: unclosed tag: no '}}' after '{{'");
    assert_compile_error("a\n{{#list}}\n  {{#item}}\n  {{/list}}\n",
                         "t.mustache:4:3: closing tag 'list' does not match section 'item' "
                         "opened at 3:3");
    assert_compile_error("x\n\n  {{^missing}}\nnever closed\n",
                         "t.mustache:3:3: unclosed section 'missing'");
    assert_compile_error("x {{/a}}", "t.mustache:1:3: closing tag 'a' without an open section");
    assert_compile_error("line\n {{=<% =}}",
                         "t.mustache:2:2: invalid delimiters '<%': expected two delimiters "
                         "without '=', separated by a space");
    assert_compile_error("{{= a= b =}}", "t.mustache:1:1: invalid delimiters 'a= b': expected "
                                         "two delimiters without '=', separated by a space");
    /* the column counts characters: "héllo " is 6 of them, 7 bytes */
    assert_compile_error("héllo {{a b}}", "t.mustache:1:7: invalid tag name 'a b': spaces inside");
    assert_compile_error("{{=<% %>=}}\n<%x%> <% y",
                         "t.mustache:2:7: unclosed tag: no '%>' after '<%'");
    assert_compile_error("{{}}", "t.mustache:1:1: empty tag name");
    assert_compile_error("{{a..b}}", "t.mustache:1:1: invalid tag name 'a..b': empty part");
    assert_compile_error("{{{a}}", "t.mustache:1:1: unclosed tag: no '}}}' after '{{{'");
    assert_compile_error("{{=<% %>}}", "t.mustache:1:1: unclosed tag: no '=}}' after '{{='");
    assert_compile_error("{{#a}}{{#b}}{{/b}}", "t.mustache:1:1: unclosed section 'a'");
    assert_compile_error("{{!unclosed comment }",
                         "t.mustache:1:1: unclosed tag: no '}}' after '{{'");
}

static char *render(const char *tpl, const char *json, int escape)
{
    as_mustache_t *t = compile_str(tpl, "t");
    cJSON *data = cJSON_Parse(json);
    assert_non_null(data);
    as_buf_t out = AS_BUF_INIT;
    assert_int_equal(as_mustache_render(t, data, NULL, NULL, escape, &out, NULL), 0);
    cJSON_Delete(data);
    as_mustache_free(t);
    return as_buf_steal(&out);
}

static void assert_render(const char *tpl, const char *json, int escape, const char *expected)
{
    char *got = render(tpl, json, escape);
    assert_string_equal(got, expected);
    free(got);
}

static void test_choices(void **state)
{
    /* falsey as JavaScript's !!v: "", 0, null, false, [], missing */
    assert_render("{{#s}}S{{/s}}{{^s}}-{{/s}}", "{\"s\":\"\"}", 1, "-");
    assert_render("{{#s}}S{{/s}}{{^s}}-{{/s}}", "{\"s\":\"x\"}", 1, "S");
    assert_render("{{#n}}N{{/n}}{{^n}}-{{/n}}", "{\"n\":0}", 1, "-");
    assert_render("{{#n}}{{.}}{{/n}}", "{\"n\":2}", 1, "2");
    assert_render("{{#o}}O{{/o}}", "{\"o\":{}}", 1, "O");
    assert_render("{{^l}}empty{{/l}}", "{\"l\":[]}", 1, "empty");
    /* numbers print as JSON writes them */
    assert_render("{{a}} {{b}} {{c}} {{d}} {{e}}",
                  "{\"a\":1.21,\"b\":85,\"c\":-3,\"d\":1e20,\"e\":0.1}", 1, "1.21 85 -3 1e+20 0.1");
    assert_render("{{t}} {{f}} {{n}}|{{l}}", "{\"t\":true,\"f\":false,\"n\":null,\"l\":[1,\"a\"]}",
                  0, "true false |[1,\"a\"]");
    /* list indexes in dotted names */
    assert_render("{{l.1.x}}{{l.9.x}}", "{\"l\":[{\"x\":\"a\"},{\"x\":\"b\"}]}", 1, "b");
    /* escaping on and off */
    assert_render("{{h}}|{{{h}}}|{{&h}}", "{\"h\":\"<a href='x'>&</a>\"}", 1,
                  "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;|<a href='x'>&</a>|<a href='x'>&</a>");
    assert_render("{{h}}", "{\"h\":\"<b>*x*</b>\"}", 0, "<b>*x*</b>");
    /* any JSON value is a context */
    assert_render("[{{.}}]", "\"plain\"", 1, "[plain]");
    assert_render("{{#.}}{{.}},{{/.}}", "[1,2,3]", 1, "1,2,3,");
}

static const as_mustache_t *self_partial(void *data, const char *name)
{
    return strcmp(name, "self") == 0 ? data : NULL;
}

static void test_runaway_partial(void **state)
{
    as_mustache_t *t = compile_str("x{{>self}}", "self");
    as_buf_t out = AS_BUF_INIT;
    as_err_t err = {""};
    assert_int_equal(as_mustache_render(t, NULL, self_partial, t, 1, &out, &err), -1);
    assert_non_null(strstr(err.msg, "nested deeper"));
    /* the template itself plus AS_MUSTACHE_MAX_PARTIALS levels of it */
    assert_int_equal(out.len, AS_MUSTACHE_MAX_PARTIALS + 1);
    as_buf_free(&out);
    as_mustache_free(t);
}

/* A compiled template renders many times, with different data, the same. */
static void test_reuse(void **state)
{
    as_mustache_t *t = compile_str("{{#items}}\n  - {{name}}\n{{/items}}\n", "t");
    for (int i = 0; i < 3; i++) {
        cJSON *d = cJSON_Parse(i == 1 ? "{\"items\":[{\"name\":\"a\"},{\"name\":\"b\"}]}"
                                      : "{\"items\":[{\"name\":\"c\"}]}");
        as_buf_t out = AS_BUF_INIT;
        assert_int_equal(as_mustache_render(t, d, NULL, NULL, 1, &out, NULL), 0);
        assert_string_equal(out.data, i == 1 ? "  - a\n  - b\n" : "  - c\n");
        as_buf_free(&out);
        cJSON_Delete(d);
    }
    as_mustache_free(t);
}

int main(void)
{
    const char *data = getenv("AS_TEST_DATA");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/spec/mustache", data ? data : "tests");
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "cannot open %s\n", dir);
        return 1;
    }
    char *files[64];
    size_t nfiles = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && nfiles < 64) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
            files[nfiles++] = as_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(files, nfiles, sizeof(files[0]), by_name);

    int failed = 0, total = 0, required = 0;
    for (size_t i = 0; i < nfiles; i++) {
        int n = 0;
        failed += run_spec_file(dir, files[i], &n);
        total += n;
        if (files[i][0] != '~')
            required += n;
        free(files[i]);
    }
    printf("spec: %d tests (%d required, %d optional), %d failed\n", total, required,
           total - required, failed);
    /* The six required files hold 136 tests: a file gone missing must fail. */
    if (required < 136) {
        fprintf(stderr, "spec: only %d required tests found, expected 136\n", required);
        failed++;
    }

    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_choices),
        cmocka_unit_test(test_runaway_partial),
        cmocka_unit_test(test_reuse),
    };
    failed += cmocka_run_group_tests_name("mustache", own, NULL, NULL);
    return failed ? 1 : 0;
}
