/*
 * tls.c - per-thread scratch buffers (see tls.h).
 *
 * A pthread key, not _Thread_local: its destructor frees a thread's
 * buffers when the thread ends (an input's or a worker's, at reload or
 * stop), where a _Thread_local buffer would be lost.
 */
#include <pthread.h>
#include <stdlib.h>

#include "alertsink/mem.h"
#include "lib/tls.h"

#define AS_TLS_KEEP (1u << 20)

static pthread_key_t as_tls_key;
static pthread_once_t as_tls_once = PTHREAD_ONCE_INIT;

static void as_tls_free(void *p)
{
    as_buf_t *v = p;
    for (int i = 0; i < AS_TLS_COUNT; i++)
        as_buf_free(&v[i]);
    free(v);
}

static void as_tls_init(void)
{
    pthread_key_create(&as_tls_key, as_tls_free);
}

as_buf_t *as_tls_buf(as_tls_slot_t slot)
{
    pthread_once(&as_tls_once, as_tls_init);
    as_buf_t *v = pthread_getspecific(as_tls_key);
    if (v == NULL) {
        v = as_xcalloc(AS_TLS_COUNT, sizeof(*v));
        pthread_setspecific(as_tls_key, v);
    }
    as_buf_reset(&v[slot]);
    return &v[slot];
}

void as_tls_done(as_buf_t *b)
{
    if (b->cap > AS_TLS_KEEP)
        as_buf_free(b);
}
