/*
 * payload_cases.h - the fixture runner shared by test_payload.c and
 * test_formats.c, in the manner of curl's tests/data: a case is a set of
 * files with one base name in a fixture directory, so adding a case is
 * adding files.
 *
 *   NAME.out.json  expected result: {"grouped": bool, "format": "...",
 *                  "payload": {...}}; compared as JSON values (member
 *                  order aside)
 *   NAME.err       or: the expected error message, exactly (one line)
 *   NAME.args      optional: lines "label=k=v", "title=T", "severity=S",
 *                  "format=F" (formats only)
 *
 * The input files are the caller's business (see each test).  "Now" is
 * fixed at AS_CASE_NOW_MS so that defaults are reproducible.
 */
#ifndef AS_PAYLOAD_CASES_H
#define AS_PAYLOAD_CASES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alertsink/buf.h"
#include "alertsink/mem.h"
#include "route/payload.h"

/* 2023-11-14T22:13:20.123Z */
#define AS_CASE_NOW_MS 1700000000123LL

#define AS_CASE_MAX_LABELS 16

typedef struct as_case_s {
    char dir[512];
    char name[256];
    as_payload_opts_t opts;
    const char *labels[AS_CASE_MAX_LABELS];
    char *args;         /* the .args file, cut into the strings above */
    const char *format; /* format=..., or NULL */
} as_case_t;

/* A whole file, NUL-terminated; NULL when it does not exist. */
static inline char *as_case_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    as_buf_t b = AS_BUF_INIT;
    as_buf_read(&b, f, 0);
    fclose(f);
    if (len != NULL)
        *len = b.len;
    return as_buf_steal(&b);
}

static inline char *as_case_file(const as_case_t *c, const char *ext, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s%s", c->dir, c->name, ext);
    return as_case_slurp(path, len);
}

static inline void as_case_load_args(as_case_t *c)
{
    memset(&c->opts, 0, sizeof(c->opts));
    c->opts.now_ms = AS_CASE_NOW_MS;
    c->opts.labels = c->labels;
    c->format = NULL;
    c->args = as_case_file(c, ".args", NULL);
    for (char *line = c->args, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (strncmp(line, "label=", 6) == 0 && c->opts.nlabels < AS_CASE_MAX_LABELS)
            c->labels[c->opts.nlabels++] = line + 6;
        else if (strncmp(line, "title=", 6) == 0)
            c->opts.title = line + 6;
        else if (strncmp(line, "severity=", 9) == 0)
            c->opts.severity = line + 9;
        else if (strncmp(line, "format=", 7) == 0)
            c->format = line + 7;
        if (next == NULL)
            break;
    }
}

/* The case names of dir: the base names of its *.out.json and *.err
 * files, sorted.  Returns how many; *names is malloc'd (free each). */
static inline size_t as_case_list(const char *dir, char ***names)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    size_t count = 0;
    *names = NULL;
    for (int i = 0; i < n; i++) {
        const char *f = ents[i]->d_name;
        size_t l = strlen(f);
        size_t base = l > 9 && strcmp(f + l - 9, ".out.json") == 0 ? l - 9
                      : l > 4 && strcmp(f + l - 4, ".err") == 0    ? l - 4
                                                                   : 0;
        if (base > 0) {
            *names = as_xrealloc(*names, (count + 1) * sizeof(char *));
            (*names)[count++] = as_xstrndup(f, base);
        }
        free(ents[i]);
    }
    free(ents);
    return count;
}

/* Compare a result with the case's expectation; print what differs.
 * Returns 0 when it matches. */
static inline int as_case_check(const as_case_t *c, const cJSON *payload, int grouped,
                                const char *format, const char *errmsg)
{
    char *want_err = as_case_file(c, ".err", NULL);
    char *want_out = as_case_file(c, ".out.json", NULL);
    int bad = 0;
    if (want_err != NULL) {
        size_t l = strlen(want_err);
        while (l > 0 && (want_err[l - 1] == '\n' || want_err[l - 1] == '\r'))
            want_err[--l] = '\0';
        if (payload != NULL) {
            char *got = cJSON_Print(payload);
            fprintf(stderr, "FAIL %s/%s: expected error \"%s\", got a payload:\n%s\n", c->dir,
                    c->name, want_err, got);
            cJSON_free(got);
            bad = 1;
        } else if (strcmp(errmsg, want_err) != 0) {
            fprintf(stderr, "FAIL %s/%s: expected error\n  \"%s\"\ngot\n  \"%s\"\n", c->dir,
                    c->name, want_err, errmsg);
            bad = 1;
        }
    } else {
        cJSON *want = cJSON_Parse(want_out);
        if (want == NULL) {
            fprintf(stderr, "FAIL %s/%s: %s.out.json is not JSON\n", c->dir, c->name, c->name);
            bad = 1;
        } else if (payload == NULL) {
            fprintf(stderr, "FAIL %s/%s: expected a payload, got error \"%s\"\n", c->dir, c->name,
                    errmsg);
            bad = 1;
        } else {
            const cJSON *wp = cJSON_GetObjectItemCaseSensitive(want, "payload");
            const cJSON *wg = cJSON_GetObjectItemCaseSensitive(want, "grouped");
            const cJSON *wf = cJSON_GetObjectItemCaseSensitive(want, "format");
            if (!cJSON_Compare(wp, payload, 1)) {
                char *a = cJSON_Print(wp), *b = cJSON_Print(payload);
                fprintf(stderr, "FAIL %s/%s: payload differs\nexpected:\n%s\ngot:\n%s\n", c->dir,
                        c->name, a, b);
                cJSON_free(a);
                cJSON_free(b);
                bad = 1;
            }
            if (wg != NULL && cJSON_IsTrue(wg) != (grouped != 0)) {
                fprintf(stderr, "FAIL %s/%s: grouped %d, expected %d\n", c->dir, c->name, grouped,
                        cJSON_IsTrue(wg));
                bad = 1;
            }
            if (wf != NULL &&
                (format == NULL || !cJSON_IsString(wf) || strcmp(wf->valuestring, format) != 0)) {
                fprintf(stderr, "FAIL %s/%s: format %s, expected %s\n", c->dir, c->name,
                        format ? format : "(none)", cJSON_IsString(wf) ? wf->valuestring : "?");
                bad = 1;
            }
        }
        cJSON_Delete(want);
    }
    if (!bad)
        fprintf(stderr, "ok   %s/%s\n", c->dir, c->name);
    free(want_err);
    free(want_out);
    return bad;
}

#endif
