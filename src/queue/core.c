/*
 * core.c - the engine's shared state (see core.h): the current cycle, the
 * pipeline's environment, and whether the engine can take work.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alertsink/input.h"
#include "queue/batch.h"
#include "queue/core.h"

as_core_t *as_core; /* NULL until engine.c opens it */

as_cycle_t *as_core_cycle(void)
{
    pthread_mutex_lock(&as_core->cycle_lock);
    as_cycle_t *c = as_cycle_ref(as_core->cycle);
    pthread_mutex_unlock(&as_core->cycle_lock);
    return c;
}

void as_core_set_cycle(as_cycle_t *c)
{
    pthread_mutex_lock(&as_core->cycle_lock);
    as_cycle_t *old = as_core->cycle;
    as_core->cycle = c;
    pthread_mutex_unlock(&as_core->cycle_lock);
    as_cycle_unref(old);
}

static void as_core_journal(as_note_t *n, char op, const char *channel)
{
    as_note_journal(as_core->spool, n, op, channel);
}

void as_core_attach_spool(as_spool_t *sp)
{
    as_core->spool = sp;
    as_core->env.journal = as_core_journal;
    as_core->env.dedupfd = sp != NULL ? sp->dedupfd : -1;
}

const as_pipeline_env_t *as_core_pipeline_env(void)
{
    return &as_core->env;
}

void as_core_write_result(const char *why)
{
    pthread_mutex_lock(&as_core->health_lock);
    snprintf(as_core->write_error, sizeof(as_core->write_error), "%s", why ? why : "");
    pthread_mutex_unlock(&as_core->health_lock);
}

int as_core_ready(char *why, size_t len)
{
    as_spool_t *sp = as_core != NULL ? as_core->spool : NULL;
    char tmp[1];
    if (why == NULL || len == 0) {
        why = tmp;
        len = sizeof(tmp);
    }
    if (as_core == NULL) {
        snprintf(why, len, "not accepting: starting");
        return 0;
    }
    if (sp == NULL || !atomic_load(&as_core->accepting)) {
        snprintf(why, len, "%s",
                 atomic_load(&as_core->stopping) || sp != NULL ? "not accepting: shutting down"
                                                               : "not accepting: starting");
        return 0;
    }
    /* access(2), not a probe file: this runs on an input's thread, which
     * must not wait for the disk.  It sees a read-only file system and
     * permissions (not for root); a full disk or an I/O error shows as
     * the last commit round's failure. */
    if (faccessat(sp->dirfd[AS_Q_TMP], ".", W_OK, AT_EACCESS) < 0) {
        snprintf(why, len, "spool not writable: %s/tmp: %s", sp->dir, strerror(errno));
        return 0;
    }
    if (as_spool_full(sp, 1)) {
        snprintf(why, len, "spool full (spool.max_size %lld bytes)", (long long)sp->max_size);
        return 0;
    }
    pthread_mutex_lock(&as_core->health_lock);
    int failed = as_core->write_error[0] != '\0';
    if (failed)
        snprintf(why, len, "the last spool write failed: %s", as_core->write_error);
    pthread_mutex_unlock(&as_core->health_lock);
    if (failed)
        return 0;
    snprintf(why, len, "ok");
    return 1;
}
