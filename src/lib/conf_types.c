/*
 * conf_types.c - the generic configuration types: strings, numbers,
 * durations, sizes, rates, phone numbers, listen
 * addresses, file modes, enums, lists of them and maps of strings
 * (sections: conf.c).
 *
 * Each type is a parse/print pair (nginx's ngx_conf_set_*_slot, plus the
 * printer `alertsink -T` needs).  The string parsers (as_parse_duration,
 * ...) are shared with the command line so a value means the same thing
 * everywhere.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "lib/conf.h"

/* --- string parsers ----------------------------------------------------- */

static int as_parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    for (; isdigit((unsigned char)*s); s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return 0;
}

int as_parse_duration(const char *s, int64_t *ms)
{
    /* Alertmanager's model.Duration: units in decreasing order, each once. */
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"y", 365LL * 86400000},
                 {"w", 7LL * 86400000},
                 {"d", 86400000},
                 {"h", 3600000},
                 {"ms", 1},
                 {"m", 60000},
                 {"s", 1000}};
    static const int order[] = {0, 1, 2, 3, 5, 6, 4}; /* y w d h m s ms */
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    int64_t total = 0;
    int last = -1;
    if (*s == '\0')
        return -1;
    while (*s) {
        uint64_t v;
        if (as_parse_u64(&s, &v) < 0)
            return -1;
        int u = -1;
        for (int i = 0; i < 7; i++) {
            size_t ul = strlen(units[i].unit);
            if (strncmp(s, units[i].unit, ul) == 0 && !(i == 5 && s[1] == 's')) {
                u = i;
                s += ul;
                break;
            }
        }
        if (u < 0)
            return -1;
        int rank = 0;
        while (order[rank] != u)
            rank++;
        if (rank <= last)
            return -1;
        last = rank;
        if (v > (uint64_t)(INT64_MAX - total) / (uint64_t)units[u].ms)
            return -1;
        total += (int64_t)v * units[u].ms;
    }
    *ms = total;
    return 0;
}

int as_parse_size(const char *s, int64_t *bytes)
{
    static const struct {
        const char *unit;
        int64_t mul;
    } units[] = {
        {"", 1},           {"B", 1}, {"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30},
        {"TiB", 1LL << 40}};
    uint64_t v;
    if (as_parse_u64(&s, &v) < 0)
        return -1;
    while (*s == ' ')
        s++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(s, units[i].unit) == 0) {
            if (v > (uint64_t)INT64_MAX / (uint64_t)units[i].mul)
                return -1;
            *bytes = (int64_t)v * units[i].mul;
            return 0;
        }
    return -1;
}

int as_parse_rate(const char *s, as_rate_t *rate)
{
    uint64_t v;
    if (strcmp(s, "0") == 0) {
        rate->count = 0;
        rate->period_ms = 0;
        return 0;
    }
    if (as_parse_u64(&s, &v) < 0 || v == 0 || v > UINT32_MAX || *s++ != '/')
        return -1;
    int64_t period;
    if (strcmp(s, "s") == 0)
        period = 1000;
    else if (strcmp(s, "m") == 0)
        period = 60000;
    else if (strcmp(s, "h") == 0)
        period = 3600000;
    else
        return -1;
    rate->count = (uint32_t)v;
    rate->period_ms = period;
    return 0;
}

int as_parse_phone(const char *s, char *digits, size_t len)
{
    size_t n = 0;
    const char *p = s;
    while (*p == ' ')
        p++;
    if (*p == '+')
        p++;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (n + 1 >= len)
                return -1;
            digits[n++] = *p;
        } else if (*p != ' ' && *p != '-' && *p != '(' && *p != ')' && *p != '.') {
            return -1;
        }
    }
    /* E.164: a country code (never starting with 0), at most 15 digits. */
    if (n < 8 || n > 15 || digits[0] == '0')
        return -1;
    digits[n] = '\0';
    return 0;
}

/* --- scalar types --------------------------------------------------------- */

static void as_print_str(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const char *s = *(char *const *)field;
    if (s == NULL) {
        fputs(" null\n", out);
        return;
    }
    fputc(' ', out);
    as_conf_print_string(out, s);
    fputc('\n', out);
}

static int as_set_string(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const char *v = as_conf_scalar(cf, n, "a string");
    if (v == NULL)
        return -1;
    *(char **)field = as_pstrdup(as_conf_pool(cf), v);
    return 0;
}

const as_conf_type_t as_conf_string = {"string", as_set_string, as_print_str};

static int as_set_int(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const char *v = as_conf_scalar(cf, n, "an integer");
    if (v == NULL)
        return -1;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno != 0) {
        as_conf_error(cf, n, "%s: expected an integer, got '%s'", k->name, v);
        return -1;
    }
    *(int64_t *)field = x;
    return 0;
}

static void as_print_int(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    fprintf(out, " %" PRId64 "\n", *(const int64_t *)field);
}

const as_conf_type_t as_conf_int = {"integer", as_set_int, as_print_int};

static int as_set_bool(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    static const char *yes[] = {"true", "True", "TRUE", "yes", "on", NULL};
    static const char *no[] = {"false", "False", "FALSE", "no", "off", NULL};
    const char *v = as_conf_scalar(cf, n, "true or false");
    if (v == NULL)
        return -1;
    for (int i = 0; yes[i]; i++) {
        if (strcmp(v, yes[i]) == 0) {
            *(int *)field = 1;
            return 0;
        }
        if (strcmp(v, no[i]) == 0) {
            *(int *)field = 0;
            return 0;
        }
    }
    as_conf_error(cf, n, "%s: expected true or false, got '%s'", k->name, v);
    return -1;
}

static void as_print_bool(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    fputs(*(const int *)field ? " true\n" : " false\n", out);
}

const as_conf_type_t as_conf_bool = {"boolean", as_set_bool, as_print_bool};

static int as_set_duration(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const char *v = as_conf_scalar(cf, n, "a duration");
    if (v == NULL)
        return -1;
    if (as_parse_duration(v, field) < 0) {
        as_conf_error(cf, n, "%s: invalid duration '%s' (use ms, s, m, h, d, w, y: 30s, 1h30m)",
                      k->name, v);
        return -1;
    }
    return 0;
}

void as_format_duration(int64_t ms, char *buf, size_t len)
{
    static const struct {
        const char *u;
        int64_t ms;
    } units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    size_t o = 0;
    if (ms == 0) {
        snprintf(buf, len, "0s");
        return;
    }
    buf[0] = '\0';
    for (int i = 0; i < 4 && o < len; i++)
        if (ms >= units[i].ms) {
            o += (size_t)snprintf(buf + o, len - o, "%" PRId64 "%s", ms / units[i].ms, units[i].u);
            ms %= units[i].ms;
        }
}

static void as_print_duration(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    char buf[64];
    int64_t v = *(const int64_t *)field;
    if (v < 0) {
        fputs(" null\n", out);
        return;
    }
    as_format_duration(v, buf, sizeof(buf));
    fprintf(out, " %s\n", buf);
}

const as_conf_type_t as_conf_duration = {"duration", as_set_duration, as_print_duration};

static int as_set_size(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const char *v = as_conf_scalar(cf, n, "a size");
    if (v == NULL)
        return -1;
    if (as_parse_size(v, field) < 0) {
        as_conf_error(cf, n, "%s: invalid size '%s' (use B, KiB, MiB, GiB: 1MiB)", k->name, v);
        return -1;
    }
    return 0;
}

static void as_print_size(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    int64_t v = *(const int64_t *)field;
    static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (i < 4 && v != 0 && v % 1024 == 0) {
        v /= 1024;
        i++;
    }
    fprintf(out, " %" PRId64 "%s\n", v, u[i]);
}

const as_conf_type_t as_conf_size = {"size", as_set_size, as_print_size};

static int as_set_rate(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const char *v = as_conf_scalar(cf, n, "a rate");
    if (v == NULL)
        return -1;
    if (as_parse_rate(v, field) < 0) {
        as_conf_error(cf, n, "%s: invalid rate '%s' (use N/s, N/m or N/h; 0 turns it off)", k->name,
                      v);
        return -1;
    }
    return 0;
}

static void as_print_rate(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_rate_t *r = field;
    if (r->count == 0) {
        fputs(" 0\n", out);
        return;
    }
    fprintf(out, " %" PRIu32 "/%s\n", r->count,
            r->period_ms == 1000    ? "s"
            : r->period_ms == 60000 ? "m"
                                    : "h");
}

const as_conf_type_t as_conf_rate = {"rate", as_set_rate, as_print_rate};

static int as_set_phone(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    char digits[32];
    const char *v = as_conf_scalar(cf, n, "a phone number");
    if (v == NULL)
        return -1;
    if (as_parse_phone(v, digits, sizeof(digits)) < 0) {
        as_conf_error(cf, n,
                      "invalid phone number '%s': digits with the country code, as "
                      "\"+90 555 111 2233\"",
                      v);
        return -1;
    }
    *(char **)field = as_pstrdup(as_conf_pool(cf), digits);
    return 0;
}

const as_conf_type_t as_conf_phone = {"phone number", as_set_phone, as_print_str};

static int as_set_listen(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    as_listen_t *l = field;
    as_pool_t *pool = as_conf_pool(cf);
    const char *v = as_conf_scalar(cf, n, "a listen address");
    if (v == NULL)
        return -1;
    memset(l, 0, sizeof(*l));
    l->text = as_pstrdup(pool, v);
    if (*v == '\0')
        return 0; /* turned off */
    const char *colon;
    if (*v == '[') {
        const char *rb = strchr(v, ']');
        if (rb == NULL || rb[1] != ':')
            goto bad;
        l->host = as_pstrndup(pool, v + 1, (size_t)(rb - v - 1));
        colon = rb + 1;
    } else {
        colon = strrchr(v, ':');
        if (colon == NULL || memchr(v, ':', (size_t)(colon - v)) != NULL)
            goto bad;
        if (colon > v)
            l->host = as_pstrndup(pool, v, (size_t)(colon - v));
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
        goto bad;
    l->port = (int)port;
    return 0;
bad:
    as_conf_error(cf, n, "%s: invalid listen address '%s' (HOST:PORT, [IPv6]:PORT or :PORT)",
                  k->name, v);
    return -1;
}

static void as_print_listen(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_listen_t *l = field;
    fputc(' ', out);
    as_conf_print_string(out, l->text ? l->text : "");
    fputc('\n', out);
}

const as_conf_type_t as_conf_listen = {"listen address", as_set_listen, as_print_listen};

static int as_set_mode(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const char *v = as_conf_scalar(cf, n, "a file mode");
    if (v == NULL)
        return -1;
    char *end;
    long m = strtol(v, &end, 8);
    if (*v == '\0' || *end != '\0' || m < 0 || m > 07777) {
        as_conf_error(cf, n, "%s: invalid file mode '%s' (octal, as \"0660\")", k->name, v);
        return -1;
    }
    *(int *)field = (int)m;
    return 0;
}

static void as_print_mode(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    fprintf(out, " \"%04o\"\n", *(const int *)field);
}

const as_conf_type_t as_conf_mode = {"file mode", as_set_mode, as_print_mode};

static int as_set_enum(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const as_conf_enum_t *e = k->data;
    const char *v = as_conf_scalar(cf, n, "a name");
    if (v == NULL)
        return -1;
    char names[256];
    size_t o = 0;
    names[0] = '\0';
    for (; e->name; e++) {
        if (strcmp(e->name, v) == 0) {
            *(int *)field = e->value;
            return 0;
        }
        o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", o ? ", " : "", e->name);
        if (o >= sizeof(names))
            o = sizeof(names) - 1;
    }
    as_conf_error(cf, n, "%s: unknown value '%s' (one of: %s)", k->name, v, names);
    return -1;
}

static void as_print_enum(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    for (const as_conf_enum_t *e = k->data; e->name; e++)
        if (e->value == *(const int *)field) {
            fprintf(out, " %s\n", e->name);
            return;
        }
    fputs(" null\n", out);
}

const as_conf_type_t as_conf_enum = {"name", as_set_enum, as_print_enum};

/* --- lists of scalars ------------------------------------------------------ */

/* A list: a YAML sequence, or one scalar standing for a list of one. */
int as_conf_list_parse(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field,
                       const as_conf_type_t *item)
{
    as_strv_t *sv = field;
    size_t count = n->kind == AS_NODE_SEQ ? n->n : 1;
    int rc = 0;
    if (n->kind == AS_NODE_MAP) {
        as_conf_error(cf, n, "%s: expected a list", k->name);
        return -1;
    }
    sv->v = as_palloc(as_conf_pool(cf), (count + 1) * sizeof(char *));
    sv->n = 0;
    for (size_t i = 0; i < count; i++) {
        const as_node_t *it = n->kind == AS_NODE_SEQ ? n->items[i] : n;
        char *s = NULL;
        if (item->parse(cf, k, it, &s) < 0) {
            rc = -1;
            continue;
        }
        sv->v[sv->n++] = s;
    }
    return rc;
}

static void as_print_list(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_strv_t *sv = field;
    if (!as_conf_print_list(out, sv->n))
        return;
    for (size_t i = 0; i < sv->n; i++) {
        fprintf(out, "%*s- ", indent + 2, "");
        as_conf_print_string(out, sv->v[i]);
        fputc('\n', out);
    }
}

static int as_set_strings(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    return as_conf_list_parse(cf, k, n, field, &as_conf_string);
}

static int as_set_phones(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    return as_conf_list_parse(cf, k, n, field, &as_conf_phone);
}

const as_conf_type_t as_conf_strings = {"list of strings", as_set_strings, as_print_list};
const as_conf_type_t as_conf_phones = {"list of phone numbers", as_set_phones, as_print_list};

/* --- maps of strings ----------------------------------------------------- */

/* A map whose values are scalars (HTTP headers, say): the keys are the
 * user's, so no table checks them; each must be unique (the YAML loader
 * refuses a duplicate) and every value a string. */
static int as_set_strmap(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    as_strmap_t *m = field;
    m->n = 0;
    m->keys = m->values = NULL;
    if (as_yaml_is_null(n))
        return 0;
    if (n->kind != AS_NODE_MAP) {
        as_conf_error(cf, n, "%s: expected a map of strings", k->name);
        return -1;
    }
    as_pool_t *pool = as_conf_pool(cf);
    m->keys = as_palloc(pool, (n->n + 1) * sizeof(char *));
    m->values = as_palloc(pool, (n->n + 1) * sizeof(char *));
    int rc = 0;
    for (size_t i = 0; i < n->n; i++) {
        const char *v = as_conf_scalar(cf, n->items[i], "a string");
        if (v == NULL) {
            rc = -1;
            continue;
        }
        m->keys[m->n] = as_pstrdup(pool, n->keys[i]->value);
        m->values[m->n++] = as_pstrdup(pool, v);
    }
    return rc;
}

static void as_print_strmap(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_strmap_t *m = field;
    if (m->n == 0) {
        fputs(" {}\n", out);
        return;
    }
    fputc('\n', out);
    for (size_t i = 0; i < m->n; i++) {
        fprintf(out, "%*s", indent + 2, "");
        as_conf_print_string(out, m->keys[i]);
        fputs(": ", out);
        as_conf_print_string(out, m->values[i]);
        fputc('\n', out);
    }
}

const as_conf_type_t as_conf_strmap = {"map of strings", as_set_strmap, as_print_strmap};
