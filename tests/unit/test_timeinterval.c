/*
 * test_timeinterval.c - Alertmanager's time_intervals and the zone reader.
 *
 * Parsing: every field, every validation error with its FILE:LINE:COL
 * (the column is found from the text of the case, not typed in), the
 * configuration keys (time_intervals and the deprecated top-level
 * mute_time_intervals), and -T's output read back.  Evaluation: the
 * cases of Alertmanager's own tests, month ends, weekends, years, DST
 * edges in America/New_York and Europe/Istanbul, the POSIX footer rule,
 * synthetic TZif files (version 1, slim version 2, version 3 rules), and
 * the zone reader checked against glibc's localtime_r() for many zones
 * and instants (TZ is set here, in the single-threaded test, never in
 * the code under test).  Threads evaluate one configuration at once and
 * must agree with the single-threaded answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "alertsink/mem.h"
#include "conf/config.h"
#include "lib/conf.h"
#include "lib/tz.h"
#include "lib/yamldoc.h"
#include "route/route.h"
#include "route/timeinterval.h"

/* --- helpers ------------------------------------------------------------------ */

static const as_conf_key_t ti_key = {"time_intervals", &as_conf_time_intervals, 0, 0, NULL, NULL};

typedef struct {
    as_pool_t *pool;
    as_conf_t cf;
    as_array_t tis;
    int rc;
} parsed_t;

static void parse(parsed_t *p, const char *yaml)
{
    memset(p, 0, sizeof(*p));
    p->pool = as_pool_create();
    as_conf_init(&p->cf, p->pool);
    as_node_t *root = as_yaml_load_string(&p->cf, "ti.yaml", yaml);
    assert_non_null(root);
    p->rc = as_conf_time_intervals.parse(&p->cf, &ti_key, root, &p->tis);
}

static void parsed_free(parsed_t *p)
{
    as_conf_free_errors(&p->cf);
    as_pool_destroy(p->pool);
}

static void parse_ok(parsed_t *p, const char *yaml)
{
    parse(p, yaml);
    if (as_conf_errors(&p->cf) != 0)
        as_conf_print_errors(&p->cf, stderr);
    assert_int_equal(as_conf_errors(&p->cf), 0);
    assert_int_equal(p->rc, 0);
}

static const as_time_interval_t *ti_at(const parsed_t *p, size_t i)
{
    assert_true(i < p->tis.n);
    return (const as_time_interval_t *)p->tis.elts + i;
}

static const as_ti_entry_t *entry_at(const parsed_t *p, size_t i, size_t j)
{
    const as_time_interval_t *ti = ti_at(p, i);
    assert_true(j < ti->ranges.n);
    return (const as_ti_entry_t *)ti->ranges.elts + j;
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (int64_t)timegm(&tm);
}

/* "2026-03-08 03:00:00 EDT -14400 dst=1" */
static void fmt_tm(const struct tm *tm, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d %s %ld dst=%d", tm->tm_year + 1900,
             tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, tm->tm_zone,
             (long)tm->tm_gmtoff, tm->tm_isdst);
}

static void expect_local(const as_tz_t *tz, int64_t t, const char *want)
{
    struct tm tm;
    char got[128];
    assert_int_equal(as_tz_localtime(tz, t, &tm), 0);
    fmt_tm(&tm, got, sizeof(got));
    assert_string_equal(got, want);
}

static as_tz_t *load_tz(const char *name)
{
    as_err_t err;
    as_tz_t *tz = as_tz_load(name, &err);
    if (tz == NULL)
        fail_msg("%s", err.msg);
    return tz;
}

/* TZ is changed by the cross-checks only; put it back as it was. */
static char *saved_tz;
static int had_tz;

static void tz_env_save(void)
{
    const char *v = getenv("TZ");
    had_tz = v != NULL;
    saved_tz = v ? strdup(v) : NULL;
}

static void tz_env_restore(void)
{
    if (had_tz)
        setenv("TZ", saved_tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved_tz);
    saved_tz = NULL;
}

static void glibc_set_tz(const char *tz)
{
    if (tz)
        setenv("TZ", tz, 1);
    else
        unsetenv("TZ");
    tzset();
}

/* Compare our zone with glibc's localtime_r (under the TZ set) at t. */
static int same_as_glibc(const as_tz_t *tz, int64_t t, char *why, size_t len)
{
    struct tm a, b;
    time_t tt = (time_t)t;
    char sa[128], sb[128];
    localtime_r(&tt, &a);
    if (as_tz_localtime(tz, t, &b) < 0) {
        snprintf(why, len, "t=%lld: out of range", (long long)t);
        return 0;
    }
    fmt_tm(&a, sa, sizeof(sa));
    fmt_tm(&b, sb, sizeof(sb));
    if (strcmp(sa, sb) != 0 || a.tm_wday != b.tm_wday || a.tm_yday != b.tm_yday) {
        snprintf(why, len, "t=%lld: glibc %s wday %d yday %d, ours %s wday %d yday %d",
                 (long long)t, sa, a.tm_wday, a.tm_yday, sb, b.tm_wday, b.tm_yday);
        return 0;
    }
    return 1;
}

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* --- parsing ------------------------------------------------------------------ */

static void test_parse_fields(void **state)
{
    parsed_t p;
    parse_ok(&p, "- name: office-hours\n"
                 "  time_intervals:\n"
                 "    - times:\n"
                 "        - start_time: '09:00'\n"
                 "          end_time: '17:30'\n"
                 "        - {start_time: \"20:00\", end_time: \"24:00\"}\n"
                 "      weekdays: ['Monday:FRIDAY', 'sunday']\n"
                 "      days_of_month: ['1:5', '-3:-1', 15, '1:-1']\n"
                 "      months: ['may:august', '1', 'December', '02:3']\n"
                 "      years: ['2020:2022', 2030]\n"
                 "      location: Europe/Istanbul\n"
                 "    - weekdays: []\n"
                 "      months:\n"
                 "    - {}\n"
                 "    - ~\n"
                 "- name: never\n");
    assert_int_equal(p.tis.n, 2);
    const as_time_interval_t *ti = ti_at(&p, 0);
    assert_string_equal(ti->name, "office-hours");
    assert_int_equal(ti->ranges.n, 4);

    const as_ti_entry_t *e = entry_at(&p, 0, 0);
    assert_true(e->times.set);
    assert_int_equal(e->times.n, 2);
    assert_int_equal(e->times.v[0].begin, 540);
    assert_int_equal(e->times.v[0].end, 1050);
    assert_int_equal(e->times.v[1].begin, 1200);
    assert_int_equal(e->times.v[1].end, 1440);
    assert_int_equal(e->weekdays.n, 2);
    assert_int_equal(e->weekdays.v[0].begin, 1);
    assert_int_equal(e->weekdays.v[0].end, 5);
    assert_int_equal(e->weekdays.v[1].begin, 0);
    assert_int_equal(e->weekdays.v[1].end, 0);
    assert_int_equal(e->days_of_month.n, 4);
    assert_int_equal(e->days_of_month.v[1].begin, -3);
    assert_int_equal(e->days_of_month.v[1].end, -1);
    assert_int_equal(e->days_of_month.v[2].begin, 15);
    assert_int_equal(e->days_of_month.v[2].end, 15);
    assert_int_equal(e->days_of_month.v[3].begin, 1);
    assert_int_equal(e->days_of_month.v[3].end, -1);
    assert_int_equal(e->months.n, 4);
    assert_int_equal(e->months.v[0].begin, 5);
    assert_int_equal(e->months.v[0].end, 8);
    assert_int_equal(e->months.v[1].begin, 1);
    assert_int_equal(e->months.v[2].begin, 12);
    assert_int_equal(e->months.v[3].begin, 2);
    assert_int_equal(e->months.v[3].end, 3);
    assert_int_equal(e->years.v[0].begin, 2020);
    assert_int_equal(e->years.v[0].end, 2022);
    assert_int_equal(e->years.v[1].begin, 2030);
    assert_non_null(e->location);
    assert_string_equal(as_tz_name(e->location), "Europe/Istanbul");
    assert_ptr_equal(e->node, as_yaml_get(ti->node, "time_intervals")->items[0]);

    /* [] is set and empty (matches nothing); null is unset (anything). */
    e = entry_at(&p, 0, 1);
    assert_true(e->weekdays.set);
    assert_int_equal(e->weekdays.n, 0);
    assert_false(e->months.set);
    assert_false(e->times.set);
    assert_null(e->location);
    e = entry_at(&p, 0, 2);
    assert_false(e->times.set || e->weekdays.set || e->days_of_month.set || e->months.set ||
                 e->years.set);
    e = entry_at(&p, 0, 3);
    assert_false(e->weekdays.set);

    ti = ti_at(&p, 1);
    assert_string_equal(ti->name, "never");
    assert_int_equal(ti->ranges.n, 0);
    assert_false(as_time_interval_contains(ti, (time_t)utc(2026, 1, 1, 0, 0, 0)));
    parsed_free(&p);
}

typedef struct {
    const char *field; /* one line of an entry */
    const char *at;    /* where in it the error points */
    const char *msg;
} error_case_t;

static const error_case_t entry_errors[] = {
    {"weekdays: ['friday:monday']", "'friday", "weekdays: start day cannot be before end day"},
    /* Alertmanager has no wrapping range: the weekend is two names. */
    {"weekdays: ['saturday:sunday']", "'sat", "weekdays: start day cannot be before end day"},
    {"weekdays: ['monday', 'Blurgsday:flurgsday']", "'Blurg",
     "weekdays: blurgsday is not a valid weekday"},
    {"weekdays: ['1:3']", "'1", "weekdays: 1 is not a valid weekday"},
    {"weekdays: ['-2:-1']", "'-2", "weekdays: -2 is not a valid weekday"},
    {"weekdays: ['monday:']", "'mon", "weekdays:  is not a valid weekday"},
    {"weekdays: ['monday:tuesday:friday']", "'mon",
     "weekdays: couldn't parse range monday:tuesday:friday, invalid format"},
    {"weekdays: monday", "monday", "weekdays: expected a list"},
    {"weekdays: [[monday]]", "[monday]", "expected a string, got a list"},
    {"days_of_month: ['0']", "'0",
     "days_of_month: 0 is not a valid day of the month: out of range"},
    {"days_of_month: ['-50:-20']", "'-50",
     "days_of_month: -50 is not a valid day of the month: out of range"},
    {"days_of_month: ['1:50']", "'1:50",
     "days_of_month: 50 is not a valid day of the month: out of range"},
    {"days_of_month: ['-32']", "'-32",
     "days_of_month: -32 is not a valid day of the month: out of range"},
    {"days_of_month: ['-15:5']", "'-15",
     "days_of_month: end day must be negative if start day is negative"},
    {"days_of_month: ['10:-25']", "'10",
     "days_of_month: end day -25 is always before start day 10"},
    /* Checked against a 28-day month: 29 to the last day may be empty. */
    {"days_of_month: ['29:-1']", "'29", "days_of_month: end day -1 is always before start day 29"},
    {"days_of_month: ['-31:31']", "'-31",
     "days_of_month: end day must be negative if start day is negative"},
    {"days_of_month: ['5:2']", "'5", "days_of_month: end day 2 is always before start day 5"},
    {"days_of_month: [first]", "first", "days_of_month: first is not a valid day of the month"},
    {"days_of_month: ['1.5']", "'1.5", "days_of_month: 1.5 is not a valid day of the month"},
    {"months: ['martius:june']", "'mart", "months: martius is not a valid month"},
    {"months: ['march:junius']", "'march", "months: junius is not a valid month"},
    {"months: ['December:january']", "'Dec",
     "months: end month january is before start month december"},
    {"months: ['13']", "'13", "months: 13 is not a valid month: out of range"},
    {"years: ['2022:2020']", "'2022", "years: end year 2020 is before start year 2022"},
    {"years: [MMXX]", "MMXX", "years: mmxx is not a valid year"},
    {"years: ['99999999999']", "'9", "years: 99999999999 is not a valid year"},
    {"times: [{start_time: '01:99', end_time: '23:59'}]", "'01:99'",
     "times: couldn't parse timestamp 01:99, invalid format"},
    {"times: [{start_time: '00:00', end_time: '99:99'}]", "'99:99'",
     "times: couldn't parse timestamp 99:99, invalid format"},
    {"times: [{start_time: '12:30', end_time: '24:01'}]", "'24:01'",
     "times: couldn't parse timestamp 24:01, invalid format"},
    {"times: [{start_time: '9:00', end_time: '10:00'}]", "'9:00'",
     "times: couldn't parse timestamp 9:00, invalid format"},
    {"times: [{start_time: '24:00', end_time: '17:41'}]", "{start",
     "times: start time cannot be equal or greater than end time"},
    {"times: [{start_time: '17:31', end_time: '17:31'}]", "{start",
     "times: start time cannot be equal or greater than end time"},
    {"times: [{start_time: '09:30', end_time: '07:41'}]", "{start",
     "times: start time cannot be equal or greater than end time"},
    {"times: [{start_time: '14:03'}]", "{start",
     "times: both start and end times must be provided"},
    {"times: [{start_time: '', end_time: '10:00'}]", "{start",
     "times: both start and end times must be provided"},
    {"times: [{start_time: '09:00', end_time: '10:00', zone: UTC}]", "zone", "unknown key 'zone'"},
    {"times: ['09:00-10:00']", "'09", "times: expected a map of start_time and end_time"},
    {"location: Mars/Olympus_Mons", "Mars", "location: unknown time zone Mars/Olympus_Mons"},
    {"location: Europe", "Europe", "location: unknown time zone Europe"},
    {"location: europe/istanbul", "europe", "location: unknown time zone europe/istanbul"},
    {"location: ../../etc/passwd", "../", "location: invalid location name ../../etc/passwd"},
    {"location: /etc/localtime", "/etc", "location: invalid location name /etc/localtime"},
    {"location: [UTC]", "[UTC]", "expected a time zone name, got a list"},
    {"weekday: [monday]", "weekday", "unknown key 'weekday': did you mean 'weekdays'?"},
};

static void test_parse_errors(void **state)
{
    for (size_t i = 0; i < sizeof(entry_errors) / sizeof(entry_errors[0]); i++) {
        const error_case_t *c = &entry_errors[i];
        char yaml[512], want[512];
        const char *at = strstr(c->field, c->at);
        assert_non_null(at);
        snprintf(yaml, sizeof(yaml), "- name: x\n  time_intervals:\n    - %s\n", c->field);
        /* The field starts at column 7 of line 3 ("    - "). */
        snprintf(want, sizeof(want), "ti.yaml:3:%d: %s", 7 + (int)(at - c->field), c->msg);
        parsed_t p;
        parse(&p, yaml);
        if (as_conf_errors(&p.cf) != 1 || strcmp(p.cf.errors[0], want) != 0) {
            as_conf_print_errors(&p.cf, stderr);
            fail_msg("case %zu (%s): want \"%s\"", i, c->field, want);
        }
        assert_int_equal(p.rc, -1);
        parsed_free(&p);
    }
}

static void test_parse_errors_named(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"- time_intervals: []\n", "ti.yaml:1:3: missing required key 'name'"},
        {"- name: ''\n", "ti.yaml:1:9: time_intervals: missing name in time interval"},
        {"- name: x\n  time_intervals: {weekdays: [monday]}\n",
         "ti.yaml:2:19: time_intervals: expected a list"},
        {"- name: x\n  time_intervals: [monday]\n",
         "ti.yaml:2:20: time_intervals: expected a map for each entry"},
        {"- office-hours\n", "ti.yaml:1:3: time_intervals: expected a map for each time interval"},
        {"{name: x}\n", "ti.yaml:1:1: time_intervals: expected a list"},
        {"- name: x\n  intervals: []\n", "ti.yaml:2:3: unknown key 'intervals'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parsed_t p;
        parse(&p, cases[i].yaml);
        if (as_conf_errors(&p.cf) != 1 || strcmp(p.cf.errors[0], cases[i].want) != 0) {
            as_conf_print_errors(&p.cf, stderr);
            fail_msg("case %zu: want \"%s\"", i, cases[i].want);
        }
        parsed_free(&p);
    }
    /* Errors do not stop the loader: every one is reported. */
    parsed_t p;
    parse(&p, "- name: x\n"
              "  time_intervals:\n"
              "    - weekdays: [funday, 'friday:monday']\n"
              "      months: [smarch]\n"
              "      location: Nowhere\n");
    assert_int_equal(as_conf_errors(&p.cf), 4);
    assert_string_equal(p.cf.errors[3], "ti.yaml:5:17: location: unknown time zone Nowhere");
    parsed_free(&p);
}

static void test_print_roundtrip(void **state)
{
    static const char *yaml = "- name: office-hours\n"
                              "  time_intervals:\n"
                              "    - weekdays: ['Monday:FRIDAY', sunday]\n"
                              "      times: [{start_time: '09:00', end_time: '17:30'},\n"
                              "              {start_time: '20:00', end_time: '24:00'}]\n"
                              "      location: Europe/Istanbul\n"
                              "    - days_of_month: ['1:5', '-3:-1', 15]\n"
                              "      months: ['may:august', '1', December]\n"
                              "      years: ['2020:2022', '2030']\n"
                              "    - {}\n"
                              "    - weekdays: []\n"
                              "      location: UTC\n"
                              "- name: empty\n";
    static const char *want = "\n"
                              "  - name: office-hours\n"
                              "    time_intervals:\n"
                              "      - times:\n"
                              "          - start_time: \"09:00\"\n"
                              "            end_time: \"17:30\"\n"
                              "          - start_time: \"20:00\"\n"
                              "            end_time: \"24:00\"\n"
                              "        weekdays: [\"monday:friday\", \"sunday\"]\n"
                              "        location: Europe/Istanbul\n"
                              "      - days_of_month: [\"1:5\", \"-3:-1\", \"15\"]\n"
                              "        months: [\"may:august\", \"january\", \"december\"]\n"
                              "        years: [\"2020:2022\", \"2030\"]\n"
                              "      - {}\n"
                              "      - weekdays: []\n"
                              "        location: UTC\n"
                              "  - name: empty\n"
                              "    time_intervals: []\n";
    parsed_t p, q;
    char *out = NULL, *again = NULL;
    size_t len = 0;
    parse_ok(&p, yaml);
    FILE *m = open_memstream(&out, &len);
    as_conf_time_intervals.print(m, &ti_key, &p.tis, 0);
    fclose(m);
    assert_string_equal(out, want);

    /* Read back, it is the same configuration. */
    char *doc = NULL;
    assert_true(asprintf(&doc, "time_intervals:%s", out) > 0);
    memset(&q, 0, sizeof(q));
    q.pool = as_pool_create();
    as_conf_init(&q.cf, q.pool);
    as_node_t *root = as_yaml_load_string(&q.cf, "printed.yaml", doc);
    assert_non_null(root);
    assert_int_equal(
        as_conf_time_intervals.parse(&q.cf, &ti_key, as_yaml_get(root, "time_intervals"), &q.tis),
        0);
    m = open_memstream(&again, &len);
    as_conf_time_intervals.print(m, &ti_key, &q.tis, 0);
    fclose(m);
    assert_string_equal(again, want);
    free(doc);
    free(out);
    free(again);
    parsed_free(&p);
    parsed_free(&q);

    /* None at all. */
    memset(&p, 0, sizeof(p));
    out = NULL;
    m = open_memstream(&out, &len);
    as_conf_time_intervals.print(m, &ti_key, &p.tis, 0);
    fclose(m);
    assert_string_equal(out, " []\n");
    free(out);
}

/* --- configuration -------------------------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *config_head = "spool: {dir: /nonexistent/spool}\n"
                                 "receivers:\n"
                                 "  - name: audit\n"
                                 "    file: {path: /nonexistent/out.jsonl}\n";

static as_config_t *load_config(as_conf_t *cf, const char *body, char *path, size_t len)
{
    char *text = NULL;
    assert_true(asprintf(&text, "%s%s", config_head, body) > 0);
    write_file("alertsink.yaml", text);
    free(text);
    snprintf(path, len, "%s/alertsink.yaml", tmpdir);
    return as_config_load(cf, path);
}

static void test_config(void **state)
{
    char path[256], want[512];
    as_conf_t cf;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/as-ti-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));

    /* Both top-level keys; routes name either. */
    as_config_t *cfg = load_config(&cf,
                                   "time_intervals:\n"
                                   "  - name: office-hours\n"
                                   "    time_intervals:\n"
                                   "      - weekdays: ['monday:friday']\n"
                                   "        times: [{start_time: '09:00', end_time: '17:00'}]\n"
                                   "        location: America/New_York\n"
                                   "mute_time_intervals:\n"
                                   "  - name: maintenance\n"
                                   "    time_intervals:\n"
                                   "      - days_of_month: ['-1']\n"
                                   "        times: [{start_time: '22:00', end_time: '24:00'}]\n"
                                   "route:\n"
                                   "  receiver: audit\n"
                                   "  routes:\n"
                                   "    - matchers: [team=db]\n"
                                   "      active_time_intervals: [office-hours]\n"
                                   "      mute_time_intervals: [maintenance]\n"
                                   "      routes:\n"
                                   "        - matchers: [severity=page]\n"
                                   "    - matchers: [team=web]\n"
                                   "      mute_time_intervals: [maintenance, office-hours]\n"
                                   "    - matchers: [team=ops]\n"
                                   "      active_time_intervals: [maintenance, office-hours]\n",
                                   path, sizeof(path));
    if (cfg == NULL)
        as_conf_print_errors(&cf, stderr);
    assert_non_null(cfg);
    const as_time_interval_t *office = as_config_time_interval(cfg, "office-hours");
    const as_time_interval_t *maint = as_config_time_interval(cfg, "maintenance");
    assert_non_null(office);
    assert_non_null(maint);
    assert_null(as_config_time_interval(cfg, "nope"));
    assert_int_equal(cfg->mute_time_intervals.n, 1);

    const as_route_t *kids = cfg->route.routes.elts;
    const as_route_t *db = &kids[0], *web = &kids[1], *ops = &kids[2];
    const as_route_t *page = db->routes.elts;
    const char *why = "unset";
    assert_int_equal(db->nactive, 1);
    assert_ptr_equal(db->active[0], office);
    assert_ptr_equal(db->mute[0], maint);

    /* Thursday 2026-04-30 10:00 in New York (14:00 UTC): active, not muted. */
    time_t t = (time_t)utc(2026, 4, 30, 14, 0, 0);
    assert_int_equal(as_route_muted(db, t, &why), 0);
    assert_null(why);
    /* 08:59 New York: outside the active interval. */
    t = (time_t)utc(2026, 4, 30, 12, 59, 0);
    assert_int_equal(as_route_muted(db, t, &why), 1);
    assert_string_equal(why, "outside active time interval 'office-hours'");
    /* 22:30 UTC on the last day of April: muted, whatever else. */
    t = (time_t)utc(2026, 4, 30, 22, 30, 0);
    assert_int_equal(as_route_muted(db, t, &why), 1);
    assert_string_equal(why, "in mute time interval 'maintenance'");
    /* Children do not inherit time intervals (Alertmanager's NewRoute). */
    assert_int_equal(page->nactive + page->nmute, 0);
    assert_int_equal(as_route_muted(page, t, &why), 0);
    assert_int_equal(as_route_muted(&cfg->route, t, NULL), 0);
    /* Any of several mute intervals mutes; the one that did is named. */
    t = (time_t)utc(2026, 4, 30, 14, 0, 0);
    assert_int_equal(as_route_muted(web, t, &why), 1);
    assert_string_equal(why, "in mute time interval 'office-hours'");
    assert_int_equal(as_route_muted(web, (time_t)utc(2026, 4, 29, 23, 0, 0), &why), 0);
    /* Any of several active intervals keeps the route active. */
    assert_int_equal(as_route_muted(ops, (time_t)utc(2026, 4, 30, 23, 0, 0), &why), 0);
    assert_int_equal(as_route_muted(ops, (time_t)utc(2026, 4, 29, 23, 0, 0), &why), 1);
    assert_string_equal(why, "outside all its active time intervals");

    /* -T prints the deprecated key too. */
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    as_config_print(m, cfg);
    fclose(m);
    assert_non_null(strstr(out, "\nmute_time_intervals:\n  - name: maintenance\n"
                                "    time_intervals:\n      - times:\n"));
    assert_non_null(strstr(out, "        location: America/New_York\n"));
    free(out);
    as_config_free(cfg);
    as_conf_free_errors(&cf);

    /* Names are unique across both lists; a bad location is a
     * configuration error at its node, in the real file. */
    cfg = load_config(&cf,
                      "time_intervals:\n"
                      "  - name: quiet\n"
                      "    time_intervals: [{location: Europe/Atlantis}]\n"
                      "mute_time_intervals:\n"
                      "  - name: quiet\n"
                      "route: {receiver: audit, routes: [{mute_time_intervals: [loud]}]}\n",
                      path, sizeof(path));
    assert_null(cfg);
    assert_int_equal(as_conf_errors(&cf), 3);
    snprintf(want, sizeof(want), "%s:7:33: location: unknown time zone Europe/Atlantis", path);
    assert_string_equal(cf.errors[0], want);
    snprintf(want, sizeof(want), "%s:9:5: duplicate time interval name 'quiet' (first at line 6)",
             path);
    assert_string_equal(cf.errors[1], want);
    snprintf(want, sizeof(want), "%s:10:58: mute_time_intervals: unknown time interval 'loud'",
             path);
    assert_string_equal(cf.errors[2], want);
    as_conf_free_errors(&cf);

    cfg = load_config(&cf, "mute_time_intervals: {name: x}\nroute: {receiver: audit}\n", path,
                      sizeof(path));
    assert_null(cfg);
    assert_int_equal(as_conf_errors(&cf), 1);
    snprintf(want, sizeof(want), "%s:5:22: mute_time_intervals: expected a list", path);
    assert_string_equal(cf.errors[0], want);
    as_conf_free_errors(&cf);

    unlink(path);
    rmdir(tmpdir);
}

/* --- evaluation ------------------------------------------------------------------- */

typedef struct {
    const char *yaml; /* one entry's fields */
    const char *contains[8], *excludes[8];
} contain_case_t;

/* Instants as "YYYY-MM-DD HH:MM" with an offset, parsed by glibc's strptime. */
static time_t instant(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%d %H:%M %z", &tm);
    assert_non_null(end);
    assert_int_equal(*end, '\0');
    long off = tm.tm_gmtoff;
    return timegm(&tm) - off;
}

/* Most from Alertmanager's timeinterval_test.go. */
static const contain_case_t contain_cases[] = {
    {"{}", {"2006-01-02 15:04 +0000", "2007-01-03 10:04 +0000"}, {NULL}},
    {"{times: [{start_time: '09:00', end_time: '17:00'}], weekdays: ['monday:friday']}",
     {"2020-05-04 15:04 +0000", "2020-05-05 10:04 +0000", "2020-06-09 09:04 +0000",
      "2020-05-04 09:00 +0000", "2020-05-04 16:59 +0000"},
     {"2020-05-03 15:04 +0000", "2020-05-04 08:59 +0000", "2020-05-05 05:00 +0000",
      "2020-05-04 17:00 +0000"}},
    {"{days_of_month: ['4:6'], months: ['4'], years: ['2020']}",
     {"2020-04-04 15:04 +0000", "2020-04-05 00:00 +0000", "2020-04-06 23:05 +0000"},
     {"2018-05-03 15:04 +0000", "2020-04-03 23:59 +0000", "2020-06-04 23:59 +0000",
      "2019-04-06 23:59 +0000", "2020-04-07 00:00 +0000"}},
    {"{days_of_month: ['-3:-1']}",
     {"2020-01-31 15:04 +0000", "2020-01-30 15:04 +0000", "2020-01-29 15:04 +0000",
      "2020-06-30 00:00 +0000", "2020-02-29 23:05 +0000", "2020-02-27 00:00 +0000"},
     {"2018-05-03 15:04 +0000", "2020-01-27 15:04 +0000", "2020-04-03 23:59 +0000",
      "2020-03-01 00:00 +0000", "2020-02-26 23:59 +0000"}},
    {"{months: ['6'], days_of_month: ['-31:-1']}",
     {"2020-06-30 00:00 +0000", "2020-06-01 00:00 +0000"},
     {"2020-05-31 00:00 +0000", "2020-07-01 00:00 +0000"}},
    {"{times: [{start_time: '09:00', end_time: '17:00'}], weekdays: ['monday:friday'],"
     " location: Australia/Sydney}",
     {"2021-04-06 13:00 +1000", "2021-11-01 09:00 +1100", "2021-10-31 22:00 +0000"},
     {"2021-04-06 13:00 +0000", "2021-10-31 21:00 +0000"}},
    {"{weekdays: ['monday:wednesday', saturday, sunday], times: [{start_time: '13:00',"
     " end_time: '15:00'}], days_of_month: ['1', '10', '20:-1'], years: ['2020:2023'],"
     " months: ['january:march']}",
     {"2021-01-10 13:00 +0000", "2021-01-30 14:24 +0000"},
     {"2021-01-09 13:00 +0000", "2021-01-20 12:59 +0000", "2021-02-02 13:00 +0000"}},
    /* A start past the month's end never matches (no clamping into it). */
    {"{days_of_month: ['30:31'], years: ['2020:2023'], months: [february]}",
     {NULL},
     {"2021-02-28 13:00 +0000", "2020-02-29 13:00 +0000"}},
    {"{weekdays: ['monday:friday', sunday], months: ['january:march'], days_of_month: ['-7:-1'],"
     " years: ['2020:2025', '2030:2035'], times: [{start_time: '09:00', end_time: '17:00'}]}",
     {"2021-01-27 09:00 +0000", "2021-01-28 16:59 +0000", "2021-01-29 13:00 +0000",
      "2025-03-31 13:00 +0000", "2035-01-31 13:00 +0000"},
     {"2021-01-30 13:00 +0000", "2021-04-01 13:00 +0000", "2026-01-30 13:00 +0000",
      "2035-01-31 17:01 +0000"}},
    /* 24:00 ends the day: 23:59 is in, midnight is the next day. */
    {"{times: [{start_time: '17:00', end_time: '24:00'}], weekdays: [friday]}",
     {"2026-05-01 17:00 +0000", "2026-05-01 23:59 +0000"},
     {"2026-05-01 16:59 +0000", "2026-05-02 00:00 +0000", "2026-04-30 23:59 +0000"}},
    /* An empty list matches nothing (Alertmanager's non-nil empty slice). */
    {"{weekdays: []}", {NULL}, {"2026-05-01 17:00 +0000", "2026-05-02 17:00 +0000"}},
};

static void test_contains(void **state)
{
    for (size_t i = 0; i < sizeof(contain_cases) / sizeof(contain_cases[0]); i++) {
        const contain_case_t *c = &contain_cases[i];
        char yaml[1024];
        parsed_t p;
        snprintf(yaml, sizeof(yaml), "- name: x\n  time_intervals: [%s]\n", c->yaml);
        parse_ok(&p, yaml);
        const as_time_interval_t *ti = ti_at(&p, 0);
        for (int j = 0; j < 8 && c->contains[j]; j++)
            if (!as_time_interval_contains(ti, instant(c->contains[j])))
                fail_msg("case %zu: %s should contain %s", i, c->yaml, c->contains[j]);
        for (int j = 0; j < 8 && c->excludes[j]; j++)
            if (as_time_interval_contains(ti, instant(c->excludes[j])))
                fail_msg("case %zu: %s should exclude %s", i, c->yaml, c->excludes[j]);
        parsed_free(&p);
    }
}

/* Which days of a month does an interval hold?  "1,2,...,31" as a bitmask. */
static uint64_t days_matched(const as_time_interval_t *ti, int year, int month)
{
    uint64_t mask = 0;
    for (int d = 1; d <= 31; d++) {
        int64_t t = utc(year, month, d, 12, 0, 0);
        struct tm tm;
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
        if (tm.tm_mon + 1 != month)
            break; /* timegm rolled into the next month */
        if (as_time_interval_contains(ti, tt))
            mask |= UINT64_C(1) << d;
    }
    return mask;
}

#define DAY(d) (UINT64_C(1) << (d))

static void test_month_ends(void **state)
{
    parsed_t p;
    parse_ok(&p, "- name: last\n  time_intervals: [{days_of_month: ['-1']}]\n"
                 "- name: first-of-31\n  time_intervals: [{days_of_month: ['-31']}]\n"
                 "- name: thirty-first\n  time_intervals: [{days_of_month: ['31']}]\n"
                 "- name: tail\n  time_intervals: [{days_of_month: ['-31:-28']}]\n"
                 "- name: from-27\n  time_intervals: [{days_of_month: ['27:-1']}]\n");
    const as_time_interval_t *last = ti_at(&p, 0), *m31 = ti_at(&p, 1), *d31 = ti_at(&p, 2),
                             *tail = ti_at(&p, 3), *from27 = ti_at(&p, 4);
    /* -1 is the last day: leap and common Februaries, century rules. */
    assert_int_equal(days_matched(last, 2024, 2), DAY(29));
    assert_int_equal(days_matched(last, 2023, 2), DAY(28));
    assert_int_equal(days_matched(last, 2000, 2), DAY(29));
    assert_int_equal(days_matched(last, 2100, 2), DAY(28));
    assert_int_equal(days_matched(last, 2026, 4), DAY(30));
    assert_int_equal(days_matched(last, 2026, 12), DAY(31));
    /* The last day of a month with a DST change (Alertmanager 0.25 got
     * this wrong in zones with DST): March in New York. */
    parsed_t q;
    parse_ok(&q, "- name: last-ny\n  time_intervals: [{days_of_month: ['-1'],"
                 " location: America/New_York}]\n");
    assert_int_equal(days_matched(ti_at(&q, 0), 2026, 3), DAY(31));
    assert_int_equal(days_matched(ti_at(&q, 0), 2026, 11), DAY(30));
    parsed_free(&q);
    /* -31 is the first day of a 31-day month, no day of a 30-day one. */
    assert_int_equal(days_matched(m31, 2026, 1), DAY(1));
    assert_int_equal(days_matched(m31, 2026, 4), 0);
    assert_int_equal(days_matched(m31, 2026, 6), 0);
    assert_int_equal(days_matched(m31, 2024, 2), 0);
    assert_int_equal(days_matched(d31, 2026, 4), 0);
    assert_int_equal(days_matched(d31, 2026, 5), DAY(31));
    /* A negative start before the month clamps to its first day. */
    assert_int_equal(days_matched(tail, 2023, 2), DAY(1));
    assert_int_equal(days_matched(tail, 2026, 4), DAY(1) | DAY(2) | DAY(3));
    assert_int_equal(days_matched(tail, 2026, 5), DAY(1) | DAY(2) | DAY(3) | DAY(4));
    assert_int_equal(days_matched(from27, 2023, 2), DAY(27) | DAY(28));
    assert_int_equal(days_matched(from27, 2024, 2), DAY(27) | DAY(28) | DAY(29));
    assert_int_equal(days_matched(from27, 2026, 1),
                     DAY(27) | DAY(28) | DAY(29) | DAY(30) | DAY(31));
    parsed_free(&p);
}

static void test_weekend_and_years(void **state)
{
    parsed_t p;
    parse_ok(&p, "- name: weekend\n  time_intervals: [{weekdays: [saturday, Sunday]}]\n"
                 "- name: weekend-ist\n  time_intervals: [{weekdays: [saturday, sunday],"
                 " location: Europe/Istanbul}]\n"
                 "- name: years\n  time_intervals: [{years: ['2020:2022', '2030']}]\n"
                 "- name: midweek\n  time_intervals: [{weekdays: ['tuesday:thursday']}]\n");
    const as_time_interval_t *we = ti_at(&p, 0), *ist = ti_at(&p, 1), *years = ti_at(&p, 2),
                             *mid = ti_at(&p, 3);
    /* 2026-05-01 is a Friday. */
    assert_false(as_time_interval_contains(we, (time_t)utc(2026, 5, 1, 23, 59, 59)));
    assert_true(as_time_interval_contains(we, (time_t)utc(2026, 5, 2, 0, 0, 0)));
    assert_true(as_time_interval_contains(we, (time_t)utc(2026, 5, 3, 23, 59, 59)));
    assert_false(as_time_interval_contains(we, (time_t)utc(2026, 5, 4, 0, 0, 0)));
    /* The weekend starts three hours earlier in UTC for Istanbul (+03). */
    assert_false(as_time_interval_contains(ist, (time_t)utc(2026, 5, 1, 20, 59, 59)));
    assert_true(as_time_interval_contains(ist, (time_t)utc(2026, 5, 1, 21, 0, 0)));
    assert_true(as_time_interval_contains(ist, (time_t)utc(2026, 5, 3, 20, 59, 59)));
    assert_false(as_time_interval_contains(ist, (time_t)utc(2026, 5, 3, 21, 0, 0)));
    for (int d = 1; d <= 7; d++) { /* Friday the 1st to Thursday the 7th */
        int wday = (5 + d - 1) % 7;
        assert_int_equal(as_time_interval_contains(mid, (time_t)utc(2026, 5, d, 12, 0, 0)),
                         wday >= 2 && wday <= 4);
    }
    assert_false(as_time_interval_contains(years, (time_t)utc(2019, 12, 31, 23, 59, 59)));
    assert_true(as_time_interval_contains(years, (time_t)utc(2020, 1, 1, 0, 0, 0)));
    assert_true(as_time_interval_contains(years, (time_t)utc(2022, 12, 31, 23, 59, 59)));
    assert_false(as_time_interval_contains(years, (time_t)utc(2023, 1, 1, 0, 0, 0)));
    assert_true(as_time_interval_contains(years, (time_t)utc(2030, 6, 1, 0, 0, 0)));
    assert_false(as_time_interval_contains(years, (time_t)utc(2031, 6, 1, 0, 0, 0)));
    parsed_free(&p);
}

/* Minutes of [from, from + minutes) that ti contains. */
static int minutes_in(const as_time_interval_t *ti, int64_t from, int minutes)
{
    int n = 0;
    for (int i = 0; i < minutes; i++)
        n += as_time_interval_contains(ti, (time_t)(from + 60 * i));
    return n;
}

static void test_dst_new_york(void **state)
{
    as_tz_t *ny = load_tz("America/New_York");
    /* Spring forward, 2026-03-08: 01:59:59 EST, then 03:00:00 EDT. */
    expect_local(ny, utc(2026, 3, 8, 6, 59, 59), "2026-03-08 01:59:59 EST -18000 dst=0");
    expect_local(ny, utc(2026, 3, 8, 7, 0, 0), "2026-03-08 03:00:00 EDT -14400 dst=1");
    /* Fall back, 2026-11-01: 01:59:59 EDT, then 01:00:00 EST again. */
    expect_local(ny, utc(2026, 11, 1, 5, 59, 59), "2026-11-01 01:59:59 EDT -14400 dst=1");
    expect_local(ny, utc(2026, 11, 1, 6, 0, 0), "2026-11-01 01:00:00 EST -18000 dst=0");
    as_tz_free(ny);

    parsed_t p;
    parse_ok(&p, "- name: two\n  time_intervals: [{times: [{start_time: '02:00', end_time:"
                 " '03:00'}], location: America/New_York}]\n"
                 "- name: one\n  time_intervals: [{times: [{start_time: '01:00', end_time:"
                 " '02:00'}], location: America/New_York}]\n"
                 "- name: three\n  time_intervals: [{times: [{start_time: '03:00', end_time:"
                 " '04:00'}], location: America/New_York}]\n");
    const as_time_interval_t *two = ti_at(&p, 0), *one = ti_at(&p, 1), *three = ti_at(&p, 2);
    int64_t day = utc(2026, 3, 8, 4, 0, 0); /* 2026-03-07 23:00 EST, 6 hours on */
    /* 02:00-03:00 does not exist that night; 01:00-02:00 and 03:00-04:00 do. */
    assert_int_equal(minutes_in(two, day, 6 * 60), 0);
    assert_int_equal(minutes_in(one, day, 6 * 60), 60);
    assert_int_equal(minutes_in(three, day, 6 * 60), 60);
    assert_true(as_time_interval_contains(one, (time_t)utc(2026, 3, 8, 6, 59, 59)));
    assert_true(as_time_interval_contains(three, (time_t)utc(2026, 3, 8, 7, 0, 0)));
    /* The day before and after, 02:00-03:00 is an ordinary hour. */
    assert_int_equal(minutes_in(two, day - 86400, 6 * 60), 60);
    assert_int_equal(minutes_in(two, day + 86400, 6 * 60), 60);

    /* 01:00-02:00 happens twice on 2026-11-01: both are in. */
    day = utc(2026, 11, 1, 3, 0, 0); /* 23:00 EDT the day before */
    assert_int_equal(minutes_in(one, day, 6 * 60), 120);
    assert_true(as_time_interval_contains(one, (time_t)utc(2026, 11, 1, 5, 30, 0)));   /* EDT */
    assert_true(as_time_interval_contains(one, (time_t)utc(2026, 11, 1, 6, 30, 0)));   /* EST */
    assert_false(as_time_interval_contains(one, (time_t)utc(2026, 11, 1, 4, 59, 59))); /* 00:59 */
    assert_false(as_time_interval_contains(one, (time_t)utc(2026, 11, 1, 7, 0, 0)));   /* 02:00 */
    assert_int_equal(minutes_in(two, day, 6 * 60), 60);
    parsed_free(&p);
}

static void test_dst_istanbul(void **state)
{
    as_tz_t *ist = load_tz("Europe/Istanbul");
    /* 2015: DST from 29 March, ended late on 8 November (an election). */
    expect_local(ist, utc(2015, 3, 29, 0, 59, 59), "2015-03-29 02:59:59 EET 7200 dst=0");
    expect_local(ist, utc(2015, 3, 29, 1, 0, 0), "2015-03-29 04:00:00 EEST 10800 dst=1");
    expect_local(ist, utc(2015, 11, 8, 0, 59, 59), "2015-11-08 03:59:59 EEST 10800 dst=1");
    expect_local(ist, utc(2015, 11, 8, 1, 0, 0), "2015-11-08 03:00:00 EET 7200 dst=0");
    expect_local(ist, utc(2015, 12, 1, 12, 0, 0), "2015-12-01 14:00:00 EET 7200 dst=0");
    /* Since 7 September 2016, +03 all year: no change in 2026 or 2080. */
    expect_local(ist, utc(2016, 9, 6, 21, 0, 0), "2016-09-07 00:00:00 +03 10800 dst=0");
    expect_local(ist, utc(2026, 1, 15, 12, 0, 0), "2026-01-15 15:00:00 +03 10800 dst=0");
    expect_local(ist, utc(2026, 7, 15, 12, 0, 0), "2026-07-15 15:00:00 +03 10800 dst=0");
    expect_local(ist, utc(2080, 12, 31, 21, 0, 0), "2081-01-01 00:00:00 +03 10800 dst=0");
    as_tz_free(ist);

    parsed_t p;
    parse_ok(&p, "- name: office\n  time_intervals: [{times: [{start_time: '09:00', end_time:"
                 " '18:00'}], location: Europe/Istanbul}]\n"
                 "- name: three\n  time_intervals: [{times: [{start_time: '03:00', end_time:"
                 " '04:00'}], location: Europe/Istanbul}]\n");
    const as_time_interval_t *office = ti_at(&p, 0), *three = ti_at(&p, 1);
    assert_true(as_time_interval_contains(office, (time_t)utc(2026, 1, 15, 6, 0, 0)));
    assert_false(as_time_interval_contains(office, (time_t)utc(2026, 1, 15, 5, 59, 0)));
    assert_true(as_time_interval_contains(office, (time_t)utc(2015, 12, 1, 7, 0, 0)));
    assert_false(as_time_interval_contains(office, (time_t)utc(2015, 12, 1, 6, 59, 0)));
    assert_true(as_time_interval_contains(office, (time_t)utc(2015, 7, 1, 6, 0, 0)));
    assert_false(as_time_interval_contains(office, (time_t)utc(2015, 7, 1, 15, 0, 0)));
    /* 2015-03-29: 03:00-04:00 skipped; 2015-11-08: it happened twice. */
    assert_int_equal(minutes_in(three, utc(2015, 3, 28, 22, 0, 0), 6 * 60), 0);
    assert_int_equal(minutes_in(three, utc(2015, 11, 7, 22, 0, 0), 6 * 60), 120);
    assert_int_equal(minutes_in(three, utc(2026, 3, 28, 22, 0, 0), 6 * 60), 60);
    parsed_free(&p);
}

static void test_posix_footer(void **state)
{
    /* 2080 is past the file's last transition (2037): the footer
     * "EST5EDT,M3.2.0,M11.1.0" decides.  DST starts on the second Sunday
     * of March at 02:00 EST, ends on the first Sunday of November. */
    as_tz_t *ny = load_tz("America/New_York");
    int second_sunday = 0, first_sunday = 0, sundays = 0;
    for (int d = 1; d <= 14; d++) {
        struct tm tm;
        time_t t = (time_t)utc(2080, 3, d, 12, 0, 0);
        gmtime_r(&t, &tm);
        if (tm.tm_wday == 0 && ++sundays == 2)
            second_sunday = d;
        t = (time_t)utc(2080, 11, d, 12, 0, 0);
        gmtime_r(&t, &tm);
        if (tm.tm_wday == 0 && first_sunday == 0)
            first_sunday = d;
    }
    char want[128];
    int64_t start = utc(2080, 3, second_sunday, 7, 0, 0);
    snprintf(want, sizeof(want), "2080-03-%02d 01:59:59 EST -18000 dst=0", second_sunday);
    expect_local(ny, start - 1, want);
    snprintf(want, sizeof(want), "2080-03-%02d 03:00:00 EDT -14400 dst=1", second_sunday);
    expect_local(ny, start, want);
    int64_t end = utc(2080, 11, first_sunday, 6, 0, 0);
    snprintf(want, sizeof(want), "2080-11-%02d 01:59:59 EDT -14400 dst=1", first_sunday);
    expect_local(ny, end - 1, want);
    snprintf(want, sizeof(want), "2080-11-%02d 01:00:00 EST -18000 dst=0", first_sunday);
    expect_local(ny, end, want);
    expect_local(ny, utc(2080, 7, 1, 16, 0, 0), "2080-07-01 12:00:00 EDT -14400 dst=1");
    expect_local(ny, utc(2080, 1, 15, 17, 0, 0), "2080-01-15 12:00:00 EST -18000 dst=0");
    as_tz_free(ny);

    parsed_t p;
    parse_ok(&p, "- name: noon\n  time_intervals: [{times: [{start_time: '12:00', end_time:"
                 " '12:01'}], location: America/New_York}]\n");
    assert_true(as_time_interval_contains(ti_at(&p, 0), (time_t)utc(2080, 7, 1, 16, 0, 0)));
    assert_false(as_time_interval_contains(ti_at(&p, 0), (time_t)utc(2080, 7, 1, 17, 0, 0)));
    assert_true(as_time_interval_contains(ti_at(&p, 0), (time_t)utc(2080, 1, 15, 17, 0, 0)));
    parsed_free(&p);

    /* Rule forms: Jn (no Feb 29), n (counts it), negative and >24 h times,
     * the southern hemisphere, permanent DST (RFC 8536 3.3.1). */
    as_err_t err;
    as_tz_t *tz = as_tz_posix("j", "AAA-1BBB,J60/1:30,J300/-3", &err);
    assert_non_null(tz);
    /* J60 is 1 March even in a leap year; DST from 01:30 standard. */
    expect_local(tz, utc(2024, 3, 1, 0, 29, 59), "2024-03-01 01:29:59 AAA 3600 dst=0");
    expect_local(tz, utc(2024, 3, 1, 0, 30, 0), "2024-03-01 02:30:00 BBB 7200 dst=1");
    as_tz_free(tz);
    tz = as_tz_posix("n", "AAA-1BBB,59/2,300", &err);
    assert_non_null(tz);
    /* Zero-based day 59 is 29 February in a leap year, 1 March otherwise. */
    expect_local(tz, utc(2024, 2, 29, 1, 0, 0), "2024-02-29 03:00:00 BBB 7200 dst=1");
    expect_local(tz, utc(2023, 3, 1, 1, 0, 0), "2023-03-01 03:00:00 BBB 7200 dst=1");
    expect_local(tz, utc(2023, 2, 28, 23, 0, 0), "2023-03-01 00:00:00 AAA 3600 dst=0");
    as_tz_free(tz);
    tz = as_tz_posix("perm", "EST5EDT,0/0,J365/25", &err);
    assert_non_null(tz);
    expect_local(tz, utc(2026, 12, 31, 23, 0, 0), "2026-12-31 19:00:00 EDT -14400 dst=1");
    expect_local(tz, utc(2027, 1, 1, 4, 30, 0), "2027-01-01 00:30:00 EDT -14400 dst=1");
    expect_local(tz, utc(2026, 6, 1, 12, 0, 0), "2026-06-01 08:00:00 EDT -14400 dst=1");
    as_tz_free(tz);
    tz = as_tz_posix("<+0530>", "<+0530>-5:30", &err);
    assert_non_null(tz);
    expect_local(tz, utc(2026, 6, 1, 12, 0, 0), "2026-06-01 17:30:00 +0530 19800 dst=0");
    as_tz_free(tz);
    static const char *bad[] = {"",
                                "E5",
                                "EST",
                                "EST5EDT,M3.2.0",
                                "EST5EDT,M13.2.0,M11.1.0",
                                "EST5EDT,M3.6.0,M11.1.0",
                                "EST5EDT,J0,J365",
                                "EST5EDT,M3.2.0/168,M11.1.0",
                                "EST5 EDT",
                                "<EST5",
                                "EST25"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tz = as_tz_posix("bad", bad[i], &err);
        if (tz != NULL)
            fail_msg("'%s' should not parse", bad[i]);
        assert_non_null(strstr(err.msg, "bad TZ rule"));
    }
}

/* --- synthetic TZif files ---------------------------------------------------------------- */

typedef struct {
    int32_t off;
    int dst;
    const char *abbr;
} tt_t;

typedef struct {
    unsigned char *p;
    size_t len, cap;
} bytes_t;

static void put(bytes_t *b, const void *d, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void put32(bytes_t *b, uint32_t v)
{
    unsigned char c[4] = {v >> 24, v >> 16, v >> 8, v};
    put(b, c, 4);
}

static void put64(bytes_t *b, uint64_t v)
{
    put32(b, (uint32_t)(v >> 32));
    put32(b, (uint32_t)v);
}

/* One header and data block; tsize 4 or 8. */
static void tzif_block(bytes_t *b, char version, int tsize, const int64_t *trans,
                       const uint8_t *idx, size_t ntrans, const tt_t *types, size_t ntypes)
{
    char chars[256];
    size_t nchars = 0, desig[16];
    for (size_t i = 0; i < ntypes; i++) {
        desig[i] = nchars;
        nchars += (size_t)sprintf(chars + nchars, "%s", types[i].abbr) + 1;
    }
    put(b, "TZif", 4);
    put(b, &version, 1);
    put(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15);
    put32(b, 0);                /* isutcnt */
    put32(b, 0);                /* isstdcnt */
    put32(b, 0);                /* leapcnt */
    put32(b, (uint32_t)ntrans); /* timecnt */
    put32(b, (uint32_t)ntypes);
    put32(b, (uint32_t)nchars);
    for (size_t i = 0; i < ntrans; i++)
        if (tsize == 8)
            put64(b, (uint64_t)trans[i]);
        else
            put32(b, (uint32_t)(int32_t)trans[i]);
    put(b, idx, ntrans);
    for (size_t i = 0; i < ntypes; i++) {
        unsigned char rec[2] = {(unsigned char)types[i].dst, (unsigned char)desig[i]};
        put32(b, (uint32_t)types[i].off);
        put(b, rec, 2);
    }
    put(b, chars, nchars);
}

/* A version 2+ file as zic -b slim writes it: a stub version 1 block (UTC
 * only, so a reader that used it would be visibly wrong), then the data. */
static void tzif_v2(bytes_t *b, char version, const int64_t *trans, const uint8_t *idx,
                    size_t ntrans, const tt_t *types, size_t ntypes, const char *footer)
{
    static const tt_t stub = {0, 0, "UTC"};
    tzif_block(b, version, 4, NULL, NULL, 0, &stub, 1);
    tzif_block(b, version, 8, trans, idx, ntrans, types, ntypes);
    put(b, "\n", 1);
    put(b, footer, strlen(footer));
    put(b, "\n", 1);
}

static void test_tzif_synthetic(void **state)
{
    as_err_t err;
    bytes_t b = {NULL, 0, 0};

    /* Version 1: 32-bit data only, no footer; before the first transition
     * type 0, after the last one the last type. */
    static const tt_t v1types[] = {{3600, 0, "AAA"}, {7200, 1, "BBB"}, {-1800, 0, "CCC"}};
    static const int64_t v1trans[] = {1000000000, 1500000000};
    static const uint8_t v1idx[] = {1, 2};
    tzif_block(&b, 0, 4, v1trans, v1idx, 2, v1types, 3);
    as_tz_t *tz = as_tz_parse("v1", b.p, b.len, &err);
    if (tz == NULL)
        fail_msg("%s", err.msg);
    expect_local(tz, 999999999, "2001-09-09 02:46:39 AAA 3600 dst=0");
    expect_local(tz, 1000000000, "2001-09-09 03:46:40 BBB 7200 dst=1");
    expect_local(tz, 1499999999, "2017-07-14 04:39:59 BBB 7200 dst=1");
    expect_local(tz, 1500000000, "2017-07-14 02:10:00 CCC -1800 dst=0");
    expect_local(tz, utc(2090, 1, 1, 0, 0, 0), "2089-12-31 23:30:00 CCC -1800 dst=0");
    assert_string_equal(as_tz_name(tz), "v1");
    as_tz_free(tz);

    /* Slim version 2: no transitions at all, the footer does everything;
     * it must agree with the system's America/New_York since 2007. */
    static const tt_t est[] = {{-18000, 0, "EST"}, {-14400, 1, "EDT"}};
    b.len = 0;
    tzif_v2(&b, '2', NULL, NULL, 0, est, 2, "EST5EDT,M3.2.0,M11.1.0");
    tz = as_tz_parse("slim", b.p, b.len, &err);
    if (tz == NULL)
        fail_msg("%s", err.msg);
    as_tz_t *ny = load_tz("America/New_York");
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 20000; i++) {
        int64_t t = utc(2007, 1, 1, 0, 0, 0) + (int64_t)(rng_next(&x) % (UINT64_C(100) * 31556952));
        struct tm a, c;
        char sa[128], sc[128];
        as_tz_localtime(tz, t, &a);
        as_tz_localtime(ny, t, &c);
        fmt_tm(&a, sa, sizeof(sa));
        fmt_tm(&c, sc, sizeof(sc));
        if (strcmp(sa, sc) != 0)
            fail_msg("t=%lld: slim %s, system %s", (long long)t, sa, sc);
    }
    as_tz_free(ny);
    as_tz_free(tz);

    /* Version 3: 64-bit transitions before 1901, a footer with negative
     * transition times (as America/Nuuk's).  Through TZDIR, as a name. */
    static const tt_t nuuk[] = {{-12416, 0, "LMT"}, {-7200, 0, "-02"}, {-3600, 1, "-01"}};
    static const int64_t ntrans[] = {-3000000000LL, 1700000000};
    static const uint8_t nidx[] = {1, 1};
    b.len = 0;
    tzif_v2(&b, '3', ntrans, nidx, 2, nuuk, 3, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/as-tzdir-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char sub[256], path[300];
    snprintf(sub, sizeof(sub), "%s/Test", tmpdir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof(path), "%s/Nuuk", sub);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(b.p, 1, b.len, f);
    fclose(f);
    setenv("TZDIR", tmpdir, 1);
    tz = load_tz("Test/Nuuk");
    tz_env_save();
    glibc_set_tz("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    expect_local(tz, -3000000001LL, "1874-12-07 15:13:03 LMT -12416 dst=0");
    expect_local(tz, -3000000000LL, "1874-12-07 16:40:00 -02 -7200 dst=0");
    char why[512];
    for (int i = 0; i < 20000; i++) {
        int64_t t = 1700000000 + (int64_t)(rng_next(&x) % (UINT64_C(80) * 31556952));
        if (!same_as_glibc(tz, t, why, sizeof(why)))
            fail_msg("%s", why);
    }
    tz_env_restore();
    as_tz_free(tz);

    /* Errors: what is broken is said, and the zone is refused. */
    struct {
        size_t cut;       /* keep this many bytes (0: all) */
        size_t poke;      /* change the byte at this offset (0: none) */
        unsigned char to; /* to this */
        const char *msg;
    } broken[] = {
        {0, 1, 'X', "not a TZif file"},
        {30, 0, 0, "not a TZif file"},
        {0, 4, '!', "unknown TZif version"},
        {50, 0, 0, "truncated"},
        {103, 0, 0, "truncated"},
        {b.len - 3, 0, 0, "bad footer"},
    };
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        unsigned char *copy = malloc(b.len);
        memcpy(copy, b.p, b.len);
        if (broken[i].poke)
            copy[broken[i].poke] = broken[i].to;
        tz = as_tz_parse("Broken", copy, broken[i].cut ? broken[i].cut : b.len, &err);
        free(copy);
        assert_null(tz);
        char want[256];
        snprintf(want, sizeof(want), "time zone Broken: malformed zoneinfo data (%s)",
                 broken[i].msg);
        assert_string_equal(err.msg, want);
    }
    /* Transitions out of order, and one to a type that does not exist. */
    static const int64_t unsorted[] = {1700000000, 1600000000};
    b.len = 0;
    tzif_v2(&b, '2', unsorted, nidx, 2, nuuk, 3, "");
    assert_null(as_tz_parse("Broken", b.p, b.len, &err));
    assert_string_equal(err.msg, "time zone Broken: malformed zoneinfo data (transition times "
                                 "are not in ascending order)");
    static const uint8_t badidx[] = {1, 3};
    b.len = 0;
    tzif_v2(&b, '2', ntrans, badidx, 2, nuuk, 3, "");
    assert_null(as_tz_parse("Broken", b.p, b.len, &err));
    assert_string_equal(err.msg, "time zone Broken: malformed zoneinfo data (transition to an "
                                 "unknown local time type)");
    b.len = 0;
    tzif_v2(&b, '2', ntrans, nidx, 2, nuuk, 3, "<-02>2<-01>,M3.5.0/-1");
    assert_null(as_tz_parse("Broken", b.p, b.len, &err));
    assert_string_equal(err.msg, "time zone Broken: malformed zoneinfo data (bad TZ rule "
                                 "'<-02>2<-01>,M3.5.0/-1')");
    /* An empty footer: the last type stays. */
    b.len = 0;
    tzif_v2(&b, '2', ntrans, nidx, 2, nuuk, 3, "");
    tz = as_tz_parse("NoRule", b.p, b.len, &err);
    assert_non_null(tz);
    expect_local(tz, utc(2090, 7, 1, 12, 0, 0), "2090-07-01 10:00:00 -02 -7200 dst=0");
    as_tz_free(tz);

    /* A file that is not TZif, loaded by name, is a clear error. */
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("# not a zone\n", f);
    fclose(f);
    assert_null(as_tz_load("Test/Nuuk", &err));
    assert_string_equal(err.msg, "time zone Test/Nuuk: malformed zoneinfo data (not a TZif file)");
    assert_null(as_tz_load("Test", &err)); /* a directory */
    assert_string_equal(err.msg, "unknown time zone Test");
    unsetenv("TZDIR");
    unlink(path);
    rmdir(sub);
    rmdir(tmpdir);
    free(b.p);
}

/* --- against glibc ---------------------------------------------------------------------- */

/* Returns how many transitions it checked. */
static int crosscheck(const as_tz_t *tz, int64_t from, int64_t to, int samples, uint64_t seed)
{
    int transitions = 0;
    char why[512];
    uint64_t x = seed;
    for (int i = 0; i < samples; i++) {
        int64_t t = from + (int64_t)(rng_next(&x) % (uint64_t)(to - from));
        if (!same_as_glibc(tz, t, why, sizeof(why)))
            fail_msg("%s: %s", as_tz_name(tz), why);
    }
    /* Every transition glibc sees in 2005-2045 (the file's last ones and
     * the first from its footer) and 2075-2085, to the second: found by
     * daily steps, then bisected. */
    static const int spans[][2] = {{2005, 2045}, {2075, 2085}};
    for (size_t s = 0; s < sizeof(spans) / sizeof(spans[0]); s++)
        for (int64_t t = utc(spans[s][0], 1, 1, 0, 0, 0); t < utc(spans[s][1], 1, 1, 0, 0, 0);
             t += 86400) {
            struct tm a, b;
            time_t t0 = (time_t)t, t1 = (time_t)(t + 86400);
            localtime_r(&t0, &a);
            localtime_r(&t1, &b);
            if (a.tm_gmtoff == b.tm_gmtoff && a.tm_isdst == b.tm_isdst)
                continue;
            int64_t lo = t, hi = t + 86400; /* a's type at lo, b's at hi */
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                time_t tm_ = (time_t)mid;
                struct tm c;
                localtime_r(&tm_, &c);
                if (c.tm_gmtoff == a.tm_gmtoff && c.tm_isdst == a.tm_isdst)
                    lo = mid;
                else
                    hi = mid;
            }
            static const int around[] = {-3600, -1800, -1, 0, 1, 1800, 3600};
            for (size_t k = 0; k < sizeof(around) / sizeof(around[0]); k++)
                if (!same_as_glibc(tz, hi + around[k], why, sizeof(why)))
                    fail_msg("%s near a transition: %s", as_tz_name(tz), why);
            transitions++;
        }
    return transitions;
}

static void test_against_glibc(void **state)
{
    /* Zones with DST in either hemisphere, half-hour and 45-minute
     * offsets, half-hour DST, negative DST (Dublin), two-hour DST (Troll),
     * the date line moved (Apia), and abolished DST (Istanbul). */
    static const char *zones[] = {
        "America/New_York",
        "Europe/Istanbul",
        "Australia/Sydney",
        "Europe/London",
        "Europe/Dublin",
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "Pacific/Chatham",
        "Asia/Tehran",
        "America/St_Johns",
        "Pacific/Apia",
        "Africa/Casablanca",
        "Antarctica/Troll",
        "Australia/Lord_Howe",
        "America/Nuuk",
        "Asia/Kathmandu",
        "UTC",
        "Etc/GMT+5",
        "America/Santiago",
        "Asia/Gaza",
    };
    int total = 0;
    tz_env_save();
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        as_tz_t *tz = load_tz(zones[i]);
        glibc_set_tz(zones[i]);
        int n = crosscheck(tz, utc(1850, 1, 1, 0, 0, 0), utc(2200, 1, 1, 0, 0, 0), 2000, 1 + i);
        /* Two a year in New York (50 years); Istanbul's end in 2016. */
        if (strcmp(zones[i], "America/New_York") == 0)
            assert_int_equal(n, 100);
        if (strcmp(zones[i], "Europe/Istanbul") == 0)
            assert_int_equal(n, 24);
        total += n;
        as_tz_free(tz);
    }
    assert_true(total > 1000);

    /* "Local" is read once, at load, the way glibc reads it. */
    static const char *locals[] = {"Europe/Istanbul", ":America/New_York",
                                   "AEST-10AEDT,M10.1.0,M4.1.0/3", "", NULL};
    for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
        glibc_set_tz(locals[i]);
        as_tz_t *tz = load_tz("Local");
        assert_string_equal(as_tz_name(tz), "Local");
        crosscheck(tz, utc(1970, 1, 1, 0, 0, 0), utc(2150, 1, 1, 0, 0, 0), 2000, 100 + i);
        as_tz_free(tz);
    }
    /* UTC by name, and "" as Go reads it. */
    glibc_set_tz("UTC0");
    as_tz_t *tz = load_tz("");
    assert_string_equal(as_tz_name(tz), "UTC");
    crosscheck(tz, utc(1900, 1, 1, 0, 0, 0), utc(2200, 1, 1, 0, 0, 0), 500, 7);
    as_tz_free(tz);
    tz_env_restore();

    /* Instants whose year does not fit an int are refused, not wrapped. */
    struct tm tm;
    assert_int_equal(as_tz_localtime(NULL, INT64_MAX, &tm), -1);
    assert_int_equal(as_tz_localtime(NULL, INT64_MIN, &tm), -1);
    expect_local(NULL, -62167219200LL, "0000-01-01 00:00:00 UTC 0 dst=0");
    expect_local(NULL, -62167219201LL, "-001-12-31 23:59:59 UTC 0 dst=0");
}

/* --- threads ---------------------------------------------------------------------------- */

#define NTHREADS  8
#define NINSTANTS 4000

typedef struct {
    const as_array_t *tis;
    const as_tz_t *tz;
    const time_t *instants;
    const unsigned char *expected; /* [instant][interval] */
    const long *offsets;           /* tz's UTC offset at each instant */
    int failures;
} job_t;

static void *worker(void *arg)
{
    job_t *job = arg;
    const as_time_interval_t *tv = job->tis->elts;
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < NINSTANTS; i++) {
            struct tm tm;
            for (size_t j = 0; j < job->tis->n; j++)
                if (as_time_interval_contains(&tv[j], job->instants[i]) !=
                    job->expected[i * job->tis->n + j])
                    job->failures++;
            if (as_tz_localtime(job->tz, job->instants[i], &tm) < 0 ||
                tm.tm_gmtoff != job->offsets[i])
                job->failures++;
        }
    return NULL;
}

static void test_threads(void **state)
{
    parsed_t p;
    parse_ok(&p, "- name: ny-office\n  time_intervals: [{weekdays: ['monday:friday'], times:"
                 " [{start_time: '09:00', end_time: '17:00'}], location: America/New_York}]\n"
                 "- name: ist-night\n  time_intervals: [{times: [{start_time: '00:00',"
                 " end_time: '06:00'}], location: Europe/Istanbul}]\n"
                 "- name: syd-month-end\n  time_intervals: [{days_of_month: ['-2:-1'],"
                 " location: Australia/Sydney}, {months: [january], years: ['2030:2040']}]\n");
    as_tz_t *tz = load_tz("Australia/Sydney");
    static time_t instants[NINSTANTS];
    static unsigned char expected[NINSTANTS * 3];
    static long offsets[NINSTANTS];
    uint64_t x = 42;
    size_t ones = 0;
    for (size_t i = 0; i < NINSTANTS; i++) {
        instants[i] = (time_t)(utc(2000, 1, 1, 0, 0, 0) +
                               (int64_t)(rng_next(&x) % (UINT64_C(100) * 31556952)));
        for (size_t j = 0; j < p.tis.n; j++) {
            expected[i * p.tis.n + j] =
                (unsigned char)as_time_interval_contains(ti_at(&p, j), instants[i]);
            ones += expected[i * p.tis.n + j];
        }
        struct tm tm;
        assert_int_equal(as_tz_localtime(tz, instants[i], &tm), 0);
        offsets[i] = tm.tm_gmtoff;
    }
    /* Both answers occur, so a thread that got them wrong would show. */
    assert_true(ones > NINSTANTS / 10 && ones < NINSTANTS * 3 - NINSTANTS / 10);

    pthread_t th[NTHREADS];
    job_t jobs[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        jobs[i] = (job_t){&p.tis, tz, instants, expected, offsets, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
    as_tz_free(tz);
    parsed_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_errors_named),
        cmocka_unit_test(test_print_roundtrip),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_month_ends),
        cmocka_unit_test(test_weekend_and_years),
        cmocka_unit_test(test_dst_new_york),
        cmocka_unit_test(test_dst_istanbul),
        cmocka_unit_test(test_posix_footer),
        cmocka_unit_test(test_tzif_synthetic),
        cmocka_unit_test(test_against_glibc),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
