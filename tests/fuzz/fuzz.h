/*
 * fuzz.h - what the harnesses of tests/fuzz/ share.
 *
 * A harness is one file, fuzz_NAME.c, that defines LLVMFuzzerTestOneInput()
 * (and LLVMFuzzerInitialize() when it needs set-up once).  The same file
 * links either with libFuzzer (`make fuzz`, clang) or with replay.c, the
 * plain main() that ctest runs on the committed corpus and regression
 * inputs in every build.
 *
 * Most parsers take one string, and their input is the fuzz input as it
 * is.  Some take several things at once: a configuration and the files it
 * includes, a template and its data, stdin and the environment.  Such an
 * input is written as one text: the body first, then sections, each
 * opened by a line of its own
 *
 *   #@KEY ARG
 *
 * whose content runs to the next such line.  A configuration stays a valid
 * YAML file (the lines are comments to YAML), so a plain configuration,
 * template or payload is a valid input as it is.  Which keys mean
 * something is each harness's business (its header comment says).
 */
#ifndef AS_FUZZ_H
#define AS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "conf/cycle.h"
#include "lib/httpc.h"

/* libFuzzer's entry points, defined by each harness. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Sections past this many stay in the content of the last one. */
#define FZ_MAX_PARTS 32

typedef struct fz_part_s {
    const char *key; /* "" for the body */
    const char *arg; /* the rest of the "#@KEY ARG" line, "" when none */
    const char *data;
    size_t len; /* data[len] is a NUL; data may hold NULs before it */
} fz_part_t;

typedef struct fz_input_s {
    size_t n; /* parts[0] is the body, always there */
    fz_part_t parts[FZ_MAX_PARTS];
    char *buf; /* the one allocation every part points into */
} fz_input_t;

/* Cut size bytes of data into the body and its sections. */
void fz_input_split(fz_input_t *in, const uint8_t *data, size_t size);
void fz_input_free(fz_input_t *in);
/* The next part with key after index *pos (start with *pos = 0, which is
 * the body); NULL when there is none. */
const fz_part_t *fz_input_next(const fz_input_t *in, const char *key, size_t *pos);
/* The first part with key, or NULL. */
const fz_part_t *fz_input_get(const fz_input_t *in, const char *key);

/* The lines of data (NUL bytes end a line too, as they cannot be in an
 * environment string) as a NULL-terminated array of malloc'd strings,
 * empty lines left out: an environment block, option values. */
char **fz_lines(const char *data, size_t len);
void fz_lines_free(char **lines);

/* Instants to evaluate time at, into t (at most max): month ends, leap
 * days, DST changes, the ends of what an int year holds, then some drawn
 * from data.  Returns how many. */
size_t fz_instants(const uint8_t *data, size_t size, int64_t *t, size_t max);

/* Logging off: what a harness makes the code log is noise. */
void fz_quiet(void);

/* A private directory for this process (removed at exit): its path. */
const char *fz_tmpdir(void);
/* Empty the directory of fz_tmpdir(), keeping it. */
void fz_tmpdir_clear(void);
/* Write a file under fz_tmpdir(); name is made safe first ([A-Za-z0-9._-]
 * and '/' between such components, one level of folders at most; what
 * else it holds becomes '_').  Returns the path (malloc'd), or NULL when
 * the name is empty or the file cannot be written. */
char *fz_write(const char *name, const char *data, size_t len);

/* A file of the source tree (tests/fuzz/..., relative to it), malloc'd
 * and NUL-terminated, or NULL when it cannot be read. */
char *fz_source_file(const char *rel, size_t *len);
/* A path in the source tree, malloc'd. */
char *fz_source_path(const char *rel);

/* A configuration of the harness's own, as -t loads one (modules in check
 * mode: no I/O); a harness that cannot load its own is broken, so this
 * fails loudly instead of returning NULL. */
as_cycle_t *fz_cycle(const char *yaml);
/* Render every channel of receiver (by name) with ctx, as a delivery
 * does; a render that stops must say why. */
void fz_render_channels(const as_cycle_t *c, const char *receiver, const cJSON *ctx);

/* 2026-11-24 13:46:31 UTC, the fixtures' time: "now" for what reads one. */
#define FZ_NOW_MS 1795527991000LL

/* An HTTP answer from an input: its body is the input's, "#@status N" its
 * status (200 when absent), "#@retry-after VALUE" its Retry-After header,
 * read as the HTTP client reads it at FZ_NOW_MS (which must give -1 or
 * 0 to a year).  Free resp->body with as_buf_free(). */
void fz_http_answer(const fz_input_t *in, as_httpc_resp_t *resp);

/* Abort with a message: a harness found the code breaking a promise its
 * header makes (libFuzzer records the input as a crash). */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
