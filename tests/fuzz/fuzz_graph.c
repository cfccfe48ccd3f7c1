/*
 * fuzz_graph.c - what the HTTP sinks read and write that comes from
 * outside: the Graph API's answers as the whatsapp_cloud sink reads them
 * (sinks/whatsapp_cloud/graph.h), the webhook's answers
 * (sinks/webhook/webhook.h), and the bodies the Cloud API sink builds
 * from rendered text.
 *
 * The input is an answer's body; "#@status N" gives its HTTP status (200
 * when absent) and "#@retry-after VALUE" its Retry-After header (read as
 * the HTTP client reads it).  The body is also taken as rendered text:
 * a text message's body and a template parameter.
 *
 * What must hold besides not crashing: an answer is delivered only when
 * it is 2xx (and, for the Graph API, carries no error code), and one that
 * is not says why in a reason that ends; error 190 is permanent, the
 * busy and rate-limit codes transient, as graph.h lists them; a transient
 * result's Retry-After is the header's; a template parameter is one line
 * of at most AS_GRAPH_PARAM_MAX bytes, never empty, without four spaces
 * in a row, and valid UTF-8 when the text was; a text message's body is
 * JSON whose text.body is the text, to the byte.
 */
#include <stdlib.h>
#include <string.h>

#include "alertsink/json.h"
#include "fuzz.h"
#include "lib/json.h"
#include "sinks/webhook/webhook.h"
#include "sinks/whatsapp_cloud/graph.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

static void fz_check_result(const char *who, long status, const as_result_t *res)
{
    if (res->outcome == AS_DELIVERED && (status < 200 || status > 299))
        fz_fail("%s: HTTP %ld taken for a delivery", who, status);
    if (res->outcome != AS_DELIVERED &&
        (res->reason[0] == '\0' || memchr(res->reason, '\0', sizeof(res->reason)) == NULL))
        fz_fail("%s: an answer refused without a reason", who);
    if (res->outcome != AS_DELIVERED && res->outcome != AS_TRANSIENT &&
        res->outcome != AS_PERMANENT && res->outcome != AS_UNAVAILABLE)
        fz_fail("%s: outcome %d", who, (int)res->outcome);
}

static void fz_graph_answer(const as_httpc_resp_t *resp)
{
    as_result_t res;
    memset(&res, 0, sizeof(res));
    long code = as_graph_classify(resp->status, &resp->body, resp->retry_after_ms, &res);
    fz_check_result("graph", resp->status, &res);
    if (code != 0 && res.outcome == AS_DELIVERED)
        fz_fail("graph: error %ld taken for a delivery", code);
    if (code == AS_GRAPH_TOKEN_EXPIRED && res.outcome != AS_PERMANENT)
        fz_fail("graph: an expired token (190) is not permanent");
    if ((code == 2 || code == 4 || code == 80007 || code == 130429 || code == 131056) &&
        res.outcome != AS_TRANSIENT)
        fz_fail("graph: error %ld is not transient", code);
}

static void fz_webhook_answer(const as_httpc_resp_t *resp)
{
    as_result_t res;
    memset(&res, 0, sizeof(res));
    as_webhook_classify(resp, &res);
    fz_check_result("webhook", resp->status, &res);
    int two = resp->status >= 200 && resp->status <= 299;
    if (two != (res.outcome == AS_DELIVERED))
        fz_fail("webhook: HTTP %ld read as outcome %d", resp->status, (int)res.outcome);
    if (res.outcome == AS_TRANSIENT && resp->retry_after_ms >= 0 &&
        res.retry_after_ms != resp->retry_after_ms)
        fz_fail("webhook: Retry-After %lld ms became %lld", (long long)resp->retry_after_ms,
                (long long)res.retry_after_ms);
}

/* The text as a template parameter and as a text message's body. */
static void fz_bodies(const char *text, size_t len)
{
    int utf8 = as_utf8_valid(text, len);
    char *p = as_graph_param(text);
    size_t plen = strlen(p);
    if (plen == 0 || plen > AS_GRAPH_PARAM_MAX)
        fz_fail("a parameter of %zu bytes", plen);
    if (strpbrk(p, "\n\t\r") != NULL || strstr(p, "    ") != NULL)
        fz_fail("a parameter that is not one line: '%s'", p);
    if (utf8 && !as_utf8_valid(p, plen))
        fz_fail("a parameter cut inside a character: '%s'", p);
    free(p);

    if (!utf8)
        return; /* rendered text is UTF-8: the template and the payload are */
    char *json = as_graph_text_json("905550000000", text);
    as_err_t err;
    cJSON *o = as_json_parse(json, strlen(json), &err);
    if (o == NULL)
        fz_fail("a text message's body is not JSON (%s): %s", err.msg, json);
    const char *body = as_json_str(as_json_obj(o, "text"), "body");
    if (body == NULL || strcmp(body, text) != 0)
        fz_fail("a text message's body does not hold the text: %s", json);
    cJSON_Delete(o);
    cJSON_free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input_t in;
    fz_input_split(&in, data, size);
    as_httpc_resp_t resp;
    fz_http_answer(&in, &resp);

    fz_graph_answer(&resp);
    fz_webhook_answer(&resp);
    /* As text: up to its first NUL, as a rendered message ends there. */
    const char *text = resp.body.data ? resp.body.data : "";
    fz_bodies(text, strlen(text));

    as_buf_free(&resp.body);
    fz_input_free(&in);
    return 0;
}
