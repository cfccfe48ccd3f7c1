/*
 * groupwait.c - group_wait: alerts from the socket, stdin and
 * /api/v1/alerts that share a receiver and a group key within the route's
 * group_wait are delivered as one notification, a digest (docs/routing.md: an
 * Alertmanager payload is already a group and is never held back).
 *
 * A held note stays where it is on disk (its batch file in incoming/,
 * unfinished), so the batch is durable while it waits; in memory it joins
 * the group of its (receiver, group key), whose deadline is the first
 * member's acceptance plus group_wait.  A placeholder digest note is
 * scheduled for the deadline.  When a worker pops it, the digest's payload
 * is merged from the members (as_group_merge), the digest is written to
 * deferred/ with the members' ids, and only then are the members finished
 * in their batches.  A crash in between leaves both; the start-up load
 * drops members a digest already names, so nothing is sent twice and
 * nothing is lost.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "conf/config.h"
#include "lib/log.h"
#include "queue/batch.h"
#include "queue/core.h"
#include "queue/groupwait.h"
#include "route/group.h"

typedef struct as_gw_s {
    struct as_gw_s *next;
    as_note_t *digest; /* the placeholder in the schedule */
    as_note_t **members;
    size_t n, cap;
} as_gw_t;

static pthread_mutex_t as_gw_lock = PTHREAD_MUTEX_INITIALIZER;
static as_gw_t *as_gws;

int64_t as_groupwait_of(const as_cycle_t *c, const as_note_t *n)
{
    if (!n->routed || n->grouped || n->digest)
        return 0;
    if (as_note_handled(n))
        return 0; /* held once already: delivering */
    const as_route_t *r = as_route_of(&c->cfg->route, n->route, n->group_key);
    return r ? r->wait : 0;
}

static int as_gw_same(const as_note_t *a, const as_note_t *b)
{
    return strcmp(a->receiver, b->receiver) == 0 && strcmp(a->group_key, b->group_key) == 0;
}

void as_groupwait_hold(as_note_t *n, int64_t wait_ms)
{
    pthread_mutex_lock(&as_gw_lock);
    as_gw_t *g;
    for (g = as_gws; g && !as_gw_same(g->digest, n); g = g->next)
        ;
    as_note_t *d = NULL;
    if (g == NULL) {
        g = as_xcalloc(1, sizeof(*g));
        d = as_note_new(NULL); /* on the heap: it outlives its members' pools */
        snprintf(d->id, sizeof(d->id), "%.30s-g", n->id);
        as_str_copy(d->record, sizeof(d->record), d->id);
        d->routed = 1;
        d->digest = 1;
        d->accepted_ms = n->accepted_ms;
        d->due_ms = n->accepted_ms + wait_ms;
        d->input = as_note_str(d, n->input);
        d->receiver = as_xstrdup(n->receiver);
        d->group_key = as_xstrdup(n->group_key);
        d->route = as_xstrdup(n->route);
        g->digest = d;
        g->next = as_gws;
        as_gws = g;
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 8;
        g->members = as_xrealloc(g->members, g->cap * sizeof(*g->members));
    }
    g->members[g->n++] = n;
    /* Under the lock: once it is released, the group's digest may be
     * flushed by another worker, and n freed with it. */
    as_log(AS_LOG_DEBUG, "held for group_wait", AS_S("id", n->id), AS_S("receiver", n->receiver),
           AS_S("group_key", n->group_key), AS_I("wait_ms", wait_ms));
    pthread_mutex_unlock(&as_gw_lock);
    if (d != NULL)
        as_sched_push(&as_core->sched, d);
}

static as_gw_t *as_gw_take(const as_note_t *d)
{
    pthread_mutex_lock(&as_gw_lock);
    as_gw_t **pp = &as_gws;
    while (*pp && (*pp)->digest != d)
        pp = &(*pp)->next;
    as_gw_t *g = *pp;
    if (g != NULL)
        *pp = g->next;
    pthread_mutex_unlock(&as_gw_lock);
    return g;
}

int as_groupwait_flush(as_note_t *d)
{
    as_gw_t *g = as_gw_take(d);
    if (g == NULL || g->n == 0) {
        free(g ? g->members : NULL);
        free(g);
        return -1;
    }
    const cJSON **payloads = as_xcalloc(g->n, sizeof(*payloads));
    d->members = cJSON_CreateArray();
    for (size_t i = 0; i < g->n; i++) {
        payloads[i] = g->members[i]->payload;
        cJSON_AddItemToArray(d->members, cJSON_CreateString(g->members[i]->id));
        if (g->members[i]->accepted_ms < d->accepted_ms)
            d->accepted_ms = g->members[i]->accepted_ms;
    }
    d->payload = as_group_merge(payloads, g->n);
    free(payloads);
    d->due_ms = 0;

    if (as_note_store(as_core->spool, d, AS_Q_DEFERRED) < 0) {
        /* The digest cannot be written: deliver the members one by one,
         * as they are (they are still safe in their batches). */
        for (size_t i = 0; i < g->n; i++) {
            g->members[i]->grouped = 1;
            as_sched_push(&as_core->sched, g->members[i]);
        }
        free(g->members);
        free(g);
        return -1;
    }
    d->q = AS_Q_DEFERRED;
    as_log(AS_LOG_INFO, "group_wait digest", AS_S("id", d->id), AS_S("receiver", d->receiver),
           AS_S("group_key", d->group_key), AS_I("notifications", g->n));
    for (size_t i = 0; i < g->n; i++) {
        as_note_forget(as_core->spool, g->members[i], NULL);
        as_note_free(g->members[i]);
    }
    free(g->members);
    free(g);
    return 0;
}

as_note_t *as_groupwait_release_all(void)
{
    pthread_mutex_lock(&as_gw_lock);
    as_note_t *all = NULL;
    for (as_gw_t *g = as_gws, *next; g; g = next) {
        next = g->next;
        for (size_t i = 0; i < g->n; i++) {
            g->members[i]->next = all;
            all = g->members[i];
        }
        free(g->members);
        free(g);
    }
    as_gws = NULL;
    pthread_mutex_unlock(&as_gw_lock);
    return all;
}
