/*
 * fuzz_socketline.c - the Unix socket input's lines: a client's byte
 * stream cut into lines (inputs/lines.h), each line made a payload as the
 * input makes it (as_payload_parse_or_text: JSON when it starts with { or
 * [, else a plain-text message), or refused with an "ERR" answer.
 *
 * The input is what a client sends.  It is cut three times: whole, with
 * no practical line limit (1 MiB, the default); in pieces of varying
 * sizes, as reads return them, with the same limit; and in pieces with a
 * limit of 128 bytes.  The lines of the first run are parsed.
 *
 * What must hold besides not crashing: the pieces do not change the lines;
 * with the small limit every line is the same or reported too long (a
 * line of at most 128 bytes is never reported so); a refusal is answered
 * on exactly one line; an accepted line is a payload the JSON input takes.
 */
#include <string.h>

#include "alertsink/input.h"
#include "alertsink/json.h"
#include "fuzz.h"
#include "inputs/lines.h"

#define FZ_BIG   (1 << 20)
#define FZ_SMALL 128

typedef struct {
    size_t n, cap;
    char **v; /* the lines, NULL for one too long */
    size_t *len;
} fz_seen_t;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

static void fz_collect(void *arg, char *line, size_t len)
{
    fz_seen_t *s = arg;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = as_xrealloc(s->v, s->cap * sizeof(*s->v));
        s->len = as_xrealloc(s->len, s->cap * sizeof(*s->len));
    }
    s->v[s->n] = NULL;
    if (line != NULL) { /* the bytes, NULs too */
        s->v[s->n] = as_xmalloc(len + 1);
        memcpy(s->v[s->n], line, len);
        s->v[s->n][len] = '\0';
    }
    s->len[s->n++] = len;
}

static void fz_seen_free(fz_seen_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    free(s->len);
}

/* Cut data into lines with limit max, fed in pieces (step 0: at once). */
static void fz_cut(const uint8_t *data, size_t size, size_t max, size_t step, fz_seen_t *out)
{
    as_lines_t l;
    as_lines_init(&l, max);
    char *copy = as_xmalloc(size + 1);
    memcpy(copy, data, size);
    size_t off = 0, k = 1;
    while (off < size) {
        size_t n = step ? (k * step) % 37 + 1 : size;
        if (n > size - off)
            n = size - off;
        as_lines_feed(&l, copy + off, n, fz_collect, out);
        off += n;
        k++;
    }
    as_lines_end(&l, fz_collect, out);
    if (as_lines_pending(&l))
        fz_fail("a line is still pending after the end");
    as_lines_free(&l);
    free(copy);
}

static void fz_answer(const char *line, size_t len)
{
    as_err_t err = {{0}};
    unsigned grouped = 0;
    cJSON *p = as_payload_parse_or_text(NULL, line, len, &grouped, &err);
    if (p == NULL) {
        char *answer = as_lines_err(err.msg);
        size_t alen = strlen(answer);
        if (err.msg[0] == '\0' || strncmp(answer, "ERR ", 4) != 0 || answer[alen - 1] != '\n' ||
            strpbrk(answer, "\r") != NULL || strchr(answer, '\n') != answer + alen - 1)
            fz_fail("a refusal not answered on one line: '%s'", answer);
        free(answer);
        return;
    }
    char *text = as_json_print(p);
    cJSON *p2 = as_payload_parse(NULL, text, strlen(text), &grouped, &err);
    if (p2 == NULL || !(grouped & AS_SUB_GROUPED))
        fz_fail("an accepted line is not a payload the JSON input takes: %s\n%s",
                p2 ? "not an Alertmanager payload" : err.msg, text);
    cJSON_Delete(p2);
    cJSON_free(text);
    cJSON_Delete(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_seen_t whole = {0}, pieces = {0}, small = {0};
    fz_cut(data, size, FZ_BIG, 0, &whole);
    fz_cut(data, size, FZ_BIG, size % 7 + 3, &pieces);
    fz_cut(data, size, FZ_SMALL, size % 5 + 2, &small);

    if (pieces.n != whole.n)
        fz_fail("%zu lines at once, %zu in pieces", whole.n, pieces.n);
    for (size_t i = 0; i < whole.n; i++)
        if (pieces.len[i] != whole.len[i] || memcmp(pieces.v[i], whole.v[i], whole.len[i]) != 0)
            fz_fail("line %zu differs when read in pieces", i);
    if (small.n != whole.n)
        fz_fail("%zu lines, %zu with a small limit", whole.n, small.n);
    for (size_t i = 0; i < whole.n; i++) {
        if (small.v[i] == NULL
                ? whole.len[i] <= FZ_SMALL - 1
                : small.len[i] != whole.len[i] || memcmp(small.v[i], whole.v[i], whole.len[i]) != 0)
            fz_fail("line %zu (%zu bytes) differs with a small limit", i, whole.len[i]);
    }

    for (size_t i = 0; i < whole.n; i++)
        fz_answer(whole.v[i], whole.len[i]);
    fz_seen_free(&whole);
    fz_seen_free(&pieces);
    fz_seen_free(&small);
    return 0;
}
