/*
 * test_segment.c - incoming/ as a write-ahead log: what a reader takes
 * from a segment (the frames of its epoch, whole and checked, nothing of
 * a torn write or of the file's previous use), and the committer's side:
 * rounds appended, a segment sealed and retired to tmp/, reused with a new
 * epoch so that its old frames are never read again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "queue/segment.h"

/* A round's buffer as the committer builds it: room, then the lines. */
static char *round_buf(const char *lines, size_t *len)
{
    size_t n = strlen(lines);
    char *b = malloc(AS_SEGMENT_ROOM + n + 1);
    memset(b, '?', AS_SEGMENT_ROOM);
    memcpy(b + AS_SEGMENT_ROOM, lines, n + 1);
    *len = AS_SEGMENT_ROOM + n;
    return b;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void test_crc32c(void **state)
{
    /* The check value of CRC-32C (RFC 3720's test: "123456789"). */
    assert_int_equal(as_crc32c(0, "123456789", 9), 0xe3069283u);
    /* In pieces, the same. */
    assert_int_equal(as_crc32c(as_crc32c(0, "12345", 5), "6789", 4), 0xe3069283u);
}

static void test_plain_file_is_entries(void **state)
{
    char data[] = "{\"kind\":\"record\"}\n{\"kind\":\"record\"}\n";
    int seg = -1, damaged = -1;
    assert_int_equal(as_segment_entries(data, strlen(data), &seg, &damaged), strlen(data));
    assert_int_equal(seg, 0);
    assert_int_equal(damaged, 0);
}

typedef struct {
    char dir[64];
    as_spool_t *sp;
} env_t;

static int setup(void **state)
{
    env_t *e = calloc(1, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/as-segment-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    as_err_t err;
    e->sp = as_spool_open(e->dir, 0, 1, &err);
    assert_non_null(e->sp);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env_t *e = *state;
    as_spool_close(e->sp);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
    return 0;
}

static char *read_entries(env_t *e, const char *state_dir, const char *name, size_t *len, int *seg)
{
    int damaged;
    char path[256];
    snprintf(path, sizeof(path), "%s/%s/%s", e->dir, state_dir, name);
    size_t n;
    char *data = slurp(path, &n);
    *len = as_segment_entries(data, n, seg, &damaged);
    assert_int_equal(damaged, 0); /* old frames after the new ones are no damage */
    return data;
}

static void commit(env_t *e, as_segments_t *s, const char *lines, const char *name, int fresh)
{
    size_t len;
    char *b = round_buf(lines, &len);
    as_err_t err;
    int started = -1;
    assert_int_equal(as_segment_commit(s, e->sp, b, len, name, &started, &err), 0);
    assert_int_equal(started, fresh);
    free(b);
}

static void test_rounds_then_reuse(void **state)
{
    env_t *e = *state;
    as_segments_t s;
    as_segments_init(&s);
    commit(e, &s, "{\"a\":1}\n{\"a\":2}\n", "seg-1", 1);
    commit(e, &s, "{\"a\":3}\n", "ignored", 0);
    size_t len;
    int seg;
    char *d = read_entries(e, "incoming", "seg-1", &len, &seg);
    assert_int_equal(seg, 1);
    assert_int_equal(len, strlen("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"));
    assert_memory_equal(d, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", len);
    free(d);

    /* Finished: to tmp/, and reused by the next segment under its name. */
    as_segment_seal(&s);
    as_segment_retire(e->sp, "seg-1", 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/tmp/seg-1", e->dir);
    assert_int_equal(access(path, F_OK), 0);
    commit(e, &s, "{\"b\":1}\n", "seg-2", 1);
    assert_int_equal(access(path, F_OK), -1); /* renamed, not copied */
    /* The file holds the old frames after the new one: they are not read. */
    d = read_entries(e, "incoming", "seg-2", &len, &seg);
    assert_int_equal(seg, 1);
    assert_int_equal(len, strlen("{\"b\":1}\n"));
    assert_memory_equal(d, "{\"b\":1}\n", len);
    free(d);
    as_segment_seal(&s);
}

static void test_torn_and_damaged_frames(void **state)
{
    env_t *e = *state;
    as_segments_t s;
    as_segments_init(&s);
    commit(e, &s, "{\"a\":1}\n", "seg-t", 1);
    commit(e, &s, "{\"a\":2}\n", "x", 0);
    commit(e, &s, "{\"a\":3}\n", "x", 0);
    as_segment_seal(&s);
    char path[256];
    snprintf(path, sizeof(path), "%s/incoming/seg-t", e->dir);
    size_t n;
    char *data = slurp(path, &n);
    /* A byte of the last frame's entries changed, as a torn write would
     * leave it: its CRC fails; the end of the segment, no damage. */
    char *third = strstr(data, "{\"a\":3}");
    assert_non_null(third);
    third[5] = '9';
    int seg, damaged;
    size_t len = as_segment_entries(data, n, &seg, &damaged);
    assert_int_equal(seg, 1);
    assert_int_equal(damaged, 0);
    assert_int_equal(len, strlen("{\"a\":1}\n{\"a\":2}\n"));
    free(data);

    /* A frame cut short (the file ends inside it): the frames before it. */
    data = slurp(path, &n);
    len = as_segment_entries(data, n - 3, &seg, &damaged);
    assert_int_equal(damaged, 0);
    assert_int_equal(len, strlen("{\"a\":1}\n{\"a\":2}\n"));
    free(data);

    /* A bad frame in the middle: damage, and the valid frame after it is
     * still read. */
    data = slurp(path, &n);
    char *second = strstr(data, "{\"a\":2}");
    assert_non_null(second);
    second[5] = '9';
    len = as_segment_entries(data, n, &seg, &damaged);
    assert_int_equal(damaged, 1);
    assert_int_equal(len, strlen("{\"a\":1}\n{\"a\":3}\n"));
    assert_memory_equal(data, "{\"a\":1}\n{\"a\":3}\n", len);
    free(data);

    /* A frame of another epoch (another use of the file) is no frame of
     * this segment: the first one's changed, the others still read. */
    data = slurp(path, &n);
    char *frame = strstr(data + AS_SEG_HEAD, "#F ");
    assert_non_null(frame);
    frame[3] = frame[3] == '0' ? '1' : '0';
    len = as_segment_entries(data, n, &seg, &damaged);
    assert_int_equal(damaged, 1);
    assert_int_equal(len, strlen("{\"a\":2}\n{\"a\":3}\n"));
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_plain_file_is_entries),
        cmocka_unit_test_setup_teardown(test_rounds_then_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_and_damaged_frames, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
