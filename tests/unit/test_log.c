/*
 * test_log.c - the logger's two formats: logfmt and JSON (log.format),
 * with the same keys in the same order, the journald prefix, and secrets
 * hidden in both, also when escaping would have changed how they look.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alertsink/sink.h"
#include "lib/json.h"
#include "lib/log.h"

/* Log one event and return the line written (static buffer). */
static const char *capture(int format, const char *msg, const as_kv_t *kv)
{
    static char buf[16384];
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    as_log_set_format(format);
    as_log_set_fd(fds[1]);
    as_log_kv(AS_LOG_WARN, msg, kv);
    as_log_set_fd(-1);
    as_log_set_format(AS_LOG_LOGFMT);
    close(fds[1]);
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    return buf;
}

static void test_json_line(void **state)
{
    unsetenv("JOURNAL_STREAM");
    const as_kv_t kv[] = {AS_S("id", "n-1"),
                          AS_I("attempt", 3),
                          AS_S("reason", "say \"no\"\n"),
                          AS_S("raw", "bad \xff byte"),
                          AS_S("skipped", NULL),
                          {NULL, 0, NULL, 0}};
    const char *line = capture(AS_LOG_JSON, "delivery attempt", kv);
    assert_int_equal(strncmp(line, "{\"time\":\"", 9), 0);
    assert_non_null(strstr(line,
                           "Z\",\"level\":\"warn\",\"msg\":\"delivery attempt\",\"id\":\"n-1\","
                           "\"attempt\":3,\"reason\":\"say \\\"no\\\"\\n\","));
    assert_int_equal(line[strlen(line) - 1], '\n');
    as_err_t err;
    cJSON *o = as_json_parse(line, strlen(line), &err);
    if (o == NULL)
        fail_msg("not JSON: %s: %s", err.msg, line);
    assert_string_equal(as_json_str(o, "msg"), "delivery attempt");
    assert_int_equal((int)as_json_num(o, "attempt", 0), 3);
    assert_string_equal(as_json_str(o, "raw"), "bad \xef\xbf\xbd byte");
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "skipped"));
    cJSON_Delete(o);
}

static void test_logfmt_line(void **state)
{
    unsetenv("JOURNAL_STREAM");
    const as_kv_t kv[] = {AS_S("id", "n-1"), AS_I("attempt", 3), {NULL, 0, NULL, 0}};
    const char *line = capture(AS_LOG_LOGFMT, "delivery attempt", kv);
    assert_int_equal(strncmp(line, "time=", 5), 0);
    assert_non_null(strstr(line, " level=warn msg=\"delivery attempt\" id=n-1 attempt=3\n"));
}

/* A secret is hidden even when it holds characters that the format
 * escapes (the escaped form would not be found in the finished line). */
static void test_secrets_hidden(void **state)
{
    unsetenv("JOURNAL_STREAM");
    as_log_secret("pa\"ss\\word");
    const as_kv_t kv[] = {AS_S("body", "login with pa\"ss\\word refused"), {NULL, 0, NULL, 0}};
    for (int f = AS_LOG_LOGFMT; f <= AS_LOG_JSON; f++) {
        const char *line = capture(f, "peer said pa\"ss\\word", kv);
        assert_null(strstr(line, "ss\\\\word"));
        assert_null(strstr(line, "ss\\word"));
        assert_non_null(strstr(line, "<redacted>"));
    }
}

/* A line that fills the buffer stays one valid JSON object (a long group
 * key of quotes and emoji made the closing brace land on a key's quote),
 * for every length around the limit; logfmt escapes tabs as go-logfmt
 * reads them. */
static void test_long_json_line(void **state)
{
    static char v[9000];
    for (size_t len = 1900; len < 2200; len += 7) {
        size_t o = 0;
        for (size_t i = 0; i < len; i++)
            v[o++] = '"';
        for (int i = 0; i < 300; i++)
            o += (size_t)snprintf(v + o, sizeof(v) - o, "\xf0\x9f\x94\xa5");
        v[o] = '\0';
        const as_kv_t kv[] = {AS_S("group_key", v),
                              AS_I("notifications", 12),
                              AS_S("receiver", "r"),
                              {NULL, 0, NULL, 0}};
        const char *line = capture(AS_LOG_JSON, "group_wait digest", kv);
        cJSON *o2 = cJSON_Parse(line);
        if (o2 == NULL)
            fail_msg("not JSON at %zu: ...%s", len, line + strlen(line) - 40);
        cJSON_Delete(o2);
    }
    const as_kv_t tab[] = {AS_S("v", "a\tb\x01"), {NULL, 0, NULL, 0}};
    assert_non_null(strstr(capture(AS_LOG_LOGFMT, "m", tab), "v=\"a\\tb\\u0001\""));
}

/* Many logins' tokens never push a configured secret out of the table
 * (it was oldest first out, so the password showed after 64 logins). */
static void test_secret_outlives_tokens(void **state)
{
    as_log_secret("the-configured-password");
    char token[64], line[256];
    for (int i = 0; i < 1000; i++) {
        snprintf(token, sizeof(token), "token-%04d-of-a-login", i);
        as_log_token(token);
    }
    snprintf(line, sizeof(line), "login: wrong credentials for the-configured-password; %s",
             "token-0999-of-a-login");
    as_log_redact(line, sizeof(line));
    assert_string_equal(line, "login: wrong credentials for <redacted>; <redacted>");
    /* The newest tokens are kept, the oldest have gone. */
    snprintf(line, sizeof(line), "token-0000-of-a-login");
    as_log_redact(line, sizeof(line));
    assert_string_equal(line, "token-0000-of-a-login");
}

/* A sink's reason: redacted before it is cut to fit (a long secret was cut
 * first, then no longer matched), and cut at a character's start (half a
 * character made the note's spool file unreadable). */
static void test_result_reason(void **state)
{
    char secret[700], fmt[1200];
    memset(secret, 's', sizeof(secret) - 1);
    secret[sizeof(secret) - 1] = '\0';
    memcpy(secret, "token=", 6);
    as_log_secret(secret);
    as_result_t res;
    as_result_set(&res, AS_TRANSIENT, 0, "POST http://h/x?%s: cannot connect", secret);
    assert_string_equal(res.reason, "POST http://h/x?<redacted>: cannot connect");
    /* 'ç' (2 bytes) across the 511-byte mark */
    memset(fmt, 'a', 510);
    strcpy(fmt + 510, "\xc3\xa7 and more");
    as_result_set(&res, AS_TRANSIENT, 0, "%s", fmt);
    assert_int_equal(strlen(res.reason), 510);
    assert_true(as_utf8_valid(res.reason, strlen(res.reason)));
    /* and text made UTF-8 again where it was not (a spool entry's strings) */
    char *fixed = as_utf8_repair("a\xc3", 2);
    assert_string_equal(fixed, "a\xef\xbf\xbd");
    free(fixed);
}

/* Under systemd: the <N> prefix, no time (journald has its own); the
 * JSON object stays whole after journald takes the prefix off. */
static void test_journal(void **state)
{
    /* The logger looks at JOURNAL_STREAM once: in a child, so that the
     * other tests see no journal. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("JOURNAL_STREAM", "8:1", 1);
        const as_kv_t kv[] = {AS_S("k", "v"), {NULL, 0, NULL, 0}};
        const char *line = capture(AS_LOG_JSON, "m", kv);
        int ok = strcmp(line, "<4>{\"level\":\"warn\",\"msg\":\"m\",\"k\":\"v\"}\n") == 0;
        line = capture(AS_LOG_LOGFMT, "m", kv);
        ok = ok && strcmp(line, "<4>level=warn msg=m k=v\n") == 0;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First: the logger reads JOURNAL_STREAM once, at its first line. */
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_json_line),
        cmocka_unit_test(test_logfmt_line),
        cmocka_unit_test(test_secrets_hidden),
        cmocka_unit_test(test_secret_outlives_tokens),
        cmocka_unit_test(test_long_json_line),
        cmocka_unit_test(test_result_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
