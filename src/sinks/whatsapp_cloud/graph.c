/*
 * graph.c - the Graph API client of the WhatsApp Cloud API (see graph.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/module.h"
#include "graph.h"

/* --- request bodies -------------------------------------------------------- */

static cJSON *as_graph_message(const char *to, const char *type)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "messaging_product", "whatsapp");
    cJSON_AddStringToObject(m, "recipient_type", "individual");
    cJSON_AddStringToObject(m, "to", to);
    cJSON_AddStringToObject(m, "type", type);
    return m;
}

static char *as_graph_print(cJSON *m)
{
    char *json = as_json_print(m);
    cJSON_Delete(m);
    return json;
}

char *as_graph_text_json(const char *to, const char *text)
{
    cJSON *m = as_graph_message(to, "text");
    cJSON *t = cJSON_AddObjectToObject(m, "text");
    /* An alert's links (generatorURL) would each get a preview card. */
    cJSON_AddBoolToObject(t, "preview_url", 0);
    cJSON_AddStringToObject(t, "body", text);
    return as_graph_print(m);
}

char *as_graph_template_json(const char *to, const char *name, const char *language,
                             char *const *params, size_t nparams)
{
    cJSON *m = as_graph_message(to, "template");
    cJSON *t = cJSON_AddObjectToObject(m, "template");
    cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(t, "language"), "code", language);
    if (nparams > 0) {
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "type", "body");
        cJSON *list = cJSON_AddArrayToObject(body, "parameters");
        for (size_t i = 0; i < nparams; i++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "type", "text");
            cJSON_AddStringToObject(p, "text", params[i]);
            cJSON_AddItemToArray(list, p);
        }
        cJSON_AddItemToArray(cJSON_AddArrayToObject(t, "components"), body);
    }
    return as_graph_print(m);
}

char *as_graph_param(const char *rendered)
{
    as_buf_t b = AS_BUF_INIT;
    int space = 0;
    for (const unsigned char *p = (const unsigned char *)rendered; *p; p++) {
        if (*p <= ' ' || *p == 0x7f) { /* blanks and control characters */
            space = b.len > 0;
            continue;
        }
        if (space)
            as_buf_putc(&b, ' ');
        space = 0;
        as_buf_putc(&b, (char)*p);
    }
    if (b.len > AS_GRAPH_PARAM_MAX) {
        size_t cut = AS_GRAPH_PARAM_MAX - 3;
        while (cut > 0 && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
            cut--; /* never inside a character */
        b.len = cut;
        as_buf_puts(&b, "...");
    }
    if (b.len == 0)
        as_buf_putc(&b, '-');
    return as_buf_steal(&b);
}

/* --- answers ----------------------------------------------------------------- */

/* What to tell a person first, by error code (NULL: the message says it). */
static const char *as_graph_hint(long code)
{
    switch (code) {
    case AS_GRAPH_TOKEN_EXPIRED:
        return "the access token (whatsapp_cloud.token) was refused, expired or revoked: make a "
               "new one in Meta Business Settings > Users > System users > Generate new token "
               "(permission whatsapp_business_messaging), set it and reload alertsink";
    case 131047:
        return "outside the 24-hour window: only a template message may reach this recipient "
               "(set message_template)";
    case 131026:
        return "the recipient cannot receive it (not on WhatsApp, an old app, or Meta's terms "
               "not accepted)";
    case 130429:
    case 80007:
    case 4:
        return "rate limit reached";
    case 131056:
        return "too many messages to this recipient";
    default:
        return NULL;
    }
}

static as_outcome_t as_graph_outcome(long code, long status)
{
    switch (code) {
    case AS_GRAPH_TOKEN_EXPIRED:
    case 131047:
    case 131026:
        return AS_PERMANENT;
    case 2:      /* API service: temporarily down or overloaded */
    case 4:      /* the app's call rate limit */
    case 80007:  /* the business account's rate limit */
    case 130429: /* Cloud API throughput */
    case 131056: /* too many messages to one recipient */
        return AS_TRANSIENT;
    default:
        return status == 408 || status == 429 || status >= 500 ? AS_TRANSIENT : AS_PERMANENT;
    }
}

long as_graph_classify(long status, const as_buf_t *body, int64_t retry_after_ms, as_result_t *res)
{
    res->status = (int)status;
    res->retry_after_ms = 0;
    if (status >= 200 && status < 300) {
        res->outcome = AS_DELIVERED;
        res->reason[0] = '\0';
        return 0;
    }
    as_err_t err;
    cJSON *ans = body->len > 0 ? as_json_parse(body->data, body->len, &err) : NULL;
    const cJSON *e = as_json_obj(ans, "error");
    /* Meta's codes are small integers; anything else is no code. */
    long code = (long)as_json_int(e, "code", 0, 1, 1000000000);
    const char *msg = as_json_str(e, "message");
    const char *details = as_json_str(as_json_obj(e, "error_data"), "details");

    /* Meta's words (message, then details when they add to it), or the
     * start of whatever else answered (a proxy's error page). */
    as_buf_t words = AS_BUF_INIT;
    if (msg != NULL) {
        as_buf_puts(&words, msg);
        if (details != NULL && details[0] != '\0' && strcmp(details, msg) != 0)
            as_buf_printf(&words, " (%s)", details);
    } else if (e == NULL) {
        as_buf_append(&words, body->data ? body->data : "", body->len);
    }
    char said[280];
    as_httpc_excerpt(&words, said, sizeof(said));
    as_buf_free(&words);
    cJSON_Delete(ans);

    res->outcome = as_graph_outcome(code, status);
    char wait[48] = "";
    if (res->outcome == AS_TRANSIENT && retry_after_ms > 0) {
        res->retry_after_ms = retry_after_ms;
        snprintf(wait, sizeof(wait), " (Retry-After %lld s)",
                 (long long)(retry_after_ms + 999) / 1000);
    }
    char what[64];
    if (code != 0)
        snprintf(what, sizeof(what), "Graph API error %ld (HTTP %ld)", code, status);
    else
        snprintf(what, sizeof(what), "HTTP %ld", status);
    /* The hint first: a long message from Meta may be cut, the advice not. */
    const char *hint = as_graph_hint(code);
    as_result_set(res, res->outcome, (int)status, "%s%s%s%s%s%s", hint ? hint : "",
                  hint ? "; " : "", what, said[0] ? ": " : "", said, wait);
    return code;
}

/* --- calls -------------------------------------------------------------------- */

/* One call; 0 when 2xx.  resp is the caller's to free either way. */
static int as_graph_call(as_httpc_t *http, const as_graph_account_t *a, const char *method,
                         const char *suffix, const char *json, as_httpc_resp_t *resp,
                         as_result_t *res, long *code)
{
    size_t n = strlen(a->base_url);
    while (n > 0 && a->base_url[n - 1] == '/')
        n--;
    as_buf_t url = AS_BUF_INIT;
    as_buf_printf(&url, "%.*s/%s/%s%s", (int)n, a->base_url, a->api_version, a->phone_number_id,
                  suffix);
    as_httpc_req_t req = {.method = method,
                          .url = url.data,
                          .bearer = a->token,
                          .json = json,
                          .timeout_ms = a->timeout};
    as_err_t err;
    *code = 0;
    if (as_httpc_request(http, &req, resp, &err) < 0) {
        res->retry_after_ms = 0;
        as_result_set(res, AS_TRANSIENT, 0, "%s", err.msg); /* no answer: try again */
    } else {
        *code = as_graph_classify(resp->status, &resp->body, resp->retry_after_ms, res);
    }
    as_buf_free(&url);
    return res->outcome == AS_DELIVERED ? 0 : -1;
}

int as_graph_send(as_httpc_t *http, const as_graph_account_t *a, const char *json, as_result_t *res,
                  long *code)
{
    as_httpc_resp_t resp;
    int rc = as_graph_call(http, a, "POST", "/messages", json, &resp, res, code);
    as_httpc_resp_free(&resp);
    return rc;
}

int as_graph_phone(as_httpc_t *http, const as_graph_account_t *a, as_graph_phone_t *out,
                   as_result_t *res)
{
    as_httpc_resp_t resp;
    long code;
    memset(out, 0, sizeof(*out));
    int rc = as_graph_call(http, a, "GET", "", NULL, &resp, res, &code);
    if (rc == 0) {
        as_err_t err;
        cJSON *ans = as_json_parse(resp.body.data ? resp.body.data : "", resp.body.len, &err);
        const char *number = as_json_str(ans, "display_phone_number");
        const char *name = as_json_str(ans, "verified_name");
        const char *quality = as_json_str(ans, "quality_rating");
        if (number == NULL) {
            as_result_set(res, AS_PERMANENT, (int)resp.status,
                          "the answer names no display_phone_number: is %s a phone number id?",
                          a->phone_number_id);
            rc = -1;
        } else {
            as_str_copy(out->display_phone_number, sizeof(out->display_phone_number), number);
            as_str_copy(out->verified_name, sizeof(out->verified_name), name ? name : "");
            as_str_copy(out->quality_rating, sizeof(out->quality_rating),
                        quality ? quality : "UNKNOWN");
        }
        cJSON_Delete(ans);
    }
    as_httpc_resp_free(&resp);
    return rc;
}

/* --- the account ---------------------------------------------------------------- */

static int as_graph_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* "v24.0": what Meta names its versions. */
static int as_graph_version(const char *s)
{
    const char *dot = strchr(s, '.');
    if (s[0] != 'v' || dot == NULL || dot == s + 1 || !as_graph_digits(dot + 1))
        return 0;
    for (const char *p = s + 1; p < dot; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    return 1;
}

int as_graph_account_check(const as_graph_account_t *a, const char *prefix, as_err_t *err)
{
    if (a->phone_number_id == NULL || a->phone_number_id[0] == '\0')
        return as_err_set(err,
                          "%s.phone_number_id is not set: the id of the sending number "
                          "(WhatsApp Manager > Phone numbers, or the app's API Setup page), not "
                          "the number itself",
                          prefix);
    if (!as_graph_digits(a->phone_number_id))
        return as_err_set(err, "%s.phone_number_id: expected the number's id, digits, not '%s'",
                          prefix, a->phone_number_id);
    if (a->token == NULL || a->token[0] == '\0')
        return as_err_set(err, "%s.token (or token_file) is not set", prefix);
    if (strpbrk(a->token, "\r\n\t") != NULL)
        return as_err_set(err,
                          "%s.token: holds a line break or a tab (a newline at the end of its "
                          "file or variable?)",
                          prefix);
    if (a->base_url == NULL ||
        (strncmp(a->base_url, "https://", 8) != 0 && strncmp(a->base_url, "http://", 7) != 0))
        return as_err_set(err, "%s.base_url: expected an http:// or https:// URL, not '%s'", prefix,
                          a->base_url ? a->base_url : "");
    if (a->api_version == NULL || !as_graph_version(a->api_version))
        return as_err_set(err,
                          "%s.api_version: expected a Graph API version such as v24.0, not "
                          "'%s'",
                          prefix, a->api_version ? a->api_version : "");
    if (a->timeout <= 0)
        return as_err_set(err, "%s.timeout: must be more than 0", prefix);
    return 0;
}
