/*
 * test_file_sink.c - the file sink's promises that need a clock-free
 * interleaving or a crafted file (src/sinks/file/file.c, included here so
 * that its fdatasync can be held):
 *   - a SIGUSR1 reopen while one worker syncs and another waits for that
 *     group sync: both lines are delivered, once (the waiter used to get
 *     "cannot sync: Bad file descriptor", and its retry wrote the line a
 *     second time);
 *   - after a crash, a notification in doubt whose line is in the file is
 *     not written again, even with more than a megabyte of lines after it
 *     or when it is the file's first line; one not in the file is.
 */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static sem_t in_sync, go;
static __thread int hold_sync;
static int test_fdatasync(int fd);

#define fdatasync      test_fdatasync
#define as_file_module as_file_module_under_test
#include "../../src/sinks/file/file.c"
#undef fdatasync

/* A worker that holds its sync until told to go. */
static int test_fdatasync(int fd)
{
    if (hold_sync) {
        sem_post(&in_sync);
        sem_wait(&go);
    }
    return fdatasync(fd);
}

typedef struct {
    as_file_channel_t ch;
    void *inst;
    char path[64];
} env_t;

static int setup(void **state)
{
    env_t *e = calloc(1, sizeof(*e));
    snprintf(e->path, sizeof(e->path), "/tmp/as-file-sink-XXXXXX");
    int fd = mkstemp(e->path);
    assert_true(fd >= 0);
    close(fd);
    e->ch.path = e->path;
    e->ch.mode = 0600;
    as_err_t err;
    assert_int_equal(as_file_init(&e->inst, NULL, NULL, &err), 0);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env_t *e = *state;
    as_file_fini(e->inst);
    unlink(e->path);
    free(e);
    return 0;
}

typedef struct {
    env_t *e;
    const char *id;
    int hold, in_doubt;
    as_result_t res;
} job_t;

static void deliver(job_t *j)
{
    as_notification_t n = {.id = j->id,
                           .receiver = "r",
                           .channel = "file",
                           .status = "firing",
                           .in_doubt = j->in_doubt};
    as_message_t m = {.text = "hello"};
    as_delivery_t d = {.channel = &j->e->ch, .n = &n, .msg = &m, .res = &j->res};
    as_file_deliver_batch(j->e->inst, &d, 1);
}

static void *worker(void *arg)
{
    job_t *j = arg;
    hold_sync = j->hold;
    deliver(j);
    return NULL;
}

/* How many lines of the file have this id. */
static int lines_with(const char *path, const char *id)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char needle[128], *line = NULL;
    size_t cap = 0;
    int n = 0;
    snprintf(needle, sizeof(needle), "{\"id\":\"%s\",", id);
    while (getline(&line, &cap, f) > 0)
        n += strncmp(line, needle, strlen(needle)) == 0;
    free(line);
    fclose(f);
    return n;
}

static void test_reopen_during_a_group_sync(void **state)
{
    env_t *e = *state;
    sem_init(&in_sync, 0, 0);
    sem_init(&go, 0, 0);
    job_t a = {e, "ID-A", 1, 0, {0}}, b = {e, "ID-B", 0, 0, {0}};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, worker, &a);
    sem_wait(&in_sync); /* A wrote its line and is in fdatasync */
    pthread_create(&tb, NULL, worker, &b);
    /* B writes its line and waits for the group's sync, under the lock. */
    for (int i = 0; i < 500; i++) {
        as_file_out_t *o = as_file_out(e->inst, &e->ch);
        pthread_mutex_lock(&o->lock);
        uint64_t written = o->written;
        pthread_mutex_unlock(&o->lock);
        if (written == 2)
            break;
        usleep(1000);
    }
    usleep(50000);
    as_file_reopen(e->inst); /* SIGUSR1: syncs both lines, closes */
    sem_post(&go);           /* A's sync returns */
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    if (a.res.outcome != AS_DELIVERED || b.res.outcome != AS_DELIVERED)
        fail_msg("A: %d %s; B: %d %s", a.res.outcome, a.res.reason, b.res.outcome, b.res.reason);
    assert_int_equal(lines_with(e->path, "ID-A"), 1);
    assert_int_equal(lines_with(e->path, "ID-B"), 1);
    sem_destroy(&in_sync);
    sem_destroy(&go);
}

static void test_in_doubt_found_far_back(void **state)
{
    env_t *e = *state;
    /* The file before the restart: FIRST (the file's first line), then
     * FAR, then 3 MiB of other lines, as later deliveries leave them. */
    FILE *f = fopen(e->path, "w");
    assert_non_null(f);
    fprintf(f, "{\"id\":\"FIRST\",\"text\":\"x\"}\n{\"id\":\"FAR\",\"text\":\"");
    for (int i = 0; i < 1000; i++)
        fputs("a long line, as a big alert group renders ", f);
    fputs("\"}\n", f);
    for (int i = 0; i < 3 * 1024 * 16; i++)
        fprintf(f, "{\"id\":\"other-%06d\",\"text\":\"%s\"}\n", i,
                "filler filler filler filler filler filler filler");
    fclose(f);

    const char *ids[] = {"FAR", "FIRST", "NEVER"};
    for (size_t i = 0; i < 3; i++) {
        job_t j = {e, ids[i], 0, 1, {0}};
        deliver(&j);
        assert_int_equal(j.res.outcome, AS_DELIVERED);
        if (i < 2)
            assert_string_equal(j.res.reason, "written before a restart");
        assert_int_equal(lines_with(e->path, ids[i]), 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reopen_during_a_group_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_doubt_found_far_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
