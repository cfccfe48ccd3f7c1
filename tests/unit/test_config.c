/*
 * test_config.c - the configuration layer: every value type, every error
 * class with its exact FILE:LINE:COL, substitution, secrets, includes, and
 * the module loader with real shared objects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/mem.h"
#include "conf/config.h"
#include "conf/cycle.h"
#include "lib/log.h"

static char tmpdir[256];

/* Base configuration: everything valid; tests append or replace lines. */
static const char *base = "spool: {dir: /tmp/as-cfg-spool}\n"
                          "receivers:\n"
                          "  - name: r1\n"
                          "    file: {path: /tmp/as-cfg-out.jsonl}\n"
                          "route:\n"
                          "  receiver: r1\n";

static char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

typedef struct {
    as_conf_t cf;
    as_cycle_t *c;
    char path[512];
} loaded_t;

static void load(loaded_t *l, const char *text)
{
    as_str_copy(l->path, sizeof(l->path), write_file("a.yaml", text));
    l->c = as_cycle_create(&l->cf, l->path, 0);
}

static void unload(loaded_t *l)
{
    as_cycle_unref(l->c);
    as_conf_free_errors(&l->cf);
}

/* Is there an error "PATH:LINE:COL: msg..." (msg is a prefix)? */
static int has_error(loaded_t *l, int line, int col, const char *msg)
{
    char want[2048];
    snprintf(want, sizeof(want), "%s:%d:%d: %s", l->path, line, col, msg);
    for (size_t i = 0; i < l->cf.nerrors; i++)
        if (strncmp(l->cf.errors[i], want, strlen(want)) == 0)
            return 1;
    fprintf(stderr, "missing error: %s\n got:\n", want);
    as_conf_print_errors(&l->cf, stderr);
    return 0;
}

static void expect_error(const char *text, int line, int col, const char *msg)
{
    loaded_t l;
    load(&l, text);
    assert_null(l.c);
    assert_true(has_error(&l, line, col, msg));
    unload(&l);
}

static char *cat(const char *a, const char *b)
{
    static char buf[8192];
    snprintf(buf, sizeof(buf), "%s%s", a, b);
    return buf;
}

/* --- values ------------------------------------------------------------------ */

static void test_defaults(void **state)
{
    loaded_t l;
    load(&l, base);
    assert_non_null(l.c);
    as_config_t *cfg = l.c->cfg;
    assert_int_equal(cfg->spool.max_age, 24LL * 3600 * 1000);
    assert_int_equal(cfg->spool.max_size, 1LL << 30);
    assert_int_equal(cfg->defaults.fallback_after, 120000);
    assert_int_equal(cfg->defaults.dedup_window, 300000);
    assert_int_equal(cfg->log.level, AS_LOG_INFO);
    const as_receiver_t *r = as_config_receiver(cfg, "r1");
    assert_int_equal(r->chain_mode, AS_CHAIN_FALLBACK);
    assert_int_equal(r->fallback_after, 120000);
    unload(&l);
}

static void test_types(void **state)
{
    loaded_t l;
    load(&l, "spool: {dir: /tmp/x, max_age: 1h30m, max_size: 512KiB}\n"
             "log: {level: debug}\n"
             "http: {listen: \"[::1]:9999\", max_body: 2MiB}\n"
             "unix: {path: /tmp/s.sock, mode: 0640}\n"
             "whatsapp:\n"
             "  phone: \"+90 (555) 000-0001\"\n"
             "  password: secretpw\n"
             "  rate_limit: 10/s\n"
             "  timeout: 1500ms\n"
             "smtp: {host: localhost, port: 2525, tls: none, from: \"Alerts <a@b.example>\"}\n"
             "defaults: {fallback_after: 0s, dedup_window: 1d}\n"
             "receivers:\n"
             "  - name: r1\n"
             "    mode: both\n"
             "    fallback_after: 45s\n"
             "    whatsapp: {to: \"+90 555 111 2233\"}\n"
             "    email: {to: [x@y.example, \"Z <z@y.example>\"]}\n"
             "route: {receiver: r1}\n");
    assert_non_null(l.c);
    as_config_t *cfg = l.c->cfg;
    assert_int_equal(cfg->spool.max_age, 5400000);
    assert_int_equal(cfg->spool.max_size, 512 * 1024);
    assert_int_equal(cfg->log.level, AS_LOG_DEBUG);
    assert_int_equal(cfg->defaults.dedup_window, 86400000);
    const as_receiver_t *r = as_config_receiver(cfg, "r1");
    assert_int_equal(r->chain_mode, AS_CHAIN_ALL);
    assert_int_equal(r->nchain, 2);
    assert_int_equal(r->fallback_after, 45000);
    assert_int_equal(r->dedup_window, 86400000);
    /* The list forms and the phone normalisation, through -T's printer. */
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    as_config_print(m, cfg);
    fclose(m);
    assert_non_null(strstr(out, "listen: \"[::1]:9999\""));
    assert_non_null(strstr(out, "mode: \"0640\""));
    assert_non_null(strstr(out, "phone: 905550000001"));
    assert_non_null(strstr(out, "- 905551112233"));
    assert_non_null(strstr(out, "rate_limit: 10/s"));
    assert_non_null(strstr(out, "timeout: 1s500ms"));
    assert_non_null(strstr(out, "max_body: 2MiB"));
    assert_non_null(strstr(out, "- Z <z@y.example>"));
    assert_non_null(strstr(out, "password: \"<redacted>\""));
    assert_null(strstr(out, "secretpw"));
    free(out);
    unload(&l);
}

static void test_parsers(void **state)
{
    int64_t v;
    as_rate_t r;
    char buf[64];
    assert_int_equal(as_parse_duration("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(as_parse_duration("2h", &v), 0);
    assert_int_equal(v, 7200000);
    assert_int_equal(as_parse_duration("1m30s", &v), 0);
    assert_int_equal(v, 90000);
    assert_int_equal(as_parse_duration("250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(as_parse_duration("30s1m", &v), -1); /* out of order */
    assert_int_equal(as_parse_duration("10", &v), -1);
    assert_int_equal(as_parse_duration("-1s", &v), -1);
    assert_int_equal(as_parse_duration("1.5s", &v), -1);
    assert_int_equal(as_parse_size("1GiB", &v), 0);
    assert_int_equal(v, 1LL << 30);
    assert_int_equal(as_parse_size("100", &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(as_parse_size("1GB", &v), -1);
    assert_int_equal(as_parse_rate("30/m", &r), 0);
    assert_int_equal(r.count, 30);
    assert_int_equal(r.period_ms, 60000);
    assert_int_equal(as_parse_rate("0", &r), 0);
    assert_int_equal(r.count, 0);
    assert_int_equal(as_parse_rate("0/m", &r), -1);
    assert_int_equal(as_parse_rate("5/d", &r), -1);
    assert_int_equal(as_parse_phone("+90 555 111 2233", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "905551112233");
    assert_int_equal(as_parse_phone("0555 111 2233", buf, sizeof(buf)), -1);
    assert_int_equal(as_parse_phone("+90 555 abc", buf, sizeof(buf)), -1);
    assert_int_equal(as_parse_phone("+1234567890123456", buf, sizeof(buf)), -1);
}

/* --- errors, each at its exact position -------------------------------------------- */

static void test_unknown_key(void **state)
{
    expect_error(cat(base, "spool2: {}\n"), 7, 1, "unknown key 'spool2'");
    expect_error("spool: {dir: /tmp/x, colour: blue}\n"
                 "receivers: [{name: r, file: {path: /tmp/o}}]\n"
                 "route: {receiver: r}\n",
                 1, 22, "unknown key 'colour'");
}

static void test_wrong_type(void **state)
{
    expect_error(cat(base, "workers: many\n"), 7, 10, "workers: expected an integer, got 'many'");
    expect_error(cat(base, "http: {listen: [a, b]}\n"), 7, 16,
                 "expected a listen address, got a list");
    expect_error(cat(base, "log: debug\n"), 7, 6, "expected a map of keys");
    expect_error(cat(base, "log: {level: loud}\n"), 7, 14,
                 "level: unknown value 'loud' (one of: debug, info, warn, error)");
}

static void test_bad_values(void **state)
{
    expect_error(cat(base, "defaults: {dedup_window: 5 minutes}\n"), 7, 26,
                 "dedup_window: invalid duration '5 minutes'");
    expect_error("spool: {dir: /tmp/x, max_size: 1GB}\n"
                 "receivers: [{name: r, file: {path: /tmp/o}}]\n"
                 "route: {receiver: r}\n",
                 1, 32, "max_size: invalid size '1GB'");
    expect_error(cat(base, "whatsapp: {rate_limit: 30 per minute}\n"), 7, 24,
                 "rate_limit: invalid rate '30 per minute'");
    expect_error(cat(base, "whatsapp: {phone: \"0555\"}\n"), 7, 19, "invalid phone number '0555'");
    expect_error(cat(base, "smtp: {from: nobody}\n"), 7, 14, "invalid email address 'nobody'");
    expect_error(cat(base, "http: {listen: localhost}\n"), 7, 16,
                 "listen: invalid listen address 'localhost'");
    expect_error(cat(base, "unix: {mode: \"0999\"}\n"), 7, 14, "mode: invalid file mode '0999'");
    expect_error(cat(base, "smtp: {tls: ssl}\n"), 7, 13, "tls: unknown value 'ssl'");
}

static void test_missing_and_duplicate(void **state)
{
    expect_error("spool: {dir: /tmp/x}\nreceivers: [{name: r, file: {}}]\nroute: {receiver: r}\n",
                 2, 29, "missing required key 'path'");
    expect_error(cat(base, "workers: 2\nworkers: 3\n"), 8, 1, "duplicate key 'workers'");
    expect_error("spool: {dir: /tmp/x}\nreceivers: [{name: r, file: {path: /o}}]\n", 1, 1,
                 "missing required key 'route'");
}

static void test_regex_error(void **state)
{
    expect_error(cat(base, "  routes:\n    - matchers: ['team=~\"db(\"']\n      receiver: r1\n"), 8,
                 18,
                 "invalid regular expression 'db(' for label 'team': missing closing "
                 "parenthesis at offset 3");
    expect_error(cat(base, "  routes:\n    - match_re: {team: \"[\"}\n      receiver: r1\n"), 8, 24,
                 "invalid regular expression '[' for label 'team': missing closing ] at offset 0");
    expect_error(cat(base, "  routes:\n    - matchers: ['=x']\n      receiver: r1\n"), 8, 18,
                 "bad matcher format: =x");
}

static void test_references(void **state)
{
    expect_error(cat(base, "  routes:\n    - receiver: nobody\n"), 8, 17,
                 "route: unknown receiver 'nobody'");
    expect_error(cat(base, "  routes:\n    - receiver: r1\n      mute_time_intervals: [nights]\n"),
                 9, 29, "mute_time_intervals: unknown time interval 'nights'");
    expect_error("spool: {dir: /tmp/x}\n"
                 "receivers:\n"
                 "  - name: r\n"
                 "    file: {path: /o}\n"
                 "  - name: r\n"
                 "    file: {path: /p}\n"
                 "route: {receiver: r}\n",
                 5, 11, "duplicate receiver name 'r' (first at line 3)");
    expect_error("spool: {dir: /tmp/x}\nreceivers:\n  - name: lonely\nroute: {receiver: lonely}\n",
                 3, 5, "receiver 'lonely' has no channel");
    expect_error("spool: {dir: /tmp/x}\nreceivers:\n  - name: r\n    mode: email\n"
                 "    file: {path: /o}\nroute: {receiver: r}\n",
                 4, 11,
                 "receiver 'r': mode 'email': expected fallback, all, or one of its channels "
                 "(file)");
    expect_error(cat(base, "  matchers: ['a=b']\n"), 6, 3,
                 "route: the root route must not have matchers");
}

static void test_all_errors_reported(void **state)
{
    loaded_t l;
    load(&l, "spool: {dir: /tmp/x, max_age: soon}\n"
             "log: {level: loud}\n"
             "bogus: 1\n"
             "receivers: [{name: r, file: {path: /o}}]\n"
             "route: {receiver: nope}\n");
    assert_null(l.c);
    assert_int_equal(l.cf.nerrors, 4);
    assert_true(has_error(&l, 1, 31, "max_age: invalid duration 'soon'"));
    assert_true(has_error(&l, 2, 14, "level: unknown value 'loud'"));
    assert_true(has_error(&l, 3, 1, "unknown key 'bogus'"));
    assert_true(has_error(&l, 5, 19, "route: unknown receiver 'nope'"));
    unload(&l);
}

static void test_yaml_syntax(void **state)
{
    expect_error("spool: {dir: /tmp/x\nroute: [\n", 2, 6,
                 "YAML: did not find expected ',' or '}' while parsing a flow mapping");
}

/* Keys that are not plain values: each once crashed the loader (a key
 * kept with no name, then strcmp(NULL, ...)).  Each is an error at the
 * key, the pair is left out, and nothing else of the file is lost. */
static void test_key_not_scalar(void **state)
{
    expect_error("{{},r", 1, 2, "a map key must be a plain value, not a map");
    expect_error("{[a]: 1}", 1, 2, "a map key must be a plain value, not a list");
    expect_error("? [a]\n: 1\nb: 2\n", 1, 3, "a map key must be a plain value, not a list");
    expect_error("? [a]\n: 1\nb: 2\n", 3, 1, "unknown key 'b'");
    expect_error("time_intervals: [{}:]\n", 1, 18, "a map key must be a plain value, not a map");
    expect_error("time_intervals: [{}:]\n", 1, 18, "missing required key 'name'");
    expect_error("~: 1\n", 1, 1, "a map key must be a plain value, not null");
    expect_error("? \n: 1\n", 1, 2, "a map key must be a plain value, not null");
    expect_error(": 1\n", 1, 1, "YAML: did not find expected key");

    /* Deep inside a valid file, in every place that reads keys: a
     * section's keys, a receiver's, a match: map of label names. */
    loaded_t l;
    load(&l, cat(base, "  routes:\n"
                       "    - receiver: r1\n"
                       "      match: {[a]: b, ~: c, team: db}\n"
                       "      {x: 1}: 2\n"
                       "log: {[level]: debug}\n"));
    assert_null(l.c);
    assert_int_equal(l.cf.nerrors, 4);
    assert_true(has_error(&l, 9, 15, "a map key must be a plain value, not a list"));
    assert_true(has_error(&l, 9, 23, "a map key must be a plain value, not null"));
    assert_true(has_error(&l, 10, 7, "a map key must be a plain value, not a map"));
    assert_true(has_error(&l, 11, 7, "a map key must be a plain value, not a list"));
    unload(&l);

    /* In an included file: merged key by key, so its keys are read too. */
    write_file("badkey/x.yaml", "{a: 1}: 2\nspool: {[x]: 1}\n");
    load(&l, cat("include: [badkey/x.yaml]\n", base));
    assert_null(l.c);
    assert_int_equal(l.cf.nerrors, 2);
    char want[1024];
    snprintf(want, sizeof(want),
             "%s/badkey/x.yaml:2:9: a map key must be a plain value, not a list", tmpdir);
    assert_string_equal(l.cf.errors[1], want);
    unload(&l);

    /* A quoted key is a plain value, even an empty or "~" one. */
    expect_error(cat(base, "\"~\": 1\n"), 7, 1, "unknown key '~'");
    expect_error(cat(base, "\"\": 1\n"), 7, 1, "unknown key ''");
}

/* Aliases: the same node shared is fine; a node containing its own alias
 * (a cycle, which recursed until the stack ran out) and an alias bomb
 * (which expanded into gigabytes of routes) are errors. */
static void test_aliases(void **state)
{
    loaded_t l;
    load(&l, "spool: {dir: /tmp/x}\n"
             "receivers:\n"
             "  - {name: a, file: &out {path: /tmp/as-cfg-alias.jsonl}}\n"
             "  - {name: b, file: *out}\n"
             "route: {receiver: a, routes: [&r {receiver: b}, *r]}\n");
    assert_non_null(l.c);
    assert_int_equal(l.c->cfg->route.routes.n, 2);
    unload(&l);

    expect_error(cat(base, "  routes: &r [{receiver: r1, routes: *r}]\n"), 7, 38,
                 "alias '*r' refers to a node that contains it");
    expect_error("spool: &s {dir: /tmp/x, max_age: *s}\n", 1, 34,
                 "alias '*s' refers to a node that contains it");
    expect_error("a: *nowhere\n", 1, 4, "unknown alias '*nowhere'");

    /* Ten aliases of ten aliases of ...: a few hundred bytes that stood
     * for 10^11 routes.  Refused at the first alias past the limit. */
    char bomb[4096];
    size_t o = (size_t)snprintf(bomb, sizeof(bomb), "%sx0: &a0 {receiver: r1}\n", base);
    for (int i = 1; i <= 11; i++) {
        o += (size_t)snprintf(bomb + o, sizeof(bomb) - o, "x%d: &a%d {receiver: r1, routes: [", i,
                              i);
        for (int k = 0; k < 10; k++)
            o += (size_t)snprintf(bomb + o, sizeof(bomb) - o, "%s*a%d", k ? ", " : "", i - 1);
        o += (size_t)snprintf(bomb + o, sizeof(bomb) - o, "]}\n");
    }
    assert_true(o < sizeof(bomb));
    load(&l, bomb);
    assert_null(l.c);
    size_t bombs = 0;
    for (size_t i = 0; i < l.cf.nerrors; i++)
        bombs += strstr(l.cf.errors[i], "aliases stand for more than 100000 nodes") != NULL;
    assert_int_equal(bombs, 1); /* once, not for every alias after it */
    unload(&l);
}

/* --- substitution, secrets, includes --------------------------------------------------- */

static void test_env(void **state)
{
    setenv("AS_TEST_PW", "pw-from-env", 1);
    unsetenv("AS_TEST_UNSET");
    loaded_t l;
    load(&l, cat(base, "whatsapp: {password: \"${AS_TEST_PW}\", base_url: \"$${literal}\"}\n"));
    assert_non_null(l.c);
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    as_config_print(m, l.c->cfg);
    fclose(m);
    /* Printed as written, so that -T's output loads again. */
    assert_non_null(strstr(out, "base_url: $${literal}"));
    assert_null(strstr(out, "pw-from-env"));
    free(out);
    unload(&l);
    expect_error(cat(base, "http: {bearer_token: \"${AS_TEST_UNSET}\"}\n"), 7, 22,
                 "environment variable 'AS_TEST_UNSET' is not set");
}

static void test_secret_file(void **state)
{
    char *p = write_file("pw.txt", "file-secret\n");
    char conf[1024];
    snprintf(conf, sizeof(conf), "%swhatsapp: {phone: \"+905550000001\", password_file: %s}\n",
             base, p);
    loaded_t l;
    load(&l, conf);
    assert_non_null(l.c);
    const struct {
        char *base_url, *phone, *password;
    } *wa = as_config_module_conf(l.c->cfg, "whatsapp");
    assert_string_equal(wa->password, "file-secret"); /* one trailing newline dropped */
    unload(&l);

    snprintf(conf, sizeof(conf), "%swhatsapp: {password: a, password_file: %s}\n", base, p);
    expect_error(conf, 7, 25, "'password_file' is set twice");
    expect_error(cat(base, "smtp: {password_file: /nonexistent/pw}\n"), 7, 23,
                 "cannot read '/nonexistent/pw': No such file or directory");
}

static void test_secret_never_logged(void **state)
{
    /* A secret echoed in an error message is redacted there too. */
    setenv("AS_TEST_SECRET", "s3cr3t-value", 1);
    loaded_t l;
    load(&l,
         cat(base, "http: {bearer_token: \"${AS_TEST_SECRET}\", listen: \"${AS_TEST_SECRET}\"}\n"));
    assert_null(l.c);
    for (size_t i = 0; i < l.cf.nerrors; i++)
        assert_null(strstr(l.cf.errors[i], "s3cr3t-value"));
    unload(&l);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    as_log_set_fd(fds[1]);
    as_log(AS_LOG_ERROR, "peer said", AS_S("body", "token s3cr3t-value rejected"));
    as_log_set_fd(-1);
    close(fds[1]);
    char buf[512] = "";
    ssize_t r = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    assert_true(r > 0);
    assert_null(strstr(buf, "s3cr3t-value"));
    assert_non_null(strstr(buf, "<redacted>"));
}

static void test_include(void **state)
{
    write_file("rules/10-db.yaml", "receivers:\n"
                                   "  - name: db\n"
                                   "    file: {path: /tmp/db.jsonl}\n"
                                   "route:\n"
                                   "  routes:\n"
                                   "    - matchers: [team=db]\n"
                                   "      receiver: db\n");
    write_file("rules/20-web.yaml", "receivers:\n"
                                    "  - name: web\n"
                                    "    file: {path: /tmp/web.jsonl}\n"
                                    "route:\n"
                                    "  routes:\n"
                                    "    - matchers: [team=web]\n"
                                    "      receiver: web\n");
    loaded_t l;
    load(&l, cat("include: [\"rules/*.yaml\"]\n", base));
    assert_non_null(l.c);
    assert_int_equal(l.c->cfg->receivers.n, 3);
    assert_int_equal(l.c->cfg->route.routes.n, 2);
    as_route_t *kids = l.c->cfg->route.routes.elts;
    assert_string_equal(kids[0].receiver, "db"); /* sorted file order */
    assert_string_equal(kids[1].receiver, "web");
    unload(&l);

    expect_error(cat("include: [missing.yaml]\n", base), 1, 11, "include: '");
    write_file("rules2/x.yaml", "route: {receiver: other}\n");
    load(&l, cat("include: [\"rules2/*.yaml\"]\n", base));
    assert_null(l.c);
    char want[1024];
    /* Reported where the second value is, naming where the first one is. */
    snprintf(want, sizeof(want), "%s/rules2/x.yaml:1:9: key 'receiver' is already set at %s:7:3",
             tmpdir, l.path);
    assert_int_equal(l.cf.nerrors, 1);
    assert_string_equal(l.cf.errors[0], want);
    unload(&l);
}

/* --- templates ------------------------------------------------------------------------ */

/* Loading renders every channel's templates once with a sample
 * notification: one that cannot finish is refused at the channel, naming
 * the template; one that runs away only for some payloads loads. */
static void test_templates_rendered_at_load(void **state)
{
    write_file("tpl/self.mustache", "{{>self}}{{>self}}");
    write_file("tpl/ok.mustache", "{{title}}");
    write_file("tpl/subj.mustache", "{{>subj}}");
    write_file("tpl/sometimes.mustache", "{{#alerts}}{{#labels}}{{>boom}}{{/labels}}{{/alerts}}");
    write_file("tpl/boom.mustache", "{{#boom}}{{>boom}}{{>boom}}{{/boom}}");
    char head[1024];
    snprintf(head, sizeof(head),
             "spool: {dir: /tmp/as-cfg-spool}\n"
             "templates: {dir: %s/tpl}\n"
             "receivers:\n",
             tmpdir);
    char text[4096];
    snprintf(text, sizeof(text),
             "%s"
             "  - name: r1\n"
             "    file: {path: /tmp/as-cfg-out.jsonl, template: self}\n"
             "  - name: r2\n"
             "    email: {to: [a@example.com], template: ok, subject: \"{{>subj}}\"}\n"
             "route: {receiver: r1}\n"
             "smtp: {host: 127.0.0.1, from: alertsink@example.com, tls: none}\n",
             head);
    loaded_t l;
    load(&l, text);
    assert_null(l.c);
    assert_int_equal(l.cf.nerrors, 2);
    char want[1024];
    snprintf(want, sizeof(want),
             "receiver 'r1', channel file, a sample notification: template %s/tpl/self.mustache: "
             "rendering stopped in partial 'self': partials nested deeper than 64",
             tmpdir);
    assert_true(has_error(&l, 5, 11, want));
    assert_true(
        has_error(&l, 7, 12, "receiver 'r2', channel email, a sample notification: template "));
    assert_non_null(strstr(l.cf.errors[1], "rendering stopped in partial 'subj'"));
    unload(&l);

    snprintf(text, sizeof(text),
             "%s"
             "  - name: r1\n"
             "    file: {path: /tmp/as-cfg-out.jsonl, template: sometimes}\n"
             "route: {receiver: r1}\n",
             head);
    load(&l, text);
    assert_non_null(l.c);
    unload(&l);
}

/* --- modules -------------------------------------------------------------------------- */

static void test_modules(void **state)
{
    const char *build = getenv("AS_BUILD_DIR");
    if (build == NULL)
        skip();
    char conf[2048];
    snprintf(conf, sizeof(conf),
             "modules: [%s/modules/as_mod_hello.so]\n"
             "hello: {volume: 11}\n%s"
             "  routes: [{receiver: h}]\n"
             "receivers:\n  - name: h\n    hello: {greeting: hi}\n",
             build, "spool: {dir: /tmp/x}\nroute:\n  receiver: h\n");
    loaded_t l;
    load(&l, conf);
    assert_non_null(l.c);
    int i = as_modset_find(&l.c->cfg->mods, "hello");
    assert_true(i >= 5);
    assert_int_equal(*(int64_t *)l.c->cfg->mconf[i].conf, 11);
    const as_receiver_t *r = as_config_receiver(l.c->cfg, "h");
    assert_non_null(r->channel[i].conf);
    unload(&l);

    char msg[1024];
    snprintf(conf, sizeof(conf), "modules: [%s/modules/as_mod_badabi.so]\n%s", build, base);
    snprintf(msg, sizeof(msg),
             "module %s/modules/as_mod_badabi.so: built for module ABI %d, this alertsink has "
             "ABI %d",
             build, AS_ABI_VERSION + 41, AS_ABI_VERSION);
    expect_error(conf, 1, 11, msg);

    snprintf(conf, sizeof(conf), "modules: [%s/modules/as_mod_longkey.so]\n%s", build, base);
    snprintf(msg, sizeof(msg),
             "module %s/modules/as_mod_longkey.so: invalid: its channel key is empty, longer "
             "than 23 bytes or not [a-z0-9_]",
             build);
    expect_error(conf, 1, 11, msg);

    snprintf(conf, sizeof(conf), "modules: [%s/modules/as_mod_nosym.so]\n%s", build, base);
    snprintf(msg, sizeof(msg),
             "module %s/modules/as_mod_nosym.so: no symbol 'alertsink_module': not an "
             "alertsink module",
             build);
    expect_error(conf, 1, 11, msg);

    snprintf(conf, sizeof(conf),
             "modules: [%s/modules/as_mod_hello.so, %s/modules/as_mod_hello.so]\n%s", build, build,
             base);
    snprintf(msg, sizeof(msg),
             "module %s/modules/as_mod_hello.so: a module named 'hello' is already loaded", build);
    expect_error(conf, 1, 11 + (int)strlen(build) + 24 + 2, msg);

    expect_error(cat("modules: [/nonexistent/x.so]\n", base), 1, 11,
                 "module /nonexistent/x.so: cannot load: ");
}

static int group_setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/as-cfg-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_missing_and_duplicate),
        cmocka_unit_test(test_regex_error),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_yaml_syntax),
        cmocka_unit_test(test_key_not_scalar),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_secret_file),
        cmocka_unit_test(test_secret_never_logged),
        cmocka_unit_test(test_include),
        cmocka_unit_test(test_templates_rendered_at_load),
        cmocka_unit_test(test_modules),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
