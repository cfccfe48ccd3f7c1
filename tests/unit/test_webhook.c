/*
 * test_webhook.c - the webhook sink's pure parts (src/sinks/webhook/):
 * the X-Alertsink-Signature of a body against RFC 4231's HMAC-SHA256
 * vectors and Python's hmac module's answers, and what each HTTP answer
 * means (as_webhook_classify): delivered, transient with Retry-After, or
 * permanent with the server's words, redacted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alertsink/buf.h"
#include "alertsink/log.h"
#include "sinks/webhook/webhook.h"

/* ---- the signature --------------------------------------------------------- */

static void test_signature_rfc4231(void **state)
{
    char sig[AS_WEBHOOK_SIG_SIZE];
    /* RFC 4231 test case 2: key "Jefe". */
    as_webhook_sign("Jefe", "what do ya want for nothing?", 28, sig);
    assert_string_equal(sig,
                        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Test case 1: a key of twenty 0x0b bytes. */
    char key[21];
    memset(key, 0x0b, 20);
    key[20] = '\0';
    as_webhook_sign(key, "Hi There", 8, sig);
    assert_string_equal(sig,
                        "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void test_signature_covers_exactly_the_bytes(void **state)
{
    char a[AS_WEBHOOK_SIG_SIZE], b[AS_WEBHOOK_SIG_SIZE];
    /* python3 -c 'import hmac; print(hmac.new(b"s3cret", b"", "sha256").hexdigest())' */
    as_webhook_sign("s3cret", "", 0, a);
    assert_string_equal(a,
                        "sha256=91dfac70c5348b04e1babb8b421ac92cec08b565b49ca16130dccb72503647b7");
    /* A NUL inside the body is signed, not an end. */
    as_webhook_sign("s3cret", "a\0b", 3, a);
    as_webhook_sign("s3cret", "a", 1, b);
    assert_string_not_equal(a, b);
    /* One byte more, another signature. */
    as_webhook_sign("s3cret", "{\"a\":1}\n", 8, a);
    as_webhook_sign("s3cret", "{\"a\":1}", 7, b);
    assert_string_not_equal(a, b);
}

/* ---- answers ------------------------------------------------------------------- */

static void answer(as_httpc_resp_t *r, long status, const char *body, int64_t retry_after_ms)
{
    memset(r, 0, sizeof(*r));
    r->status = status;
    r->retry_after_ms = retry_after_ms;
    if (body != NULL)
        as_buf_puts(&r->body, body);
}

static void classify(long status, const char *body, int64_t retry_after_ms, as_result_t *res)
{
    as_httpc_resp_t r;
    answer(&r, status, body, retry_after_ms);
    memset(res, 0x55, sizeof(*res)); /* every field must be set */
    as_webhook_classify(&r, res);
    as_buf_free(&r.body);
}

static void test_2xx_is_delivered(void **state)
{
    as_result_t res;
    long ok[] = {200, 201, 202, 204, 299};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        classify(ok[i], "{\"status\":\"ok\"}", 5000, &res);
        assert_int_equal(res.outcome, AS_DELIVERED);
        assert_int_equal(res.status, ok[i]);
        assert_int_equal(res.retry_after_ms, 0);
        assert_string_equal(res.reason, "");
    }
}

static void test_429_5xx_408_are_transient_with_retry_after(void **state)
{
    as_result_t res;
    classify(503, "busy, come back later", 3000, &res);
    assert_int_equal(res.outcome, AS_TRANSIENT);
    assert_int_equal(res.status, 503);
    assert_int_equal(res.retry_after_ms, 3000);
    assert_string_equal(res.reason, "HTTP 503: busy, come back later (Retry-After 3 s)");

    classify(429, "{\"error\":\"slow down\"}", -1, &res);
    assert_int_equal(res.outcome, AS_TRANSIENT);
    assert_int_equal(res.retry_after_ms, 0);
    assert_string_equal(res.reason, "HTTP 429: slow down");

    classify(408, NULL, -1, &res);
    assert_int_equal(res.outcome, AS_TRANSIENT);
    assert_string_equal(res.reason, "HTTP 408");

    classify(500, "<html>\n<body>\n  Internal   error\n</body></html>", 0, &res);
    assert_int_equal(res.outcome, AS_TRANSIENT);
    assert_string_equal(res.reason, "HTTP 500: <html> <body> Internal error </body></html>");
}

static void test_other_statuses_are_permanent(void **state)
{
    as_result_t res;
    /* A Retry-After on a permanent failure means nothing. */
    classify(404, "{\"message\":\"no such hook\",\"code\":7}", 9000, &res);
    assert_int_equal(res.outcome, AS_PERMANENT);
    assert_int_equal(res.status, 404);
    assert_int_equal(res.retry_after_ms, 0);
    assert_string_equal(res.reason, "HTTP 404: no such hook");

    classify(400, "{\"error\":{\"message\":\"bad field 'x'\"}}", -1, &res);
    assert_int_equal(res.outcome, AS_PERMANENT);
    assert_string_equal(res.reason, "HTTP 400: bad field 'x'");

    classify(301, "", -1, &res);
    assert_int_equal(res.outcome, AS_PERMANENT);
    assert_non_null(strstr(res.reason, "redirects are not followed"));

    classify(401, "unauthorized", -1, &res);
    assert_int_equal(res.outcome, AS_PERMANENT);
}

static void test_reasons_are_cut_and_redacted(void **state)
{
    as_result_t res;
    as_log_secret("hook-Secret-42");
    classify(403, "token hook-Secret-42 is not allowed here", -1, &res);
    assert_null(strstr(res.reason, "hook-Secret-42"));
    assert_non_null(strstr(res.reason, "<redacted>"));

    /* Bytes that are not UTF-8 do not reach a log line. */
    classify(400, "bad \xff\xfe byte \xc3", -1, &res);
    assert_string_equal(res.reason, "HTTP 400: bad ?? byte ?");

    /* A long answer: cut, marked, within the reason. */
    as_buf_t big = AS_BUF_INIT;
    for (int i = 0; i < 2000; i++)
        as_buf_puts(&big, "ş");
    classify(400, big.data, -1, &res);
    as_buf_free(&big);
    assert_true(strlen(res.reason) < sizeof(res.reason));
    assert_non_null(strstr(res.reason, "..."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_rfc4231),
        cmocka_unit_test(test_signature_covers_exactly_the_bytes),
        cmocka_unit_test(test_2xx_is_delivered),
        cmocka_unit_test(test_429_5xx_408_are_transient_with_retry_after),
        cmocka_unit_test(test_other_statuses_are_permanent),
        cmocka_unit_test(test_reasons_are_cut_and_redacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
