/*
 * state.c - a module's state directory (see alertsink/module.h): small
 * files such as a login token, written whole and atomically, readable by
 * this user alone.
 *
 * A write goes to NAME.PID.tmp first, is fsync'ed, then renamed over NAME:
 * a reader sees the old file or the new one, never half of either.  The
 * directory is made with mode 0700 when it is missing (and the levels
 * above it that are missing, spool.dir among them, the same way), so a
 * command run before the daemon's first start (`alertsink wa login`) has
 * somewhere to write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/module.h"
#include "lib/fdio.h"

#define AS_STATE_MAX (1024 * 1024) /* a state file is small: a token, a cursor */

/* mkdir -p dir, each level it makes private (0700). */
static int as_state_mkdir(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Is dir (or its nearest level that exists) this user's?  A command run
 * as root on the daemon's spool (`alertsink wa login`) made root's
 * directories there, and the daemon could no longer write its state. */
static int as_state_ours(const char *dir, char *level, size_t size)
{
    snprintf(level, size, "%s", dir);
    struct stat st;
    while (stat(level, &st) < 0) {
        char *slash = strrchr(level, '/');
        if (errno != ENOENT || slash == NULL || slash == level)
            return 1; /* nothing to tell: the write says what fails */
        *slash = '\0';
    }
    return st.st_uid == geteuid();
}

int as_state_write(const char *dir, const char *name, const void *data, size_t len, as_err_t *err)
{
    char path[4096], tmp[4200];
    if (dir == NULL || name == NULL || strchr(name, '/') != NULL)
        return as_err_set(err, "state file: no directory, or a bad name");
    if (!as_state_ours(dir, path, sizeof(path)))
        return as_err_set(err,
                          "%s belongs to another user: the daemon could not use what this user "
                          "writes there (run this as the spool's owner)",
                          path);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    if (as_state_mkdir(dir) < 0)
        return as_err_set(err, "cannot create %s: %s", dir, strerror(errno));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return as_err_set(err, "cannot write %s: %s", tmp, strerror(errno));
    int ok = fchmod(fd, 0600) == 0 && as_write_all(fd, data, len) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        return as_err_set(err, "cannot write %s: %s", path, strerror(saved));
    }
    return 0;
}

int as_state_read(const char *dir, const char *name, as_buf_t *out, as_err_t *err)
{
    char path[4096];
    if (dir == NULL || name == NULL) {
        errno = ENOENT;
        return as_err_set(err, "state file: no directory");
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        as_err_set(err, "cannot read %s: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0 && out->len < AS_STATE_MAX)
        as_buf_append(out, chunk, (size_t)n);
    int saved = errno;
    close(fd);
    if (n < 0) {
        as_err_set(err, "cannot read %s: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    return 0;
}
