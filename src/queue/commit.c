/*
 * commit.c - as_submit() and the group committer.
 *
 * An input's thread does the expensive part of a submission itself: the
 * record's spool entry is made there (the body copied as it came), in
 * parallel with other inputs, in the request's pool.  A committer thread
 * then takes every entry queued since its last round, appends them as
 * one frame to its segment of incoming/ (segment.c: one write, one
 * fdatasync), hands the round to the workers as one batch with one
 * wake-up, and answers them all.  Requests that arrive while a round is
 * on disk form the next round, so N concurrent requests cost about two
 * flushes, not 2N: throughput grows with concurrency instead of
 * collapsing to one request per flush.
 *
 * The committers (AS_COMMITTERS, commit.h) each have a segment of their
 * own; with more than one, a round is written while another waits for
 * its flush, at the cost of smaller rounds.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertsink/buf.h"
#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/tls.h"
#include "queue/commit.h"
#include "queue/core.h"
#include "queue/batch.h"
#include "queue/segment.h"
#include "queue/worker.h"

/* The ids answered to inputs are note ids. */
_Static_assert(AS_NID_LEN <= AS_SUBMIT_ID_MAX, "an id fits what inputs hold");

#define AS_COMMIT_MAX_ITEMS 4096
#define AS_COMMIT_MAX_BYTES (16u << 20)

struct as_commit_item_s {
    as_commit_item_t *next;
    as_note_t *note; /* the record; its entry line is note->line */
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

/* Refuse a submission: its memory goes, its input hears why. */
static void as_submit_refuse(as_submission_t *sub, as_submit_status_t why, as_submit_done_pt done,
                             void *arg)
{
    if (sub->pool != NULL) {
        as_pool_destroy(sub->pool); /* the payload was in it */
    } else {
        as_pool_t *prev = as_json_use_pool(NULL);
        cJSON_Delete(sub->payload);
        as_json_use_pool(prev);
    }
    sub->payload = NULL;
    sub->pool = NULL;
    done(arg, why, NULL);
}

void as_submit(as_submission_t *sub, as_submit_done_pt done, void *arg)
{
    const char *input = sub->input ? sub->input : "unknown";
    as_metrics_count(AS_M_RECEIVED, input, NULL, NULL, 1);
    as_phase_t phase = as_core_phase();
    if (phase != AS_PHASE_ACCEPTING) {
        as_submit_refuse(sub, phase == AS_PHASE_STARTING ? AS_SUBMIT_STARTING : AS_SUBMIT_STOPPING,
                         done, arg);
        return;
    }
    if (sub->receiver != NULL) {
        as_cycle_t *c = as_core_cycle();
        int known = as_config_receiver(c->cfg, sub->receiver) != NULL;
        as_cycle_unref(c);
        if (!known) {
            as_submit_refuse(sub, AS_SUBMIT_NO_RECEIVER, done, arg);
            return;
        }
    }

    /* The record, its item and its entry line live in the request's pool,
     * which the record's notes share until the last of them is done. */
    as_mem_t *mem = as_mem_new(sub->pool, sub->pool ? NULL : sub->payload);
    as_note_t *n = as_note_new(mem);
    as_mem_unref(mem); /* the record holds it now */
    as_spool_id(n->id);
    memcpy(n->record, n->id, sizeof(n->record));
    n->accepted_ms = as_now_ms();
    n->input = as_note_str(n, input);
    n->receiver = as_note_str(n, sub->receiver);
    n->grouped = (sub->flags & AS_SUB_GROUPED) != 0;
    n->payload = sub->payload;
    sub->payload = NULL;
    sub->pool = NULL;
    /* The entry is printed here, on the input's thread, in parallel with
     * the other inputs; a webhook body that parsed as it came is copied,
     * not printed again. */
    as_buf_t *line = as_tls_buf(AS_TLS_ENTRY);
    int verbatim = (sub->flags & AS_SUB_VERBATIM) && sub->raw != NULL;
    as_note_entry(n, verbatim ? sub->raw : NULL, verbatim ? sub->raw_len : 0, line);
    n->line = as_pstrndup(mem->pool, line->data, line->len);
    n->line_len = line->len;
    as_tls_done(line);

    if (as_spool_full(as_core->spool, n->line_len)) {
        as_log(AS_LOG_WARN, "spool full: refusing a notification", AS_S("input", input),
               AS_I("max_size", as_core->spool->max_size));
        as_note_free(n);
        done(arg, AS_SUBMIT_FULL, NULL);
        return;
    }
    as_commit_item_t *it = as_palloc(mem->pool, sizeof(*it));
    it->note = n;
    it->done = done;
    it->arg = arg;

    pthread_mutex_lock(&as_core->commit_lock);
    if (!as_core->commit_running) {
        pthread_mutex_unlock(&as_core->commit_lock);
        as_note_free(n);
        done(arg, AS_SUBMIT_STOPPING, NULL);
        return;
    }
    int idle = as_core->commit_head == NULL;
    if (as_core->commit_tail)
        as_core->commit_tail->next = it;
    else
        as_core->commit_head = it;
    as_core->commit_tail = it;
    /* The committer looks at the queue before it sleeps: only the first
     * item of a round has to wake it. */
    if (idle)
        pthread_cond_signal(&as_core->commit_cond);
    pthread_mutex_unlock(&as_core->commit_lock);
}

/* A committer's own: its segment, its batch, its buffers. */
struct as_committer_s {
    pthread_t thread;
    as_segments_t segs;
    as_batch_t *seg_batch; /* the open segment's batch; NULL: none */
    as_buf_t buf;          /* the round, reused round after round */
    struct as_answer_s {
        as_submit_done_pt done;
        void *arg;
        char id[AS_NID_LEN];
    } * answers;
    size_t cap;
};

/* The segment takes no more rounds: the unit its batch held for it goes
 * (and the segment with it once its notes are finished). */
static void as_commit_seal(as_committer_t *k)
{
    as_segment_seal(&k->segs);
    as_batch_t *b = k->seg_batch;
    k->seg_batch = NULL;
    if (b != NULL)
        as_batch_release(b, 1);
}

/* Traffic stopped: the round buffer goes, and so do the pages malloc
 * kept from the requests' pools, so that a daemon at rest is small. */
static void as_commit_rest(as_committer_t *k)
{
    as_commit_seal(k);
    as_buf_free(&k->buf);
    free(k->answers);
    k->answers = NULL;
    k->cap = 0;
    malloc_trim(0);
}

/* Sleep until there is work or a probe is due (see core.c); meanwhile an
 * open segment that saw no round for AS_SEG_IDLE_MS is sealed, so that a
 * spool at rest has nothing in incoming/.  Called with commit_lock held. */
static int as_commit_wait(as_committer_t *k)
{
    for (;;) {
        if (as_core->commit_head != NULL || !as_core->commit_running)
            return 0;
        if (as_core_probe_due())
            return 1;
        int64_t wait = as_core_probe_wait_ms();
        if (wait == 0)
            return 1;
        if (k->segs.fd >= 0) {
            int64_t idle = as_mono_ms() - k->segs.last_ms;
            if (idle >= AS_SEG_IDLE_MS) {
                pthread_mutex_unlock(&as_core->commit_lock);
                as_commit_rest(k);
                pthread_mutex_lock(&as_core->commit_lock);
                continue;
            }
            if (wait < 0 || AS_SEG_IDLE_MS - idle < wait)
                wait = AS_SEG_IDLE_MS - idle;
        }
        if (wait < 0) {
            pthread_cond_wait(&as_core->commit_cond, &as_core->commit_lock);
            continue;
        }
        struct timespec until; /* commit_cond waits on CLOCK_REALTIME */
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
static as_commit_item_t *as_commit_take(as_committer_t *k, size_t *count, size_t *bytes, int *probe)
{
    pthread_mutex_lock(&as_core->commit_lock);
    *probe = as_commit_wait(k);
    as_commit_item_t *head = *probe ? NULL : as_core->commit_head, *last = NULL, *it = head;
    *count = *bytes = 0;
    while (it != NULL && *count < AS_COMMIT_MAX_ITEMS &&
           (*bytes == 0 || *bytes + it->note->line_len <= AS_COMMIT_MAX_BYTES)) {
        (*count)++;
        *bytes += it->note->line_len;
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

static void as_commit_round(as_committer_t *k, as_commit_item_t *head, size_t count, size_t bytes)
{
    /* The round's entries, after room for the segment's headers. */
    as_buf_reset(&k->buf);
    as_buf_reserve(&k->buf, AS_SEGMENT_ROOM + bytes);
    k->buf.len = AS_SEGMENT_ROOM;
    for (as_commit_item_t *it = head; it; it = it->next)
        as_buf_append(&k->buf, it->note->line, it->note->line_len);

    char name[AS_BATCH_NAME_LEN];
    as_spool_batch_name(name, head->note->id);
    as_err_t err;
    int started;
    as_core_write_begin();
    int rc =
        as_segment_commit(&k->segs, as_core->spool, k->buf.data, k->buf.len, name, &started, &err);
    size_t written = started ? k->buf.len : k->buf.len - AS_SEG_HEAD;
    if (k->buf.cap > (4u << 20))
        as_buf_free(&k->buf);
    if (k->seg_batch != NULL && (started || k->segs.fd < 0)) {
        /* The segment before this round's was sealed (full, or failed). */
        as_batch_t *old = k->seg_batch;
        k->seg_batch = NULL;
        as_batch_release(old, 1);
    }
    if (rc == 0 && started) {
        /* A new segment: its batch holds a unit while the segment is open. */
        k->seg_batch = as_batch_open(as_core->spool, name, AS_Q_INCOMING, 1);
        as_batch_segment(k->seg_batch, 0);
    }
    as_batch_t *batch = k->seg_batch;
    if (rc == 0) {
        as_batch_hold(batch, (int)count);
        as_batch_count(batch, (long long)written);
    }
    as_core_write_result(rc < 0 ? err.msg : NULL);
    if (rc < 0) {
        as_log(AS_LOG_WARN, "spool write failed: notifications refused", AS_S("error", err.msg),
               AS_I("count", count));
        for (as_commit_item_t *it = head, *next; it; it = next) {
            next = it->next;
            as_submit_done_pt done = it->done;
            void *arg = it->arg;
            as_note_free(it->note); /* it goes with the note's pool */
            done(arg, AS_SUBMIT_IO_ERROR, NULL);
        }
        return;
    }
    /* Scheduled before answered: whoever hears OK finds the work queued.
     * The items live in the records' pools, which a worker may release as
     * soon as the batch is scheduled: what the answers need is copied
     * first. */
    if (count > k->cap) {
        k->cap = count;
        k->answers = as_xrealloc(k->answers, k->cap * sizeof(*k->answers));
    }
    as_note_t *first = NULL, **tail = &first;
    size_t i = 0, run = 0;
    const char *input = head->note->input;
    for (as_commit_item_t *it = head; it; it = it->next, i++) {
        /* Counted per run of one input, not per notification. */
        if (strcmp(it->note->input, input) != 0) {
            as_metrics_count(AS_M_QUEUED, input, NULL, NULL, (long)run);
            input = it->note->input;
            run = 0;
        }
        run++;
        k->answers[i].done = it->done;
        k->answers[i].arg = it->arg;
        memcpy(k->answers[i].id, it->note->id, AS_NID_LEN);
        *tail = it->note;
        tail = &it->note->next;
    }
    *tail = NULL;
    as_metrics_count(AS_M_QUEUED, input, NULL, NULL, (long)run);
    as_worker_records(first, batch);
    for (i = 0; i < count; i++)
        k->answers[i].done(k->answers[i].arg, AS_SUBMIT_OK, k->answers[i].id);
}

static void as_commit_probe(void)
{
    as_err_t err;
    as_core_write_begin();
    int rc = as_spool_probe(as_core->spool, &err);
    as_core_write_result(rc < 0 ? err.msg : NULL);
}

static void *as_commit_main(void *arg)
{
    as_committer_t *k = arg;
    for (;;) {
        size_t count, bytes;
        int probe;
        as_commit_item_t *head = as_commit_take(k, &count, &bytes, &probe);
        if (probe)
            as_commit_probe();
        else if (head == NULL)
            break; /* stopped and drained */
        else
            as_commit_round(k, head, count, bytes);
    }
    as_commit_rest(k);
    return NULL;
}

int as_commit_start(size_t n, as_err_t *err)
{
    as_core->committers = as_xcalloc(n, sizeof(*as_core->committers));
    as_core->commit_running = 1;
    for (size_t i = 0; i < n; i++) {
        as_committer_t *k = &as_core->committers[i];
        as_segments_init(&k->segs);
        if (pthread_create(&k->thread, NULL, as_commit_main, k) != 0) {
            as_commit_stop();
            return as_err_set(err, "cannot start committer %zu", i);
        }
        as_core->ncommitters++;
    }
    return 0;
}

void as_commit_stop(void)
{
    /* Commits in flight complete: what was answered OK is on disk. */
    pthread_mutex_lock(&as_core->commit_lock);
    as_core->commit_running = 0;
    pthread_cond_broadcast(&as_core->commit_cond);
    pthread_mutex_unlock(&as_core->commit_lock);
    for (size_t i = 0; i < as_core->ncommitters; i++)
        pthread_join(as_core->committers[i].thread, NULL);
    free(as_core->committers);
    as_core->committers = NULL;
    as_core->ncommitters = 0;
}
