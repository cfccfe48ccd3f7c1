/*
 * test_sched.c - the schedule's batches and its batch lane (queue/sched.c).
 *
 * Batches (notes that are not single) go to one worker at a time: while
 * the lane is held, what is pushed queues up for the lane's worker, which
 * takes it all in its next pop, and no other worker is woken or started
 * for it; single notes go to any worker meanwhile.  A lane held longer
 * than AS_SCHED_LANE_MS lets another worker take the next batch beside
 * it.  Single-threaded: a pop that would wait is not made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "queue/sched.h"

static as_note_t *note(int single)
{
    as_note_t *n = as_note_new(NULL);
    n->single = single ? 1 : 0;
    n->due_ms = 0;
    return n;
}

/* n notes that are not single, chained. */
static as_note_t *batch(int n)
{
    as_note_t *first = NULL, **tail = &first;
    for (int i = 0; i < n; i++) {
        *tail = note(0);
        tail = &(*tail)->next;
    }
    *tail = NULL;
    return first;
}

static size_t free_list(as_note_t *list)
{
    size_t n = 0;
    for (as_note_t *next; list != NULL; list = next, n++) {
        next = list->next;
        as_note_free(list);
    }
    return n;
}

static void test_rounds_queue_behind_the_lane(void **state)
{
    as_sched_t s;
    as_sched_init(&s);
    size_t count;
    int lane;

    as_sched_push_list(&s, batch(3));
    as_note_t *got = as_sched_pop(&s, -1, 512, &count, &lane);
    assert_int_equal(count, 3);
    assert_int_equal(lane, 1);
    assert_int_equal(free_list(got), 3);

    /* Two rounds while the lane's worker works: nobody else is wanted. */
    as_sched_push_list(&s, batch(2));
    as_sched_push_list(&s, batch(4));
    assert_int_equal(as_sched_short(&s), 0);

    /* A single note can go to another worker meanwhile. */
    as_sched_push(&s, note(1));
    as_sched_lane_free(&s, 0);
    as_sched_done(&s, 3);
    /* The lane's worker comes back: both rounds in one pop. */
    got = as_sched_pop(&s, -1, 512, &count, &lane);
    assert_int_equal(count, 6);
    assert_int_equal(lane, 1);
    assert_int_equal(free_list(got), 6);
    /* The single behind them: to anyone, the lane stays held. */
    got = as_sched_pop(&s, -1, 512, &count, &lane);
    assert_int_equal(count, 1);
    assert_int_equal(lane, 0);
    assert_true(got->single);
    free_list(got);
    as_sched_done(&s, 1);
    as_sched_lane_free(&s, 0);
    as_sched_done(&s, 6);
    as_sched_destroy(&s);
}

static void test_single_note_is_short_work(void **state)
{
    as_sched_t s;
    as_sched_init(&s);
    size_t count;
    int lane;
    as_sched_push_list(&s, batch(1));
    as_note_t *got = as_sched_pop(&s, -1, 512, &count, &lane);
    assert_int_equal(lane, 1);
    free_list(got);
    as_sched_push(&s, note(1));
    assert_int_equal(as_sched_short(&s), 1); /* a worker more would take it */
    got = as_sched_pop(&s, -1, 512, &count, &lane);
    assert_int_equal(lane, 0);
    free_list(got);
    as_sched_done(&s, 1);
    as_sched_lane_free(&s, 0);
    as_sched_done(&s, 1);
    as_sched_destroy(&s);
}

static void test_lane_held_too_long(void **state)
{
    as_sched_t s;
    as_sched_init(&s);
    size_t count;
    int lane;
    as_sched_push_list(&s, batch(1));
    as_note_t *first = as_sched_pop(&s, -1, 512, &count, &lane);
    assert_int_equal(lane, 1);
    as_sched_push_list(&s, batch(2));
    assert_int_equal(as_sched_short(&s), 0);
    usleep((AS_SCHED_LANE_MS + 5) * 1000);
    /* A slow batch: the next one goes beside it, without the lane. */
    assert_int_equal(as_sched_short(&s), 1);
    as_note_t *got = as_sched_pop(&s, -1, 512, &count, &lane);
    assert_int_equal(count, 2);
    assert_int_equal(lane, 0);
    free_list(got);
    free_list(first);
    as_sched_done(&s, 2);
    as_sched_lane_free(&s, 0);
    as_sched_done(&s, 1);
    as_sched_destroy(&s);
}

/* A worker that went to sleep on an empty schedule while the lane was
 * young, and a batch pushed before the lane turned old (which wakes
 * nobody): the worker takes it beside the lane once the lane is old. */
typedef struct {
    as_sched_t *s;
    as_note_t *got;
    size_t count;
    int lane;
    atomic_int done;
} popper_t;

static void *popper(void *arg)
{
    popper_t *p = arg;
    p->got = as_sched_pop(p->s, -1, 512, &p->count, &p->lane);
    atomic_store(&p->done, 1);
    return NULL;
}

static void test_lane_turns_old_while_a_worker_sleeps(void **state)
{
    as_sched_t s;
    as_sched_init(&s);
    size_t count;
    int lane;
    as_sched_push_list(&s, batch(1));
    as_note_t *first = as_sched_pop(&s, -1, 512, &count, &lane);
    assert_int_equal(lane, 1);
    popper_t p = {&s, NULL, 0, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, popper, &p);
    usleep(2000);                     /* it waits: nothing is queued */
    as_sched_push_list(&s, batch(2)); /* behind the young lane: no wake-up */
    int64_t t0 = as_mono_ms();
    while (!atomic_load(&p.done) && as_mono_ms() - t0 < 2000)
        usleep(1000);
    if (!atomic_load(&p.done)) {
        as_sched_stop(&s);
        pthread_join(t, NULL);
        fail_msg("the batch behind a lane held for 2 s was not taken");
    }
    pthread_join(t, NULL);
    assert_int_equal(p.count, 2);
    assert_int_equal(p.lane, 0);
    free_list(p.got);
    free_list(first);
    as_sched_done(&s, 2);
    as_sched_lane_free(&s, 0);
    as_sched_done(&s, 1);
    as_sched_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rounds_queue_behind_the_lane),
        cmocka_unit_test(test_single_note_is_short_work),
        cmocka_unit_test(test_lane_turns_old_while_a_worker_sleeps),
        cmocka_unit_test(test_lane_held_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
