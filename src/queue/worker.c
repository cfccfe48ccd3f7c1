/*
 * worker.c - a delivery worker's turn with a batch: the records a commit
 * round accepted (or the notes that came due together) leave the
 * schedule with one pop, and the batch goes through each step together:
 *
 *   route      each record into its notes (in the record's pool: the
 *              notes' payloads refer to the record's alerts), one "R"
 *              journal line each
 *   sort       a note its route holds for group_wait waits in
 *              groupwait.c; a note for a sink that delivers one at a time
 *              (WhatsApp, email: a peer's round trip each) goes back to the
 *              schedule alone, so that those spread over the workers (the
 *              worker keeps one when the batch has nothing else, and then
 *              gives the schedule's batch lane back: a round trip does
 *              not hold up the next rounds, see sched.h)
 *   deliver    the rest through the delivery pipeline as one batch: each
 *              sink gets all of its notifications in one call
 *   settle     the verdict decides where each note goes on disk (see
 *              batch.h):
 *                finished   journalled out of its batch (or its file removed)
 *                deferred   written to deferred/ and scheduled for its next attempt
 *                dead       written to dead/ with the reasons, logged
 *
 * The journal lines of the batch are gathered and written after routing
 * (before a note may leave the batch), before the sinks are called and
 * once after the batch is settled (as_journal_t);
 * contexts and messages are built in the worker's scratch pool, reset
 * after each batch.  A batch is thus a handful of system calls and no
 * malloc per notification, where a notification at a time was a dozen
 * wake-ups, writes and frees each.
 *
 * A deferred note's file is the note: when it is due and its file has
 * left deferred/ (`alertsink queue drop` or `retry`), the copy in memory
 * is forgotten, never delivered.
 *
 * The daemon's workers and `alertsink send` (engine.h, one-shot) run the
 * same code; send keeps a deferred note in its batch in maildrop/, which
 * the daemon picks up if send gives up first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/clock.h"
#include "alertsink/log.h"
#include "alertsink/mem.h"
#include "deliver/dedup.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "queue/batch.h"
#include "queue/core.h"
#include "queue/groupwait.h"
#include "queue/worker.h"
#include "route/group.h"

/* A note id is a record id and ".N": the longest record id fits. */
_Static_assert(AS_NID_LEN >= AS_ID_LEN + 8, "note ids hold a spool id and a suffix");

/* The most notes a worker takes from the schedule at once: a commit
 * round's worth, and the rest left for another worker (the other CPU). */
#define AS_WORKER_BATCH_MAX 512

static void as_worker_journal(void *jctx, as_note_t *n, char op, const char *channel)
{
    as_journal_line(jctx, n, op, channel);
}

static void as_worker_flush(void *jctx)
{
    as_journal_flush(jctx);
}

/* Where the verdict puts n; a note that is not finished is scheduled
 * again (on *again, pushed after the batch). */
static void as_worker_settle(as_note_t *n, as_attempt_t *a, as_journal_t *j, as_note_t **again)
{
    switch (a->verdict) {
    case AS_VERDICT_FINISHED:
    case AS_VERDICT_NONE:
        as_note_forget(as_core->spool, n, j);
        as_note_free(n);
        return;
    case AS_VERDICT_DEAD: {
        as_metrics_count(AS_M_DEAD, n->receiver, NULL, NULL, 1);
        as_dedup_release(as_core->env.dedupfd, n);
        char *errors = n->errors ? as_json_print(n->errors) : NULL;
        as_log(AS_LOG_ERROR, "notification moved to dead/", AS_S("id", n->id),
               AS_S("receiver", n->receiver), AS_S("reason", a->why),
               AS_S("attempts", errors ? errors : "[]"));
        cJSON_free(errors);
        if (as_core->spool == NULL || as_note_store(as_core->spool, n, AS_Q_DEAD) == 0) {
            as_note_forget(as_core->spool, n, j);
            as_note_free(n);
            return;
        }
        /* Could not write dead/: keep it and try again later. */
        n->due_ms = as_now_ms() + 60000;
        break;
    }
    case AS_VERDICT_DEFER:
        /* `send` keeps it in its batch (maildrop/): its journal says what
         * was done, and the daemon takes over what is left. */
        if (!as_core->oneshot && (n->batch != NULL || n->q != AS_Q_DEFERRED || n->stale)) {
            as_queue_t was = n->q;
            if (as_note_store(as_core->spool, n, AS_Q_DEFERRED) < 0) {
                /* It stays where it is (journalled); retry the write later. */
                n->due_ms = as_now_ms() + 5000;
                break;
            }
            if (n->batch != NULL)
                as_note_forget(as_core->spool, n, j);
            else if (was != AS_Q_TMP && was != AS_Q_DEFERRED)
                as_spool_remove(as_core->spool, was, n->id);
            n->q = AS_Q_DEFERRED;
            n->stale = 0;
        }
        break;
    }
    n->next = *again;
    *again = n;
}

/* Note i of a record, in the record's pool. */
static as_note_t *as_note_of(as_note_t *rec, size_t i)
{
    as_note_t *note = as_note_new(rec->mem);
    /* Ids are at most 24 characters: the suffix always fits. */
    memcpy(note->id, rec->id, sizeof(note->id));
    if (i > 0) {
        size_t len = strnlen(note->id, 28);
        note->id[len] = '.';
        as_int_text(note->id + len + 1, (long long)((i + 1) % 100000u));
    }
    memcpy(note->record, rec->id, sizeof(note->record));
    note->index = (int)i;
    note->routed = 1;
    note->grouped = rec->grouped;
    note->accepted_ms = rec->accepted_ms;
    note->due_ms = rec->accepted_ms;
    note->input = rec->input; /* the pool's */
    note->batch = rec->batch;
    return note;
}

size_t as_worker_route(as_cycle_t *c, as_note_t *rec, as_note_t ***out)
{
    as_groups_t g = {0, NULL};
    as_err_t err;
    /* Routing allocates in the record's pool: the notes' payloads are made
     * there and refer to the record's alerts. */
    as_pool_t *prev = as_json_use_pool(rec->mem->pool);
    int rc = rec->receiver != NULL && as_config_receiver(c->cfg, rec->receiver) == NULL
                 ? as_err_set(&err, "unknown receiver '%s'", rec->receiver)
                 : as_group_split(&c->cfg->route, rec->payload, rec->receiver, &g, &err);
    as_json_use_pool(prev);
    if (rc < 0) {
        as_log(AS_LOG_ERROR, "cannot route a notification", AS_S("id", rec->id),
               AS_S("error", err.msg));
        as_groups_free(&g);
        *out = as_xcalloc(1, sizeof(**out));
        as_note_t *note = as_note_of(rec, 0);
        note->receiver = as_note_str(note, rec->receiver ? rec->receiver : "");
        note->group_key = as_note_str(note, "{}:{}");
        note->route = as_note_str(note, "0");
        note->payload = rec->payload; /* the record's, in the same pool */
        (*out)[0] = note;
        return 1;
    }
    if (g.n == 0)
        as_log(AS_LOG_INFO, "nothing to deliver: no alerts", AS_S("id", rec->id));
    *out = as_xcalloc(g.n ? g.n : 1, sizeof(**out));
    for (size_t i = 0; i < g.n; i++) {
        as_note_t *note = as_note_of(rec, i);
        char rid[128];
        as_route_id(g.v[i].route, rid, sizeof(rid));
        note->receiver = as_note_str(note, g.v[i].receiver);
        note->group_key = as_note_str(note, g.v[i].key);
        note->route = as_note_str(note, rid);
        note->payload = g.v[i].payload;
        g.v[i].payload = NULL;
        (*out)[i] = note;
    }
    size_t n = g.n;
    as_groups_free(&g);
    return n;
}

/* Does n's receiver have a sink that takes one notification at a time? */
static int as_worker_single(const as_cycle_t *c, const as_note_t *n)
{
    const as_receiver_t *rv = n->receiver ? as_config_receiver(c->cfg, n->receiver) : NULL;
    if (rv == NULL)
        return 0;
    for (size_t m = 0; m < c->cfg->mods.n; m++)
        if (rv->channel[m].conf != NULL && c->cfg->mods.v[m]->deliver_batch == NULL)
            return 1;
    return 0;
}

/* A growing array of notes in the scratch pool. */
typedef struct {
    as_note_t **v;
    size_t n, cap;
} as_notes_t;

static void as_notes_add(as_notes_t *v, as_pool_t *scratch, as_note_t *n)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        as_note_t **nv = as_pnalloc(scratch, cap * sizeof(*nv));
        if (v->n > 0)
            memcpy(nv, v->v, v->n * sizeof(*nv));
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = n;
}

/* A record's notes join the batch; the record goes. */
static void as_worker_route_into(as_cycle_t *c, as_note_t *rec, as_notes_t *out, as_pool_t *scratch,
                                 as_journal_t *j)
{
    as_note_t **notes;
    size_t count = as_worker_route(c, rec, &notes);
    as_journal_routed(j, rec, count);
    as_note_free(rec);
    for (size_t i = 0; i < count; i++)
        as_notes_add(out, scratch, notes[i]);
    free(notes);
}

/* Keep n in this batch?  0: it went elsewhere (held, sent on alone,
 * dropped). */
static int as_worker_sort(as_cycle_t *c, as_note_t *n)
{
    if (n->digest && n->payload == NULL && as_groupwait_flush(n) < 0) {
        as_note_free(n); /* an empty placeholder */
        return 0;
    }
    int64_t wait = as_core->oneshot ? 0 : as_groupwait_of(c, n);
    if (wait > 0) {
        as_groupwait_hold(n, wait);
        return 0;
    }
    if (n->batch == NULL && n->q == AS_Q_DEFERRED) {
        /* In active/ while attempted: a crash now leaves it in doubt. */
        as_err_t err;
        if (as_spool_move(as_core->spool, n->id, AS_Q_DEFERRED, AS_Q_ACTIVE, 0, &err) == 0) {
            n->q = AS_Q_ACTIVE;
        } else if (errno == ENOENT) {
            /* Nothing but this worker moves a deferred note's file: it is
             * gone because `alertsink queue drop` removed it, or `queue
             * retry` queued a copy that is due now.  The file is the
             * note; this copy must not deliver it again. */
            as_log(AS_LOG_INFO, "no longer in deferred/ (dropped or retried from the command line)",
                   AS_S("id", n->id), AS_S("receiver", n->receiver));
            as_note_free(n);
            return 0;
        } else {
            /* Attempted where it lies (a read-only spool still delivers):
             * what it does is journalled beside a file that recovery reads
             * without its journal, so if it stays deferred its file is
             * written again (settle). */
            n->stale = 1;
        }
    }
    return 1;
}

void as_worker_batch(as_note_t *list, as_pool_t *scratch, int *lane)
{
    as_cycle_t *c = as_core_cycle();
    as_journal_t j;
    as_journal_init(&j, as_core->spool);

    /* Route the records; notes that came routed join as they are. */
    as_notes_t all = {NULL, 0, 0};
    for (as_note_t *n = list, *next; n != NULL; n = next) {
        next = n->next;
        n->next = NULL;
        if (!n->routed)
            as_worker_route_into(c, n, &all, scratch, &j);
        else
            as_notes_add(&all, scratch, n);
    }
    /* The routing lines ("R ID N") are written before any note of these
     * records leaves the batch (for the schedule, or a group's wait):
     * another worker may finish it at once, and a finished note whose
     * record has no R line on disk would be routed, and sent, again
     * after a crash. */
    as_journal_flush(&j);

    /* What stays in this batch: the notes for sinks that take a batch.  A
     * note for a one-at-a-time sink goes back to the schedule alone, but
     * for one that this worker takes when there is nothing else. */
    as_notes_t keep = {NULL, 0, 0};
    as_note_t *singles = NULL, **stail = &singles;
    int batched = 0;
    for (size_t i = 0; i < all.n; i++) {
        as_note_t *n = all.v[i];
        if (!as_worker_sort(c, n))
            continue;
        int one = as_worker_single(c, n);
        if (all.n > 1 && one) {
            n->single = 1;
            *stail = n;
            stail = &n->next;
            continue;
        }
        batched |= !one;
        as_notes_add(&keep, scratch, n);
    }
    *stail = NULL;
    if (keep.n == 0 && singles != NULL) {
        as_notes_add(&keep, scratch, singles);
        singles = singles->next;
        keep.v[0]->next = NULL;
    }
    /* A peer's round trip does not hold the batch lane (sched.h). */
    if (*lane && !batched) {
        as_sched_lane_free(&as_core->sched, 1);
        *lane = 0;
    }
    if (singles != NULL) {
        as_sched_push_list(&as_core->sched, singles);
        if (!as_core->oneshot && as_sched_short(&as_core->sched))
            as_worker_grow();
    }

    if (keep.n > 0) {
        as_pipeline_env_t env = {as_worker_journal, as_worker_flush, &j, as_core->env.dedupfd};
        as_attempt_t *a = as_pnalloc(scratch, keep.n * sizeof(*a));
        as_pipeline_run(c, &env, keep.v, keep.n, a, scratch);
        as_note_t *again = NULL;
        for (size_t i = 0; i < keep.n; i++) {
            if (as_core->report != NULL)
                as_core->report(as_core->report_arg, keep.v[i], &a[i]);
            as_worker_settle(keep.v[i], &a[i], &j, &again);
        }
        /* Written (and the finished batches released) before the notes
         * that wait for a retry are scheduled again. */
        as_journal_flush(&j);
        if (again != NULL)
            as_sched_push_list(&as_core->sched, again);
    }
    as_journal_free(&j);
    as_pool_reset(scratch);
    as_cycle_unref(c);
}

void as_worker_records(as_note_t *list, as_batch_t *b)
{
    for (as_note_t *r = list; r != NULL; r = r->next) {
        r->batch = b;
        r->due_ms = 0;
    }
    as_sched_push_list(&as_core->sched, list);
    if (as_sched_short(&as_core->sched))
        as_worker_grow();
}

void as_worker_run(int64_t until_ms)
{
    size_t count;
    int lane;
    as_note_t *list;
    as_pool_t *scratch = as_pool_create(); /* this worker's, reset after each batch */
    while ((list = as_sched_pop(&as_core->sched, until_ms, AS_WORKER_BATCH_MAX, &count, &lane)) !=
           NULL) {
        /* Work left behind and nobody waiting for it: one worker more. */
        if (until_ms < 0 && as_sched_short(&as_core->sched))
            as_worker_grow();
        as_worker_batch(list, scratch, &lane);
        if (lane) /* this worker pops next: nobody to wake */
            as_sched_lane_free(&as_core->sched, 0);
        as_sched_done(&as_core->sched, count);
    }
    as_pool_destroy(scratch);
}

int as_worker_grow(void)
{
    pthread_mutex_lock(&as_core->workers_lock);
    int rc = 0;
    if (as_core->workers != NULL && as_core->nworkers < as_core->maxworkers &&
        !atomic_load(&as_core->stopping)) {
        rc = pthread_create(&as_core->workers[as_core->nworkers], NULL, as_worker_main, NULL) == 0
                 ? 0
                 : -1;
        if (rc == 0)
            as_core->nworkers++;
    }
    pthread_mutex_unlock(&as_core->workers_lock);
    return rc;
}

void *as_worker_main(void *arg)
{
    as_worker_run(-1);
    return NULL;
}
