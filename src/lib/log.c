/*
 * log.c - logfmt (or JSON) lines to stderr with secret redaction (see
 * log.h).
 *
 * A line is built in a stack buffer and written with one write(2), so lines
 * from worker threads never interleave.  Redaction runs on the finished
 * line: a secret is hidden even when a peer echoed it inside an error
 * message.  Secrets stay hidden for the life of the process: a reload may
 * add new ones and old ones stay.  Only tokens (as_log_token: a login's,
 * replaced at every login) are dropped, oldest first, when the table is
 * full; a configured secret goes only when the table holds nothing else.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include "lib/clock.h"
#include "alertsink/buf.h"
#include "alertsink/mem.h"
#include "lib/fdio.h"
#include "lib/json.h"
#include "lib/log.h"

#define AS_LOG_LINE_MAX    8192
#define AS_LOG_SECRETS_MAX 256
#define AS_LOG_SECRET_MIN  3 /* shorter values would redact ordinary text */

static atomic_int as_log_level = AS_LOG_INFO;
static atomic_int as_log_format = AS_LOG_LOGFMT;
static atomic_int as_log_fd = 2;
static int as_log_journal = -1;

static pthread_mutex_t as_secret_lock = PTHREAD_MUTEX_INITIALIZER;
static struct as_secret_s {
    char *value;
    int token; /* replaced at every login: the first to go when full */
} as_secrets[AS_LOG_SECRETS_MAX];
static atomic_size_t as_nsecrets;

static const char *as_level_names[] = {"debug", "info", "warn", "error"};

void as_log_set_level(int level)
{
    atomic_store(&as_log_level, level);
}

void as_log_set_format(int format)
{
    atomic_store(&as_log_format, format == AS_LOG_JSON ? AS_LOG_JSON : AS_LOG_LOGFMT);
}

int as_log_enabled(int level)
{
    return level >= atomic_load(&as_log_level);
}

void as_log_set_fd(int fd)
{
    atomic_store(&as_log_fd, fd < 0 ? 2 : fd);
}

static void as_log_add_secret(const char *value, int token)
{
    if (value == NULL || strlen(value) < AS_LOG_SECRET_MIN)
        return;
    pthread_mutex_lock(&as_secret_lock);
    size_t n = atomic_load(&as_nsecrets), i;
    for (i = 0; i < n && strcmp(as_secrets[i].value, value) != 0; i++)
        ;
    if (i < n) {
        as_secrets[i].token &= token; /* configured once: kept for good */
    } else {
        if (n == AS_LOG_SECRETS_MAX) {
            /* Full (tokens of many logins): the oldest token goes, so that
             * a password seen at start stays hidden however many logins
             * follow; only a table of configured secrets loses its oldest. */
            size_t out = 0;
            while (out < n && !as_secrets[out].token)
                out++;
            if (out == n)
                out = 0;
            free(as_secrets[out].value);
            memmove(as_secrets + out, as_secrets + out + 1, (n - out - 1) * sizeof(*as_secrets));
            n--;
        }
        as_secrets[n].value = as_xstrdup(value);
        as_secrets[n].token = token;
        atomic_store(&as_nsecrets, n + 1);
    }
    pthread_mutex_unlock(&as_secret_lock);
}

void as_log_secret(const char *value)
{
    as_log_add_secret(value, 0);
}

void as_log_token(const char *value)
{
    as_log_add_secret(value, 1);
}

char *as_log_redact(char *buf, size_t size)
{
    static const char mask[] = "<redacted>";
    pthread_mutex_lock(&as_secret_lock);
    size_t n = atomic_load(&as_nsecrets);
    for (size_t i = 0; i < n; i++) {
        const char *s = as_secrets[i].value;
        size_t slen = strlen(s), mlen = sizeof(mask) - 1;
        char *p = buf;
        while ((p = strstr(p, s)) != NULL) {
            size_t tail = strlen(p + slen) + 1;
            size_t room = size - (size_t)(p - buf);
            if (mlen + tail > room) /* no room to grow: truncate the tail */
                tail = room > mlen ? room - mlen : 0;
            if (tail == 0) {
                *p = '\0';
                break;
            }
            memmove(p + mlen, p + slen, tail);
            p[mlen + tail - 1] = '\0';
            memcpy(p, mask, mlen);
            p += mlen;
        }
    }
    pthread_mutex_unlock(&as_secret_lock);
    return buf;
}

/* The line being built: written by hand, no printf (a line an attempt,
 * at the default level, is on the delivery path). */
typedef struct {
    char *p;
    size_t o, room;
} as_line_t;

static void as_put(as_line_t *l, const char *s, size_t n)
{
    if (n > l->room - l->o)
        n = l->room - l->o;
    memcpy(l->p + l->o, s, n);
    l->o += n;
}

static void as_puts(as_line_t *l, const char *s)
{
    as_put(l, s, strlen(s));
}

static void as_put_int(as_line_t *l, long long v)
{
    char tmp[AS_INT_TEXT];
    as_put(l, tmp, as_int_text(tmp, v));
}

static const char as_hex[] = "0123456789abcdef";

/* logfmt value: bare when it is a plain word, else quoted with escapes. */
static void as_log_value(as_line_t *l, const char *v)
{
    int bare = *v != '\0';
    for (const char *p = v; *p && bare; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            bare = 0;
    if (bare) {
        as_puts(l, v);
        return;
    }
    as_put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p && l->o + 8 < l->room; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            as_put(l, e, 2);
        } else if (*p == '\n' || *p == '\t' || *p == '\r') {
            char e[2] = {'\\', *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r'};
            as_put(l, e, 2);
        } else if (*p < ' ' || *p == 0x7f) { /* as go-logfmt reads them back */
            char e[6] = {'\\', 'u', '0', '0', as_hex[*p >> 4], as_hex[*p & 15]};
            as_put(l, e, 6);
        } else {
            as_put(l, (const char *)p, 1);
        }
    }
    as_put(l, "\"", 1);
}

/* A JSON string: escapes, and U+FFFD for bytes that are not UTF-8 (a peer's
 * answer may hold any byte; the object must stay valid JSON). */
static void as_log_json_str(as_line_t *l, const char *v)
{
    size_t len = strlen(v);
    as_put(l, "\"", 1);
    for (size_t i = 0; i < len && l->o + 8 < l->room;) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            as_put(l, e, 2);
            i++;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            char e[2] = {'\\', c == '\n' ? 'n' : c == '\t' ? 't' : 'r'};
            as_put(l, e, 2);
            i++;
        } else if (c < ' ' || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', as_hex[c >> 4], as_hex[c & 15]};
            as_put(l, e, 6);
            i++;
        } else if (c < 0x80) {
            as_put(l, (const char *)&v[i], 1);
            i++;
        } else {
            long cp;
            size_t w = as_utf8_decode(v + i, len - i, &cp);
            if (cp < 0)
                as_put(l, "\\ufffd", 6);
            else if (l->o + w + 2 < l->room)
                as_put(l, v + i, w);
            i += w;
        }
    }
    as_put(l, "\"", 1);
}

/* A value with the registered secrets hidden, into buf. */
static const char *as_log_clean(char *buf, size_t size, const char *v)
{
    size_t n = strnlen(v, size - 1);
    memcpy(buf, v, n);
    buf[n] = '\0';
    return as_log_redact(buf, size);
}

void as_log_kv(int level, const char *msg, const as_kv_t *kv)
{
    char buf[AS_LOG_LINE_MAX], val[AS_LOG_LINE_MAX / 2];
    as_line_t line = {buf, 0, sizeof(buf) - 2};
    int json = atomic_load(&as_log_format) == AS_LOG_JSON;

    if (as_log_journal < 0)
        as_log_journal = getenv("JOURNAL_STREAM") != NULL;
    if (level < AS_LOG_DEBUG || level > AS_LOG_ERROR)
        level = AS_LOG_ERROR;

    if (as_log_journal) {
        static const char *const prio[] = {"<7>", "<6>", "<4>", "<3>"};
        as_puts(&line, prio[level]);
    }
    if (json)
        as_put(&line, "{", 1);
    if (!as_log_journal) {
        char ts[40];
        size_t n = as_time_format(as_now_ms(), AS_TIME_RFC3339_MS, ts, sizeof(ts));
        as_puts(&line, json ? "\"time\":\"" : "time=");
        as_put(&line, ts, n);
        as_puts(&line, json ? "\"," : " ");
    }
    as_puts(&line, json ? "\"level\":\"" : "level=");
    as_puts(&line, as_level_names[level]);
    as_puts(&line, json ? "\",\"msg\":" : " msg=");
    as_log_clean(val, sizeof(val), msg);
    if (json)
        as_log_json_str(&line, val);
    else
        as_log_value(&line, val);
    for (; kv != NULL && kv->key != NULL && line.o < line.room; kv++) {
        if (kv->type != 'i' && kv->s == NULL)
            continue;
        /* A pair the line has no room for whole goes, and the rest with
         * it: cut in its key, the closing brace landed on the key's quote
         * and the JSON line did not parse. */
        size_t mark = line.o;
        if (json) {
            as_put(&line, ",", 1);
            as_log_json_str(&line, kv->key);
            as_put(&line, ":", 1);
        } else {
            as_put(&line, " ", 1);
            as_puts(&line, kv->key);
            as_put(&line, "=", 1);
        }
        if (kv->type == 'i') {
            as_put_int(&line, kv->i);
        } else {
            as_log_clean(val, sizeof(val), kv->s);
            if (json)
                as_log_json_str(&line, val);
            else
                as_log_value(&line, val);
        }
        if (line.o + 2 >= line.room) {
            line.o = mark;
            break;
        }
    }
    size_t o = line.o;
    if (json) {
        /* A line cut at the end of the buffer still closes its object. */
        if (o + 1 >= line.room)
            o = line.room - 1;
        buf[o++] = '}';
    }
    buf[o] = '\0';
    if (!json) /* JSON values were redacted before they were escaped */
        as_log_redact(buf, line.room);
    o = strlen(buf);
    buf[o++] = '\n';
    as_write_all(atomic_load(&as_log_fd), buf, o); /* nowhere to report a failure */
}
