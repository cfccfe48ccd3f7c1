/*
 * test_whatsapp_cloud.c - the WhatsApp Cloud API sink's pure parts
 * (src/sinks/whatsapp_cloud/graph.c): what each Graph API answer means
 * (as_graph_classify, by error.code first, then by HTTP status), the
 * bodies of text and template messages (parsed back), how a rendered
 * template parameter is made acceptable to Meta, and the account checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alertsink/buf.h"
#include "alertsink/json.h"
#include "alertsink/log.h"
#include "sinks/whatsapp_cloud/graph.h"

#define TOKEN "EAAG-unit-Secret-Token"

/* A Graph API error answer. */
static long classify_code(long status, long code, const char *message, int64_t retry_after_ms,
                          as_result_t *res)
{
    as_buf_t b = AS_BUF_INIT;
    as_buf_printf(&b,
                  "{\"error\":{\"message\":\"%s\",\"type\":\"OAuthException\",\"code\":%ld,"
                  "\"error_data\":{\"messaging_product\":\"whatsapp\",\"details\":\"%s\"},"
                  "\"fbtrace_id\":\"Abc\"}}",
                  message, code, message);
    memset(res, 0x55, sizeof(*res)); /* every field must be set */
    long got = as_graph_classify(status, &b, retry_after_ms, res);
    as_buf_free(&b);
    return got;
}

static long classify_body(long status, const char *body, int64_t retry_after_ms, as_result_t *res)
{
    as_buf_t b = AS_BUF_INIT;
    if (body != NULL)
        as_buf_puts(&b, body);
    memset(res, 0x55, sizeof(*res));
    long got = as_graph_classify(status, &b, retry_after_ms, res);
    as_buf_free(&b);
    return got;
}

static int group_setup(void **state)
{
    as_log_secret(TOKEN);
    return 0;
}

/* ---- answers -------------------------------------------------------------------- */

static void test_2xx_is_delivered(void **state)
{
    as_result_t res;
    const char *ok =
        "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":\"905551112233\","
        "\"wa_id\":\"905551112233\"}],\"messages\":[{\"id\":\"wamid.X\"}]}";
    assert_int_equal(classify_body(200, ok, 3000, &res), 0);
    assert_int_equal(res.outcome, AS_DELIVERED);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.retry_after_ms, 0);
    assert_string_equal(res.reason, "");
}

static void test_190_names_the_token_and_how_to_renew_it(void **state)
{
    as_result_t res;
    /* Meta's message may echo the token: it never reaches the reason. */
    assert_int_equal(classify_code(401, 190,
                                   "Error validating access token " TOKEN
                                   ": Session has expired on Sunday",
                                   5000, &res),
                     190);
    assert_int_equal(res.outcome, AS_PERMANENT);
    assert_int_equal(res.status, 401);
    assert_int_equal(res.retry_after_ms, 0);
    assert_null(strstr(res.reason, TOKEN));
    assert_non_null(strstr(res.reason, "<redacted>"));
    /* The advice comes first, so that a long message cannot cut it. */
    assert_true(strncmp(res.reason, "the access token (whatsapp_cloud.token) was refused", 51) ==
                0);
    assert_non_null(strstr(res.reason, "Generate new token"));
    assert_non_null(strstr(res.reason, "Graph API error 190 (HTTP 401)"));
    assert_non_null(strstr(res.reason, "Session has expired"));
}

static void test_rate_limits_and_busy_are_transient(void **state)
{
    static const long codes[] = {130429, 131056, 80007, 4, 2};
    as_result_t res;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        /* 130429 comes as HTTP 400: the code decides, not the status. */
        assert_int_equal(classify_code(400, codes[i], "Rate limit hit", 2000, &res), codes[i]);
        assert_int_equal(res.outcome, AS_TRANSIENT);
        assert_int_equal(res.retry_after_ms, 2000);
        assert_non_null(strstr(res.reason, "(Retry-After 2 s)"));
    }
    classify_code(400, 130429, "Rate limit hit", -1, &res);
    assert_int_equal(res.retry_after_ms, 0);
    assert_string_equal(res.reason, "rate limit reached; Graph API error 130429 (HTTP 400): Rate "
                                    "limit hit");
}

static void test_window_and_undeliverable_are_permanent(void **state)
{
    as_result_t res;
    assert_int_equal(classify_code(400, 131047, "Re-engagement message", 4000, &res), 131047);
    assert_int_equal(res.outcome, AS_PERMANENT);
    assert_int_equal(res.retry_after_ms, 0);
    assert_non_null(strstr(res.reason, "outside the 24-hour window"));
    assert_non_null(strstr(res.reason, "message_template"));
    assert_int_equal(classify_code(400, 131026, "Message Undeliverable.", -1, &res), 131026);
    assert_int_equal(res.outcome, AS_PERMANENT);
    assert_non_null(strstr(res.reason, "cannot receive it"));
}

static void test_other_codes_follow_the_status(void **state)
{
    as_result_t res;
    assert_int_equal(classify_code(400, 100, "(#100) Invalid parameter", -1, &res), 100);
    assert_int_equal(res.outcome, AS_PERMANENT);
    assert_string_equal(res.reason, "Graph API error 100 (HTTP 400): (#100) Invalid parameter");
    assert_int_equal(classify_code(500, 131000, "Something went wrong", 1000, &res), 131000);
    assert_int_equal(res.outcome, AS_TRANSIENT);
    assert_int_equal(res.retry_after_ms, 1000);
    assert_int_equal(classify_code(404, 132001, "Template name does not exist", -1, &res), 132001);
    assert_int_equal(res.outcome, AS_PERMANENT);

    /* No Graph API error at all: a proxy in between. */
    assert_int_equal(classify_body(502, "<html><h1>502 Bad Gateway</h1>\n</html>", -1, &res), 0);
    assert_int_equal(res.outcome, AS_TRANSIENT);
    assert_string_equal(res.reason, "HTTP 502: <html><h1>502 Bad Gateway</h1> </html>");
    assert_int_equal(classify_body(429, NULL, 7000, &res), 0);
    assert_int_equal(res.outcome, AS_TRANSIENT);
    assert_int_equal(res.retry_after_ms, 7000);
    assert_int_equal(classify_body(403, "{\"message\":\"forbidden\"}", -1, &res), 0);
    assert_int_equal(res.outcome, AS_PERMANENT);
    assert_string_equal(res.reason, "HTTP 403: forbidden");
}

/* ---- request bodies ------------------------------------------------------------------ */

static cJSON *parse(char *json)
{
    as_err_t err;
    cJSON *j = as_json_parse(json, strlen(json), &err);
    assert_non_null(j);
    cJSON_free(json);
    return j;
}

static void test_text_message(void **state)
{
    cJSON *j = parse(as_graph_text_json("905551112233", "🔥 *DiskFull*\n\"quoted\""));
    assert_string_equal(as_json_str(j, "messaging_product"), "whatsapp");
    assert_string_equal(as_json_str(j, "recipient_type"), "individual");
    assert_string_equal(as_json_str(j, "to"), "905551112233");
    assert_string_equal(as_json_str(j, "type"), "text");
    const cJSON *t = as_json_obj(j, "text");
    assert_string_equal(as_json_str(t, "body"), "🔥 *DiskFull*\n\"quoted\"");
    assert_int_equal(as_json_bool(t, "preview_url", 1), 0);
    assert_null(as_json_obj(j, "template"));
    cJSON_Delete(j);
}

static void test_template_message(void **state)
{
    char *params[] = {"FIRING:2", "DiskFull", "db1: 95% \"full\""};
    cJSON *j = parse(as_graph_template_json("14155550100", "alertsink_alert", "en_US", params, 3));
    assert_string_equal(as_json_str(j, "type"), "template");
    assert_string_equal(as_json_str(j, "to"), "14155550100");
    const cJSON *t = as_json_obj(j, "template");
    assert_string_equal(as_json_str(t, "name"), "alertsink_alert");
    assert_string_equal(as_json_str(as_json_obj(t, "language"), "code"), "en_US");
    const cJSON *comps = as_json_arr(t, "components");
    assert_int_equal(cJSON_GetArraySize(comps), 1);
    assert_string_equal(as_json_str(comps->child, "type"), "body");
    const cJSON *ps = as_json_arr(comps->child, "parameters");
    assert_int_equal(cJSON_GetArraySize(ps), 3);
    int i = 0;
    for (const cJSON *p = ps->child; p != NULL; p = p->next, i++) {
        assert_string_equal(as_json_str(p, "type"), "text");
        assert_string_equal(as_json_str(p, "text"), params[i]);
    }
    assert_null(as_json_obj(j, "text"));
    cJSON_Delete(j);

    /* A template without parameters has no components. */
    j = parse(as_graph_template_json("14155550100", "static_alert", "en", NULL, 0));
    assert_null(as_json_arr(as_json_obj(j, "template"), "components"));
    cJSON_Delete(j);
}

static void expect_param(const char *in, const char *want)
{
    char *p = as_graph_param(in);
    assert_string_equal(p, want);
    free(p);
}

static void test_params_are_one_line_never_empty_and_short(void **state)
{
    expect_param("FIRING:2", "FIRING:2");
    expect_param("  a\nb\t\tc     d  \r\n", "a b c d");
    expect_param("", "-");
    expect_param(" \n\t ", "-");
    expect_param("x\x01y", "x y");

    as_buf_t b = AS_BUF_INIT;
    for (int i = 0; i < 400; i++)
        as_buf_puts(&b, "ğ"); /* two bytes each */
    char *p = as_graph_param(b.data);
    assert_true(strlen(p) <= AS_GRAPH_PARAM_MAX);
    assert_true(strlen(p) >= AS_GRAPH_PARAM_MAX - 4);
    assert_string_equal(p + strlen(p) - 3, "...");
    assert_true(as_utf8_valid(p, strlen(p))); /* cut between characters */
    free(p);
    as_buf_free(&b);
}

/* ---- the account ------------------------------------------------------------------------ */

static void test_account_checks(void **state)
{
    as_graph_account_t a = {"106540352242922", TOKEN, "https://graph.facebook.com", "v24.0", 10000};
    as_err_t err;
    assert_int_equal(as_graph_account_check(&a, "whatsapp_cloud", &err), 0);

    as_graph_account_t b = a;
    b.phone_number_id = NULL;
    assert_int_equal(as_graph_account_check(&b, "whatsapp_cloud", &err), -1);
    assert_non_null(strstr(err.msg, "whatsapp_cloud.phone_number_id is not set"));
    b.phone_number_id = "+90 555 000 0001"; /* the number, not its id */
    assert_int_equal(as_graph_account_check(&b, "receiver 'r': whatsapp_cloud", &err), -1);
    assert_non_null(strstr(err.msg, "receiver 'r': whatsapp_cloud.phone_number_id: expected"));

    b = a;
    b.token = "";
    assert_int_equal(as_graph_account_check(&b, "whatsapp_cloud", &err), -1);
    assert_string_equal(err.msg, "whatsapp_cloud.token (or token_file) is not set");

    static const char *const bad_versions[] = {"24.0", "v24", "v.0", "vX.0", "v24.0/x", ""};
    for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
        b = a;
        b.api_version = (char *)bad_versions[i];
        assert_int_equal(as_graph_account_check(&b, "whatsapp_cloud", &err), -1);
        assert_non_null(strstr(err.msg, "api_version"));
    }
    b = a;
    b.base_url = "graph.facebook.com";
    assert_int_equal(as_graph_account_check(&b, "whatsapp_cloud", &err), -1);
    b = a;
    b.timeout = 0;
    assert_int_equal(as_graph_account_check(&b, "whatsapp_cloud", &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2xx_is_delivered),
        cmocka_unit_test(test_190_names_the_token_and_how_to_renew_it),
        cmocka_unit_test(test_rate_limits_and_busy_are_transient),
        cmocka_unit_test(test_window_and_undeliverable_are_permanent),
        cmocka_unit_test(test_other_codes_follow_the_status),
        cmocka_unit_test(test_text_message),
        cmocka_unit_test(test_template_message),
        cmocka_unit_test(test_params_are_one_line_never_empty_and_short),
        cmocka_unit_test(test_account_checks),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
