/*
 * pool.c - allocation pools and the checked allocators (see alertsink/mem.h).
 *
 * A pool hands out memory by moving a pointer through a chunk (nginx's
 * ngx_pool_t): an allocation is a few instructions, and everything of one
 * lifetime goes back to malloc in one step, a chunk at a time.  The first
 * chunk is allocated with the pool itself, so a small pool costs one
 * malloc; later chunks double in size up to AS_POOL_CHUNK_MAX, and an
 * allocation larger than a quarter of that gets a chunk of its own, so a
 * large string wastes no more than its own size.  A request's payload, a
 * delivery batch's contexts and messages, and a configuration generation
 * each live in one pool.
 *
 * The trade-off is that the tools which find memory errors see a chunk,
 * not the allocations in it.  So:
 *   - under AddressSanitizer (the Sanitize build) every allocation is its
 *     own malloc, chained to the pool, so an overflow of any of them is
 *     reported as it would be with plain malloc;
 *   - under valgrind (the Release build's memcheck tests) the pool is
 *     described to memcheck as a mempool (valgrind/memcheck.h, when the
 *     build machine has it): the room between allocations is
 *     inaccessible and each allocation is tracked until the pool goes.
 *     The requests are made only when valgrind runs the process.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"

#if defined(__SANITIZE_ADDRESS__)
#define AS_POOL_EACH 1 /* one malloc per allocation, for AddressSanitizer */
#elif defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define AS_POOL_VALGRIND 1
#endif
#endif
#ifdef AS_POOL_VALGRIND
/* Outside valgrind a client request does nothing, but it still costs a
 * stack frame and a dozen instructions, and as_pnalloc runs for every
 * node of every payload (4.5% of the daemon's CPU under bench/ingest.sh):
 * the requests are made only when valgrind runs the process. */
static int as_pool_vg;

__attribute__((constructor)) static void as_pool_vg_init(void)
{
    as_pool_vg = RUNNING_ON_VALGRIND != 0;
}

__attribute__((noinline, cold)) static void as_pool_vg_alloc(void *pool, void *p, size_t size)
{
    VALGRIND_MEMPOOL_ALLOC(pool, p, size);
}
#define AS_VG(request)                                                                             \
    do {                                                                                           \
        if (as_pool_vg)                                                                            \
            request;                                                                               \
    } while (0)
#define AS_VG_ALLOC(pool, p, size) AS_VG(as_pool_vg_alloc(pool, p, size))
#else
#define AS_VG(request)             ((void)0)
#define AS_VG_ALLOC(pool, p, size) ((void)0)
#endif

#define AS_POOL_ALIGN     16
#define AS_POOL_FIRST     4096  /* room in the first chunk */
#define AS_POOL_CHUNK_MAX 65536 /* later chunks grow up to this */

typedef struct as_pool_chunk_s {
    struct as_pool_chunk_s *next;
    size_t size;
    _Alignas(AS_POOL_ALIGN) char data[];
} as_pool_chunk_t;

typedef struct as_pool_cleanup_s {
    struct as_pool_cleanup_s *next;
    void (*fn)(void *);
    void *data;
} as_pool_cleanup_t;

struct as_pool_s {
    char *pos, *end;         /* the free room of the current chunk */
    as_pool_chunk_t *chunks; /* chunks allocated after the first, newest first */
    size_t next_size;        /* the next chunk's room */
    as_pool_cleanup_t *cleanups;
    _Alignas(AS_POOL_ALIGN) char first[]; /* the first chunk's room, AS_POOL_FIRST bytes */
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

static void as_pool_start(as_pool_t *pool)
{
    pool->pos = pool->first;
    pool->end = pool->first + AS_POOL_FIRST;
    pool->chunks = NULL;
    pool->next_size = 2 * AS_POOL_FIRST;
    pool->cleanups = NULL;
    AS_VG(VALGRIND_MAKE_MEM_NOACCESS(pool->first, AS_POOL_FIRST));
}

as_pool_t *as_pool_create(void)
{
    as_pool_t *pool = as_xmalloc(sizeof(as_pool_t) + AS_POOL_FIRST);
    AS_VG(VALGRIND_CREATE_MEMPOOL(pool, 0, 0));
    as_pool_start(pool);
    return pool;
}

/* Run the cleanups and free every chunk but the first. */
static void as_pool_clear(as_pool_t *pool)
{
    /* Cleanups run newest first: a handler may use memory allocated earlier. */
    for (as_pool_cleanup_t *c = pool->cleanups, *next; c != NULL; c = next) {
        next = c->next;
        c->fn(c->data);
        free(c);
    }
    for (as_pool_chunk_t *c = pool->chunks, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
}

void as_pool_reset(as_pool_t *pool)
{
    if (pool == NULL)
        return;
    as_pool_clear(pool);
    AS_VG(VALGRIND_DESTROY_MEMPOOL(pool));
    AS_VG(VALGRIND_CREATE_MEMPOOL(pool, 0, 0));
    as_pool_start(pool);
}

void as_pool_destroy(as_pool_t *pool)
{
    if (pool == NULL)
        return;
    as_pool_clear(pool);
    AS_VG(VALGRIND_DESTROY_MEMPOOL(pool));
    free(pool);
}

/* A chunk of at least room bytes, chained to the pool. */
static as_pool_chunk_t *as_pool_chunk(as_pool_t *pool, size_t room)
{
    as_pool_chunk_t *c = as_xmalloc(sizeof(*c) + room);
    c->size = room;
    c->next = pool->chunks;
    pool->chunks = c;
    AS_VG(VALGRIND_MAKE_MEM_NOACCESS(c->data, room));
    return c;
}

#ifndef AS_POOL_EACH
/* The current chunk is short of n bytes: a new one (out of the way of
 * as_pnalloc's few instructions). */
__attribute__((noinline)) static void *as_pnalloc_chunk(as_pool_t *pool, size_t n, size_t size)
{
    if (n > AS_POOL_CHUNK_MAX / 4) {
        /* Large: a chunk of its own; the current one keeps its room. */
        void *p = as_pool_chunk(pool, n)->data;
        AS_VG_ALLOC(pool, p, size);
        return p;
    }
    size_t room = pool->next_size > n ? pool->next_size : n;
    if (pool->next_size < AS_POOL_CHUNK_MAX)
        pool->next_size *= 2;
    as_pool_chunk_t *c = as_pool_chunk(pool, room);
    pool->pos = c->data + n;
    pool->end = c->data + room;
    AS_VG_ALLOC(pool, c->data, size);
    return c->data;
}
#endif

void *as_pnalloc(as_pool_t *pool, size_t size)
{
    size_t n = (size + AS_POOL_ALIGN - 1) & ~(size_t)(AS_POOL_ALIGN - 1);
    if (n == 0)
        n = AS_POOL_ALIGN;
#ifdef AS_POOL_EACH
    return as_pool_chunk(pool, n)->data;
#else
    if ((size_t)(pool->end - pool->pos) < n)
        return as_pnalloc_chunk(pool, n, size);
    void *p = pool->pos;
    pool->pos += n;
    AS_VG_ALLOC(pool, p, size);
    return p;
#endif
}

void *as_palloc(as_pool_t *pool, size_t size)
{
    void *p = as_pnalloc(pool, size);
    memset(p, 0, size);
    return p;
}

char *as_pstrdup(as_pool_t *pool, const char *s)
{
    return s ? as_pstrndup(pool, s, strlen(s)) : NULL;
}

char *as_pstrndup(as_pool_t *pool, const char *s, size_t n)
{
    char *p = as_pnalloc(pool, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *as_psprintf(as_pool_t *pool, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = as_pnalloc(pool, (size_t)n + 1);
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
