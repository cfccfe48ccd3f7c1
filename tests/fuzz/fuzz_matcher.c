/*
 * fuzz_matcher.c - Alertmanager label matchers: the list form of a route's
 * matchers: ("{a=\"1\", b=~\"x|y\"}"), the single form amtool's labels take,
 * the regexes (PCRE2) and matching.
 *
 * The input is a matcher string; an optional "#@labels" section is a
 * JSON object of labels to match against (besides a fixed set, and the
 * labels the matchers name, each with its matcher's value).
 *
 * What must hold besides not crashing: a refusal says why; every parsed
 * matcher, printed as Alertmanager prints it (Matcher.String, which route
 * keys and -T use), parses back to the same name, operator and value; an
 * equality matcher matches a label with its value, an inequality one does
 * not.
 */
#include <string.h>

#include "alertsink/json.h"
#include "fuzz.h"
#include "route/matcher.h"

static cJSON *fz_fixed;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    as_err_t err;
    static const char labels[] = "{\"alertname\":\"DiskFull\",\"severity\":\"critical\","
                                 "\"instance\":\"db1:9100\",\"env\":\"\",\"path\":\"/var\\nlog\"}";
    fz_fixed = as_json_parse(labels, sizeof(labels) - 1, &err);
    return 0;
}

static void fz_round_trip(as_pool_t *pool, const as_matcher_t *m)
{
    as_buf_t b = AS_BUF_INIT;
    as_matcher_append(&b, m);
    as_matcher_t back;
    as_err_t err;
    if (as_matcher_parse(pool, b.data, &back, &err) < 0)
        fz_fail("matcher %s, as printed, does not parse: %s", b.data, err.msg);
    if (strcmp(back.name, m->name) != 0 || strcmp(back.value, m->value) != 0 || back.op != m->op)
        fz_fail("matcher %s reads back as another", b.data);
    as_buf_free(&b);
}

static void fz_match(const as_matchers_t *list, const cJSON *extra)
{
    as_matchers_match(list, fz_fixed);
    if (extra != NULL)
        as_matchers_match(list, extra);
    cJSON *own = cJSON_CreateObject();
    for (size_t i = 0; i < list->n; i++) {
        const as_matcher_t *m = &list->v[i];
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, m->name, m->value);
        int hit = as_matchers_match(&(as_matchers_t){1, (as_matcher_t *)m}, one);
        if ((m->op == AS_MATCH_EQ && !hit) || (m->op == AS_MATCH_NE && hit))
            fz_fail("matcher %s %s value '%s' wrongly", m->name, hit ? "matches" : "misses",
                    m->value);
        cJSON_Delete(one);
        if (cJSON_GetObjectItemCaseSensitive(own, m->name) == NULL)
            cJSON_AddStringToObject(own, m->name, m->value);
    }
    as_matchers_match(list, own);
    cJSON_Delete(own);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input_t in;
    fz_input_split(&in, data, size);
    const char *s = in.parts[0].data;
    const fz_part_t *lp = fz_input_get(&in, "labels");
    as_err_t err = {{0}};
    cJSON *extra = lp ? as_json_parse(lp->data, lp->len, &err) : NULL;
    as_pool_t *pool = as_pool_create();

    as_matchers_t list = {0};
    if (as_matchers_parse(pool, s, &list, &err) < 0) {
        if (err.msg[0] == '\0')
            fz_fail("matchers refused without a reason");
    } else {
        for (size_t i = 0; i < list.n; i++)
            fz_round_trip(pool, &list.v[i]);
        fz_match(&list, extra);
        as_matchers_sort(&list);
    }

    as_matcher_t one;
    err.msg[0] = '\0';
    if (as_matcher_parse(pool, s, &one, &err) == 0) {
        fz_round_trip(pool, &one);
        fz_match(&(as_matchers_t){1, &one}, extra);
    } else if (err.msg[0] == '\0') {
        fz_fail("a matcher refused without a reason");
    }

    as_pool_destroy(pool);
    cJSON_Delete(extra);
    fz_input_free(&in);
    return 0;
}
