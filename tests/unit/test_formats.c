/*
 * test_formats.c - the stdin formats of `alertsink send` (cli/formats.c).
 *
 * Data-driven: every case of tests/fixtures/nagios/, collectd/ and
 * formats/ goes through as_format_read().  A case is NAME.txt (stdin,
 * absent = empty), NAME.env (the environment, one NAME=value a line,
 * absent = none), NAME.args (options, see payload_cases.h; format=F
 * overrides the directory's format) and NAME.out.json or NAME.err.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/formats.h"
#include "lib/json.h"
#include "payload_cases.h"

static const char *as_data_dir(void)
{
    const char *d = getenv("AS_TEST_DATA");
    return d != NULL ? d : "tests";
}

/* NAME.env cut into an envp array, pointing into *text. */
static char **as_case_env(const as_case_t *c, char **text)
{
    size_t n = 0;
    char **envp = as_xcalloc(1, sizeof(char *));
    *text = as_case_file(c, ".env", NULL);
    for (char *line = *text, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (*line != '\0' && *line != '#') {
            envp = as_xrealloc(envp, (n + 2) * sizeof(char *));
            envp[n++] = line;
            envp[n] = NULL;
        }
        if (next == NULL)
            break;
    }
    return envp;
}

static size_t as_run_dir(const char *sub, as_format_t dflt, size_t *count)
{
    as_case_t c;
    char **names;
    size_t failed = 0;
    snprintf(c.dir, sizeof(c.dir), "%s/fixtures/%s", as_data_dir(), sub);
    size_t n = as_case_list(c.dir, &names);
    for (size_t i = 0; i < n; i++) {
        as_str_copy(c.name, sizeof(c.name), names[i]);
        as_case_load_args(&c);
        as_format_t format = dflt, used = (as_format_t)-1;
        if (c.format != NULL && as_format_from_name(c.format, &format) != 0) {
            fprintf(stderr, "FAIL %s/%s: unknown format %s\n", c.dir, c.name, c.format);
            failed++;
        } else {
            char *envtext;
            char **envp = as_case_env(&c, &envtext);
            size_t len = 0;
            char *in = as_case_file(&c, ".txt", &len);
            as_err_t err = {{0}};
            int grouped = -1;
            cJSON *p = as_format_read(format, in != NULL ? in : "", len, envp, &c.opts, &used,
                                      &grouped, &err);
            failed += as_case_check(&c, p, grouped, as_format_name(used), err.msg) != 0;
            cJSON_Delete(p);
            free(in);
            free(envp);
            free(envtext);
        }
        free(c.args);
        free(names[i]);
    }
    free(names);
    *count = n;
    return failed;
}

static void test_nagios_cases(void **state)
{
    size_t n;
    assert_int_equal(as_run_dir("nagios", AS_FORMAT_NAGIOS, &n), 0);
    assert_true(n >= 20);
}

static void test_collectd_cases(void **state)
{
    size_t n;
    assert_int_equal(as_run_dir("collectd", AS_FORMAT_COLLECTD, &n), 0);
    assert_true(n >= 15);
}

static void test_format_cases(void **state)
{
    size_t n;
    assert_int_equal(as_run_dir("formats", AS_FORMAT_AUTO, &n), 0);
    assert_true(n >= 15);
}

/* A fixture case's payload, read the way the runner does. */
static cJSON *as_fixture_payload(const char *sub, const char *name, as_format_t format)
{
    as_case_t c;
    snprintf(c.dir, sizeof(c.dir), "%s/fixtures/%s", as_data_dir(), sub);
    as_str_copy(c.name, sizeof(c.name), name);
    as_case_load_args(&c);
    char *envtext;
    char **envp = as_case_env(&c, &envtext);
    size_t len = 0;
    char *in = as_case_file(&c, ".txt", &len);
    as_err_t err = {{0}};
    cJSON *p = as_format_read(format, in != NULL ? in : "", len, envp, &c.opts, NULL, NULL, &err);
    if (p == NULL)
        fail_msg("%s/%s: %s", sub, name, err.msg);
    free(in);
    free(envp);
    free(envtext);
    free(c.args);
    return p;
}

static const char *as_fp0(const cJSON *p)
{
    return as_json_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "alerts"), 0),
                       "fingerprint");
}

/* A recovery resolves the alert of its problem: same labels, same
 * fingerprint, the other status. */
static void test_recovery_resolves_problem(void **state)
{
    static const char *const pairs[][2] = {{"service-problem", "service-recovery"},
                                           {"host-problem", "host-recovery"}};
    for (size_t i = 0; i < 2; i++) {
        cJSON *a = as_fixture_payload("nagios", pairs[i][0], AS_FORMAT_NAGIOS);
        cJSON *b = as_fixture_payload("nagios", pairs[i][1], AS_FORMAT_NAGIOS);
        assert_string_equal(as_fp0(a), as_fp0(b));
        assert_string_equal(as_json_str(a, "status"), "firing");
        assert_string_equal(as_json_str(b, "status"), "resolved");
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
}

static void test_format_names(void **state)
{
    static const char *const names[] = {"auto", "json", "text", "nagios", "collectd"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        as_format_t f;
        assert_int_equal(as_format_from_name(names[i], &f), 0);
        assert_string_equal(as_format_name(f), names[i]);
    }
    as_format_t f;
    assert_int_equal(as_format_from_name("xml", &f), -1);
    assert_int_equal(as_format_from_name("JSON", &f), -1);
}

static FILE *as_stream(const char *s)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs(s, f);
    rewind(f);
    return f;
}

static void test_read_stream(void **state)
{
    as_err_t err = {{0}};
    as_format_t used;
    int grouped = -1;
    FILE *f = as_stream("disk full on db1\n");
    cJSON *p = as_format_read_stream(AS_FORMAT_AUTO, f, 0, NULL, NULL, &used, &grouped, &err);
    fclose(f);
    assert_non_null(p);
    assert_int_equal(used, AS_FORMAT_TEXT);
    assert_int_equal(grouped, 0);
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "alerts"), 0);
    assert_string_equal(as_json_str(a, "message"), "disk full on db1");
    cJSON_Delete(p);

    /* Over the limit: refused, whatever the content. */
    f = as_stream("0123456789abcdef");
    assert_null(as_format_read_stream(AS_FORMAT_TEXT, f, 8, NULL, NULL, NULL, NULL, &err));
    fclose(f);
    assert_string_equal(err.msg, "input larger than 8 bytes");

    /* Exactly at the limit: taken. */
    f = as_stream("01234567");
    p = as_format_read_stream(AS_FORMAT_TEXT, f, 8, NULL, NULL, NULL, NULL, &err);
    fclose(f);
    assert_non_null(p);
    cJSON_Delete(p);

    /* Nothing at all, no environment. */
    f = as_stream("");
    assert_null(as_format_read_stream(AS_FORMAT_AUTO, f, 0, NULL, NULL, NULL, NULL, &err));
    fclose(f);
    assert_string_equal(err.msg, "text: empty message");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nagios_cases), cmocka_unit_test(test_collectd_cases),
        cmocka_unit_test(test_format_cases), cmocka_unit_test(test_recovery_resolves_problem),
        cmocka_unit_test(test_format_names), cmocka_unit_test(test_read_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
