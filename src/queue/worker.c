/*
 * worker.c - a delivery worker's turn with a note: a record is routed into
 * its notes first; a note that its route holds for group_wait waits in
 * groupwait.c; the others run through the delivery pipeline, and the
 * verdict decides where the note goes on disk (see batch.h):
 *
 *   finished   journalled out of its batch (or its file removed)
 *   deferred   written to deferred/ and scheduled for its next attempt
 *   dead       written to dead/ with the reasons, logged
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

static void as_worker_settle(as_note_t *n, as_attempt_t *a)
{
    switch (a->verdict) {
    case AS_VERDICT_FINISHED:
    case AS_VERDICT_NONE:
        as_note_forget(as_core->spool, n);
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
            as_note_forget(as_core->spool, n);
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
        if (!as_core->oneshot && (n->batch != NULL || n->q != AS_Q_DEFERRED)) {
            as_queue_t was = n->q;
            if (as_note_store(as_core->spool, n, AS_Q_DEFERRED) < 0) {
                /* It stays where it is (journalled); retry the write later. */
                n->due_ms = as_now_ms() + 5000;
                break;
            }
            if (n->batch != NULL)
                as_note_forget(as_core->spool, n);
            else if (was != AS_Q_TMP)
                as_spool_remove(as_core->spool, was, n->id);
            n->q = AS_Q_DEFERRED;
        }
        break;
    }
    as_sched_push(&as_core->sched, n);
}

static as_note_t *as_note_of(const as_note_t *rec, size_t i)
{
    as_note_t *note = as_note_new();
    /* Ids are at most 24 characters: the suffix always fits. */
    if (i == 0)
        snprintf(note->id, sizeof(note->id), "%.28s", rec->id);
    else
        snprintf(note->id, sizeof(note->id), "%.28s.%u", rec->id, (unsigned)(i + 1) % 100000u);
    snprintf(note->record, sizeof(note->record), "%s", rec->id);
    note->index = (int)i;
    note->routed = 1;
    note->grouped = rec->grouped;
    note->accepted_ms = rec->accepted_ms;
    note->due_ms = rec->accepted_ms;
    note->input = rec->input ? as_xstrdup(rec->input) : NULL;
    note->batch = rec->batch;
    return note;
}

/* The notes of a record, in order; the first keeps the record's id.  A
 * record that cannot be routed (its receiver override went away in a
 * reload) becomes one note for that receiver, which the pipeline then
 * moves to dead/ with the reason: nothing disappears unlogged. */
size_t as_worker_route(as_cycle_t *c, as_note_t *rec, as_note_t ***out)
{
    as_groups_t g = {0, NULL};
    as_err_t err;
    int rc = rec->receiver != NULL && as_config_receiver(c->cfg, rec->receiver) == NULL
                 ? as_err_set(&err, "unknown receiver '%s'", rec->receiver)
                 : as_group_split(&c->cfg->route, rec->payload, rec->receiver, &g, &err);
    if (rc < 0) {
        as_log(AS_LOG_ERROR, "cannot route a notification", AS_S("id", rec->id),
               AS_S("error", err.msg));
        as_groups_free(&g);
        *out = as_xcalloc(1, sizeof(**out));
        as_note_t *note = as_note_of(rec, 0);
        note->receiver = as_xstrdup(rec->receiver ? rec->receiver : "");
        note->group_key = as_xstrdup("{}:{}");
        note->route = as_xstrdup("0");
        note->payload = cJSON_Duplicate(rec->payload, 1);
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
        note->receiver = as_xstrdup(g.v[i].receiver);
        note->group_key = g.v[i].key;
        note->route = as_xstrdup(rid);
        note->payload = g.v[i].payload;
        g.v[i].key = NULL;
        g.v[i].payload = NULL;
        (*out)[i] = note;
    }
    size_t n = g.n;
    as_groups_free(&g);
    return n;
}

void as_worker_note(as_note_t *n)
{
    as_cycle_t *c = as_core_cycle();
    if (!n->routed) {
        as_note_t **notes;
        size_t count = as_worker_route(c, n, &notes);
        if (n->batch != NULL) {
            char line[AS_NID_LEN + 32];
            snprintf(line, sizeof(line), "R %s %zu\n", n->id, count);
            as_batch_write(n->batch, line);
            /* The record's unit becomes its notes' units. */
            as_batch_hold(n->batch, (int)count);
            as_batch_release(n->batch, 1);
        }
        as_note_free(n);
        for (size_t i = 1; i < count; i++)
            as_sched_push(&as_core->sched, notes[i]);
        n = count > 0 ? notes[0] : NULL;
        free(notes);
        if (n == NULL) {
            as_cycle_unref(c);
            return;
        }
    }
    if (n->digest && n->payload == NULL && as_groupwait_flush(n) < 0) {
        as_note_free(n); /* an empty placeholder */
        as_cycle_unref(c);
        return;
    }
    int64_t wait = as_core->oneshot ? 0 : as_groupwait_of(c, n);
    if (wait > 0) {
        as_groupwait_hold(n, wait);
        as_cycle_unref(c);
        return;
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
            as_cycle_unref(c);
            return;
        }
    }
    as_attempt_t a;
    as_pipeline_run(c, as_core_pipeline_env(), n, &a);
    if (as_core->report != NULL)
        as_core->report(as_core->report_arg, n, &a);
    as_worker_settle(n, &a);
    as_cycle_unref(c);
}

void as_worker_records(as_note_t **notes, size_t n, const char *batch)
{
    as_batch_t *b = as_batch_open(as_core->spool, batch, AS_Q_INCOMING, (int)n);
    for (size_t i = 0; i < n; i++) {
        notes[i]->batch = b;
        notes[i]->due_ms = 0;
    }
    as_sched_push_many(&as_core->sched, notes, n);
}

void *as_worker_main(void *arg)
{
    as_note_t *n;
    while ((n = as_sched_pop(&as_core->sched, -1)) != NULL) {
        as_worker_note(n);
        as_sched_done(&as_core->sched);
    }
    return NULL;
}
