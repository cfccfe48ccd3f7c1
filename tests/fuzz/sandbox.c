/*
 * sandbox.c - file access confined to one directory (see sandbox.h).
 *
 * The functions are interposed: defined here, in the executable, they
 * come first in the dynamic linker's search order, so every caller in the
 * process (shared libraries included) reaches them, and the real ones are
 * found with dlsym(RTLD_NEXT).  When no sandbox is entered they only pass
 * the call on.
 */
/* The functions below are defined here under their own names: glibc's
 * fortified inline wrappers of open() and openat() must not be. */
#undef _FORTIFY_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "sandbox.h"

static int fz_on;
static size_t fz_refused;
static char fz_root[4096], fz_cwd[4096];

void fz_sandbox_enter(const char *dir)
{
    snprintf(fz_root, sizeof(fz_root), "%s", dir);
    if (getcwd(fz_cwd, sizeof(fz_cwd)) == NULL)
        snprintf(fz_cwd, sizeof(fz_cwd), "/");
    fz_refused = 0;
    fz_on = 1;
}

void fz_sandbox_leave(void)
{
    fz_on = 0;
}

size_t fz_sandbox_refused(void)
{
    return fz_refused;
}

/* path made absolute and lexically normal into out; -1 when too long. */
static int fz_normalise(const char *path, char *out, size_t len)
{
    char tmp[8192];
    int n = path[0] == '/' ? snprintf(tmp, sizeof(tmp), "%s", path)
                           : snprintf(tmp, sizeof(tmp), "%s/%s", fz_cwd, path);
    if (n < 0 || (size_t)n >= sizeof(tmp) || len < 2)
        return -1;
    size_t o = 0;
    out[o] = '\0';
    for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            out[o] = '\0';
            continue;
        }
        size_t cl = strlen(c);
        if (o + cl + 2 > len)
            return -1;
        out[o++] = '/';
        memcpy(out + o, c, cl);
        o += cl;
        out[o] = '\0';
    }
    if (o == 0)
        snprintf(out, len, "/");
    return 0;
}

static int fz_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int fz_artifact(const char *path)
{
    static const char *const kinds[] = {"crash-", "leak-", "timeout-", "oom-", "slow-unit-", NULL};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const char *const *k = kinds; *k; k++)
        if (strstr(base, *k) != NULL)
            return 1;
    return 0;
}

/* May path be opened (for writing: write)?  Counts and sets errno when not. */
static int fz_allowed(const char *path, int write)
{
    char norm[4096];
    if (!fz_on)
        return 1;
    if (path != NULL && fz_normalise(path, norm, sizeof(norm)) == 0) {
        if (fz_under(norm, fz_root))
            return 1;
        if (!write &&
            (fz_under(norm, "/usr/share/zoneinfo") || strcmp(norm, "/etc/localtime") == 0))
            return 1;
        if (write && fz_artifact(norm))
            return 1;
    }
    fz_refused++;
    errno = EACCES;
    return 0;
}

/* Does an open() with these flags take a mode argument? */
static int fz_flags_mode(int flags)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static int fz_flags_write(int flags)
{
    return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) != 0;
}

/* real_: the function of that name further down the search order. */
#define FZ_REAL(name)                                                                              \
    static __typeof__(name) *real_;                                                                \
    if (real_ == NULL)                                                                             \
        real_ = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);

FILE *fopen(const char *path, const char *mode)
{
    FZ_REAL(fopen)
    return fz_allowed(path, strpbrk(mode, "wa+") != NULL) ? real_(path, mode) : NULL;
}

int open(const char *path, int flags, ...)
{
    FZ_REAL(open)
    va_list ap;
    va_start(ap, flags);
    mode_t mode = fz_flags_mode(flags) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return fz_allowed(path, fz_flags_write(flags)) ? real_(path, flags, mode) : -1;
}

/* On 64-bit glibc the ...64 functions are the same as the others. */
FILE *fopen64(const char *path, const char *mode)
{
    return fopen(path, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = fz_flags_mode(flags) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return open(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    FZ_REAL(openat)
    va_list ap;
    va_start(ap, flags);
    mode_t mode = fz_flags_mode(flags) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    /* Relative to a directory: only the caller knows which, so while the
     * sandbox is on, only absolute paths are let through (and checked). */
    if (fz_on && dirfd != AT_FDCWD && path[0] != '/') {
        fz_refused++;
        errno = EACCES;
        return -1;
    }
    return fz_allowed(path, fz_flags_write(flags)) ? real_(dirfd, path, flags, mode) : -1;
}

DIR *opendir(const char *path)
{
    FZ_REAL(opendir)
    return fz_allowed(path, 0) ? real_(path) : NULL;
}

int stat(const char *path, struct stat *st)
{
    FZ_REAL(stat)
    return fz_allowed(path, 0) ? real_(path, st) : -1;
}

int lstat(const char *path, struct stat *st)
{
    FZ_REAL(lstat)
    return fz_allowed(path, 0) ? real_(path, st) : -1;
}

int mkdir(const char *path, mode_t mode)
{
    FZ_REAL(mkdir)
    return fz_allowed(path, 1) ? real_(path, mode) : -1;
}

/* A pattern is allowed when the folders before its first wildcard are:
 * glob() reads directories with calls of its own that are not seen here,
 * and the files it finds are opened through fopen() above. */
int glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
    FZ_REAL(glob)
    if (fz_on) {
        char fixed[4096];
        size_t n = strcspn(pattern, "*?[\\");
        snprintf(fixed, sizeof(fixed), "%.*s", (int)n, pattern);
        char *slash = strrchr(fixed, '/');
        if (slash != NULL)
            slash[slash == fixed] = '\0';
        else
            snprintf(fixed, sizeof(fixed), ".");
        /* A ".." after a wildcard could climb out of a folder it matched. */
        if (!fz_allowed(fixed, 0) || strstr(pattern + n, "..") != NULL) {
            if (strstr(pattern + n, "..") != NULL)
                fz_refused++;
            memset(g, 0, sizeof(*g));
            return GLOB_ABORTED;
        }
    }
    return real_(pattern, flags, errfunc, g);
}

void *dlopen(const char *path, int flags)
{
    FZ_REAL(dlopen)
    if (fz_on && path != NULL) {
        /* Fail as the real one does, so that dlerror() has a message. */
        char missing[4200];
        fz_refused++;
        snprintf(missing, sizeof(missing), "%s/.no-such-module.so", fz_root);
        return real_(missing, flags);
    }
    return real_(path, flags);
}
