/*
 * test_route.c - matchers, the route tree, group keys and payload
 * splitting, against Alertmanager 0.25's behaviour (pkg/labels/parse.go,
 * dispatch/route.go, dispatch/dispatch.go, template.Data).
 *
 * The expected strings are Alertmanager's own: route keys as amtool's
 * --tree prints them, group keys as the webhook payloads in
 * tests/fixtures/alertmanager-0.25 carry them.  The differential test
 * against amtool itself is tests/e2e/test_routes_amtool.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alertsink/buf.h"
#include "alertsink/mem.h"
#include "conf/config.h"
#include "lib/json.h"
#include "route/group.h"
#include "route/matcher.h"
#include "route/route.h"

/* --- helpers ------------------------------------------------------------------------ */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    as_buf_t b = AS_BUF_INIT;
    as_buf_read(&b, f, 0);
    fclose(f);
    return as_buf_steal(&b);
}

static cJSON *fixture(const char *name)
{
    const char *dir = getenv("AS_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof(path), "%s/fixtures/alertmanager-0.25/%s", dir ? dir : "tests", name);
    char *text = read_file(path);
    as_err_t err;
    cJSON *j = as_json_parse(text, strlen(text), &err);
    free(text);
    if (j == NULL)
        fail_msg("%s: %s", path, err.msg);
    return j;
}

/* Load a configuration: the receivers named (comma-separated), then the
 * YAML of the route: block. NULL when it does not load; errors in *errs. */
static as_config_t *load_cfg(const char *receivers, const char *route, char **errs)
{
    char path[] = "/tmp/as-test-route-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "spool: { dir: /tmp/as-test-route-spool }\nreceivers:\n");
    char *names = as_xstrdup(receivers), *save = NULL;
    for (char *r = strtok_r(names, ",", &save); r; r = strtok_r(NULL, ",", &save))
        fprintf(f, "  - name: %s\n    file: { path: /tmp/as-test-route.jsonl }\n", r);
    free(names);
    fprintf(f, "route:\n%s", route);
    fclose(f);

    as_conf_t cf;
    as_config_t *cfg = as_config_load(&cf, path);
    unlink(path);
    as_buf_t b = AS_BUF_INIT;
    for (size_t i = 0; i < cf.nerrors; i++)
        as_buf_printf(&b, "%s\n", cf.errors[i]);
    as_conf_free_errors(&cf);
    if (errs != NULL)
        *errs = as_buf_steal(&b);
    else
        as_buf_free(&b);
    return cfg;
}

static as_config_t *load_ok(const char *receivers, const char *route)
{
    char *errs = NULL;
    as_config_t *cfg = load_cfg(receivers, route, &errs);
    if (cfg == NULL)
        fail_msg("configuration does not load:\n%s", errs);
    free(errs);
    return cfg;
}

static void load_fails(const char *receivers, const char *route, const char *want)
{
    char *errs = NULL;
    as_config_t *cfg = load_cfg(receivers, route, &errs);
    if (cfg != NULL) {
        as_config_free(cfg);
        fail_msg("configuration loaded, expected an error with '%s'", want);
    }
    if (strstr(errs, want) == NULL)
        fail_msg("errors lack '%s':\n%s", want, errs);
    free(errs);
}

/* The receivers reached, joined by commas (amtool's output). */
static char *routes_of(const as_config_t *cfg, const char *labels_json)
{
    cJSON *labels = cJSON_Parse(labels_json);
    assert_non_null(labels);
    size_t max = as_route_count(&cfg->route);
    const as_route_t **out = calloc(max, sizeof(*out));
    size_t n = as_route_match(&cfg->route, labels, out, max);
    assert_true(n <= max);
    as_buf_t b = AS_BUF_INIT;
    as_buf_puts(&b, "");
    for (size_t i = 0; i < n; i++)
        as_buf_printf(&b, "%s%s", i ? "," : "", out[i]->recv);
    free(out);
    cJSON_Delete(labels);
    return as_buf_steal(&b);
}

#define assert_routes(cfg, labels, want)                                                           \
    do {                                                                                           \
        char *got_ = routes_of((cfg), (labels));                                                   \
        if (strcmp(got_, (want)) != 0)                                                             \
            fail_msg("labels %s: routes '%s', want '%s'", (labels), got_, (want));                 \
        free(got_);                                                                                \
    } while (0)

/* Parse s as a matcher list; -1 on error. */
static int parse(as_pool_t *pool, const char *s, as_matchers_t *l)
{
    as_err_t err;
    l->n = 0;
    l->v = NULL;
    return as_matchers_parse(pool, s, l, &err);
}

static void assert_matcher(const as_matcher_t *m, const char *name, as_match_op_t op,
                           const char *value)
{
    assert_string_equal(m->name, name);
    assert_int_equal(m->op, op);
    assert_string_equal(m->value, value);
}

/* --- matchers ----------------------------------------------------------------------- */

static void test_matcher_syntax(void **state)
{
    as_pool_t *pool = as_pool_create();
    as_matchers_t l;

    assert_int_equal(parse(pool, "severity=critical", &l), 0);
    assert_int_equal(l.n, 1);
    assert_matcher(&l.v[0], "severity", AS_MATCH_EQ, "critical");

    assert_int_equal(parse(pool, "  team   !=   \"db storage\"  ", &l), 0);
    assert_matcher(&l.v[0], "team", AS_MATCH_NE, "db storage");

    assert_int_equal(parse(pool, "a=~\"x|y\"", &l), 0);
    assert_matcher(&l.v[0], "a", AS_MATCH_RE, "x|y");
    assert_int_equal(parse(pool, "a !~ x|y ", &l), 0);
    assert_matcher(&l.v[0], "a", AS_MATCH_NRE, "x|y");

    /* \" \\ \n unescape; another escape keeps its backslash. */
    assert_int_equal(parse(pool, "msg=\"say \\\"hi\\\" \\\\ \\n \\d\"", &l), 0);
    assert_matcher(&l.v[0], "msg", AS_MATCH_EQ, "say \"hi\" \\ \n \\d");
    /* A final backslash of an unquoted value is literal. */
    assert_int_equal(parse(pool, "path=C:\\", &l), 0);
    assert_matcher(&l.v[0], "path", AS_MATCH_EQ, "C:\\");

    /* Several matchers, braces, commas inside quotes, a trailing comma. */
    assert_int_equal(parse(pool, "{a=\"1\", b=~\"x|y\",c!=3}", &l), 0);
    assert_int_equal(l.n, 3);
    assert_matcher(&l.v[0], "a", AS_MATCH_EQ, "1");
    assert_matcher(&l.v[1], "b", AS_MATCH_RE, "x|y");
    assert_matcher(&l.v[2], "c", AS_MATCH_NE, "3");
    assert_int_equal(parse(pool, "list=\"a,b\",other=x, ", &l), 0);
    assert_int_equal(l.n, 2);
    assert_matcher(&l.v[0], "list", AS_MATCH_EQ, "a,b");
    assert_matcher(&l.v[1], "other", AS_MATCH_EQ, "x");
    assert_int_equal(parse(pool, "q=\"a\\\",b\"", &l), 0); /* an escaped quote opens nothing */
    assert_int_equal(l.n, 1);
    assert_matcher(&l.v[0], "q", AS_MATCH_EQ, "a\",b");

    /* Empty lists, an empty value, "==" and ":" in names. */
    assert_int_equal(parse(pool, "", &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(parse(pool, "{}", &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(parse(pool, "a=", &l), 0);
    assert_matcher(&l.v[0], "a", AS_MATCH_EQ, "");
    assert_int_equal(parse(pool, "a==1", &l), 0);
    assert_matcher(&l.v[0], "a", AS_MATCH_EQ, "=1");
    assert_int_equal(parse(pool, "ns:name=x", &l), 0);
    assert_matcher(&l.v[0], "ns:name", AS_MATCH_EQ, "x");

    /* Go trims the last token with strings.TrimSpace (Unicode spaces
     * too), the others only by the matcher regex's ASCII \s. */
    assert_int_equal(parse(pool, "a=b\xc2\xa0", &l), 0);
    assert_matcher(&l.v[0], "a", AS_MATCH_EQ, "b");
    assert_int_equal(parse(pool, "a=b\xc2\xa0,c=d", &l), 0);
    assert_matcher(&l.v[0], "a", AS_MATCH_EQ, "b\xc2\xa0");
    /* \v is not a space to Go's \s. */
    assert_int_equal(parse(pool, "a=b\v,c=d", &l), 0);
    assert_matcher(&l.v[0], "a", AS_MATCH_EQ, "b\v");

    /* One matcher alone keeps its commas (amtool's labels). */
    as_matcher_t m;
    as_err_t err;
    assert_int_equal(as_matcher_parse(pool, "summary=a,b", &m, &err), 0);
    assert_matcher(&m, "summary", AS_MATCH_EQ, "a,b");
    as_pool_destroy(pool);
}

static void test_matcher_bad(void **state)
{
    static const char *bad[] = {
        "a",        "=b",    "1a=b",  "a~=b",     "a=\"b",     "a=\"b\"c\"",    "a=b\"",
        "a=1,,b=2", ",a=1",  "a b=c", "a=~\"(\"", "a!~\"x[\"", "a=~\"x{2,1}\"", "a=\"\xff\"",
        "{a=1,b}",  "a-b=c",
    };
    as_pool_t *pool = as_pool_create();
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        as_matchers_t l = {0, NULL};
        as_err_t err;
        if (as_matchers_parse(pool, bad[i], &l, &err) == 0)
            fail_msg("'%s' parsed, expected an error", bad[i]);
        assert_true(err.msg[0] != '\0');
    }
    as_matchers_t l = {0, NULL};
    as_err_t err;
    assert_int_equal(as_matchers_parse(pool, "a=\"b\"c\"", &l, &err), -1);
    assert_non_null(strstr(err.msg, "unescaped double quote"));
    assert_int_equal(as_matchers_parse(pool, "nonsense", &l, &err), -1);
    assert_non_null(strstr(err.msg, "bad matcher format"));
    assert_int_equal(l.n, 0);
    as_pool_destroy(pool);
}

static int matches(as_pool_t *pool, const char *matcher, const char *value)
{
    as_matchers_t l;
    assert_int_equal(parse(pool, matcher, &l), 0);
    assert_int_equal(l.n, 1);
    return as_matcher_matches(&l.v[0], value);
}

static void test_matcher_semantics(void **state)
{
    as_pool_t *pool = as_pool_create();
    /* Anchored as ^(?:re)$. */
    assert_true(matches(pool, "team=~\"db\"", "db"));
    assert_false(matches(pool, "team=~\"db\"", "dbx"));
    assert_false(matches(pool, "team=~\"db\"", "xdb"));
    assert_false(matches(pool, "team=~\"db\"", "db\n")); /* Go's $ is the very end */
    assert_true(matches(pool, "team=~\"a|b\"", "b"));
    assert_false(matches(pool, "team=~\"a|b\"", "ab"));
    assert_true(matches(pool, "team=~\"db.*\"", "dbx"));
    assert_false(matches(pool, "msg=~\"a.c\"", "a\nc"));
    assert_true(matches(pool, "port=~\"\\\\d+\"", "8080"));
    assert_false(matches(pool, "port=~\"\\\\d+\"", "\xd9\xa3")); /* ASCII \d, as Go */
    assert_true(matches(pool, "s=~\"(?i)checkout\"", "CheckOut"));
    assert_true(matches(pool, "team!~\"db\"", "dbx"));
    assert_false(matches(pool, "team!~\"db\"", "db"));

    /* A missing label is the empty string. */
    assert_true(matches(pool, "env!=\"prod\"", NULL));
    assert_true(matches(pool, "env=\"\"", NULL));
    assert_true(matches(pool, "env!~\".+\"", NULL));
    assert_false(matches(pool, "env=~\".+\"", NULL));
    assert_true(matches(pool, "env=~\".*\"", NULL));
    assert_false(matches(pool, "env=\"prod\"", NULL));

    /* Sorted as labels.Matchers: name, value, operator. */
    as_matchers_t l;
    assert_int_equal(parse(pool, "b=1,a=2,a!=1,a=1", &l), 0);
    as_matchers_sort(&l);
    as_buf_t b = AS_BUF_INIT;
    for (size_t i = 0; i < l.n; i++) {
        as_buf_puts(&b, i ? "," : "");
        as_matcher_append(&b, &l.v[i]);
    }
    assert_string_equal(b.data, "a=\"1\",a!=\"1\",a=\"2\",b=\"1\"");
    as_buf_reset(&b);
    assert_int_equal(parse(pool, "m=\"q\\\"b\\\\s\\nn\"", &l), 0);
    as_matcher_append(&b, &l.v[0]);
    assert_string_equal(b.data, "m=\"q\\\"b\\\\s\\nn\"");
    as_buf_free(&b);
    as_pool_destroy(pool);
}

/* --- the tree --------------------------------------------------------------------------- */

static const char tree_receivers[] = "default,db,dbx,pager,mail,night,web";
static const char tree[] = "  receiver: default\n"
                           "  group_by: [alertname]\n"
                           "  group_wait: 5s\n"
                           "  routes:\n"
                           "    - matchers: ['team=~\"db\"']\n"
                           "      receiver: db\n"
                           "      continue: true\n"
                           "      group_by: [alertname, cluster]\n"
                           "      routes:\n"
                           "        - matchers: ['severity=\"critical\"', 'env=~\"prod|stage\"']\n"
                           "          receiver: pager\n"
                           "          group_wait: 1s\n"
                           "          continue: true\n"
                           "        - matchers: ['severity=\"critical\"']\n"
                           "          routes:\n"
                           "            - matchers: ['env=\"prod\"']\n"
                           "              receiver: night\n"
                           "    - matchers: ['team=~\"db.*\"', 'severity!=\"info\"']\n"
                           "      receiver: dbx\n"
                           "    - match: {team: web}\n"
                           "      match_re: {env: \"prod|stage\"}\n"
                           "      receiver: web\n"
                           "      group_by: ['...']\n"
                           "      routes:\n"
                           "        - matchers: ['severity=critical']\n"
                           "          receiver: \"\"\n"
                           "          group_by: []\n"
                           "        - matchers: ['severity=warning']\n"
                           "          receiver: mail\n"
                           "          group_by: [instance]\n";

static void test_tree_walk(void **state)
{
    as_config_t *cfg = load_ok(tree_receivers, tree);
    assert_routes(cfg, "{}", "default");
    assert_routes(cfg, "{\"team\":\"db\"}", "db,dbx");
    assert_routes(cfg, "{\"team\":\"db\",\"severity\":\"info\"}", "db");
    assert_routes(cfg, "{\"team\":\"dbx\"}", "dbx");
    assert_routes(cfg, "{\"team\":\"xdb\"}", "default");
    /* continue inside a subtree, then a child that handles the alert itself
     * because none of its own children match. */
    assert_routes(cfg, "{\"team\":\"db\",\"severity\":\"critical\",\"env\":\"stage\"}",
                  "pager,db,dbx");
    assert_routes(cfg, "{\"team\":\"db\",\"severity\":\"critical\",\"env\":\"prod\"}",
                  "pager,night,dbx");
    assert_routes(cfg, "{\"team\":\"db\",\"severity\":\"critical\"}", "db,dbx");
    /* legacy match/match_re and inherited receivers */
    assert_routes(cfg, "{\"team\":\"web\",\"env\":\"prod\"}", "web");
    assert_routes(cfg, "{\"team\":\"web\",\"env\":\"prodx\"}", "default");
    assert_routes(cfg, "{\"team\":\"web\",\"env\":\"stage\",\"severity\":\"critical\"}", "web");
    assert_routes(cfg, "{\"team\":\"web\",\"env\":\"stage\",\"severity\":\"warning\"}", "mail");
    /* labels that are not strings count as absent */
    assert_routes(cfg, "{\"team\":1,\"severity\":\"critical\"}", "default");

    /* out holds at most max, the count is the whole answer */
    cJSON *labels = cJSON_Parse("{\"team\":\"db\",\"severity\":\"critical\",\"env\":\"prod\"}");
    const as_route_t *one[1];
    assert_int_equal(as_route_match(&cfg->route, labels, one, 1), 3);
    assert_string_equal(one[0]->recv, "pager");
    assert_int_equal(as_route_match(&cfg->route, labels, NULL, 0), 3);
    cJSON_Delete(labels);
    assert_int_equal(as_route_count(&cfg->route), 9);
    as_config_free(cfg);
}

static const as_route_t *child(const as_route_t *r, size_t i)
{
    assert_true(i < r->routes.n);
    return (const as_route_t *)r->routes.elts + i;
}

static void test_tree_inheritance(void **state)
{
    as_config_t *cfg = load_ok(tree_receivers, tree);
    const as_route_t *root = &cfg->route, *db = child(root, 0), *pager = child(db, 0);
    const as_route_t *crit = child(db, 1), *night = child(crit, 0), *dbx = child(root, 1);
    const as_route_t *web = child(root, 2), *webcrit = child(web, 0), *mail = child(web, 1);

    assert_string_equal(root->key, "{}");
    assert_string_equal(db->key, "{}/{team=~\"db\"}");
    /* matchers sorted, joined by "," as amtool --tree shows them */
    assert_string_equal(pager->key,
                        "{}/{team=~\"db\"}/{env=~\"prod|stage\",severity=\"critical\"}");
    assert_string_equal(night->key, "{}/{team=~\"db\"}/{severity=\"critical\"}/{env=\"prod\"}");
    assert_string_equal(dbx->key, "{}/{severity!=\"info\",team=~\"db.*\"}");
    assert_string_equal(web->key, "{}/{env=~\"^(?:prod|stage)$\",team=\"web\"}");

    assert_string_equal(crit->recv, "db");     /* receiver inherited */
    assert_string_equal(webcrit->recv, "web"); /* receiver: "" inherits */
    assert_int_equal(root->wait, 5000);
    assert_int_equal(db->wait, 5000);
    assert_int_equal(pager->wait, 1000);
    assert_int_equal(night->wait, 5000); /* from db, not from its sibling */

    assert_false(root->group_all);
    assert_int_equal(root->group_labels->n, 1);
    assert_int_equal(crit->group_labels->n, 2); /* [alertname, cluster] from db */
    assert_string_equal(night->group_labels->v[1], "cluster");
    assert_true(web->group_all);
    assert_true(webcrit->group_all); /* group_by: [] inherits */
    assert_false(mail->group_all);
    assert_string_equal(mail->group_labels->v[0], "instance");
    as_config_free(cfg);
}

static void test_tree_invalid(void **state)
{
    load_fails("r0", "  receiver: r0\n  matchers: ['a=1']\n", "must not have matchers");
    load_fails("r0", "  receiver: r0\n  continue: true\n", "cannot have continue");
    load_fails("r0", "  group_by: [a]\n", "must name a receiver");
    load_fails("r0", "  receiver: \"\"\n", "must name a receiver");
    load_fails("r0", "  receiver: r0\n  routes:\n    - receiver: nobody\n",
               "unknown receiver 'nobody'");
    load_fails("r0", "  receiver: r0\n  routes:\n    - matchers: ['a=~\"(\"']\n",
               "invalid regular expression");
    load_fails("r0", "  receiver: r0\n  routes:\n    - match_re: {a: \"[\"}\n",
               "invalid regular expression");
    load_fails("r0", "  receiver: r0\n  routes:\n    - matchers: ['a']\n", "bad matcher format");
    load_fails("r0", "  receiver: r0\n  routes:\n    - match: {\"a-b\": x}\n",
               "invalid label name");
    load_fails("r0", "  receiver: r0\n  group_by: ['...', a]\n", "cannot be combined");
    load_fails("r0", "  receiver: r0\n  group_by: [a, b, a]\n", "duplicated label 'a'");
    load_fails("r0", "  receiver: r0\n  routes:\n    - group_by: ['a:b']\n", "invalid label name");
    load_fails("r0", "  receiver: r0\n  routes:\n    - group_interval: 0s\n",
               "group_interval cannot be zero");
    load_fails("r0", "  receiver: r0\n  repeat_interval: 0s\n", "repeat_interval cannot be zero");
}

/* --- group keys ----------------------------------------------------------------------- */

static char *key_of(const as_route_t *r, const char *labels_json)
{
    cJSON *labels = cJSON_Parse(labels_json);
    assert_non_null(labels);
    char *k = as_route_group_key(r, labels);
    cJSON_Delete(labels);
    return k;
}

#define assert_key(r, labels, want)                                                                \
    do {                                                                                           \
        char *k_ = key_of((r), (labels));                                                          \
        assert_string_equal(k_, (want));                                                           \
        free(k_);                                                                                  \
    } while (0)

static void test_group_keys(void **state)
{
    as_config_t *cfg = load_ok(tree_receivers, tree);
    const as_route_t *root = &cfg->route, *db = child(root, 0), *web = child(root, 2);
    const as_route_t *mail = child(web, 1);
    const char *disk = "{\"alertname\":\"DiskFull\",\"cluster\":\"prod\",\"instance\":\"db1:9100\","
                       "\"severity\":\"critical\",\"team\":\"db\"}";
    assert_key(root, disk, "{}:{alertname=\"DiskFull\"}");
    assert_key(db, disk, "{}/{team=~\"db\"}:{alertname=\"DiskFull\", cluster=\"prod\"}");
    assert_key(
        web, disk,
        "{}/{env=~\"^(?:prod|stage)$\",team=\"web\"}:{alertname=\"DiskFull\", cluster=\"prod\", "
        "instance=\"db1:9100\", severity=\"critical\", team=\"db\"}");
    assert_key(mail, disk,
               "{}/{env=~\"^(?:prod|stage)$\",team=\"web\"}/{severity=\"warning\"}:"
               "{instance=\"db1:9100\"}");
    assert_key(root, "{}", "{}:{}");
    assert_key(web, "{\"alertname\":\"\",\"team\":\"web\"}", /* "" is no label */
               "{}/{env=~\"^(?:prod|stage)$\",team=\"web\"}:{team=\"web\"}");
    assert_key(root, "{\"cluster\":\"x\"}", "{}:{}");

    /* LabelSet.String sorts the name="value" strings, not the names. */
    assert_key(
        web, "{\"a\":\"1\",\"a1\":\"2\",\"a_b\":\"3\",\"B\":\"4\"}",
        "{}/{env=~\"^(?:prod|stage)$\",team=\"web\"}:{B=\"4\", a1=\"2\", a=\"1\", a_b=\"3\"}");
    /* Go's %q for the values. */
    assert_key(
        web,
        "{\"q\":\"say \\\"hi\\\" \\\\ \\n\\t\\u0001\\u007f \\u00e9 \\u00a0 \\u00ad "
        "\\ue000 \\ud83d\\ude00 \\u2028\"}",
        "{}/{env=~\"^(?:prod|stage)$\",team=\"web\"}:{q=\"say \\\"hi\\\" \\\\ \\n\\t\\x01\\x7f "
        "\xc3\xa9 \\u00a0 \\u00ad \\ue000 \xf0\x9f\x98\x80 \\u2028\"}");
    cJSON *bad = cJSON_CreateObject();
    cJSON_AddStringToObject(bad, "alertname",
                            "a\xff"
                            "b");
    char *k = as_route_group_key(root, bad);
    assert_string_equal(k, "{}:{alertname=\"a\\xffb\"}");
    free(k);
    cJSON_Delete(bad);

    /* group labels: a new object, sorted by name */
    cJSON *labels = cJSON_Parse("{\"team\":\"web\",\"alertname\":\"X\",\"n\":5}");
    cJSON *g = as_route_group_labels(web, labels);
    char *s = as_json_print(g);
    assert_string_equal(s, "{\"alertname\":\"X\",\"team\":\"web\"}");
    cJSON_free(s);
    cJSON_Delete(g);
    cJSON_Delete(labels);
    as_config_free(cfg);
}

/* --- payload splitting ---------------------------------------------------------------- */

static const char *str(const cJSON *obj, const char *key)
{
    const char *s = as_json_str(obj, key);
    if (s == NULL)
        fail_msg("no string '%s'", key);
    return s;
}

static void assert_json_equal(const cJSON *got, const cJSON *want, const char *what)
{
    if (!cJSON_Compare(got, want, 1)) {
        char *g = as_json_print(got), *w = as_json_print(want);
        fail_msg("%s: got %s, want %s", what, g ? g : "(none)", w ? w : "(none)");
    }
}

/* With the grouping the fixtures' Alertmanager used (group_by [alertname,
 * cluster] at the root, receiver "wa"), recomputing a real payload gives
 * back Alertmanager's own fields. */
static void test_split_reproduces_alertmanager(void **state)
{
    static const char *files[] = {"firing-group-2.json", "firing-group-30.json",
                                  "mixed-resolved-firing.json", "resolved.json"};
    as_config_t *cfg = load_ok("wa", "  receiver: wa\n  group_by: [alertname, cluster]\n");
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        cJSON *in = fixture(files[i]);
        as_groups_t g;
        as_err_t err;
        assert_int_equal(as_group_split(&cfg->route, in, NULL, &g, &err), 0);
        assert_int_equal(g.n, 1);
        assert_string_equal(g.v[0].receiver, "wa");
        assert_ptr_equal(g.v[0].route, &cfg->route);
        assert_string_equal(g.v[0].key, str(in, "groupKey"));
        /* The same payload, field by field (cJSON_Compare ignores order
         * of object members). */
        assert_json_equal(g.v[0].payload, in, files[i]);
        /* Alertmanager's field order */
        const char *order[] = {
            "receiver",          "status",      "alerts",  "groupLabels", "commonLabels",
            "commonAnnotations", "externalURL", "version", "groupKey",    "truncatedAlerts"};
        const cJSON *it = g.v[0].payload->child;
        for (size_t k = 0; k < sizeof(order) / sizeof(*order); k++, it = it->next) {
            assert_non_null(it);
            assert_string_equal(it->string, order[k]);
        }
        as_groups_free(&g);
        cJSON_Delete(in);
    }
    as_config_free(cfg);
}

static void test_split_routes_each_alert(void **state)
{
    as_config_t *cfg = load_ok("wa,pager", "  receiver: wa\n"
                                           "  group_by: [alertname, cluster]\n"
                                           "  routes:\n"
                                           "    - matchers: ['severity=\"critical\"']\n"
                                           "      receiver: pager\n"
                                           "      group_by: [instance]\n"
                                           "      continue: true\n"
                                           "    - matchers: ['severity=~\"critical|warning\"']\n");
    cJSON *in = fixture("mixed-resolved-firing.json");
    cJSON_AddStringToObject(in, "extra", "kept");
    as_groups_t g;
    as_err_t err;
    assert_int_equal(as_group_split(&cfg->route, in, NULL, &g, &err), 0);
    /* alert 1 (resolved, critical): pager, then wa via the second route;
     * alert 2 (firing, warning): wa via the second route, the same group. */
    assert_int_equal(g.n, 2);
    assert_string_equal(g.v[0].receiver, "pager");
    assert_string_equal(g.v[0].key, "{}/{severity=\"critical\"}:{instance=\"db1:9100\"}");
    assert_ptr_equal(g.v[0].route, child(&cfg->route, 0));
    const cJSON *p = g.v[0].payload;
    assert_string_equal(str(p, "receiver"), "pager");
    assert_string_equal(str(p, "status"), "resolved");
    assert_string_equal(str(p, "groupKey"), g.v[0].key);
    assert_int_equal(cJSON_GetArraySize(as_json_arr(p, "alerts")), 1);
    char *s = as_json_print(as_json_obj(p, "groupLabels"));
    assert_string_equal(s, "{\"instance\":\"db1:9100\"}");
    cJSON_free(s);
    s = as_json_print(as_json_obj(p, "commonLabels"));
    assert_string_equal(s, "{\"alertname\":\"DiskFull\",\"cluster\":\"prod\",\"instance\":"
                           "\"db1:9100\",\"severity\":\"critical\"}");
    cJSON_free(s);
    s = as_json_print(as_json_obj(p, "commonAnnotations"));
    assert_string_equal(s, "{\"description\":\"Only 3% left on /var\",\"summary\":\"Disk "
                           "almost full on db1\"}");
    cJSON_free(s);
    assert_string_equal(str(p, "externalURL"), "http://vm:19093");
    assert_string_equal(str(p, "version"), "4");
    assert_string_equal(str(p, "extra"), "kept");

    p = g.v[1].payload;
    assert_string_equal(g.v[1].receiver, "wa");
    assert_string_equal(g.v[1].key, "{}/{severity=~\"critical|warning\"}:{alertname=\"DiskFull\", "
                                    "cluster=\"prod\"}");
    assert_string_equal(str(p, "status"), "firing");
    assert_int_equal(cJSON_GetArraySize(as_json_arr(p, "alerts")), 2);
    s = as_json_print(as_json_obj(p, "commonLabels"));
    assert_string_equal(s, "{\"alertname\":\"DiskFull\",\"cluster\":\"prod\"}");
    cJSON_free(s);
    s = as_json_print(as_json_obj(p, "commonAnnotations"));
    assert_string_equal(s, "{}");
    cJSON_free(s);
    as_groups_free(&g);
    cJSON_Delete(in);

    /* 30 alerts grouped by instance: 30 notifications, in payload order */
    as_config_free(cfg);
    cfg = load_ok("wa", "  receiver: wa\n  group_by: [instance]\n");
    in = fixture("firing-group-30.json");
    assert_int_equal(as_group_split(&cfg->route, in, NULL, &g, &err), 0);
    assert_int_equal(g.n, 30);
    const cJSON *a = as_json_arr(in, "alerts")->child;
    for (size_t i = 0; i < g.n; i++, a = a->next) {
        const cJSON *alerts = as_json_arr(g.v[i].payload, "alerts");
        assert_int_equal(cJSON_GetArraySize(alerts), 1);
        assert_json_equal(alerts->child, a, "alert");
        char *want = as_psprintf(cfg->pool, "{}:{instance=\"%s\"}",
                                 str(as_json_obj(a, "labels"), "instance"));
        assert_string_equal(g.v[i].key, want);
        s = as_json_print(as_json_obj(g.v[i].payload, "commonAnnotations"));
        assert_non_null(strstr(s, "runbook_url"));
        cJSON_free(s);
    }
    as_groups_free(&g);
    cJSON_Delete(in);
    as_config_free(cfg);
}

static void test_split_same_group_twice(void **state)
{
    /* Two sibling routes, same matchers, same receiver, both continue: one
     * (receiver, group key), the alert in it once. */
    as_config_t *cfg = load_ok("wa,x", "  receiver: wa\n"
                                       "  routes:\n"
                                       "    - matchers: [a=1]\n"
                                       "      receiver: x\n"
                                       "      continue: true\n"
                                       "    - matchers: [a=1]\n"
                                       "      receiver: x\n"
                                       "      continue: true\n");
    cJSON *in =
        cJSON_Parse("{\"alerts\":[{\"status\":\"firing\",\"labels\":{\"a\":\"1\",\"c\":\"\"}},"
                    "{\"status\":\"firing\",\"labels\":{\"a\":\"2\"}},"
                    "{\"status\":\"firing\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}}]}");
    as_groups_t g;
    as_err_t err;
    assert_int_equal(as_group_split(&cfg->route, in, NULL, &g, &err), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.v[0].receiver, "x");
    assert_string_equal(g.v[0].key, "{}/{a=\"1\"}:{}");
    assert_ptr_equal(g.v[0].route, child(&cfg->route, 0));
    assert_int_equal(cJSON_GetArraySize(as_json_arr(g.v[0].payload, "alerts")), 2);
    /* c="" in the first alert and absent in the other is not common: an
     * empty label is no label */
    char *s = as_json_print(as_json_obj(g.v[0].payload, "commonLabels"));
    assert_string_equal(s, "{\"a\":\"1\"}");
    cJSON_free(s);
    assert_string_equal(g.v[1].receiver, "wa");
    assert_int_equal(cJSON_GetArraySize(as_json_arr(g.v[1].payload, "alerts")), 1);
    /* absent fields stay absent */
    assert_null(cJSON_GetObjectItem(g.v[0].payload, "externalURL"));
    as_groups_free(&g);
    cJSON_Delete(in);
    as_config_free(cfg);
}

static void test_split_override(void **state)
{
    as_config_t *cfg = load_ok("wa,pager", "  receiver: wa\n"
                                           "  group_by: [alertname, instance]\n"
                                           "  routes:\n"
                                           "    - matchers: [severity=critical]\n"
                                           "      receiver: wa\n");
    cJSON *in = fixture("firing-group-2.json");
    as_groups_t g;
    as_err_t err;
    assert_int_equal(as_group_split(&cfg->route, in, "pager", &g, &err), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.v[0].receiver, "pager");
    assert_ptr_equal(g.v[0].route, &cfg->route);
    /* instance differs between the two alerts: only alertname is common */
    assert_string_equal(g.v[0].key, "{}:{alertname=\"DiskFull\"}");
    assert_string_equal(str(g.v[0].payload, "receiver"), "pager");
    assert_int_equal(cJSON_GetArraySize(as_json_arr(g.v[0].payload, "alerts")), 2);
    char *s = as_json_print(as_json_obj(g.v[0].payload, "groupLabels"));
    assert_string_equal(s, "{\"alertname\":\"DiskFull\"}");
    cJSON_free(s);
    as_groups_free(&g);

    /* one alert: its own group labels under the root */
    cJSON *one = fixture("resolved.json");
    assert_int_equal(as_group_split(&cfg->route, one, "pager", &g, &err), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.v[0].key, "{}:{alertname=\"DiskFull\", instance=\"db2:9100\"}");
    assert_string_equal(str(g.v[0].payload, "status"), "resolved");
    as_groups_free(&g);
    cJSON_Delete(one);

    /* An override is checked by the caller (the receiver may have gone in a reload). */
    assert_null(as_config_receiver(cfg, "nobody"));
    cJSON_Delete(in);

    /* no alerts: no notification; no alerts array: an error */
    in = cJSON_Parse("{\"alerts\":[]}");
    assert_int_equal(as_group_split(&cfg->route, in, NULL, &g, &err), 0);
    assert_int_equal(g.n, 0);
    as_groups_free(&g);
    assert_int_equal(as_group_split(&cfg->route, in, "pager", &g, &err), 0);
    assert_int_equal(g.n, 0);
    as_groups_free(&g);
    cJSON_Delete(in);
    in = cJSON_Parse("{\"alerts\":{}}");
    assert_int_equal(as_group_split(&cfg->route, in, NULL, &g, &err), -1);
    as_groups_free(&g);
    cJSON_Delete(in);
    as_config_free(cfg);
}

/* The alerts that tests/fixtures/alertmanager-0.25/routing/alerts.json
 * holds, sent through Alertmanager 0.25 with alertmanager.yml there, came
 * out as webhooks.jsonl: the same route: block here must give the same
 * notifications, with the same receivers, group keys (nested route keys,
 * match_re's doubly anchored form, %q quoting, LabelSet sorting), group
 * labels, common labels and common annotations, and the same alerts. */
static void test_split_as_alertmanager_did(void **state)
{
    const char *dir = getenv("AS_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof(path), "%s/fixtures/alertmanager-0.25/routing/alertmanager.yml",
             dir ? dir : "tests");
    char *yml = read_file(path);
    char *route = strstr(yml, "route:\n"), *end = strstr(yml, "\nreceivers:");
    assert_non_null(route);
    assert_non_null(end);
    end[1] = '\0';
    as_config_t *cfg = load_ok("root,db,pager,web", route + strlen("route:\n"));
    free(yml);

    snprintf(path, sizeof(path), "%s/fixtures/alertmanager-0.25/routing/alerts.json",
             dir ? dir : "tests");
    char *text = read_file(path);
    cJSON *in = cJSON_CreateObject();
    cJSON_AddItemToObject(in, "alerts", cJSON_Parse(text));
    free(text);
    as_groups_t g;
    as_err_t err;
    assert_int_equal(as_group_split(&cfg->route, in, NULL, &g, &err), 0);

    snprintf(path, sizeof(path), "%s/fixtures/alertmanager-0.25/routing/webhooks.jsonl",
             dir ? dir : "tests");
    text = read_file(path);
    size_t hooks = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *hook = cJSON_Parse(line);
        assert_non_null(hook);
        hooks++;
        const as_group_t *mine = NULL;
        for (size_t i = 0; i < g.n; i++)
            if (strcmp(g.v[i].receiver, str(hook, "receiver")) == 0 &&
                strcmp(g.v[i].key, str(hook, "groupKey")) == 0)
                mine = &g.v[i];
        if (mine == NULL) {
            fail_msg("no notification to %s with group key %s", str(hook, "receiver"),
                     str(hook, "groupKey"));
            return; /* not reached: fail_msg() does not return */
        }
        assert_string_equal(str(mine->payload, "groupKey"), str(hook, "groupKey"));
        static const char *same[] = {"receiver", "status", "groupLabels", "commonLabels",
                                     "commonAnnotations"};
        for (size_t k = 0; k < sizeof(same) / sizeof(*same); k++)
            assert_json_equal(cJSON_GetObjectItem(mine->payload, same[k]),
                              cJSON_GetObjectItem(hook, same[k]), same[k]);
        /* The same alerts (Alertmanager sorts them its own way). */
        const cJSON *want = as_json_arr(hook, "alerts"),
                    *got = as_json_arr(mine->payload, "alerts");
        assert_int_equal(cJSON_GetArraySize(got), cJSON_GetArraySize(want));
        const cJSON *w, *a;
        cJSON_ArrayForEach(w, want)
        {
            int found = 0;
            cJSON_ArrayForEach(a, got)
            {
                found |= cJSON_Compare(as_json_obj(a, "labels"), as_json_obj(w, "labels"), 1);
            }
            assert_true(found);
        }
        cJSON_Delete(hook);
    }
    assert_int_equal(hooks, g.n);
    assert_true(hooks >= 8);
    free(text);
    as_groups_free(&g);
    cJSON_Delete(in);
    as_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matcher_syntax),
        cmocka_unit_test(test_matcher_bad),
        cmocka_unit_test(test_matcher_semantics),
        cmocka_unit_test(test_tree_walk),
        cmocka_unit_test(test_tree_inheritance),
        cmocka_unit_test(test_tree_invalid),
        cmocka_unit_test(test_group_keys),
        cmocka_unit_test(test_split_reproduces_alertmanager),
        cmocka_unit_test(test_split_routes_each_alert),
        cmocka_unit_test(test_split_same_group_twice),
        cmocka_unit_test(test_split_override),
        cmocka_unit_test(test_split_as_alertmanager_did),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
