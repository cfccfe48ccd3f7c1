/*
 * pool.c - allocation pools and the checked allocators (see pool.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"

typedef struct as_pool_block_s {
    struct as_pool_block_s *next;
    max_align_t data[];
} as_pool_block_t;

typedef struct as_pool_cleanup_s {
    struct as_pool_cleanup_s *next;
    void (*fn)(void *);
    void *data;
} as_pool_cleanup_t;

struct as_pool_s {
    as_pool_block_t *blocks;
    as_pool_cleanup_t *cleanups;
};

static void as_oom(void)
{
    fputs("alertsink: out of memory\n", stderr);
    abort();
}

void *as_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        as_oom();
    return p;
}

void *as_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        as_oom();
    return p;
}

void *as_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        as_oom();
    return p;
}

char *as_xstrdup(const char *s)
{
    return as_xstrndup(s, strlen(s));
}

char *as_xstrndup(const char *s, size_t n)
{
    char *p = as_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

as_pool_t *as_pool_create(void)
{
    return as_xcalloc(1, sizeof(as_pool_t));
}

void as_pool_destroy(as_pool_t *pool)
{
    if (pool == NULL)
        return;
    /* Cleanups run newest first: a handler may use memory allocated earlier. */
    for (as_pool_cleanup_t *c = pool->cleanups, *next; c != NULL; c = next) {
        next = c->next;
        c->fn(c->data);
        free(c);
    }
    for (as_pool_block_t *b = pool->blocks, *next; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    free(pool);
}

void *as_palloc(as_pool_t *pool, size_t size)
{
    as_pool_block_t *b = as_xcalloc(1, sizeof(*b) + size);
    b->next = pool->blocks;
    pool->blocks = b;
    return b->data;
}

char *as_pstrdup(as_pool_t *pool, const char *s)
{
    return s ? as_pstrndup(pool, s, strlen(s)) : NULL;
}

char *as_pstrndup(as_pool_t *pool, const char *s, size_t n)
{
    char *p = as_palloc(pool, n + 1);
    memcpy(p, s, n);
    return p;
}

char *as_psprintf(as_pool_t *pool, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = as_palloc(pool, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void as_pool_cleanup(as_pool_t *pool, void (*fn)(void *), void *data)
{
    as_pool_cleanup_t *c = as_xmalloc(sizeof(*c));
    c->fn = fn;
    c->data = data;
    c->next = pool->cleanups;
    pool->cleanups = c;
}
