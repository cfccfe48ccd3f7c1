/*
 * test_mustache.c - the Mustache engine against the official spec files
 * (the JSON files of tests/spec/mustache, read with cJSON: every test of every file
 * is one cmocka case, one group per file), then the engine's own choices:
 * error positions, falsey values, numbers, escaping off, and the render
 * budget (runaway partials stop with an error, bounded recursion renders).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alertsink/mem.h"
#include "alertsink/sink.h"
#include "lib/json.h"
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
    /* JSON escaping (a webhook's template): the inside of a JSON string;
     * a list or map printed as JSON is escaped too, unless {{{x}}} */
    assert_render("{\"t\":\"{{s}}\",\"r\":{{{m}}},\"e\":\"{{m}}\",\"n\":{{n}},\"a\":\"{{&s}}\"}",
                  "{\"s\":\"say \\\"hi\\\"\\\\\\n\\t\\u0001<é>\",\"m\":{\"k\":\"v\"},\"n\":2}",
                  AS_ESCAPE_JSON,
                  "{\"t\":\"say \\\"hi\\\"\\\\\\n\\t\\u0001<é>\",\"r\":{\"k\":\"v\"},"
                  "\"e\":\"{\\\"k\\\":\\\"v\\\"}\",\"n\":2,\"a\":\"say \"hi\"\\\n\t\001<é>\"}");
    /* any JSON value is a context */
    assert_render("[{{.}}]", "\"plain\"", 1, "[plain]");
    assert_render("{{#.}}{{.}},{{/.}}", "[1,2,3]", 1, "1,2,3,");
}

/* ---------------------------------------------------------------------- */
/* The render budget (mustache.h): runaway recursion ends, quickly, as an  */
/* error; recursion that the data bounds still renders.                    */

/* Partials by name from a small table, as a template library would. */
typedef struct {
    const char *names[16];
    as_mustache_t *tpl[16];
    size_t n;
} lib_t;

static const as_mustache_t *lib_partial(void *data, const char *name)
{
    const lib_t *l = data;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->names[i], name) == 0)
            return l->tpl[i];
    return NULL;
}

static void lib_add(lib_t *l, const char *name, const char *src)
{
    assert_true(l->n < 16);
    l->names[l->n] = name;
    l->tpl[l->n++] = compile_str(src, name);
}

static void lib_free(lib_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        as_mustache_free(l->tpl[i]);
    l->n = 0;
}

/* Render lib's first template with data (JSON text, may be NULL); returns
 * the result, the output in *out (malloc'd) and the error in err. */
static int lib_render(lib_t *l, const char *data, char **out, as_err_t *err)
{
    cJSON *d = data ? cJSON_Parse(data) : NULL;
    as_buf_t b = AS_BUF_INIT;
    int rc = as_mustache_render(l->tpl[0], d, lib_partial, l, 1, &b, err);
    *out = as_buf_steal(&b);
    cJSON_Delete(d);
    return rc;
}

/* Expect the render of lib's first template to stop with an error that
 * holds `why` and names the partial it stopped in (whose name starts with
 * `in`; NULL: stopped outside any partial). */
static void expect_stopped(lib_t *l, const char *data, const char *why, const char *in)
{
    char *out, want[128];
    as_err_t err = {""};
    assert_int_equal(lib_render(l, data, &out, &err), -1);
    if (strstr(err.msg, why) == NULL)
        fail_msg("expected an error with '%s', got '%s'", why, err.msg);
    snprintf(want, sizeof(want), "in partial '%s", in ? in : "");
    if ((strstr(err.msg, want) == NULL) != (in == NULL))
        fail_msg("expected an error naming '%s', got '%s'", in ? in : "no partial", err.msg);
    free(out);
}

static void test_runaway_self(void **state)
{
    lib_t l = {{NULL}, {NULL}, 0};
    lib_add(&l, "self", "x{{>self}}");
    char *out;
    as_err_t err = {""};
    assert_int_equal(lib_render(&l, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "partials nested deeper than 64"));
    assert_non_null(strstr(err.msg, "in partial 'self'"));
    /* the template itself plus AS_MUSTACHE_MAX_PARTIALS levels of it, then
     * it stopped: the output is cut short, which the caller must drop */
    assert_int_equal(strlen(out), AS_MUSTACHE_MAX_PARTIALS + 1);
    free(out);
    lib_free(&l);
}

/* {{>self}}{{>self}} is a binary tree of 2^64 renders: rendering the
 * too-deep partial as nothing and going on never ended. */
static void test_runaway_binary_tree(void **state)
{
    lib_t l = {{NULL}, {NULL}, 0};
    lib_add(&l, "self", "{{>self}}{{>self}}");
    expect_stopped(&l, NULL, "partials nested deeper than 64", "self");
    lib_free(&l);
    /* The same inside a section over a list, with text around it. */
    lib_add(&l, "self", "[{{#items}}{{.}}{{>self}}{{>self}}{{/items}}]");
    expect_stopped(&l, "{\"items\":[1,2,3]}", "partials nested deeper than 64", "self");
    lib_free(&l);
}

static void test_runaway_mutual(void **state)
{
    lib_t l = {{NULL}, {NULL}, 0};
    lib_add(&l, "a", "a{{>b}}{{>b}}");
    lib_add(&l, "b", "b{{>a}}");
    expect_stopped(&l, NULL, "partials nested deeper than 64", "b"); /* the 65th, odd, level */
    lib_free(&l);
    /* Through template inheritance: a parent that is its own parent. */
    lib_add(&l, "p", "{{<p}}{{$b}}x{{/b}}{{/p}}");
    expect_stopped(&l, NULL, "partials nested deeper than 64", "p");
    lib_free(&l);
    /* A dynamic name that resolves to the template itself. */
    lib_add(&l, "d", "{{>*name}}");
    expect_stopped(&l, "{\"name\":\"d\"}", "partials nested deeper than 64", "d");
    lib_free(&l);
}

/* Shallow and wide: eleven partials, each including the next ten times,
 * are 10^11 renders, never more than 11 deep.  The step budget ends it. */
static void test_runaway_wide(void **state)
{
    lib_t l = {{NULL}, {NULL}, 0};
    static char names[12][16], src[12][128];
    for (int i = 0; i < 12; i++) {
        snprintf(names[i], sizeof(names[i]), "p%d", i);
        src[i][0] = '\0';
        for (int k = 0; k < 10 && i < 11; k++)
            snprintf(src[i] + strlen(src[i]), sizeof(src[i]) - strlen(src[i]), "{{>p%d}}", i + 1);
        if (i == 11)
            snprintf(src[i], sizeof(src[i]), "{{x}}");
        lib_add(&l, names[i], src[i]);
    }
    expect_stopped(&l, "{\"x\":1}", "more than 10000000 steps", "p1"); /* p10 or p11 */
    lib_free(&l);

    /* Turns of a loop count as steps even when the body is empty: 10^5
     * partials each looping over 1000 items are 10^8 steps. */
    for (int i = 0; i < 6; i++) {
        snprintf(names[i], sizeof(names[i]), "p%d", i);
        src[i][0] = '\0';
        for (int k = 0; k < 10 && i < 5; k++)
            snprintf(src[i] + strlen(src[i]), sizeof(src[i]) - strlen(src[i]), "{{>p%d}}", i + 1);
        if (i == 5)
            snprintf(src[i], sizeof(src[i]), "{{#items}}{{/items}}");
        lib_add(&l, names[i], src[i]);
    }
    cJSON *items = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(items, "items");
    for (int i = 0; i < 1000; i++)
        cJSON_AddItemToArray(list, cJSON_CreateNumber(i));
    char *data = cJSON_PrintUnformatted(items);
    expect_stopped(&l, data, "more than 10000000 steps", "p"); /* p4 or p5 */
    cJSON_free(data);
    cJSON_Delete(items);
    lib_free(&l);
}

/* Few steps, much output: 20 copies of a 1 MiB value pass the 16 MiB. */
static void test_output_budget(void **state)
{
    lib_t l = {{NULL}, {NULL}, 0};
    lib_add(&l, "t", "{{#items}}{{>big}}{{/items}}");
    lib_add(&l, "big", "{{{big}}}");
    char *big = malloc((1 << 20) + 1);
    memset(big, 'x', 1 << 20);
    big[1 << 20] = '\0';
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "big", big);
    cJSON *list = cJSON_AddArrayToObject(d, "items");
    for (int i = 0; i < 20; i++)
        cJSON_AddItemToArray(list, cJSON_CreateNumber(i));
    char *data = cJSON_PrintUnformatted(d);
    expect_stopped(&l, data, "more than 16 MiB of output", NULL); /* seen back in t's loop */
    /* 15 copies are within the budget. */
    cJSON_DeleteItemFromArray(list, 0);
    for (int i = 0; i < 4; i++)
        cJSON_DeleteItemFromArray(list, 0);
    cJSON_free(data);
    data = cJSON_PrintUnformatted(d);
    char *out;
    as_err_t err = {""};
    assert_int_equal(lib_render(&l, data, &out, &err), 0);
    assert_int_equal(strlen(out), 15u << 20);
    free(out);
    cJSON_free(data);
    free(big);
    cJSON_Delete(d);
    lib_free(&l);
}

/* Recursion that the data ends renders, however deep the data is up to
 * the partial limit: the spec's "Recursion" case (also run from
 * partials.json above) and a tree 60 levels deep. */
static void test_bounded_recursion(void **state)
{
    lib_t l = {{NULL}, {NULL}, 0};
    lib_add(&l, "top", "{{>node}}");
    lib_add(&l, "node", "{{content}}<{{#nodes}}{{>node}}{{/nodes}}>");
    char *out;
    as_err_t err = {""};
    assert_int_equal(lib_render(&l,
                                "{\"content\":\"X\",\"nodes\":[{\"content\":\"Y\",\"nodes\":[]}]}",
                                &out, &err),
                     0);
    assert_string_equal(out, "X<Y<>>");
    free(out);

    as_buf_t data = AS_BUF_INIT, want = AS_BUF_INIT;
    for (int i = 0; i < 60; i++)
        as_buf_printf(&data, "{\"content\":\"%d\",\"nodes\":[", i);
    as_buf_puts(&data, "{\"content\":\"leaf\",\"nodes\":[]}");
    for (int i = 0; i < 60; i++)
        as_buf_puts(&data, "]}");
    for (int i = 0; i < 60; i++)
        as_buf_printf(&want, "%d<", i);
    as_buf_puts(&want, "leaf<>");
    for (int i = 0; i < 60; i++)
        as_buf_puts(&want, ">");
    assert_int_equal(lib_render(&l, data.data, &out, &err), 0);
    assert_string_equal(out, want.data);
    free(out);
    as_buf_free(&data);
    as_buf_free(&want);
    lib_free(&l);
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
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_choices),
        cmocka_unit_test(test_runaway_self),   cmocka_unit_test(test_runaway_binary_tree),
        cmocka_unit_test(test_runaway_mutual), cmocka_unit_test(test_runaway_wide),
        cmocka_unit_test(test_output_budget),  cmocka_unit_test(test_bounded_recursion),
        cmocka_unit_test(test_reuse),
    };
    failed += cmocka_run_group_tests_name("mustache", own, NULL, NULL);
    return failed ? 1 : 0;
}
