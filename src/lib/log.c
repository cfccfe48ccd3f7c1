/*
 * log.c - logfmt lines to stderr with secret redaction (see log.h).
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
#include "lib/log.h"

#define AS_LOG_LINE_MAX    8192
#define AS_LOG_SECRETS_MAX 64
#define AS_LOG_SECRET_MIN  3 /* shorter values would redact ordinary text */

static atomic_int as_log_level = AS_LOG_INFO;
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

void as_log_kv(int level, const char *msg, const as_kv_t *kv)
{
    char line[AS_LOG_LINE_MAX];
    size_t o = 0, room = sizeof(line) - 2;

    if (as_log_journal < 0)
        as_log_journal = getenv("JOURNAL_STREAM") != NULL;
    if (level < AS_LOG_DEBUG || level > AS_LOG_ERROR)
        level = AS_LOG_ERROR;

    if (as_log_journal) {
        static const int prio[] = {7, 6, 4, 3};
        o += (size_t)snprintf(line + o, room - o, "<%d>", prio[level]);
    } else {
        char ts[40];
        o += (size_t)snprintf(line + o, room - o, "ts=%s ",
                              as_rfc3339_ms(as_now_ms(), ts, sizeof(ts)));
    }
    o += (size_t)snprintf(line + o, room - o, "level=%s msg=", as_level_names[level]);
    if (o < room)
        o += as_log_value(line + o, room - o, msg);
    for (; kv != NULL && kv->key != NULL && o < room; kv++) {
        char num[32];
        const char *v = kv->s;
        if (kv->type == 'i') {
            snprintf(num, sizeof(num), "%lld", kv->i);
            v = num;
        } else if (v == NULL) {
            continue;
        }
        o += (size_t)snprintf(line + o, room - o, " %s=", kv->key);
        if (o < room)
            o += as_log_value(line + o, room - o, v);
    }
    if (o > room)
        o = room;
    line[o] = '\0';
    as_log_redact(line, room);
    o = strlen(line);
    line[o++] = '\n';

    as_write_all(atomic_load(&as_log_fd), line, o); /* nowhere to report a failure */
}
