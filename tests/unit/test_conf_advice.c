/*
 * test_conf_advice.c - the pure parts of the loader's advice: the edit
 * distance behind "did you mean", the nearest key it picks, YAML merge
 * keys (explicit keys win, earlier maps of a list win, errors), and the
 * stand-in a missing secret gets with AS_LOAD_NO_SEND.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "lib/conf.h"
#include "lib/yamldoc.h"

static void test_distance(void **state)
{
    static const struct {
        const char *a, *b;
        size_t d;
    } cases[] = {
        {"level", "level", 0},     {"levl", "level", 1},    {"lvel", "level", 1},
        {"elvel", "level", 1},     {"lvl", "level", 2},     {"recevier", "receiver", 1},
        {"colour", "color", 1},    {"x", "to", 2},          {"", "ab", 2},
        {"spool2", "spool", 1},    {"abcdef", "ghijkl", 3}, /* over the limit: max + 1 */
        {"inhibit", "include", 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t d = as_conf_distance(cases[i].a, cases[i].b, 2);
        if (d != cases[i].d)
            fail_msg("distance(%s, %s) = %zu, want %zu", cases[i].a, cases[i].b, d, cases[i].d);
    }
}

typedef struct {
    char *a, *ab, *password;
} advice_t;

static const as_conf_key_t keys[] = {
    {"alpha", &as_conf_string, offsetof(advice_t, a), 0, NULL, NULL},
    {"alphabet", &as_conf_string, offsetof(advice_t, ab), 0, NULL, NULL},
    {"password", &as_conf_string, offsetof(advice_t, password), AS_CONF_SECRET, NULL, NULL},
    AS_CONF_END};

/* Parse text with keys; the errors joined with "\n" (static buffer). */
static const char *parse(const char *text, unsigned flags, advice_t *out)
{
    static char all[4096];
    as_pool_t *pool = as_pool_create();
    as_conf_t cf;
    as_conf_init(&cf, pool);
    cf.flags = flags;
    as_node_t *root = as_yaml_load_string(&cf, "t.yaml", text);
    advice_t a = {0};
    if (root != NULL)
        as_conf_section_parse(&cf, keys, root, &a);
    all[0] = '\0';
    for (size_t i = 0; i < cf.nerrors; i++)
        snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\n", cf.errors[i]);
    for (size_t i = 0; i < cf.nwarnings; i++)
        snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\n", cf.warnings[i]);
    if (out != NULL) {
        /* Copies: the pool goes. */
        out->a = a.a ? strdup(a.a) : NULL;
        out->ab = a.ab ? strdup(a.ab) : NULL;
        out->password = a.password ? strdup(a.password) : NULL;
    }
    as_conf_free_errors(&cf);
    as_pool_destroy(pool);
    return all;
}

static void advice_free(advice_t *a)
{
    free(a->a);
    free(a->ab);
    free(a->password);
}

static void test_did_you_mean(void **state)
{
    assert_string_equal(parse("alpah: 1\n", 0, NULL),
                        "t.yaml:1:1: unknown key 'alpah': did you mean 'alpha'?\n");
    /* The nearest one wins. */
    assert_string_equal(parse("alphabt: 1\n", 0, NULL),
                        "t.yaml:1:1: unknown key 'alphabt': did you mean 'alphabet'?\n");
    /* A secret's NAME_file form is a candidate too. */
    assert_string_equal(parse("pasword_file: /x\n", 0, NULL),
                        "t.yaml:1:1: unknown key 'pasword_file': did you mean 'password_file'?\n");
    /* Too far, or too short to guess from. */
    assert_string_equal(parse("zeta: 1\n", 0, NULL), "t.yaml:1:1: unknown key 'zeta'\n");
    assert_string_equal(parse("a: 1\n", 0, NULL), "t.yaml:1:1: unknown key 'a'\n");
}

static void test_merge_keys(void **state)
{
    advice_t a;
    /* Explicit keys win, wherever "<<" is written. */
    assert_string_equal(parse("base: &b {alpha: from-b, alphabet: from-b}\n", 0, NULL),
                        "t.yaml:1:1: unknown key 'base'\n");
    as_pool_t *pool = as_pool_create();
    as_conf_t cf;
    as_conf_init(&cf, pool);
    as_node_t *root = as_yaml_load_string(&cf, "m.yaml",
                                          "b: &b {alpha: b1, alphabet: b2}\n"
                                          "c: &c {alpha: c1, password: c3}\n"
                                          "one: {alpha: own, <<: *b}\n"
                                          "list: {<<: [*c, *b]}\n"
                                          "quoted: {'<<': x}\n");
    assert_non_null(root);
    assert_int_equal(cf.nerrors, 0);
    const as_node_t *one = as_yaml_get(root, "one"), *list = as_yaml_get(root, "list");
    assert_string_equal(as_yaml_get(one, "alpha")->value, "own");
    assert_string_equal(as_yaml_get(one, "alphabet")->value, "b2");
    assert_null(as_yaml_get(one, "<<"));
    assert_int_equal(one->n, 2);
    /* The earlier map of a list wins. */
    assert_string_equal(as_yaml_get(list, "alpha")->value, "c1");
    assert_string_equal(as_yaml_get(list, "alphabet")->value, "b2");
    assert_string_equal(as_yaml_get(list, "password")->value, "c3");
    assert_int_equal(list->n, 3);
    /* A quoted '<<' is an ordinary key. */
    assert_string_equal(as_yaml_get(as_yaml_get(root, "quoted"), "<<")->value, "x");
    as_conf_free_errors(&cf);
    as_pool_destroy(pool);

    assert_non_null(strstr(parse("alpha: {<<: 3}\n", 0, NULL),
                           "t.yaml:1:13: the merge key '<<' takes a map or a list of maps"));
    assert_non_null(
        strstr(parse("x: &x {a: 1}\ny: {<<: *x, <<: *x}\n", 0, NULL), "duplicate key '<<'"));
    assert_string_equal(parse("<<: {alpha: m}\nalphabet: e\n", 0, &a), "");
    assert_string_equal(a.a, "m");
    assert_string_equal(a.ab, "e");
    advice_free(&a);
}

static void test_secrets_where_nothing_is_sent(void **state)
{
    advice_t a;
    unsetenv("AS_TEST_NO_SUCH");
    assert_non_null(strstr(parse("password: ${AS_TEST_NO_SUCH}\n", 0, &a),
                           "environment variable 'AS_TEST_NO_SUCH' is not set"));
    advice_free(&a);
    assert_string_equal(
        parse("password: ${AS_TEST_NO_SUCH}\nalpha: x${AS_TEST_NO_SUCH}y\n", AS_LOAD_NO_SEND, &a),
        "t.yaml:1:11: warning: environment variable 'AS_TEST_NO_SUCH' is not set (taken as "
        "empty: this command sends nothing)\n"
        "t.yaml:2:8: warning: environment variable 'AS_TEST_NO_SUCH' is not set (taken as "
        "empty: this command sends nothing)\n");
    assert_string_equal(a.password, AS_CONF_UNSET_SECRET); /* set, for the modules' checks */
    assert_string_equal(a.a, "xy");                        /* not a secret: empty */
    advice_free(&a);
    assert_string_equal(parse("password_file: /nonexistent/pw\n", AS_LOAD_NO_SEND, &a),
                        "t.yaml:1:16: warning: cannot read '/nonexistent/pw': No such file or "
                        "directory (ignored: this command sends nothing)\n");
    assert_string_equal(a.password, AS_CONF_UNSET_SECRET);
    advice_free(&a);
    assert_non_null(strstr(parse("password: <redacted>\n", 0, NULL),
                           "password: \"<redacted>\" looks like a value copied from alertsink -T"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_did_you_mean),
        cmocka_unit_test(test_merge_keys),
        cmocka_unit_test(test_secrets_where_nothing_is_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
