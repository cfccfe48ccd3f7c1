/*
 * log.c - logfmt (or JSON) lines to stderr with secret redaction (see
 * log.h).
 *
 * A line is built in a stack buffer and written with one write(2), so lines
 * from worker threads never interleave.  Redaction runs on the finished
 * line: a secret is hidden even when a peer echoed it inside an error
 * message.  The secret list only grows (a reload may add new ones; old ones
 * stay hidden), so readers take no lock on the hot path beyond a snapshot
 * of its length.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "lib/fdio.h"
#include "lib/json.h"
#include "lib/log.h"

#define AS_LOG_LINE_MAX    8192
#define AS_LOG_SECRETS_MAX 64
#define AS_LOG_SECRET_MIN  3 /* shorter values would redact ordinary text */

static atomic_int as_log_level = AS_LOG_INFO;
static atomic_int as_log_format = AS_LOG_LOGFMT;
static atomic_int as_log_fd = 2;
static int as_log_journal = -1;

static pthread_mutex_t as_secret_lock = PTHREAD_MUTEX_INITIALIZER;
static char *as_secrets[AS_LOG_SECRETS_MAX];
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

void as_log_secret(const char *value)
{
    if (value == NULL || strlen(value) < AS_LOG_SECRET_MIN)
        return;
    pthread_mutex_lock(&as_secret_lock);
    size_t n = atomic_load(&as_nsecrets);
    int known = 0;
    for (size_t i = 0; i < n && !known; i++)
        known = strcmp(as_secrets[i], value) == 0;
    if (!known) {
        if (n == AS_LOG_SECRETS_MAX) {
            /* Oldest first out: reloads that rotate a token must not fill the
             * table forever; the newest secrets are the live ones. */
            free(as_secrets[0]);
            memmove(as_secrets, as_secrets + 1, (n - 1) * sizeof(char *));
            n--;
        }
        as_secrets[n] = as_xstrdup(value);
        atomic_store(&as_nsecrets, n + 1);
    }
    pthread_mutex_unlock(&as_secret_lock);
}

char *as_log_redact(char *buf, size_t size)
{
    static const char mask[] = "<redacted>";
    pthread_mutex_lock(&as_secret_lock);
    size_t n = atomic_load(&as_nsecrets);
    for (size_t i = 0; i < n; i++) {
        const char *s = as_secrets[i];
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

/* logfmt value: bare when it is a plain word, else quoted with escapes. */
static size_t as_log_value(char *out, size_t room, const char *v)
{
    size_t o = 0;
    int bare = *v != '\0';
    for (const char *p = v; *p && bare; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            bare = 0;
    if (bare)
        return (size_t)snprintf(out, room, "%s", v);
    if (room > 1)
        out[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)v; *p && o + 5 < room; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (*p < ' ' || *p == 0x7f) {
            o += (size_t)snprintf(out + o, room - o, "\\x%02x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    if (o + 1 < room)
        out[o++] = '"';
    out[o < room ? o : room - 1] = '\0';
    return o;
}

/* A JSON string: escapes, and U+FFFD for bytes that are not UTF-8 (a peer's
 * answer may hold any byte; the object must stay valid JSON). */
static size_t as_log_json_str(char *out, size_t room, const char *v)
{
    size_t o = 0, len = strlen(v);
    if (room < 3)
        return 0;
    out[o++] = '"';
    for (size_t i = 0; i < len && o + 8 < room;) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
            i++;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            i++;
        } else if (c < ' ' || c == 0x7f) {
            o += (size_t)snprintf(out + o, room - o, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            out[o++] = (char)c;
            i++;
        } else {
            long cp;
            size_t w = as_utf8_decode(v + i, len - i, &cp);
            if (cp < 0) {
                o += (size_t)snprintf(out + o, room - o, "\\ufffd");
            } else if (o + w + 2 < room) {
                memcpy(out + o, v + i, w);
                o += w;
            }
            i += w;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* A value with the registered secrets hidden, into buf. */
static const char *as_log_clean(char *buf, size_t size, const char *v)
{
    snprintf(buf, size, "%s", v);
    return as_log_redact(buf, size);
}

void as_log_kv(int level, const char *msg, const as_kv_t *kv)
{
    char line[AS_LOG_LINE_MAX], val[AS_LOG_LINE_MAX / 2];
    size_t o = 0, room = sizeof(line) - 2;
    int json = atomic_load(&as_log_format) == AS_LOG_JSON;

    if (as_log_journal < 0)
        as_log_journal = getenv("JOURNAL_STREAM") != NULL;
    if (level < AS_LOG_DEBUG || level > AS_LOG_ERROR)
        level = AS_LOG_ERROR;

    if (as_log_journal) {
        static const int prio[] = {7, 6, 4, 3};
        o += (size_t)snprintf(line + o, room - o, "<%d>", prio[level]);
    }
    if (json)
        line[o++] = '{';
    if (!as_log_journal) {
        char ts[40];
        as_rfc3339_ms(as_now_ms(), ts, sizeof(ts));
        o += (size_t)snprintf(line + o, room - o, json ? "\"time\":\"%s\"," : "time=%s ", ts);
    }
    o += (size_t)snprintf(line + o, room - o, json ? "\"level\":\"%s\",\"msg\":" : "level=%s msg=",
                          as_level_names[level]);
    as_log_clean(val, sizeof(val), msg);
    if (o < room)
        o +=
            json ? as_log_json_str(line + o, room - o, val) : as_log_value(line + o, room - o, val);
    for (; kv != NULL && kv->key != NULL && o < room; kv++) {
        char num[32];
        const char *v = kv->s;
        if (kv->type == 'i') {
            snprintf(num, sizeof(num), "%lld", kv->i);
            v = num;
        } else if (v == NULL) {
            continue;
        }
        if (json) {
            o += (size_t)snprintf(line + o, room - o, ",");
            if (o < room)
                o += as_log_json_str(line + o, room - o, kv->key);
            if (o < room)
                line[o++] = ':';
        } else {
            o += (size_t)snprintf(line + o, room - o, " %s=", kv->key);
        }
        if (o >= room)
            break;
        if (kv->type == 'i') {
            o += (size_t)snprintf(line + o, room - o, "%s", v);
        } else {
            as_log_clean(val, sizeof(val), v);
            o += json ? as_log_json_str(line + o, room - o, val)
                      : as_log_value(line + o, room - o, val);
        }
    }
    if (o > room)
        o = room;
    if (json) {
        /* A line cut at the end of the buffer still closes its object. */
        if (o + 1 >= room)
            o = room - 1;
        line[o++] = '}';
    }
    line[o] = '\0';
    if (!json) /* JSON values were redacted before they were escaped */
        as_log_redact(line, room);
    o = strlen(line);
    line[o++] = '\n';

    as_write_all(atomic_load(&as_log_fd), line, o); /* nowhere to report a failure */
}
