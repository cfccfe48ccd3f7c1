/*
 * test_engine.c - the spool, the group committer and the dispatcher end to
 * end in one process, with the file sink: what is acknowledged is
 * delivered exactly once, across failures, restarts and crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "deliver/backoff.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "queue/core.h"
#include "queue/engine.h"
#include "route/payload.h"

typedef struct {
    char dir[256];
    char conf[300];
    char outbox[320];
} env_t;

static void env_write_conf(env_t *e, const char *extra)
{
    FILE *f = fopen(e->conf, "w");
    fprintf(f,
            "log: {level: error}\n"
            "workers: 4\n"
            "spool: {dir: %s/spool, max_age: 1h, max_size: 64MiB}\n"
            "defaults: {dedup_window: 0s}\n"
            "receivers:\n"
            "  - name: out\n"
            "    file: {path: %s}\n"
            "route: {receiver: out}\n%s",
            e->dir, e->outbox, extra ? extra : "");
    fclose(f);
}

static int setup(void **state)
{
    env_t *e = calloc(1, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/as-engine-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->conf, sizeof(e->conf), "%s/a.yaml", e->dir);
    snprintf(e->outbox, sizeof(e->outbox), "%s/out/outbox.jsonl", e->dir);
    char out[300];
    snprintf(out, sizeof(out), "%s/out", e->dir);
    mkdir(out, 0700);
    env_write_conf(e, NULL);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env_t *e = *state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
    return 0;
}

static void core_up(env_t *e)
{
    as_conf_t cf;
    as_cycle_t *c = as_cycle_create(&cf, e->conf, 0);
    if (c == NULL)
        as_conf_print_errors(&cf, stderr);
    as_conf_free_errors(&cf);
    assert_non_null(c);
    as_err_t err;
    assert_int_equal(as_engine_open(c, 0, &err), 0);
    assert_int_equal(as_engine_start(&err), 0);
    as_cycle_unref(c);
}

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int answered, ok;
    char ids[512][AS_NID_LEN];
    as_submit_status_t last;
} waiter_t;

static waiter_t W = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {{0}}, 0};

static void on_done(void *arg, as_submit_status_t st, const char *id)
{
    pthread_mutex_lock(&W.lock);
    if (st == AS_SUBMIT_OK)
        as_str_copy(W.ids[W.ok++], AS_NID_LEN, id);
    W.last = st;
    W.answered++;
    pthread_cond_broadcast(&W.cond);
    pthread_mutex_unlock(&W.lock);
}

static void waiter_reset(void)
{
    pthread_mutex_lock(&W.lock);
    W.answered = W.ok = 0;
    pthread_mutex_unlock(&W.lock);
}

static void wait_answers(int n)
{
    pthread_mutex_lock(&W.lock);
    while (W.answered < n)
        pthread_cond_wait(&W.cond, &W.lock);
    pthread_mutex_unlock(&W.lock);
}

static void submit_text(const char *text)
{
    char json[256];
    snprintf(json, sizeof(json),
             "{\"receiver\":\"x\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
             "\"labels\":{\"alertname\":\"%s\"},\"annotations\":{}}]}",
             text);
    as_submission_t sub = {.input = "test", .payload = cJSON_Parse(json), .flags = AS_SUB_GROUPED};
    as_submit(&sub, on_done, NULL);
}

static void submit_alert(const char *name, const char *instance)
{
    char json[256];
    snprintf(json, sizeof(json),
             "{\"labels\":{\"alertname\":\"%s\",\"instance\":\"%s\"},\"title\":\"t\"}", name,
             instance);
    as_err_t err;
    unsigned flags = 1;
    as_submission_t sub = {.input = "test",
                           .payload = as_payload_parse(NULL, json, strlen(json), &flags, &err)};
    assert_non_null(sub.payload);
    assert_int_equal(flags, 0);
    as_submit(&sub, on_done, NULL);
}

static void *submitter(void *arg)
{
    int base = *(int *)arg;
    for (int i = 0; i < 25; i++) {
        char name[32];
        snprintf(name, sizeof(name), "a%d", base + i);
        submit_text(name);
    }
    return NULL;
}

/* Lines of the outbox that carry id. */
static int outbox_count(env_t *e, const char *id)
{
    FILE *f = fopen(e->outbox, "r");
    if (f == NULL)
        return 0;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        if (id == NULL || strcmp(as_json_str(o, "id"), id) == 0)
            n++;
        assert_string_equal(as_json_str(o, "channel"), "file");
        assert_string_equal(as_json_str(o, "receiver"), "out");
        cJSON_Delete(o);
    }
    fclose(f);
    return n;
}

static int dir_count(env_t *e, const char *state)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/spool/%s", e->dir, state);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_accept_and_deliver_once(void **state)
{
    env_t *e = *state;
    waiter_reset();
    core_up(e);
    pthread_t t[4];
    int base[4] = {0, 100, 200, 300};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, submitter, &base[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    wait_answers(100);
    assert_int_equal(W.ok, 100);
    assert_true(as_sched_wait_idle(&as_core->sched, as_now_ms() + 10000));
    as_engine_stop();
    assert_int_equal(outbox_count(e, NULL), 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(outbox_count(e, W.ids[i]), 1);
    assert_int_equal(dir_count(e, "incoming"), 0);
    assert_int_equal(dir_count(e, "deferred"), 0);

    /* Files the daemon creates are not world-readable. */
    struct stat st;
    assert_int_equal(stat(e->outbox, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    char spool[300];
    snprintf(spool, sizeof(spool), "%s/spool/incoming", e->dir);
    assert_int_equal(stat(spool, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_retry_after_failure_and_restart(void **state)
{
    env_t *e = *state;
    char out[300], cmd[700];
    snprintf(out, sizeof(out), "%s/out", e->dir);
    rmdir(out); /* the sink cannot open its file: transient */
    waiter_reset();
    core_up(e);
    for (int i = 0; i < 5; i++)
        submit_text("retry");
    wait_answers(5);
    assert_int_equal(W.ok, 5);
    /* Wait for the first attempts to fail and be deferred. */
    for (int i = 0; i < 500 && dir_count(e, "deferred") < 5; i++)
        usleep(20000);
    assert_int_equal(dir_count(e, "deferred"), 5);
    as_engine_stop();

    /* Restart on the same spool with the sink working again. */
    mkdir(out, 0700);
    core_up(e);
    assert_true(as_sched_wait_idle(&as_core->sched, as_now_ms() + 15000));
    as_engine_stop();
    for (int i = 0; i < 5; i++)
        assert_int_equal(outbox_count(e, W.ids[i]), 1);
    assert_int_equal(dir_count(e, "deferred"), 0);
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s/spool/incoming')\"", e->dir);
    assert_int_equal(system(cmd), 0);
}

/* A record as the spool's entry format has it. */
static void put_record(FILE *f, const char *id, int64_t accepted_ms, const char *alertname)
{
    fprintf(f,
            "{\"kind\":\"record\",\"id\":\"%s\",\"t\":%lld,\"input\":\"http\",\"receiver\":null,"
            "\"grouped\":true,\"payload\":{\"status\":\"firing\",\"alerts\":[{\"status\":"
            "\"firing\",\"labels\":{\"alertname\":\"%s\"}}]}}\n",
            id, (long long)accepted_ms, alertname);
}

/* A file of incoming/ (the folders made), to write records in. */
static FILE *open_incoming(env_t *e, const char *name)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/spool", e->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/spool/incoming", e->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/spool/incoming/%s", e->dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    return f;
}

/* A record in incoming/ as a crash would have left it, for the start-up
 * recovery to find. */
static void write_record(env_t *e, const char *id, int64_t accepted_ms, const char *alertname)
{
    FILE *f = open_incoming(e, id);
    put_record(f, id, accepted_ms, alertname);
    fclose(f);
}

/* Records in one batch file, as a crash would leave a commit round. */
static void write_records(env_t *e, const char *file, int n)
{
    FILE *f = open_incoming(e, file);
    for (int i = 0; i < n; i++) {
        char id[64], name[16];
        snprintf(id, sizeof(id), "%s-%03d", file, i);
        snprintf(name, sizeof(name), "B%d", i);
        put_record(f, id, as_now_ms(), name);
    }
    fclose(f);
}

/* A sink with deliver_batch gets a batch in one call, and the file sink
 * beside it writes every line: 100 records of one commit round, routed
 * and delivered by one worker as one batch. */
static void test_batch_delivery(void **state)
{
    env_t *e = *state;
    const char *build = getenv("AS_BUILD_DIR");
    char extra[1024], log[400];
    snprintf(log, sizeof(log), "%s/batchy.log", e->dir);
    snprintf(extra, sizeof(extra), "modules: [%s/modules/as_mod_batchy.so]\n", build ? build : ".");
    FILE *f = fopen(e->conf, "w");
    fprintf(f,
            "log: {level: error}\n"
            "workers: 4\n"
            "spool: {dir: %s/spool, max_age: 1h}\n"
            "defaults: {dedup_window: 0s}\n"
            "%s"
            "receivers:\n"
            "  - name: out\n"
            "    file: {path: %s}\n"
            "    batchy: {log: %s}\n"
            "    mode: all\n"
            "route: {receiver: out}\n",
            e->dir, extra, e->outbox, log);
    fclose(f);
    write_records(e, "000000000003-000001-abcd", 100);
    core_up(e);
    assert_true(as_sched_wait_idle(&as_core->sched, as_now_ms() + 10000));
    as_engine_stop();
    assert_int_equal(outbox_count(e, NULL), 100);
    f = fopen(log, "r");
    assert_non_null(f);
    char line[256];
    int calls = 0, ids = 0, total = 0;
    while (fgets(line, sizeof(line), f)) {
        int n;
        if (sscanf(line, "CALL %d", &n) == 1) {
            calls++;
            total += n;
        } else if (strncmp(line, "ID ", 3) == 0) {
            ids++;
            assert_non_null(strstr(line, " text")); /* rendered with the file template */
        }
    }
    fclose(f);
    assert_int_equal(total, 100);
    assert_int_equal(ids, 100);
    assert_int_equal(calls, 1);
    assert_int_equal(dir_count(e, "incoming"), 0);
}

/* A crash after the sink wrote the line but before the spool heard of it:
 * the restart must not write it twice. */
static void test_in_doubt_not_doubled(void **state)
{
    env_t *e = *state;
    char path[400];
    const char *id = "000000000001-000001-abcd";
    write_record(e, id, as_now_ms(), "Doubt");
    FILE *f;
    snprintf(path, sizeof(path), "%s/spool/incoming/%s.log", e->dir, id);
    f = fopen(path, "w");
    fprintf(f, "R %s 1\nA %s file\n", id, id);
    fclose(f);
    f = fopen(e->outbox, "w");
    fprintf(f,
            "{\"id\":\"%s\",\"receiver\":\"out\",\"channel\":\"file\",\"status\":\"firing\","
            "\"text\":\"x\",\"time\":\"2026-01-01T00:00:00Z\"}\n",
            id);
    fclose(f);
    core_up(e);
    assert_true(as_sched_wait_idle(&as_core->sched, as_now_ms() + 5000));
    as_engine_stop();
    assert_int_equal(outbox_count(e, id), 1);
    assert_int_equal(dir_count(e, "incoming"), 0);
}

/* The same for a batch: ten notes in doubt, five of them written before
 * the crash; the file sink reads its tail once for the batch and writes
 * the other five. */
static void test_in_doubt_batch(void **state)
{
    env_t *e = *state;
    const char *file = "000000000004-000001-abcd";
    write_records(e, file, 10);
    char path[400], id[64];
    snprintf(path, sizeof(path), "%s/spool/incoming/%s.log", e->dir, file);
    FILE *j = fopen(path, "w"), *o = fopen(e->outbox, "w");
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "%s-%03d", file, i);
        fprintf(j, "R %s 1\nA %s file\n", id, id);
        if (i % 2 == 0)
            fprintf(o,
                    "{\"id\":\"%s\",\"receiver\":\"out\",\"channel\":\"file\",\"status\":"
                    "\"firing\",\"text\":\"x\",\"time\":\"2026-01-01T00:00:00Z\"}\n",
                    id);
    }
    fclose(j);
    fclose(o);
    core_up(e);
    assert_true(as_sched_wait_idle(&as_core->sched, as_now_ms() + 5000));
    as_engine_stop();
    assert_int_equal(outbox_count(e, NULL), 10);
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "%s-%03d", file, i);
        assert_int_equal(outbox_count(e, id), 1);
    }
    assert_int_equal(dir_count(e, "incoming"), 0);
}

/* The backoff: doubling from 1 s to 5 min with jitter, at least a peer's
 * Retry-After, which is honoured up to a day (a module's INT64_MAX was
 * added to now and wrapped into the past: a retry loop). */
static void test_backoff(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++) {
        int64_t first = as_backoff_ms(1, 0), later = as_backoff_ms(30, 0);
        assert_true(first >= 800 && first <= 1200);
        assert_true(later >= 240000 && later <= 360000);
        assert_int_equal(as_backoff_ms(1, 7000), 7000);
        assert_int_equal(as_backoff_ms(1, INT64_MAX), 24LL * 3600 * 1000);
    }
}

static void test_max_age_to_dead(void **state)
{
    env_t *e = *state;
    const char *id = "000000000002-000001-abcd";
    /* Accepted two hours ago; max_age is 1h. */
    write_record(e, id, as_now_ms() - 7200000, "Old");
    core_up(e);
    assert_true(as_sched_wait_idle(&as_core->sched, as_now_ms() + 5000));
    as_engine_stop();
    assert_int_equal(dir_count(e, "dead"), 1);
    assert_int_equal(dir_count(e, "incoming"), 0);
    assert_int_equal(outbox_count(e, id), 0);
}

static void test_spool_full(void **state)
{
    env_t *e = *state;
    env_write_conf(e, NULL);
    char conf[400];
    snprintf(conf, sizeof(conf), "sed -i 's/max_size: 64MiB/max_size: 10B/' '%s'", e->conf);
    assert_int_equal(system(conf), 0);
    waiter_reset();
    core_up(e);
    submit_text("full");
    wait_answers(1);
    assert_int_equal(W.last, AS_SUBMIT_FULL);
    assert_int_equal(W.ok, 0);
    as_engine_stop();
}

static void test_stopping_refuses(void **state)
{
    env_t *e = *state;
    waiter_reset();
    core_up(e);
    as_engine_drain();
    submit_text("late");
    wait_answers(1);
    assert_int_equal(W.last, AS_SUBMIT_STOPPING);
    as_engine_stop();
}

/* group_wait: single alerts of one group key within the window go out as
 * one notification; across a restart too. */
static void test_group_wait(void **state)
{
    env_t *e = *state;
    env_write_conf(e, "");
    char cmd[600];
    snprintf(cmd, sizeof(cmd),
             "sed -i 's/^route: {receiver: out}$/route: {receiver: out, group_by: [alertname], "
             "group_wait: 700ms}/' '%s'",
             e->conf);
    assert_int_equal(system(cmd), 0);
    waiter_reset();
    core_up(e);
    submit_alert("DiskFull", "db1");
    submit_alert("DiskFull", "db2");
    submit_alert("CpuHot", "web1");
    submit_alert("DiskFull", "db3");
    wait_answers(4);
    assert_int_equal(W.ok, 4);
    assert_true(as_sched_wait_idle(&as_core->sched, as_now_ms() + 10000));
    as_engine_stop();
    /* Two notifications: DiskFull x3 and CpuHot. */
    assert_int_equal(outbox_count(e, NULL), 2);
    FILE *f = fopen(e->outbox, "r");
    char line[8192];
    int saw3 = 0;
    while (fgets(line, sizeof(line), f))
        saw3 |= strstr(line, "[FIRING:3] DiskFull") != NULL && strstr(line, "db3") != NULL;
    fclose(f);
    assert_true(saw3);
    assert_int_equal(dir_count(e, "incoming"), 0);
    assert_int_equal(dir_count(e, "deferred"), 0);

    /* Held, then a stop before the deadline: the restart sends one digest. */
    unlink(e->outbox);
    snprintf(cmd, sizeof(cmd), "sed -i 's/group_wait: 700ms/group_wait: 3s/' '%s'", e->conf);
    assert_int_equal(system(cmd), 0);
    waiter_reset();
    core_up(e);
    submit_alert("Held", "a");
    submit_alert("Held", "b");
    wait_answers(2);
    usleep(200000);
    as_engine_stop();
    assert_int_equal(outbox_count(e, NULL), 0);
    core_up(e);
    assert_true(as_sched_wait_idle(&as_core->sched, as_now_ms() + 10000));
    as_engine_stop();
    assert_int_equal(outbox_count(e, NULL), 1);
    assert_int_equal(dir_count(e, "incoming"), 0);
}

int main(void)
{
    as_log_set_level(AS_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accept_and_deliver_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_failure_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_doubt_not_doubled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_doubt_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_age_to_dead, setup, teardown),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test_setup_teardown(test_spool_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stopping_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_delivery, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    as_metrics_reset();
    return rc;
}
