/*
 * replay.c - the plain driver of the harnesses: a main() that feeds files
 * to LLVMFuzzerTestOneInput(), so the corpora and regression inputs run in
 * every build (ctest's fuzz/replay_NAME) without clang or libFuzzer.
 *
 *   fuzz_NAME-replay PATH...     each file, and each file of each folder
 *
 * Folders are read in name order, one level deep (a corpus is flat).  An
 * input that crashes is found by the sanitizers, as under libFuzzer; one
 * that runs longer than FZ_REPLAY_TIMEOUT seconds is a failure too, and
 * either way the input is named on stderr.  Exit 0 once every input ran;
 * 1 when a path cannot be read or none of them holds an input (an empty
 * corpus would pass every test otherwise).
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/buf.h"
#include "fuzz.h"

#pragma weak LLVMFuzzerInitialize

/* The sanitizers' hook to run before they end the process (weak: the
 * Release build has no sanitizer). */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

#define FZ_REPLAY_TIMEOUT 60

static const char *fz_current = "(none)";

static void fz_name_current(void)
{
    /* Only async-signal-safe calls: this runs from signal handlers too. */
    static const char msg[] = "fuzz replay: the input was ";
    ssize_t ignored = write(2, msg, sizeof(msg) - 1);
    ignored = write(2, fz_current, strlen(fz_current));
    ignored = write(2, "\n", 1);
    (void)ignored;
}

static void fz_on_signal(int sig)
{
    if (sig == SIGALRM) {
        static const char msg[] = "fuzz replay: timeout\n";
        ssize_t ignored = write(2, msg, sizeof(msg) - 1);
        (void)ignored;
    }
    fz_name_current();
    signal(sig, SIG_DFL);
    raise(sig == SIGALRM ? SIGABRT : sig);
}

static int fz_run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "fuzz replay: cannot read %s\n", path);
        return -1;
    }
    as_buf_t b = AS_BUF_INIT;
    int rc = as_buf_read(&b, fp, 0);
    fclose(fp);
    if (rc < 0) {
        fprintf(stderr, "fuzz replay: cannot read %s\n", path);
        as_buf_free(&b);
        return -1;
    }
    /* A copy of exactly its size, so that ASan sees a read past the end. */
    size_t size = b.len;
    uint8_t *data = malloc(size ? size : 1);
    if (size)
        memcpy(data, b.data, size);
    as_buf_free(&b);
    fz_current = path;
    alarm(FZ_REPLAY_TIMEOUT);
    LLVMFuzzerTestOneInput(data, size);
    alarm(0);
    fz_current = "(none)";
    free(data);
    return 0;
}

static int fz_by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order; the count, or -1. */
static long fz_run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "fuzz replay: cannot read %s\n", dir);
        return -1;
    }
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof(*names));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap)
            names = realloc(names, (cap *= 2) * sizeof(*names));
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), fz_by_name);
    long count = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (fz_run_file(path) < 0)
                count = -1;
            else if (count >= 0)
                count++;
        }
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    signal(SIGALRM, fz_on_signal);
    signal(SIGSEGV, fz_on_signal);
    signal(SIGABRT, fz_on_signal);
    if (__sanitizer_set_death_callback != NULL)
        __sanitizer_set_death_callback(fz_name_current);
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);

    long total = 0;
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            n = fz_run_dir(argv[i]);
        else
            n = fz_run_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0)
            failed = 1;
        else
            total += n;
    }
    printf("fuzz replay: %ld inputs ran\n", total);
    if (total == 0) {
        fprintf(stderr, "fuzz replay: no input in the paths given\n");
        return 1;
    }
    return failed;
}
