/*
 * timeinterval.c - Alertmanager's time_intervals: parsing, printing and
 * evaluation (see timeinterval.h), and the route mute check.
 *
 * Parsing follows Alertmanager's timeinterval package: a range is "a" or
 * "a:b", lower-cased first so names are case-insensitive; weekdays are
 * names only, months names or numbers, days of the month and years
 * numbers; times are "HH:MM" with "24:00" allowed (as an end: a start of
 * 24:00 can never be before its end).  The checks and their messages are
 * Alertmanager's, prefixed with the key, at the node that is wrong.  Two
 * deliberate differences: a month number outside 1-12 is refused (it
 * would never match), and days_of_month counts a month's days on the
 * calendar (Alertmanager 0.25 divided the month's length in hours by 24,
 * so in a month that loses an hour to DST, March in New York, -1 was the
 * 30th; later versions count calendar days too).
 *
 * Evaluation converts the instant to the entry's location (UTC when none
 * is given, as in Alertmanager) with as_tz_localtime(), which reads only
 * the immutable zone loaded with the configuration: no TZ, no tzset(), no
 * lock.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "lib/conf.h"
#include "route/timeinterval.h"

static const char *const as_ti_weekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                             "thursday", "friday", "saturday"};
static const char *const as_ti_months[] = {"january",   "february", "march",    "april",
                                           "may",       "june",     "july",     "august",
                                           "september", "october",  "november", "december"};

/* --- ranges ------------------------------------------------------------------ */

/* Go's strconv.Atoi: an optional sign, then decimal digits, fitting an int. */
static int as_ti_atoi(const char *s, int *v)
{
    const char *p = s;
    long long x = 0;
    int neg = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (*p == '\0')
        return -1;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        x = x * 10 + (*p - '0');
        if (x > (long long)INT32_MAX + 1)
            return -1;
    }
    x = neg ? -x : x;
    if (x > INT32_MAX || x < INT32_MIN)
        return -1;
    *v = (int)x;
    return 0;
}

static int as_ti_name(const char *s, const char *const *names, int count, int base)
{
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0)
            return i + base;
    return -1;
}

typedef int (*as_ti_member_pt)(const char *s, int *v, char *msg, size_t len);

static int as_ti_weekday(const char *s, int *v, char *msg, size_t len)
{
    if ((*v = as_ti_name(s, as_ti_weekdays, 7, 0)) >= 0)
        return 0;
    snprintf(msg, len, "%s is not a valid weekday", s);
    return -1;
}

static int as_ti_mday(const char *s, int *v, char *msg, size_t len)
{
    if (as_ti_atoi(s, v) == 0)
        return 0;
    snprintf(msg, len, "%s is not a valid day of the month", s);
    return -1;
}

static int as_ti_month(const char *s, int *v, char *msg, size_t len)
{
    if ((*v = as_ti_name(s, as_ti_months, 12, 1)) > 0 || as_ti_atoi(s, v) == 0)
        return 0;
    snprintf(msg, len, "%s is not a valid month", s);
    return -1;
}

static int as_ti_year(const char *s, int *v, char *msg, size_t len)
{
    if (as_ti_atoi(s, v) == 0)
        return 0;
    snprintf(msg, len, "%s is not a valid year", s);
    return -1;
}

/* "a" or "a:b" (Alertmanager's stringableRangeFromString); s is lower-case. */
static int as_ti_split(char *s, as_ti_member_pt member, as_ti_range_t *r, char *msg, size_t len)
{
    char *colon = strchr(s, ':');
    if (colon == NULL) {
        if (member(s, &r->begin, msg, len) < 0)
            return -1;
        r->end = r->begin;
        return 0;
    }
    if (strchr(colon + 1, ':') != NULL) {
        snprintf(msg, len, "couldn't parse range %s, invalid format", s);
        return -1;
    }
    *colon = '\0';
    int rc = member(s, &r->begin, msg, len) < 0 || member(colon + 1, &r->end, msg, len) < 0;
    *colon = ':';
    return rc ? -1 : 0;
}

static int as_ti_check_weekdays(const as_ti_range_t *r, char *msg, size_t len)
{
    if (r->begin > r->end) {
        snprintf(msg, len, "start day cannot be before end day");
        return -1;
    }
    return 0;
}

static int as_ti_check_mdays(const as_ti_range_t *r, char *msg, size_t len)
{
    int b = r->begin, e = r->end;
    if (b == 0 || b < -31 || b > 31) {
        snprintf(msg, len, "%d is not a valid day of the month: out of range", b);
        return -1;
    }
    if (e == 0 || e < -31 || e > 31) {
        snprintf(msg, len, "%d is not a valid day of the month: out of range", e);
        return -1;
    }
    if (b < 0 && e > 0) {
        snprintf(msg, len, "end day must be negative if start day is negative");
        return -1;
    }
    /* Always wrong, whatever the month's length (28 days at the least). */
    if ((b < 0 ? 28 + b : b) > (e < 0 ? 28 + e : e)) {
        snprintf(msg, len, "end day %d is always before start day %d", e, b);
        return -1;
    }
    return 0;
}

static int as_ti_check_months(const as_ti_range_t *r, char *msg, size_t len)
{
    if (r->begin < 1 || r->begin > 12 || r->end < 1 || r->end > 12) {
        snprintf(msg, len, "%d is not a valid month: out of range",
                 r->begin < 1 || r->begin > 12 ? r->begin : r->end);
        return -1;
    }
    if (r->begin > r->end) {
        snprintf(msg, len, "end month %s is before start month %s", as_ti_months[r->end - 1],
                 as_ti_months[r->begin - 1]);
        return -1;
    }
    return 0;
}

static int as_ti_check_years(const as_ti_range_t *r, char *msg, size_t len)
{
    if (r->begin > r->end) {
        snprintf(msg, len, "end year %d is before start year %d", r->end, r->begin);
        return -1;
    }
    return 0;
}

/* What differs between weekdays, days_of_month, months and years. */
typedef struct {
    as_ti_member_pt member;
    int (*check)(const as_ti_range_t *r, char *msg, size_t len);
    const char *const *names; /* printed by name; NULL: by number */
    int base;                 /* the number of names[0] */
} as_ti_kind_t;

static const as_ti_kind_t as_ti_kind_weekdays = {as_ti_weekday, as_ti_check_weekdays,
                                                 as_ti_weekdays, 0};
static const as_ti_kind_t as_ti_kind_mdays = {as_ti_mday, as_ti_check_mdays, NULL, 0};
static const as_ti_kind_t as_ti_kind_months = {as_ti_month, as_ti_check_months, as_ti_months, 1};
static const as_ti_kind_t as_ti_kind_years = {as_ti_year, as_ti_check_years, NULL, 0};

static int as_ti_list_start(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n,
                            as_ti_field_t *f, size_t size)
{
    if (n->kind != AS_NODE_SEQ) {
        as_conf_error(cf, n, "%s: expected a list", k->name);
        return -1;
    }
    f->set = 1;
    f->n = 0;
    f->v = as_palloc(as_conf_pool(cf), (n->n ? n->n : 1) * size);
    return 0;
}

static int as_set_ti_ranges(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const as_ti_kind_t *kind = k->data;
    as_ti_field_t *f = field;
    int rc = 0;
    if (as_ti_list_start(cf, k, n, f, sizeof(as_ti_range_t)) < 0)
        return -1;
    for (size_t i = 0; i < n->n; i++) {
        const as_node_t *it = n->items[i];
        const char *text = as_conf_scalar(cf, it, "a string");
        char msg[512];
        as_ti_range_t r;
        if (text == NULL) {
            rc = -1;
            continue;
        }
        char *lower = as_xstrdup(text);
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        int bad = as_ti_split(lower, kind->member, &r, msg, sizeof(msg)) < 0 ||
                  kind->check(&r, msg, sizeof(msg)) < 0;
        free(lower);
        if (bad) {
            as_conf_error(cf, it, "%s: %s", k->name, msg);
            rc = -1;
            continue;
        }
        f->v[f->n++] = r;
    }
    return rc;
}

static void as_print_ti_range(FILE *out, const as_ti_kind_t *kind, const as_ti_range_t *r)
{
    if (kind->names != NULL) {
        fprintf(out, "\"%s", kind->names[r->begin - kind->base]);
        if (r->end != r->begin)
            fprintf(out, ":%s", kind->names[r->end - kind->base]);
    } else {
        fprintf(out, "\"%d", r->begin);
        if (r->end != r->begin)
            fprintf(out, ":%d", r->end);
    }
    fputc('"', out);
}

static void as_print_ti_ranges(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_ti_field_t *f = field;
    fputs(" [", out);
    for (size_t i = 0; i < f->n; i++) {
        if (i > 0)
            fputs(", ", out);
        as_print_ti_range(out, k->data, &f->v[i]);
    }
    fputs("]\n", out);
}

static const as_conf_type_t as_conf_ti_ranges = {"list of ranges", as_set_ti_ranges,
                                                 as_print_ti_ranges};

/* --- times ------------------------------------------------------------------------- */

typedef struct {
    char *start, *end;
} as_ti_times_conf_t;

static const as_conf_key_t as_ti_times_keys[] = {
    {"start_time", &as_conf_string, offsetof(as_ti_times_conf_t, start), 0, NULL, NULL},
    {"end_time", &as_conf_string, offsetof(as_ti_times_conf_t, end), 0, NULL, NULL},
    AS_CONF_END};

/* "HH:MM", 00:00 to 23:59, or 24:00 (Alertmanager's validTime pattern). */
static int as_ti_minutes(const char *s)
{
    if (strcmp(s, "24:00") == 0)
        return 1440;
    if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        s[2] != ':' || s[3] < '0' || s[3] > '5' || !isdigit((unsigned char)s[4]))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    if (h > 23)
        return -1;
    return h * 60 + (s[3] - '0') * 10 + (s[4] - '0');
}

static int as_set_ti_times(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    as_ti_field_t *f = field;
    int rc = 0;
    if (as_ti_list_start(cf, k, n, f, sizeof(as_ti_range_t)) < 0)
        return -1;
    for (size_t i = 0; i < n->n; i++) {
        const as_node_t *it = n->items[i];
        as_ti_times_conf_t tc = {NULL, NULL};
        if (it->kind != AS_NODE_MAP) {
            as_conf_error(cf, it, "%s: expected a map of start_time and end_time", k->name);
            rc = -1;
            continue;
        }
        if (as_conf_section_parse(cf, as_ti_times_keys, it, &tc) < 0) {
            rc = -1;
            continue;
        }
        if (tc.start == NULL || tc.end == NULL || *tc.start == '\0' || *tc.end == '\0') {
            as_conf_error(cf, it, "%s: both start and end times must be provided", k->name);
            rc = -1;
            continue;
        }
        int start = as_ti_minutes(tc.start), end = as_ti_minutes(tc.end);
        if (start < 0 || end < 0) {
            as_conf_error(cf, as_yaml_get(it, start < 0 ? "start_time" : "end_time"),
                          "%s: couldn't parse timestamp %s, invalid format", k->name,
                          start < 0 ? tc.start : tc.end);
            rc = -1;
            continue;
        }
        if (start >= end) {
            as_conf_error(cf, it, "%s: start time cannot be equal or greater than end time",
                          k->name);
            rc = -1;
            continue;
        }
        f->v[f->n++] = (as_ti_range_t){start, end};
    }
    return rc;
}

static void as_print_ti_times(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_ti_field_t *f = field;
    if (!as_conf_print_list(out, f->n))
        return;
    for (size_t i = 0; i < f->n; i++) {
        const as_ti_range_t *r = &f->v[i];
        fprintf(out, "%*s- start_time: \"%02d:%02d\"\n", indent + 2, "", r->begin / 60,
                r->begin % 60);
        fprintf(out, "%*send_time: \"%02d:%02d\"\n", indent + 4, "", r->end / 60, r->end % 60);
    }
}

static const as_conf_type_t as_conf_ti_times = {"list of times", as_set_ti_times,
                                                as_print_ti_times};

/* --- location ------------------------------------------------------------------------ */

static void as_ti_tz_free(void *tz)
{
    as_tz_free(tz);
}

static int as_set_ti_location(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n,
                              void *field)
{
    const char *name = as_conf_scalar(cf, n, "a time zone name");
    as_err_t err;
    if (name == NULL)
        return -1;
    as_tz_t *tz = as_tz_load(name, &err);
    if (tz == NULL) {
        as_conf_error(cf, n, "%s: %s", k->name, err.msg);
        return -1;
    }
    as_pool_cleanup(as_conf_pool(cf), as_ti_tz_free, tz);
    *(const as_tz_t **)field = tz;
    return 0;
}

static void as_print_ti_location(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    fputc(' ', out);
    as_conf_print_string(out, as_tz_name(*(const as_tz_t *const *)field));
    fputc('\n', out);
}

static const as_conf_type_t as_conf_ti_location = {"time zone", as_set_ti_location,
                                                   as_print_ti_location};

/* --- entries and named intervals ---------------------------------------------------------- */

static const as_conf_key_t as_ti_entry_keys[] = {
    {"times", &as_conf_ti_times, offsetof(as_ti_entry_t, times), 0, NULL, NULL},
    {"weekdays", &as_conf_ti_ranges, offsetof(as_ti_entry_t, weekdays), 0, NULL,
     &as_ti_kind_weekdays},
    {"days_of_month", &as_conf_ti_ranges, offsetof(as_ti_entry_t, days_of_month), 0, NULL,
     &as_ti_kind_mdays},
    {"months", &as_conf_ti_ranges, offsetof(as_ti_entry_t, months), 0, NULL, &as_ti_kind_months},
    {"years", &as_conf_ti_ranges, offsetof(as_ti_entry_t, years), 0, NULL, &as_ti_kind_years},
    {"location", &as_conf_ti_location, offsetof(as_ti_entry_t, location), 0, NULL, NULL},
    AS_CONF_END};

static int as_set_ti_entries(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    as_array_t *a = field;
    int rc = 0;
    if (n->kind != AS_NODE_SEQ) {
        as_conf_error(cf, n, "%s: expected a list", k->name);
        return -1;
    }
    a->n = 0;
    a->elts = as_palloc(as_conf_pool(cf), (n->n ? n->n : 1) * sizeof(as_ti_entry_t));
    for (size_t i = 0; i < n->n; i++) {
        const as_node_t *it = n->items[i];
        as_ti_entry_t *e = (as_ti_entry_t *)a->elts + a->n;
        /* A null entry is an empty one, as yaml.v2 decodes it: it matches always. */
        if (it->kind != AS_NODE_MAP && !as_yaml_is_null(it)) {
            as_conf_error(cf, it, "%s: expected a map for each entry", k->name);
            rc = -1;
            continue;
        }
        e->node = it;
        if (as_conf_section_parse(cf, as_ti_entry_keys, it, e) < 0)
            rc = -1;
        a->n++;
    }
    return rc;
}

/* The first key of an entry goes on the "- " line, as people write YAML. */
static void as_print_ti_key(FILE *out, int col, int *first, const char *key)
{
    fprintf(out, "%*s%s%s:", col - 2, "", *first ? "- " : "  ", key);
    *first = 0;
}

static void as_print_ti_entry(FILE *out, const as_ti_entry_t *e, int col)
{
    int first = 1;
    for (const as_conf_key_t *k = as_ti_entry_keys; k->name; k++) {
        const void *field = (const char *)e + k->offset;
        /* Unset fields are left out: written as [] they would match nothing. */
        if (k->type == &as_conf_ti_location ? *(const as_tz_t *const *)field == NULL
                                            : !((const as_ti_field_t *)field)->set)
            continue;
        as_print_ti_key(out, col, &first, k->name);
        k->type->print(out, k, field, col);
    }
    if (first)
        fprintf(out, "%*s- {}\n", col - 2, "");
}

static void as_print_ti_entries(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_array_t *a = field;
    if (!as_conf_print_list(out, a->n))
        return;
    for (size_t i = 0; i < a->n; i++)
        as_print_ti_entry(out, (const as_ti_entry_t *)a->elts + i, indent + 4);
}

static const as_conf_type_t as_conf_ti_entries = {"list of time intervals", as_set_ti_entries,
                                                  as_print_ti_entries};

static const as_conf_key_t as_ti_keys[] = {
    {"name", &as_conf_string, offsetof(as_time_interval_t, name), AS_CONF_REQUIRED, NULL, NULL},
    {"time_intervals", &as_conf_ti_entries, offsetof(as_time_interval_t, ranges), 0, NULL, NULL},
    AS_CONF_END};

static int as_set_tis(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    as_array_t *a = field;
    as_pool_t *pool = as_conf_pool(cf);
    int rc = 0;
    if (n->kind != AS_NODE_SEQ) {
        as_conf_error(cf, n, "%s: expected a list", k->name);
        return -1;
    }
    a->n = 0;
    a->elts = as_palloc(pool, (n->n ? n->n : 1) * sizeof(as_time_interval_t));
    for (size_t i = 0; i < n->n; i++) {
        const as_node_t *it = n->items[i];
        as_time_interval_t *ti = (as_time_interval_t *)a->elts + a->n;
        if (it->kind != AS_NODE_MAP) {
            as_conf_error(cf, it, "%s: expected a map for each time interval", k->name);
            rc = -1;
            continue;
        }
        ti->node = it;
        if (as_conf_section_parse(cf, as_ti_keys, it, ti) < 0)
            rc = -1;
        if (ti->name != NULL && *ti->name == '\0') {
            as_conf_error(cf, as_yaml_get(it, "name"), "%s: missing name in time interval",
                          k->name);
            rc = -1;
        }
        if (ti->name != NULL) {
            ti->why_mute = as_psprintf(pool, "in mute time interval '%s'", ti->name);
            ti->why_inactive = as_psprintf(pool, "outside active time interval '%s'", ti->name);
        }
        a->n++;
    }
    return rc;
}

static void as_print_tis(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_array_t *a = field;
    if (!as_conf_print_list(out, a->n))
        return;
    for (size_t i = 0; i < a->n; i++) {
        const as_time_interval_t *ti = (const as_time_interval_t *)a->elts + i;
        fprintf(out, "%*s- name: ", indent + 2, "");
        as_conf_print_string(out, ti->name ? ti->name : "");
        fprintf(out, "\n%*stime_intervals:", indent + 4, "");
        as_conf_ti_entries.print(out, &as_ti_keys[1], &ti->ranges, indent + 4);
    }
}

const as_conf_type_t as_conf_time_intervals = {"list of time intervals", as_set_tis, as_print_tis};

/* --- evaluation ------------------------------------------------------------------------------ */

static int as_ti_field_has(const as_ti_field_t *f, int v)
{
    if (!f->set)
        return 1;
    for (size_t i = 0; i < f->n; i++)
        if (v >= f->v[i].begin && v <= f->v[i].end)
            return 1;
    return 0;
}

static int as_ti_clamp(int n, int lo, int hi)
{
    return n <= lo ? lo : n >= hi ? hi : n;
}

/* Alertmanager's days_of_month test: negative days count back from the
 * month's last day (-1), a start past the month's end never matches, and
 * the rest is clamped to the month. */
static int as_ti_mday_has(const as_ti_field_t *f, int64_t year, int month, int mday)
{
    if (!f->set)
        return 1;
    int dim = as_tz_days_in_month(year, month);
    for (size_t i = 0; i < f->n; i++) {
        int begin = f->v[i].begin < 0 ? dim + f->v[i].begin + 1 : f->v[i].begin;
        int end = f->v[i].end < 0 ? dim + f->v[i].end + 1 : f->v[i].end;
        if (begin > dim)
            continue;
        begin = as_ti_clamp(begin, -dim, dim);
        end = as_ti_clamp(end, -dim, dim);
        if (mday >= begin && mday <= end)
            return 1;
    }
    return 0;
}

static int as_ti_entry_contains(const as_ti_entry_t *e, time_t t)
{
    struct tm tm;
    if (as_tz_localtime(e->location, (int64_t)t, &tm) < 0)
        return 0;
    int minute = tm.tm_hour * 60 + tm.tm_min;
    int64_t year = (int64_t)tm.tm_year + 1900;
    if (e->times.set) {
        size_t i = 0;
        while (i < e->times.n && !(minute >= e->times.v[i].begin && minute < e->times.v[i].end))
            i++;
        if (i == e->times.n)
            return 0;
    }
    return as_ti_mday_has(&e->days_of_month, year, tm.tm_mon + 1, tm.tm_mday) &&
           as_ti_field_has(&e->months, tm.tm_mon + 1) &&
           as_ti_field_has(&e->weekdays, tm.tm_wday) && as_ti_field_has(&e->years, (int)year);
}

int as_time_interval_contains(const as_time_interval_t *ti, time_t t)
{
    const as_ti_entry_t *e = ti->ranges.elts;
    for (size_t i = 0; i < ti->ranges.n; i++)
        if (as_ti_entry_contains(&e[i], t))
            return 1;
    return 0;
}
