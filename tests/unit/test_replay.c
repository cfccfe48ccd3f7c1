/*
 * test_replay.c - the journal replay that tells a pending note from a
 * finished one (queue/recover.h, as_replay_file), which the start-up load
 * and `alertsink queue` share, and taking one note out of the schedule
 * (queue/sched.h, as_sched_take), which a retried note's pickup uses.
 *
 * Each case is a spool file and its journal, written by hand, and the
 * notes the replay must pass, with their channel states and attempts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "conf/cycle.h"
#include "lib/log.h"
#include "queue/recover.h"
#include "queue/sched.h"
#include "queue/spool.h"

typedef struct {
    char dir[256];
    as_cycle_t *cycle;
    as_spool_t *sp;
} env_t;

static int setup(void **state)
{
    env_t *e = calloc(1, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/as-replay-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    char conf[300], spool[300];
    snprintf(conf, sizeof(conf), "%s/a.yaml", e->dir);
    snprintf(spool, sizeof(spool), "%s/spool", e->dir);
    FILE *f = fopen(conf, "w");
    fprintf(f,
            "log: {level: error}\n"
            "spool: {dir: %s}\n"
            "http: {listen: \"\"}\n"
            "unix: {path: \"\"}\n"
            "receivers:\n"
            "  - name: out\n"
            "    file: {path: %s/outbox.jsonl}\n"
            "route: {receiver: out, group_by: [alertname]}\n",
            spool, e->dir);
    fclose(f);
    as_conf_t cf;
    e->cycle = as_cycle_create(&cf, conf, AS_LOAD_NO_SEND);
    if (e->cycle == NULL)
        as_conf_print_errors(&cf, stderr);
    as_conf_free_errors(&cf);
    assert_non_null(e->cycle);
    as_err_t err;
    e->sp = as_spool_open(spool, 0, 0, &err);
    assert_non_null(e->sp);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env_t *e = *state;
    as_spool_close(e->sp);
    as_cycle_unref(e->cycle);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
    return 0;
}

static void put(env_t *e, const char *state, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/spool/%s/%s", e->dir, state, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A record of alerts named in names (one note per name: group_by alertname). */
static void record(char *buf, size_t len, const char *id, const char *names)
{
    char alerts[1024] = "";
    char copy[256];
    as_str_copy(copy, sizeof(copy), names);
    for (char *save, *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
        size_t o = strlen(alerts);
        snprintf(alerts + o, sizeof(alerts) - o,
                 "%s{\"status\":\"firing\",\"labels\":{\"alertname\":\"%s\"},\"annotations\":{},"
                 "\"startsAt\":\"2026-01-01T00:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
                 "\"generatorURL\":\"\",\"fingerprint\":\"\"}",
                 o ? "," : "", n);
    }
    snprintf(buf, len,
             "{\"kind\":\"record\",\"id\":\"%s\",\"t\":1000,\"input\":\"http\",\"receiver\":null,"
             "\"grouped\":true,\"payload\":{\"receiver\":\"x\",\"status\":\"firing\",\"alerts\":"
             "[%s],\"groupLabels\":{},\"commonLabels\":{},\"commonAnnotations\":{},"
             "\"externalURL\":\"\",\"version\":\"4\",\"groupKey\":\"{}:{}\","
             "\"truncatedAlerts\":0}}\n",
             id, alerts);
}

typedef struct {
    as_note_t *v[16];
    size_t n;
} got_t;

static void take(void *arg, as_note_t *n)
{
    got_t *g = arg;
    assert_true(g->n < 16);
    g->v[g->n++] = n;
}

static void got_free(got_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        as_note_free(g->v[i]);
    g->n = 0;
}

static long replay(env_t *e, as_queue_t q, const char *name, got_t *g)
{
    as_err_t err;
    g->n = 0;
    return as_replay_file(e->sp, e->cycle, q, name, take, g, &err);
}

/* A record never routed is passed as it is; one routed ("R") is routed
 * again, less the notes "X" finished, "D" and "A" applied. */
static void test_records(void **state)
{
    env_t *e = *state;
    char text[4096];
    got_t g;
    record(text, sizeof(text), "r1", "A,B,C");
    put(e, "incoming", "b1", text);
    assert_int_equal(replay(e, AS_Q_INCOMING, "b1", &g), 1);
    assert_false(g.v[0]->routed);
    assert_string_equal(g.v[0]->id, "r1");
    got_free(&g);

    put(e, "incoming", "b1.log",
        "R r1 3\nA r1 file\nD r1 file\nX r1\nA r1.2 file\nA r1.3 file\nA r1.3 file\nD r1.3 file\n"
        "A r1.3 fi"); /* a torn last line is ignored */
    assert_int_equal(replay(e, AS_Q_INCOMING, "b1", &g), 2);
    assert_string_equal(g.v[0]->id, "r1.2");
    assert_true(g.v[0]->routed);
    assert_string_equal(g.v[0]->receiver, "out");
    assert_int_equal(g.v[0]->nch, 1);
    assert_int_equal(g.v[0]->ch[0].state, AS_CH_PENDING);
    assert_int_equal(g.v[0]->ch[0].attempts, 1); /* started: it counts */
    assert_true(g.v[0]->ch[0].in_doubt);
    assert_int_equal(g.v[0]->due_ms, 0); /* a batch's note is due now */
    assert_string_equal(g.v[1]->id, "r1.3");
    assert_int_equal(g.v[1]->ch[0].state, AS_CH_DELIVERED);
    assert_int_equal(g.v[1]->ch[0].attempts, 2);
    assert_false(g.v[1]->ch[0].in_doubt);
    got_free(&g);
}

/* A batch's note with a file of its own in deferred/ or dead/ is that
 * file's: not passed from the batch. */
static void test_stored_apart(void **state)
{
    env_t *e = *state;
    char text[4096];
    got_t g;
    record(text, sizeof(text), "r2", "A,B");
    put(e, "maildrop", "b2", text);
    put(e, "maildrop", "b2.log", "R r2 2\n");
    put(e, "deferred", "r2.2", "{}\n");
    assert_int_equal(replay(e, AS_Q_MAILDROP, "b2", &g), 1);
    assert_string_equal(g.v[0]->id, "r2");
    got_free(&g);
}

/* A file of its own keeps its time; a missing file is an error. */
static void test_own_file(void **state)
{
    env_t *e = *state;
    got_t g;
    put(e, "deferred", "n1",
        "{\"kind\":\"note\",\"id\":\"n1\",\"record\":\"n1\",\"index\":0,\"t\":1000,"
        "\"input\":\"http\",\"receiver\":\"out\",\"grouped\":true,\"group_key\":\"{}:{}\","
        "\"route\":\"0\",\"due\":987654321,\"channels\":{\"file\":{\"state\":\"pending\","
        "\"attempts\":3,\"next\":987654321,\"error\":\"boom\"}},\"errors\":[\"x\"],"
        "\"payload\":{\"alerts\":[]}}\n");
    assert_int_equal(replay(e, AS_Q_DEFERRED, "n1", &g), 1);
    assert_int_equal(g.v[0]->due_ms, 987654321);
    assert_int_equal(g.v[0]->ch[0].attempts, 3);
    assert_string_equal(g.v[0]->ch[0].error, "boom");
    got_free(&g);
    as_err_t err;
    assert_int_equal(as_replay_file(e->sp, e->cycle, AS_Q_DEFERRED, "gone", take, &g, &err), -1);

    /* The same file sent back to incoming/ by a crash during an attempt
     * ("A * *"): in doubt, due now, its attempts kept. */
    char path[600], to[600];
    snprintf(path, sizeof(path), "%s/spool/deferred/n1", e->dir);
    snprintf(to, sizeof(to), "%s/spool/incoming/n1", e->dir);
    assert_int_equal(rename(path, to), 0);
    put(e, "incoming", "n1.log", "A * *\n");
    assert_int_equal(replay(e, AS_Q_INCOMING, "n1", &g), 1);
    assert_true(g.v[0]->ch[0].in_doubt);
    assert_int_equal(g.v[0]->ch[0].attempts, 3);
    assert_int_equal(g.v[0]->due_ms, 0);
    got_free(&g);
}

/* as_sched_take: the note of that id, of its own (not of a batch), out of
 * the FIFO or the heap; the heap stays ordered. */
static void test_sched_take(void **state)
{
    (void)state;
    as_sched_t s;
    as_sched_init(&s);
    int64_t now = as_now_ms();
    static const int64_t due[] = {0, 50000, 10000, 30000, 20000, 40000, 0};
    for (size_t i = 0; i < sizeof(due) / sizeof(due[0]); i++) {
        as_note_t *n = as_note_new(NULL);
        snprintf(n->id, sizeof(n->id), "n%zu", i);
        n->due_ms = due[i] ? now + due[i] : 0;
        if (i == 6)
            n->batch = (as_batch_t *)&s; /* of a batch: never taken */
        as_sched_push(&s, n);
    }
    assert_null(as_sched_take(&s, "nope"));
    assert_null(as_sched_take(&s, "n6"));
    as_note_t *t = as_sched_take(&s, "n2"); /* the heap's root */
    assert_non_null(t);
    as_note_free(t);
    assert_non_null(t = as_sched_take(&s, "n3"));
    as_note_free(t);
    assert_non_null(t = as_sched_take(&s, "n0")); /* the FIFO */
    as_note_free(t);
    assert_null(as_sched_take(&s, "n0"));
    assert_int_equal(as_sched_depth(&s), 4);
    /* The heap gives the rest by due time. */
    const char *order[] = {"n4", "n5", "n1"};
    for (int k = 0; k < 3; k++) {
        assert_true(s.nheap > 0);
        assert_string_equal(s.heap[0]->id, order[k]);
        assert_non_null(t = as_sched_take(&s, order[k]));
        as_note_free(t);
    }
    size_t count;
    int lane;
    t = as_sched_pop(&s, as_now_ms() + 60000, 512, &count, &lane); /* n6, due now, the FIFO */
    assert_non_null(t);
    assert_int_equal(count, 1);
    assert_string_equal(t->id, "n6");
    t->batch = NULL;
    as_note_free(t);
    as_sched_lane_free(&s, 0);
    as_sched_done(&s, 1);
    as_sched_destroy(&s);
}

int main(void)
{
    as_log_set_level(AS_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_file, setup, teardown),
        cmocka_unit_test(test_sched_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
