/*
 * pool.h - allocation pools: everything of one configuration generation is
 * allocated from its pool and freed at once when the generation goes away
 * (nginx's ngx_pool_t).  Cleanup handlers release what is not plain memory
 * (compiled regexes, dlopen handles).  Each allocation is its own malloc so
 * AddressSanitizer and valgrind see every overflow.
 */
#ifndef AS_POOL_H
#define AS_POOL_H

#include "alertsink/module.h"

as_pool_t *as_pool_create(void);
void as_pool_destroy(as_pool_t *pool);
char *as_pstrndup(as_pool_t *pool, const char *s, size_t n);
char *as_psprintf(as_pool_t *pool, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Abort on out-of-memory: a daemon that cannot allocate a few bytes cannot
 * keep its promises either, and every caller checking would hide real errors. */
void *as_xmalloc(size_t n);
void *as_xcalloc(size_t n, size_t size);
void *as_xrealloc(void *p, size_t n);
char *as_xstrdup(const char *s);
char *as_xstrndup(const char *s, size_t n);

#endif
