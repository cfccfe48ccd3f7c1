/*
 * alertsink/mem.h - memory: allocation pools, and allocators that do not
 * return NULL.
 *
 * A pool owns everything of one lifetime and frees it at once (nginx's
 * ngx_pool_t): the configuration of one generation, with its compiled
 * regexes and loaded modules, is freed whole when the generation goes
 * away; a request's payload and a delivery batch's messages likewise.
 * Cleanup handlers release what is not plain memory.  Allocation moves a
 * pointer through chunks of memory; under AddressSanitizer each
 * allocation is its own malloc and under valgrind the chunks are
 * described to memcheck, so both still see every overflow.  A pool is
 * used by one thread at a time.
 *
 * The as_x* allocators abort on out-of-memory: a daemon that cannot
 * allocate a few bytes cannot keep its promises either, and every caller
 * checking would hide real errors.
 */
#ifndef ALERTSINK_MEM_H
#define ALERTSINK_MEM_H

#include "alertsink/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct as_pool_s as_pool_t;

AS_API as_pool_t *as_pool_create(void);
AS_API void as_pool_destroy(as_pool_t *pool);
/* Run the cleanups and give back everything allocated: the pool is as
 * new (for a pool reused batch after batch). */
AS_API void as_pool_reset(as_pool_t *pool);
AS_API void *as_palloc(as_pool_t *pool, size_t size);  /* zeroed */
AS_API void *as_pnalloc(as_pool_t *pool, size_t size); /* not zeroed */
AS_API char *as_pstrdup(as_pool_t *pool, const char *s);
AS_API char *as_pstrndup(as_pool_t *pool, const char *s, size_t n);
AS_API char *as_psprintf(as_pool_t *pool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Run fn(data) when the pool is destroyed (last registered, first run). */
AS_API void as_pool_cleanup(as_pool_t *pool, void (*fn)(void *), void *data);

AS_API void *as_xmalloc(size_t n);
AS_API void *as_xcalloc(size_t n, size_t size);
AS_API void *as_xrealloc(void *p, size_t n);
AS_API char *as_xstrdup(const char *s);
AS_API char *as_xstrndup(const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* ALERTSINK_MEM_H */
