/*
 * ratelimit.c - token buckets (see ratelimit.h).
 *
 * Buckets are few (one per WhatsApp device), so a list under one mutex is
 * enough.  A reload that changes the rate keeps the tokens a bucket holds,
 * capped to the new burst.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "deliver/ratelimit.h"

typedef struct as_bucket_s {
    struct as_bucket_s *next;
    char *key;
    double tokens;
    int64_t last_ms;
} as_bucket_t;

static pthread_mutex_t as_rl_lock = PTHREAD_MUTEX_INITIALIZER;
static as_bucket_t *as_buckets;

int64_t as_ratelimit_take(const char *key, const as_rate_t *rate, int64_t now_ms)
{
    if (rate->count == 0 || rate->period_ms <= 0)
        return 0;
    pthread_mutex_lock(&as_rl_lock);
    as_bucket_t *b;
    for (b = as_buckets; b && strcmp(b->key, key) != 0; b = b->next)
        ;
    if (b == NULL) {
        b = as_xcalloc(1, sizeof(*b));
        b->key = as_xstrdup(key);
        b->tokens = rate->count;
        b->last_ms = now_ms;
        b->next = as_buckets;
        as_buckets = b;
    }
    double per_ms = (double)rate->count / (double)rate->period_ms;
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * per_ms;
        b->last_ms = now_ms;
    }
    if (b->tokens > rate->count)
        b->tokens = rate->count;
    int64_t wait = 0;
    if (b->tokens >= 1.0)
        b->tokens -= 1.0;
    else
        wait = (int64_t)((1.0 - b->tokens) / per_ms) + 1;
    pthread_mutex_unlock(&as_rl_lock);
    return wait;
}
