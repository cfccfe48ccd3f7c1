/*
 * formats.c - the stdin formats of `alertsink send` (see formats.h).
 *
 * json and text are one call into route/payload.c each.  nagios and
 * collectd build one single alert (docs/inputs.md: labels, annotations,
 * status, startsAt, endsAt, message) and hand it to as_payload_from_alerts(),
 * so they are validated, defaulted and fingerprinted exactly like an alert
 * POSTed to /api/v1/alerts.
 *
 * nagios.  The variables are read with one prefix: NAGIOS_ when
 * NAGIOS_NOTIFICATIONTYPE is set, else ICINGA_, else (an explicit
 * --format nagios only) none, for Icinga 2 commands whose env block uses
 * the bare names.  Nothing is mixed across prefixes, so a stray HOSTNAME
 * in the environment never stands in for NAGIOS_HOSTNAME.
 *   status    PROBLEM -> firing, RECOVERY -> resolved; any other type
 *             (ACKNOWLEDGEMENT, FLAPPING*, DOWNTIME*, CUSTOM) follows the
 *             state: OK or UP -> resolved, else firing
 *   labels    alertname = SERVICEDESC (Icinga 2: SERVICENAME), or "HostDown"
 *             for a host notification; host = HOSTNAME; instance =
 *             HOSTADDRESS, else HOSTNAME; service = SERVICEDESC; severity
 *             from the state (CRITICAL, DOWN -> critical; WARNING,
 *             UNREACHABLE -> warning; UNKNOWN -> unknown), for a resolved
 *             alert from LAST*STATE when exported, so that it carries the
 *             labels, and the fingerprint, of the alert it resolves;
 *             notification_type = the type for any type but PROBLEM and
 *             RECOVERY, which makes an acknowledgement a notification of
 *             its own rather than a duplicate of its problem
 *   annotations summary "TYPE: SERVICE on HOST is STATE" (hosts: "TYPE:
 *             HOST is STATE"), output (*OUTPUT), long_output (LONG*OUTPUT,
 *             Nagios's literal \n turned into line breaks), state,
 *             notification_type, author (NOTIFICATIONAUTHOR or
 *             NOTIFICATIONAUTHORNAME), comment (NOTIFICATIONCOMMENT),
 *             description = stdin when given, else output + long_output
 *   startsAt  LAST*STATECHANGE, else TIMET, else now; a resolved alert ends
 *             then as well
 *
 * collectd.  Header lines "Key: value" up to the first empty line, then the
 * message (collectd's exec plugin, exec_notification_one()).
 *   status    FAILURE -> firing, severity critical; WARNING -> firing,
 *             severity warning; OKAY -> resolved, no severity (collectd
 *             does not say what recovered from what)
 *   labels    alertname = Plugin, else "collectd"; host and instance =
 *             Host; plugin, plugin_instance, type, type_instance
 *   annotations summary "SEVERITY: host/plugin-instance/type-instance"
 *             (collectd's identifier), every other header in snake_case
 *             (DataSource -> data_source, CurrentValue -> current_value,
 *             WarningMin -> warning_min, ...), description = the message
 *   startsAt  Time (epoch seconds, any number of decimals)
 *
 * Values from the environment or from collectd that are not UTF-8 are
 * repaired with U+FFFD rather than refused: a monitoring alert with one
 * odd character is still worth delivering.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alertsink/buf.h"
#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "cli/formats.h"
#include "lib/json.h"
#include "route/payload.h"

#define AS_COLLECTD_MAX_HEADERS 64

static const char *const as_format_names[] = {"auto", "json", "text", "nagios", "collectd"};

int as_format_from_name(const char *name, as_format_t *format)
{
    for (size_t i = 0; i < sizeof(as_format_names) / sizeof(as_format_names[0]); i++)
        if (strcmp(name, as_format_names[i]) == 0) {
            *format = (as_format_t)i;
            return 0;
        }
    return -1;
}

const char *as_format_name(as_format_t format)
{
    return (unsigned)format < sizeof(as_format_names) / sizeof(as_format_names[0])
               ? as_format_names[format]
               : "?";
}

/* Add key: value to obj, as valid UTF-8; skip NULL values. */
static void as_put(cJSON *obj, const char *key, const char *value, size_t len)
{
    if (value == NULL)
        return;
    char *v = as_utf8_repair(value, len);
    cJSON_AddStringToObject(obj, key, v);
    free(v);
}

static void as_puts(cJSON *obj, const char *key, const char *value)
{
    if (value != NULL)
        as_put(obj, key, value, strlen(value));
}

static size_t as_trim_end(const char *s, size_t len)
{
    while (len > 0 && strchr(" \t\r\n\v\f", s[len - 1]) != NULL)
        len--;
    return len;
}

/* Seconds since the epoch, with any number of decimals, to ms. */
static int as_epoch_ms(const char *s, int64_t *ms)
{
    int64_t sec = 0;
    int frac = 0, nfrac = 0, ndig = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++, ndig++) {
        sec = sec * 10 + (*p - '0');
        if (sec > 100000000000LL) /* past year 5000: not a timestamp */
            return -1;
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, nfrac++)
            if (nfrac < 3)
                frac = frac * 10 + (*p - '0');
    if (ndig == 0 || *p != '\0')
        return -1;
    for (int k = nfrac; k < 3; k++)
        frac *= 10;
    *ms = sec * 1000 + frac;
    return 0;
}

/* One alert in the single form, wrapped by the payload layer. */
static cJSON *as_one_alert(cJSON *alert, const char *what, const char *data, size_t len,
                           const as_payload_opts_t *opts, as_err_t *err)
{
    const char *nul = memchr(data, '\0', len);
    if (nul != NULL) {
        as_err_set(err, "%s: NUL byte in the message at offset %zu", what, (size_t)(nul - data));
        cJSON_Delete(alert);
        return NULL;
    }
    len = as_trim_end(data, len);
    if (len > 0)
        as_put(alert, "message", data, len);
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, alert);
    return as_payload_from_alerts(arr, what, opts, err);
}

/* ---------------------------------------------------------------------- */
/* nagios                                                                  */

typedef struct as_nagios_s {
    char *const *envp;
    const char *prefix;
} as_nagios_t;

static const char *as_env(char *const *envp, const char *prefix, const char *name)
{
    size_t plen = strlen(prefix), nlen = strlen(name);
    for (char *const *e = envp; e != NULL && *e != NULL; e++)
        if (strncmp(*e, prefix, plen) == 0 && strncmp(*e + plen, name, nlen) == 0 &&
            (*e)[plen + nlen] == '=')
            return (*e)[plen + nlen + 1] != '\0' ? *e + plen + nlen + 1 : NULL;
    return NULL;
}

/* The first of names that is set and not empty (Nagios sets macros that do
 * not apply to the empty string). */
static const char *as_nagios_get(const as_nagios_t *ng, const char *const *names)
{
    for (; *names != NULL; names++) {
        const char *v = as_env(ng->envp, ng->prefix, *names);
        if (v != NULL)
            return v;
    }
    return NULL;
}

#define AS_NG(ng, ...) as_nagios_get((ng), (const char *const[]){__VA_ARGS__, NULL})

static const char *as_nagios_prefix(char *const *envp, int explicit)
{
    static const char *const prefixes[] = {"NAGIOS_", "ICINGA_"};
    for (size_t i = 0; i < 2; i++)
        if (as_env(envp, prefixes[i], "NOTIFICATIONTYPE") != NULL)
            return prefixes[i];
    return explicit && as_env(envp, "", "NOTIFICATIONTYPE") != NULL ? "" : NULL;
}

typedef struct as_state_map_s {
    const char *state;
    const char *severity; /* NULL: not a problem */
} as_state_map_t;

static const as_state_map_t as_nagios_states[] = {{"CRITICAL", "critical"},
                                                  {"WARNING", "warning"},
                                                  {"UNKNOWN", "unknown"},
                                                  {"DOWN", "critical"},
                                                  {"UNREACHABLE", "warning"},
                                                  {"OK", NULL},
                                                  {"UP", NULL},
                                                  {NULL, NULL}};

static const as_state_map_t *as_nagios_state(const char *state)
{
    for (const as_state_map_t *m = as_nagios_states; state != NULL && m->state != NULL; m++)
        if (strcasecmp(m->state, state) == 0)
            return m;
    return NULL;
}

/* Nagios writes the line breaks of long plugin output as a literal \n. */
static char *as_nagios_unescape(const char *s)
{
    as_buf_t b = AS_BUF_INIT;
    for (; *s != '\0'; s++) {
        if (s[0] == '\\' && s[1] == 'n') {
            as_buf_putc(&b, '\n');
            s++;
        } else {
            as_buf_putc(&b, *s);
        }
    }
    return as_buf_steal(&b);
}

static cJSON *as_read_nagios(const char *data, size_t len, char *const *envp, int explicit,
                             const as_payload_opts_t *opts, as_err_t *err)
{
    as_nagios_t ng = {envp, as_nagios_prefix(envp, explicit)};
    if (ng.prefix == NULL) {
        as_err_set(err, "nagios: neither NAGIOS_NOTIFICATIONTYPE nor ICINGA_NOTIFICATIONTYPE is "
                        "set in the environment");
        return NULL;
    }
    const char *type = AS_NG(&ng, "NOTIFICATIONTYPE");
    const char *host = AS_NG(&ng, "HOSTNAME", "HOSTDISPLAYNAME", "HOSTALIAS");
    if (host == NULL) {
        as_err_set(err, "nagios: %sHOSTNAME is not set", ng.prefix);
        return NULL;
    }
    const char *service = AS_NG(&ng, "SERVICEDESC", "SERVICENAME");
    const char *state, *last, *output, *longout, *changed;
    if (service != NULL) {
        state = AS_NG(&ng, "SERVICESTATE");
        last = AS_NG(&ng, "LASTSERVICESTATE");
        output = AS_NG(&ng, "SERVICEOUTPUT");
        longout = AS_NG(&ng, "LONGSERVICEOUTPUT");
        changed = AS_NG(&ng, "LASTSERVICESTATECHANGE");
    } else {
        state = AS_NG(&ng, "HOSTSTATE");
        last = AS_NG(&ng, "LASTHOSTSTATE");
        output = AS_NG(&ng, "HOSTOUTPUT");
        longout = AS_NG(&ng, "LONGHOSTOUTPUT");
        changed = AS_NG(&ng, "LASTHOSTSTATECHANGE");
    }

    const as_state_map_t *cur = as_nagios_state(state);
    int problem = strcasecmp(type, "PROBLEM") == 0, recovery = strcasecmp(type, "RECOVERY") == 0;
    int resolved = recovery || (!problem && cur != NULL && cur->severity == NULL);
    const as_state_map_t *sev = resolved ? as_nagios_state(last) : cur;

    cJSON *alert = cJSON_CreateObject();
    cJSON *labels = cJSON_AddObjectToObject(alert, "labels");
    as_puts(labels, "alertname", service != NULL ? service : "HostDown");
    as_puts(labels, "host", host);
    const char *address = AS_NG(&ng, "HOSTADDRESS");
    as_puts(labels, "instance", address != NULL ? address : host);
    as_puts(labels, "service", service);
    if (sev != NULL)
        as_puts(labels, "severity", sev->severity);
    if (!problem && !recovery)
        as_puts(labels, "notification_type", type);

    cJSON *ann = cJSON_AddObjectToObject(alert, "annotations");
    as_buf_t b = AS_BUF_INIT;
    as_buf_printf(&b, "%s: ", type);
    if (service != NULL)
        as_buf_printf(&b, "%s on ", service);
    as_buf_printf(&b, "%s is %s", host, state != NULL ? state : "in an unknown state");
    as_put(ann, "summary", b.data, b.len);
    as_buf_reset(&b);
    char *lo = longout != NULL ? as_nagios_unescape(longout) : NULL;
    if (output != NULL)
        as_buf_puts(&b, output);
    if (lo != NULL)
        as_buf_printf(&b, "%s%s", b.len > 0 ? "\n" : "", lo);
    if (len == 0 || as_trim_end(data, len) == 0) {
        if (b.len > 0)
            as_put(ann, "description", b.data, b.len);
    }
    as_buf_free(&b);
    as_puts(ann, "output", output);
    as_puts(ann, "long_output", lo);
    free(lo);
    as_puts(ann, "state", state);
    as_puts(ann, "notification_type", type);
    as_puts(ann, "author", AS_NG(&ng, "NOTIFICATIONAUTHOR", "NOTIFICATIONAUTHORNAME"));
    as_puts(ann, "comment", AS_NG(&ng, "NOTIFICATIONCOMMENT"));

    cJSON_AddStringToObject(alert, "status", resolved ? "resolved" : "firing");
    int64_t ms;
    /* A state change at 0 (never changed) is no time: TIMET then. */
    const char *when =
        changed != NULL && as_epoch_ms(changed, &ms) == 0 && ms > 0 ? changed : AS_NG(&ng, "TIMET");
    if (when != NULL && as_epoch_ms(when, &ms) == 0 && ms > 0) {
        char ts[40];
        cJSON_AddStringToObject(alert, "startsAt", as_rfc3339_ms(ms, ts, sizeof(ts)));
        if (resolved)
            cJSON_AddStringToObject(alert, "endsAt", ts);
    }
    return as_one_alert(alert, "nagios", data, len, opts, err);
}

/* ---------------------------------------------------------------------- */
/* collectd                                                                */

typedef struct as_header_s {
    const char *key, *value; /* NUL-terminated, inside the copy */
} as_header_t;

typedef struct as_collectd_s {
    char *copy; /* the header block, cut into keys and values */
    as_header_t h[AS_COLLECTD_MAX_HEADERS];
    size_t n;
    const char *body; /* the message, in the input */
    size_t body_len;
} as_collectd_t;

static int as_header_name_valid(const char *s, size_t len)
{
    if (len == 0 || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static const char *as_header(const as_collectd_t *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->h[i].key, key) == 0)
            return c->h[i].value;
    return NULL;
}

/* Cut the header block (up to the first empty line) into "Key: value"
 * pairs; the rest is the message.  err may be NULL (probing). */
static int as_collectd_split(as_collectd_t *c, const char *data, size_t len, as_err_t *err)
{
    memset(c, 0, sizeof(*c));
    c->copy = as_xmalloc(len + 1);
    memcpy(c->copy, data, len);
    c->copy[len] = '\0';
    c->body = data + len;
    char *p = c->copy, *end = c->copy + len;
    for (int lineno = 1; p < end; lineno++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl != NULL ? nl : end;
        while (le > p && le[-1] == '\r')
            le--;
        if (le == p) { /* the empty line: the message follows */
            c->body = data + (nl != NULL ? (size_t)(nl + 1 - c->copy) : len);
            break;
        }
        *le = '\0';
        char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon == NULL || !as_header_name_valid(p, (size_t)(colon - p)) ||
            memchr(p, '\0', (size_t)(le - p)) != NULL)
            return as_err_set(err, "collectd: line %d: expected \"Key: value\"", lineno);
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (as_header(c, p) != NULL)
            return as_err_set(err, "collectd: line %d: %s given twice", lineno, p);
        if (c->n == AS_COLLECTD_MAX_HEADERS)
            return as_err_set(err, "collectd: line %d: more than %d header lines", lineno,
                              AS_COLLECTD_MAX_HEADERS);
        c->h[c->n].key = p;
        c->h[c->n++].value = v;
        p = nl != NULL ? nl + 1 : end;
    }
    c->body_len = (size_t)(data + len - c->body);
    return 0;
}

/* Is this NotificationExec's format: a header block with Severity and Time? */
static int as_collectd_probe(const char *data, size_t len)
{
    as_collectd_t c;
    int ok = as_collectd_split(&c, data, len, NULL) == 0 && as_header(&c, "Severity") != NULL &&
             as_header(&c, "Time") != NULL;
    free(c.copy);
    return ok;
}

/* DataSource -> data_source */
static char *as_snake(const char *s)
{
    as_buf_t b = AS_BUF_INIT;
    for (size_t i = 0; s[i] != '\0'; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z') {
            if (i > 0 &&
                ((s[i - 1] >= 'a' && s[i - 1] <= 'z') || (s[i - 1] >= '0' && s[i - 1] <= '9')))
                as_buf_putc(&b, '_');
            ch = (char)(ch - 'A' + 'a');
        }
        as_buf_putc(&b, ch);
    }
    return as_buf_steal(&b);
}

typedef struct as_collectd_sev_s {
    const char *name;
    const char *severity; /* NULL: resolved */
} as_collectd_sev_t;

static const as_collectd_sev_t as_collectd_sevs[] = {
    {"FAILURE", "critical"}, {"WARNING", "warning"}, {"OKAY", NULL}, {NULL, NULL}};

/* Headers that become labels or times, not annotations. */
static const char *const as_collectd_known[] = {"Severity",       "Time", "Host",         "Plugin",
                                                "PluginInstance", "Type", "TypeInstance", NULL};

static cJSON *as_collectd_alert(const as_collectd_t *c, as_err_t *err)
{
    const char *severity = as_header(c, "Severity"), *time = as_header(c, "Time");
    const char *host = as_header(c, "Host"), *plugin = as_header(c, "Plugin");
    const char *pi = as_header(c, "PluginInstance"), *type = as_header(c, "Type");
    const char *ti = as_header(c, "TypeInstance");
    const as_collectd_sev_t *sev = as_collectd_sevs;
    int64_t ms = 0;
    if (severity == NULL) {
        as_err_set(err, "collectd: no Severity header");
        return NULL;
    }
    while (sev->name != NULL && strcasecmp(sev->name, severity) != 0)
        sev++;
    if (sev->name == NULL) {
        as_err_set(err, "collectd: Severity: expected FAILURE, WARNING or OKAY");
        return NULL;
    }
    if (time != NULL && as_epoch_ms(time, &ms) != 0) {
        as_err_set(err, "collectd: Time: expected seconds since the epoch");
        return NULL;
    }

    cJSON *alert = cJSON_CreateObject();
    cJSON *labels = cJSON_AddObjectToObject(alert, "labels");
    as_puts(labels, "alertname", plugin != NULL && *plugin ? plugin : "collectd");
    const char *const lab[][2] = {
        {"host", host}, {"instance", host},    {"plugin", plugin},         {"plugin_instance", pi},
        {"type", type}, {"type_instance", ti}, {"severity", sev->severity}};
    for (size_t i = 0; i < sizeof(lab) / sizeof(lab[0]); i++)
        if (lab[i][1] != NULL && *lab[i][1])
            as_puts(labels, lab[i][0], lab[i][1]);

    /* collectd's identifier: host/plugin-instance/type-instance */
    cJSON *ann = cJSON_AddObjectToObject(alert, "annotations");
    as_buf_t b = AS_BUF_INIT;
    as_buf_printf(&b, "%s: %s/%s", sev->name, host != NULL ? host : "",
                  plugin != NULL ? plugin : "");
    if (pi != NULL && *pi)
        as_buf_printf(&b, "-%s", pi);
    if (type != NULL && *type)
        as_buf_printf(&b, "/%s", type);
    if (ti != NULL && *ti)
        as_buf_printf(&b, "-%s", ti);
    as_put(ann, "summary", b.data, b.len);
    as_buf_free(&b);
    for (size_t i = 0; i < c->n; i++) {
        const char *const *k = as_collectd_known;
        while (*k != NULL && strcmp(*k, c->h[i].key) != 0)
            k++;
        if (*k != NULL || *c->h[i].value == '\0')
            continue;
        char *name = as_snake(c->h[i].key);
        if (cJSON_GetObjectItemCaseSensitive(ann, name) == NULL)
            as_puts(ann, name, c->h[i].value);
        free(name);
    }

    cJSON_AddStringToObject(alert, "status", sev->severity == NULL ? "resolved" : "firing");
    if (time != NULL) {
        char ts[40];
        cJSON_AddStringToObject(alert, "startsAt", as_rfc3339_ms(ms, ts, sizeof(ts)));
        if (sev->severity == NULL)
            cJSON_AddStringToObject(alert, "endsAt", ts);
    }
    return alert;
}

static cJSON *as_read_collectd(const char *data, size_t len, const as_payload_opts_t *opts,
                               as_err_t *err)
{
    as_collectd_t c;
    cJSON *alert = NULL, *p = NULL;
    if (as_collectd_split(&c, data, len, err) == 0 && (alert = as_collectd_alert(&c, err)) != NULL)
        p = as_one_alert(alert, "collectd", c.body, c.body_len, opts, err);
    free(c.copy);
    return p;
}

/* ---------------------------------------------------------------------- */

static as_format_t as_format_detect(const char *data, size_t len, char *const *envp)
{
    if (as_payload_looks_json(data, len))
        return AS_FORMAT_JSON;
    if (as_collectd_probe(data, len))
        return AS_FORMAT_COLLECTD;
    if (as_nagios_prefix(envp, 0) != NULL)
        return AS_FORMAT_NAGIOS;
    return AS_FORMAT_TEXT;
}

cJSON *as_format_read(as_format_t format, const char *data, size_t len, char *const *envp,
                      const as_payload_opts_t *opts, as_format_t *used, int *grouped, as_err_t *err)
{
    int explicit = format != AS_FORMAT_AUTO;
    if (!explicit)
        format = as_format_detect(data, len, envp);
    if (used != NULL)
        *used = format;
    if (grouped != NULL)
        *grouped = 0;
    if (as_payload_opts_check(opts, err) != 0)
        return NULL;
    switch (format) {
    case AS_FORMAT_JSON: {
        unsigned flags = 0;
        cJSON *p = as_payload_parse_opts(NULL, data, len, opts, &flags, err);
        if (grouped != NULL)
            *grouped = (flags & AS_SUB_GROUPED) != 0;
        return p;
    }
    case AS_FORMAT_NAGIOS:
        return as_read_nagios(data, len, envp, explicit, opts, err);
    case AS_FORMAT_COLLECTD:
        return as_read_collectd(data, len, opts, err);
    case AS_FORMAT_TEXT:
    case AS_FORMAT_AUTO:
        break;
    }
    return as_payload_from_text(data, len, opts, err);
}

cJSON *as_format_read_stream(as_format_t format, FILE *in, size_t max, char *const *envp,
                             const as_payload_opts_t *opts, as_format_t *used, int *grouped,
                             as_err_t *err)
{
    as_buf_t b = AS_BUF_INIT;
    if (as_buf_read(&b, in, max) < 0) {
        if (max > 0 && b.len > max)
            as_err_set(err, "input larger than %zu bytes", max);
        else
            as_err_set(err, "reading the input: %s", strerror(errno));
        as_buf_free(&b);
        return NULL;
    }
    cJSON *p =
        as_format_read(format, b.data != NULL ? b.data : "", b.len, envp, opts, used, grouped, err);
    as_buf_free(&b);
    return p;
}
