/*
 * test_re2.c - Go's regular expressions on PCRE2 (route/re2.c), table
 * driven: every case of tests/fixtures/re2/cases.jsonl, a pattern with an
 * input and whether Go matches it (anchored as Alertmanager anchors it,
 * ^(?:re)$), or a pattern Go refuses and the words alertsink's message
 * must contain.
 *
 * Where the expectations come from is written on each case ("src"), and
 * the table's header lists the sources: Go's regexp/syntax documentation
 * and parse.go, prog.go for the empty-width assertions, unicode's fold
 * orbits, the RE2 syntax wiki for what RE2 does not support, and
 * Alertmanager for the anchoring.  tests/e2e/test_re2_amtool.py checks the
 * same table against Go itself (Debian's amtool), so a wrong expectation
 * fails there.  The few cases below the table are about this
 * implementation rather than about Go: time on a pattern that backtracking
 * engines take exponential time on, bytes that are not UTF-8, the
 * translation's shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertsink/buf.h"
#include "lib/json.h"
#include "route/re2.h"

static const char *fixture_path(void)
{
    static char path[1024];
    const char *dir = getenv("AS_TEST_DATA");
    snprintf(path, sizeof(path), "%s/fixtures/re2/cases.jsonl", dir ? dir : "tests");
    return path;
}

/* One case: 1 when it holds, else 0 with a line on stderr. */
static int run_case(const cJSON *c, size_t line)
{
    const char *re = as_json_str(c, "re"), *in = as_json_str(c, "in");
    const char *want_err = as_json_str(c, "error");
    const cJSON *match = cJSON_GetObjectItemCaseSensitive(c, "match");
    as_err_t err = {{0}};
    if (re == NULL || (want_err == NULL && (in == NULL || !cJSON_IsBool(match)))) {
        fprintf(stderr, "line %zu: a case needs re, and in and match, or error\n", line);
        return 0;
    }
    pcre2_code *code = as_re2_compile(re, &err);
    as_buf_t tr = AS_BUF_INIT;
    as_err_t terr;
    if (as_re2_translate(re, &tr, &terr) < 0)
        as_buf_puts(&tr, "(refused alone)");
    int ok;
    if (want_err != NULL) {
        ok = code == NULL && strstr(err.msg, want_err) != NULL;
        if (!ok)
            fprintf(stderr, "line %zu: /%s/: want an error with \"%s\", got %s%s\n", line, re,
                    want_err, code ? "a pattern: " : "", code ? tr.data : err.msg);
    } else if (code == NULL) {
        ok = 0;
        fprintf(stderr, "line %zu: /%s/ refused: %s\n", line, re, err.msg);
    } else {
        int got = as_re2_match(code, in);
        ok = got == cJSON_IsTrue(match);
        if (!ok)
            fprintf(stderr, "line %zu: /%s/ on \"%s\": %s, Go says %s (PCRE2 pattern %s)\n", line,
                    re, in, got ? "match" : "no match", cJSON_IsTrue(match) ? "match" : "no match",
                    tr.data);
    }
    pcre2_code_free(code);
    as_buf_free(&tr);
    return ok;
}

static void test_table(void **state)
{
    FILE *fp = fopen(fixture_path(), "r");
    assert_non_null(fp);
    char buf[4096];
    size_t line = 0, matches = 0, refusals = 0, failed = 0;
    while (fgets(buf, sizeof(buf), fp) != NULL) {
        line++;
        if (buf[0] == '#' || buf[0] == '\n')
            continue;
        as_err_t err;
        cJSON *c = as_json_parse(buf, strlen(buf), &err);
        if (c == NULL) {
            fprintf(stderr, "line %zu: %s\n", line, err.msg);
            failed++;
            continue;
        }
        if (as_json_str(c, "error") != NULL)
            refusals++;
        else
            matches++;
        failed += !run_case(c, line);
        cJSON_Delete(c);
    }
    fclose(fp);
    fprintf(stderr, "%zu pattern x input cases, %zu refused patterns, %zu failed\n", matches,
            refusals, failed);
    assert_true(matches >= 50);
    assert_true(refusals >= 30);
    assert_int_equal(failed, 0);
}

/* A pattern that makes a backtracking matcher take exponential time on a
 * near miss: the DFA matcher answers at once, as RE2 does. */
static void test_no_backtracking_blowup(void **state)
{
    as_err_t err;
    pcre2_code *c = as_re2_compile("(a|aa|a*)*(b|a*)*c", &err);
    assert_non_null(c);
    char in[4001];
    memset(in, 'a', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_false(as_re2_match(c, in));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs < 10.0); /* generous for valgrind; a backtracker takes years */
    pcre2_code_free(c);
}

/* Go reads a byte that is not UTF-8 as U+FFFD, one byte one character. */
static void test_invalid_utf8_input(void **state)
{
    as_err_t err;
    pcre2_code *dot = as_re2_compile("a.b", &err), *fffd = as_re2_compile("\\x{fffd}+", &err);
    assert_non_null(dot);
    assert_non_null(fffd);
    assert_true(as_re2_match(dot, "a\xff"
                                  "b"));
    assert_false(as_re2_match(dot, "a\xff\xfe"
                                   "b"));
    assert_true(as_re2_match(fffd, "\xe2\x82"));
    pcre2_code_free(dot);
    pcre2_code_free(fffd);
    assert_null(as_re2_compile("\xff", &err));
    assert_string_equal(err.msg, "invalid UTF-8");
}

/* The shape of a few translations: what PCRE2 is given. */
static void test_translation(void **state)
{
    static const struct {
        const char *go, *pcre2;
    } cases[] = {
        {"a.c", "a.c"},
        {"\\s", "[\\x{9}-\\x{a}\\x{c}-\\x{d}\\x{20}]"},
        {"(x)", "(?:x)"},
        {"^a$", "\\Aa\\z"},
        {"(?m)^a$", "(?m)^a$"},
        {"ab(?i)*", "ab*"},
        {"^*", "(?:\\A)*"},
        {"a{,2}", "a\\{\\,2\\}"},
        {"\\Q*\\E", "\\*"},
        {"\\101", "A"},
        {"(?i)\\W", "(?i)(?:(?-i:[^\\x{30}-\\x{39}\\x{41}-\\x{5a}\\x{5f}\\x{61}-\\x{7a}\\x{17f}"
                    "\\x{212a}]))"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        as_buf_t b = AS_BUF_INIT;
        as_err_t err;
        assert_int_equal(as_re2_translate(cases[i].go, &b, &err), 0);
        if (strcmp(b.data, cases[i].pcre2) != 0)
            fail_msg("/%s/: got %s, want %s", cases[i].go, b.data, cases[i].pcre2);
        as_buf_free(&b);
    }
}

/* Offsets in messages are into the user's pattern, not the anchored one. */
static void test_error_offsets(void **state)
{
    as_err_t err;
    assert_null(as_re2_compile("db(", &err));
    assert_string_equal(err.msg, "missing closing parenthesis at offset 3");
    assert_null(as_re2_compile("ab(?=c)", &err));
    assert_non_null(strstr(err.msg, "at offset 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_no_backtracking_blowup),
        cmocka_unit_test(test_invalid_utf8_input),
        cmocka_unit_test(test_translation),
        cmocka_unit_test(test_error_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
