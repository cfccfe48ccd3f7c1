/*
 * commit.c - as_submit() and the group committer.
 *
 * An input's thread does the expensive part of a submission itself: the
 * payload is printed as a spool entry line there, in parallel with other
 * inputs.  The committer thread then takes every line queued since its
 * last round, writes them as one batch file (tmp/, fdatasync, rename into
 * incoming/, fsync the directory) and answers them all.  Requests that
 * arrive while a round is on disk form the next round, so N concurrent
 * requests cost about two fsyncs, not 2N: throughput grows with
 * concurrency instead of collapsing to one request per fsync.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertsink/buf.h"
#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "queue/commit.h"
#include "queue/core.h"
#include "queue/worker.h"

/* The ids answered to inputs are note ids. */
_Static_assert(AS_NID_LEN <= AS_SUBMIT_ID_MAX, "an id fits what inputs hold");

#define AS_COMMIT_MAX_ITEMS 4096
#define AS_COMMIT_MAX_BYTES (16u << 20)

struct as_commit_item_s {
    as_commit_item_t *next;
    as_note_t *note;
    as_buf_t line;
    as_submit_done_pt done;
    void *arg;
};

const char *as_submit_status_text(as_submit_status_t status)
{
    switch (status) {
    case AS_SUBMIT_OK:
        return "queued";
    case AS_SUBMIT_FULL:
        return "spool full";
    case AS_SUBMIT_STOPPING:
        return "shutting down";
    case AS_SUBMIT_NO_RECEIVER:
        return "no such receiver";
    case AS_SUBMIT_IO_ERROR:
        return "spool write failed";
    case AS_SUBMIT_STARTING:
        return "starting";
    }
    return "error";
}

void as_submit_rejected(const char *input, const char *reason)
{
    as_metrics_count(AS_M_REJECTED, input, reason, NULL, 1);
}

void as_submit(as_submission_t *sub, as_submit_done_pt done, void *arg)
{
    const char *input = sub->input ? sub->input : "unknown";
    as_metrics_count(AS_M_RECEIVED, input, NULL, NULL, 1);
    as_phase_t phase = as_core_phase();
    if (phase != AS_PHASE_ACCEPTING) {
        cJSON_Delete(sub->payload);
        done(arg, phase == AS_PHASE_STARTING ? AS_SUBMIT_STARTING : AS_SUBMIT_STOPPING, NULL);
        return;
    }
    if (sub->receiver != NULL) {
        as_cycle_t *c = as_core_cycle();
        int known = as_config_receiver(c->cfg, sub->receiver) != NULL;
        as_cycle_unref(c);
        if (!known) {
            cJSON_Delete(sub->payload);
            done(arg, AS_SUBMIT_NO_RECEIVER, NULL);
            return;
        }
    }

    as_commit_item_t *it = as_xcalloc(1, sizeof(*it));
    as_note_t *n = as_note_new();
    as_spool_id(n->id);
    snprintf(n->record, sizeof(n->record), "%s", n->id);
    n->accepted_ms = as_now_ms();
    n->input = as_xstrdup(input);
    n->receiver = sub->receiver ? as_xstrdup(sub->receiver) : NULL;
    n->grouped = (sub->flags & AS_SUB_GROUPED) != 0;
    n->payload = sub->payload;
    sub->payload = NULL;
    as_note_entry(n, &it->line);
    it->note = n;
    it->done = done;
    it->arg = arg;

    if (as_spool_full(as_core->spool, it->line.len)) {
        as_log(AS_LOG_WARN, "spool full: refusing a notification", AS_S("input", input),
               AS_I("max_size", as_core->spool->max_size));
        as_note_free(n);
        as_buf_free(&it->line);
        free(it);
        done(arg, AS_SUBMIT_FULL, NULL);
        return;
    }

    pthread_mutex_lock(&as_core->commit_lock);
    if (!as_core->commit_running) {
        pthread_mutex_unlock(&as_core->commit_lock);
        as_note_free(n);
        as_buf_free(&it->line);
        free(it);
        done(arg, AS_SUBMIT_STOPPING, NULL);
        return;
    }
    if (as_core->commit_tail)
        as_core->commit_tail->next = it;
    else
        as_core->commit_head = it;
    as_core->commit_tail = it;
    pthread_cond_signal(&as_core->commit_cond);
    pthread_mutex_unlock(&as_core->commit_lock);
}

/* Sleep until there is work or a probe is due (see core.c). */
static int as_commit_wait(void)
{
    for (;;) {
        if (as_core->commit_head != NULL || !as_core->commit_running)
            return 0;
        if (as_core_probe_due())
            return 1;
        int64_t wait = as_core_probe_wait_ms();
        if (wait == 0)
            return 1;
        if (wait < 0) {
            pthread_cond_wait(&as_core->commit_cond, &as_core->commit_lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait / 1000;
        until.tv_nsec += (wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&as_core->commit_cond, &as_core->commit_lock, &until);
    }
}

/* Take the next round: everything queued, up to the limits; or nothing,
 * with *probe set when the spool is to be probed instead. */
static as_commit_item_t *as_commit_take(size_t *count, size_t *bytes, int *probe)
{
    pthread_mutex_lock(&as_core->commit_lock);
    *probe = as_commit_wait();
    as_commit_item_t *head = *probe ? NULL : as_core->commit_head, *last = NULL, *it = head;
    *count = *bytes = 0;
    while (it != NULL && *count < AS_COMMIT_MAX_ITEMS &&
           (*bytes == 0 || *bytes + it->line.len <= AS_COMMIT_MAX_BYTES)) {
        (*count)++;
        *bytes += it->line.len;
        last = it;
        it = it->next;
    }
    if (last != NULL) {
        as_core->commit_head = last->next;
        if (as_core->commit_head == NULL)
            as_core->commit_tail = NULL;
        last->next = NULL;
    }
    pthread_mutex_unlock(&as_core->commit_lock);
    return last ? head : NULL;
}

static void as_commit_round(as_commit_item_t *head, size_t count, size_t bytes)
{
    as_buf_t buf = AS_BUF_INIT;
    as_buf_reserve(&buf, bytes);
    for (as_commit_item_t *it = head; it; it = it->next)
        as_buf_append(&buf, it->line.data, it->line.len);

    char name[AS_NID_LEN];
    snprintf(name, sizeof(name), "%s", head->note->id);
    as_err_t err;
    as_core_write_begin();
    int rc = as_spool_write(as_core->spool, AS_Q_INCOMING, name, buf.data, buf.len, &err);
    as_buf_free(&buf);
    as_core_write_result(rc < 0 ? err.msg : NULL);
    if (rc < 0)
        as_log(AS_LOG_WARN, "spool write failed: notifications refused", AS_S("error", err.msg),
               AS_I("count", count));

    if (rc < 0) {
        for (as_commit_item_t *it = head, *next; it; it = next) {
            next = it->next;
            it->done(it->arg, AS_SUBMIT_IO_ERROR, NULL);
            as_note_free(it->note);
            as_buf_free(&it->line);
            free(it);
        }
        return;
    }
    /* Scheduled before answered: whoever hears OK finds the work queued.
     * The ids are copied first, as a worker may finish a note at once. */
    as_note_t **notes = as_xcalloc(count, sizeof(*notes));
    char(*ids)[AS_NID_LEN] = as_xcalloc(count, sizeof(*ids));
    size_t i = 0;
    for (as_commit_item_t *it = head; it; it = it->next) {
        as_metrics_count(AS_M_QUEUED, it->note->input, NULL, NULL, 1);
        memcpy(ids[i], it->note->id, AS_NID_LEN);
        notes[i++] = it->note;
    }
    as_worker_records(notes, i, name);
    i = 0;
    for (as_commit_item_t *it = head, *next; it; it = next) {
        next = it->next;
        it->done(it->arg, AS_SUBMIT_OK, ids[i++]);
        as_buf_free(&it->line);
        free(it);
    }
    free(ids);
    free(notes);
}

static void as_commit_probe(void)
{
    as_err_t err;
    as_core_write_begin();
    int rc = as_spool_probe(as_core->spool, &err);
    as_core_write_result(rc < 0 ? err.msg : NULL);
}

void *as_commit_main(void *arg)
{
    for (;;) {
        size_t count, bytes;
        int probe;
        as_commit_item_t *head = as_commit_take(&count, &bytes, &probe);
        if (probe)
            as_commit_probe();
        else if (head == NULL)
            return NULL; /* stopped and drained */
        else
            as_commit_round(head, count, bytes);
    }
}
