/*
 * alertsink/log.h - the one logger: one line an event, with key=value
 * fields (logfmt), on stderr or the journal.
 *
 *   as_log(AS_LOG_INFO, "delivered", AS_S("id", id), AS_I("latency_ms", ms));
 *
 * Secrets never reach the output: every value registered with
 * as_log_secret() (the configuration registers all of its secret keys) is
 * replaced by <redacted> in the finished line, whatever field it was
 * passed in - also inside a peer's error message that echoed it.
 */
#ifndef ALERTSINK_LOG_H
#define ALERTSINK_LOG_H

#include "alertsink/api.h"

enum { AS_LOG_DEBUG = 0, AS_LOG_INFO, AS_LOG_WARN, AS_LOG_ERROR };

typedef struct as_kv_s {
    const char *key; /* NULL ends the list */
    char type;       /* 's' string, 'i' integer */
    const char *s;
    long long i;
} as_kv_t;

#define AS_S(k, v) ((as_kv_t){(k), 's', (v), 0})
#define AS_I(k, v) ((as_kv_t){(k), 'i', NULL, (long long)(v)})

AS_API void as_log_kv(int level, const char *msg, const as_kv_t *kv);
AS_API int as_log_enabled(int level);

/* The fields become a NULL-terminated array; the leading placeholder lets
 * GNU's ", ##__VA_ARGS__" drop its comma when there are no fields (and,
 * unlike __VA_OPT__, is understood by every C11 compiler and cppcheck). */
#define as_log(level, msg, ...)                                                                    \
    do {                                                                                           \
        if (as_log_enabled(level))                                                                 \
            as_log_kv((level), (msg),                                                              \
                      (const as_kv_t[]){{"", 0, NULL, 0}, ##__VA_ARGS__, {NULL, 0, NULL, 0}} + 1); \
    } while (0)

/* A value registered here is replaced by <redacted> in every log line. */
AS_API void as_log_secret(const char *value);
/* The same for a value that a later one replaces (a login's token): of
 * these only the newest are kept when there are many, never at the cost
 * of a secret given to as_log_secret(). */
AS_API void as_log_token(const char *value);
/* Redact registered secrets in buf in place (for text that is shown
 * elsewhere than the log, such as a failure reason).  Returns buf. */
AS_API char *as_log_redact(char *buf, size_t size);

#endif /* ALERTSINK_LOG_H */
