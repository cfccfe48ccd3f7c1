/*
 * sched.c - the schedule of notes (see sched.h).
 *
 * One mutex guards both structures; work per note (a delivery) is orders
 * of magnitude longer than a push or a pop, so it is not contended.  The
 * condition variable is waited on with a deadline: the earliest due time
 * in the heap.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "queue/sched.h"

void as_sched_init(as_sched_t *s)
{
    pthread_condattr_t ca;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_REALTIME);
    pthread_cond_init(&s->cond, &ca);
    pthread_cond_init(&s->idle_cond, &ca);
    s->idle_waiters = 0;
    pthread_condattr_destroy(&ca);
    s->head = s->tail = NULL;
    s->heap = NULL;
    s->nheap = s->heapcap = 0;
    s->busy = 0;
    s->waiting = 0;
    s->nfifo = 0;
    s->lane = 0;
    s->lane_ms = 0;
    s->stopping = 0;
}

void as_sched_destroy(as_sched_t *s)
{
    for (as_note_t *n = s->head, *next; n; n = next) {
        next = n->next;
        as_note_free(n);
    }
    for (size_t i = 0; i < s->nheap; i++)
        as_note_free(s->heap[i]);
    free(s->heap);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->idle_cond);
}

static void as_heap_swap(as_sched_t *s, size_t a, size_t b)
{
    as_note_t *t = s->heap[a];
    s->heap[a] = s->heap[b];
    s->heap[b] = t;
}

static void as_heap_up(as_sched_t *s, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (s->heap[p]->due_ms <= s->heap[i]->due_ms)
            break;
        as_heap_swap(s, p, i);
        i = p;
    }
}

static void as_heap_down(as_sched_t *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && s->heap[l]->due_ms < s->heap[m]->due_ms)
            m = l;
        if (r < s->nheap && s->heap[r]->due_ms < s->heap[m]->due_ms)
            m = r;
        if (m == i)
            return;
        as_heap_swap(s, i, m);
        i = m;
    }
}

static void as_fifo_push(as_sched_t *s, as_note_t *n)
{
    n->next = NULL;
    if (s->tail)
        s->tail->next = n;
    else
        s->head = n;
    s->tail = n;
    s->nfifo++;
}

static void as_sched_put(as_sched_t *s, as_note_t *n, int64_t now)
{
    if (n->due_ms <= now) {
        as_fifo_push(s, n);
        return;
    }
    if (s->nheap == s->heapcap) {
        s->heapcap = s->heapcap ? s->heapcap * 2 : 64;
        s->heap = as_xrealloc(s->heap, s->heapcap * sizeof(*s->heap));
    }
    s->heap[s->nheap++] = n;
    as_heap_up(s, s->nheap - 1);
}

void as_sched_push(as_sched_t *s, as_note_t *n)
{
    n->next = NULL;
    as_sched_push_list(s, n);
}

/* Could a worker other than the lane's take the head now? */
static int as_sched_takeable(const as_sched_t *s, int64_t now)
{
    return s->head != NULL && (s->head->single || !s->lane || now - s->lane_ms >= AS_SCHED_LANE_MS);
}

void as_sched_push_list(as_sched_t *s, as_note_t *list)
{
    /* One lock and one wake-up for a whole commit round: the workers pass
     * the wake-up on while work is left (see as_sched_pop); none when the
     * lane's worker will take it. */
    int64_t now = as_now_ms();
    pthread_mutex_lock(&s->lock);
    for (as_note_t *n = list, *next; n != NULL; n = next) {
        next = n->next;
        as_sched_put(s, n, now);
    }
    if (s->waiting > 0 && as_sched_takeable(s, now))
        pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void as_sched_lane_free(as_sched_t *s, int wake)
{
    pthread_mutex_lock(&s->lock);
    s->lane = 0;
    if (wake && s->waiting > 0 && s->head != NULL)
        pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

as_note_t *as_sched_pop(as_sched_t *s, int64_t until_ms, size_t max, size_t *count, int *lane)
{
    *count = 0;
    *lane = 0;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        int64_t now = as_now_ms();
        /* Bounded: nothing more will come before until_ms (the caller is
         * the only worker, so an empty schedule stays empty). */
        int over = until_ms >= 0 &&
                   (now >= until_ms || (s->head == NULL && s->busy == 0 &&
                                        (s->nheap == 0 || s->heap[0]->due_ms > until_ms)));
        if (s->stopping || over) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        while (s->nheap > 0 && s->heap[0]->due_ms <= now) {
            as_note_t *n = s->heap[0];
            s->heap[0] = s->heap[--s->nheap];
            as_heap_down(s, 0);
            as_fifo_push(s, n);
        }
        if (as_sched_takeable(s, now)) {
            /* A single note alone; else the notes up to the next single,
             * with the lane (or beside it, when it is held too long). */
            as_note_t *first = s->head, *last = first;
            size_t n = 1;
            if (!first->single) {
                while (n < max && last->next != NULL && !last->next->single) {
                    last = last->next;
                    n++;
                }
                if (!s->lane) {
                    s->lane = 1;
                    s->lane_ms = now;
                    *lane = 1;
                }
            }
            s->head = last->next;
            if (s->head == NULL)
                s->tail = NULL;
            last->next = NULL;
            s->nfifo -= n;
            s->busy += n;
            *count = n;
            if (s->waiting > 0 && as_sched_takeable(s, now))
                pthread_cond_signal(&s->cond); /* more work: wake another worker */
            pthread_mutex_unlock(&s->lock);
            return first;
        }
        s->waiting++;
        /* Batches behind a held lane: the lane's worker takes them, or
         * this one once the lane is held too long.  So while the lane is
         * young this one looks again when it turns old, even with nothing
         * queued yet: a batch pushed meanwhile wakes nobody (the lane's
         * worker is to take it).  (An old lane with nothing queued needs
         * no deadline: a push then wakes a waiter.) */
        int64_t due = s->lane && now - s->lane_ms < AS_SCHED_LANE_MS ? s->lane_ms + AS_SCHED_LANE_MS
                                                                     : INT64_MAX;
        if (s->nheap > 0 && s->heap[0]->due_ms < due)
            due = s->heap[0]->due_ms;
        if (due != INT64_MAX) {
            struct timespec ts = {.tv_sec = due / 1000, .tv_nsec = (due % 1000) * 1000000};
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        } else {
            pthread_cond_wait(&s->cond, &s->lock);
        }
        s->waiting--;
    }
}

int as_sched_short(as_sched_t *s)
{
    pthread_mutex_lock(&s->lock);
    int shortage = s->waiting == 0 && as_sched_takeable(s, as_now_ms());
    pthread_mutex_unlock(&s->lock);
    return shortage;
}

void as_sched_done(as_sched_t *s, size_t count)
{
    pthread_mutex_lock(&s->lock);
    s->busy -= count;
    /* Only an idle waiter cares; waking the workers here would stampede. */
    if (s->idle_waiters > 0)
        pthread_cond_broadcast(&s->idle_cond);
    pthread_mutex_unlock(&s->lock);
}

void as_sched_stop(as_sched_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

as_note_t *as_sched_take(as_sched_t *s, const char *id)
{
    as_note_t *found = NULL;
    pthread_mutex_lock(&s->lock);
    for (as_note_t **pp = &s->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
        if ((*pp)->batch != NULL || strcmp((*pp)->id, id) != 0)
            continue;
        found = *pp;
        *pp = found->next;
        if (s->tail == found)
            s->tail = prev;
        found->next = NULL;
        s->nfifo--;
        break;
    }
    for (size_t i = 0; found == NULL && i < s->nheap; i++) {
        if (s->heap[i]->batch != NULL || strcmp(s->heap[i]->id, id) != 0)
            continue;
        found = s->heap[i];
        /* The last one takes its place, then goes up or down to where it
         * belongs. */
        s->heap[i] = s->heap[--s->nheap];
        if (i < s->nheap) {
            as_heap_up(s, i);
            as_heap_down(s, i);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

size_t as_sched_depth(as_sched_t *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->nheap + s->busy + s->nfifo;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int as_sched_wait_idle(as_sched_t *s, int64_t until_ms)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        int idle =
            s->head == NULL && s->busy == 0 && (s->nheap == 0 || s->heap[0]->due_ms > until_ms);
        if (idle || as_now_ms() >= until_ms) {
            pthread_mutex_unlock(&s->lock);
            return idle;
        }
        struct timespec ts;
        int64_t t = as_now_ms() + 50;
        if (t > until_ms)
            t = until_ms;
        ts.tv_sec = t / 1000;
        ts.tv_nsec = (t % 1000) * 1000000;
        s->idle_waiters++;
        pthread_cond_timedwait(&s->idle_cond, &s->lock, &ts);
        s->idle_waiters--;
    }
}
