/*
 * spool.c - the on-disk queue: states as directories, a rename as a state
 * change, nothing acknowledged before it is on disk (see spool.h).
 *
 * Every path is resolved against a directory descriptor opened once
 * (openat, renameat), so a spool keeps working if its path is renamed and
 * no path is ever built from untrusted names: names are our own ids.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "lib/fdio.h"
#include "lib/log.h"
#include "queue/spool.h"

struct as_spool_leftover_s {
    struct as_spool_leftover_s *next;
    as_queue_t q;
    char name[AS_ID_LEN + 48];
};

const char *const as_queue_names[AS_Q_COUNT] = {"tmp",      "maildrop", "incoming", "active",
                                                "deferred", "dead",     "corrupt"};

#define AS_SPOOL_LOCK_TRIES 20 /* of 100 ms */

static int as_spool_counted(as_queue_t q)
{
    return q == AS_Q_INCOMING || q == AS_Q_ACTIVE || q == AS_Q_DEFERRED || q == AS_Q_MAILDROP;
}

static unsigned as_spool_salt;
static pthread_once_t as_spool_salt_once = PTHREAD_ONCE_INIT;

static void as_spool_salt_init(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    as_spool_salt = ((unsigned)getpid() * 2654435761u) ^ (unsigned)ts.tv_nsec;
}

void as_spool_id(char id[AS_ID_LEN])
{
    /* 12 hex digits of milliseconds, a per-process counter, and a salt
     * from the pid and the clock so that `alertsink send` and the daemon
     * never collide: "0193a6b2c4d1-00002a-7f3a".  Fixed width, so names
     * sort in time order. */
    static atomic_uint counter;
    pthread_once(&as_spool_salt_once, as_spool_salt_init);
    unsigned n = atomic_fetch_add(&counter, 1) & 0xffffff;
    as_hex_text(id, (uint64_t)as_now_ms(), 12);
    id[12] = '-';
    as_hex_text(id + 13, n, 6);
    id[19] = '-';
    as_hex_text(id + 20, as_spool_salt, 4);
    id[24] = '\0';
}

void as_spool_batch_name(char name[AS_BATCH_NAME_LEN], const char *id)
{
    size_t n = strnlen(id, AS_ID_LEN - 1);
    memcpy(name, id, n);
    memcpy(name + n, "-b", 3);
}

static int as_mkdir(int at, const char *path, as_err_t *err)
{
    if (mkdirat(at, path, 0700) < 0 && errno != EEXIST)
        return as_err_set(err, "cannot create %s: %s", path, strerror(errno));
    return 0;
}

static int as_mkdir_p(const char *dir, as_err_t *err)
{
    char path[4096];
    as_str_copy(path, sizeof(path), dir);
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return as_err_set(err, "cannot create %s: %s", path, strerror(errno));
            *p = '/';
        }
    return as_mkdir(AT_FDCWD, path, err);
}

as_spool_t *as_spool_open(const char *dir, int64_t max_size, int exclusive, as_err_t *err)
{
    if (as_mkdir_p(dir, err) < 0)
        return NULL;
    as_spool_t *sp = as_xcalloc(1, sizeof(*sp));
    sp->dir = as_xstrdup(dir);
    sp->max_size = max_size;
    sp->lockfd = -1;
    sp->dedupfd = -1;
    pthread_mutex_init(&sp->seg_lock, NULL);
    pthread_mutex_init(&sp->leftover_lock, NULL);
    for (int i = 0; i < AS_Q_COUNT; i++)
        sp->dirfd[i] = -1;

    int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        as_err_set(err, "cannot open spool %s: %s", dir, strerror(errno));
        goto fail;
    }
    for (int i = 0; i < AS_Q_COUNT; i++) {
        if (as_mkdir(root, as_queue_names[i], err) < 0) {
            close(root);
            goto fail;
        }
        sp->dirfd[i] = openat(root, as_queue_names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sp->dirfd[i] < 0) {
            as_err_set(err, "cannot open %s/%s: %s", dir, as_queue_names[i], strerror(errno));
            close(root);
            goto fail;
        }
    }
    if (as_mkdir(root, "dedup", err) < 0 ||
        (sp->dedupfd = openat(root, "dedup", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        as_err_set(err, "cannot open %s/dedup: %s", dir, strerror(errno));
        close(root);
        goto fail;
    }
    if (exclusive) {
        /* The lock is held through a read-only descriptor (flock(2) needs
         * no more), and the pid written through another, closed at once:
         * between its writes the daemon holds nothing open for writing on
         * the spool's file system, which can then be remounted read-only
         * under it, as the kernel does after an I/O error. */
        int wfd = openat(root, "lock", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (wfd < 0 || (sp->lockfd = openat(root, "lock", O_RDONLY | O_CLOEXEC)) < 0) {
            as_err_set(err, "cannot open %s/lock: %s", dir, strerror(errno));
            if (wfd >= 0)
                close(wfd);
            close(root);
            goto fail;
        }
        /* A command may hold the lock for a moment (as_spool_daemon()):
         * wait that out, not another daemon. */
        int locked = -1;
        for (int i = 0; i < AS_SPOOL_LOCK_TRIES; i++) {
            if ((locked = flock(sp->lockfd, LOCK_EX | LOCK_NB)) == 0 || errno != EWOULDBLOCK)
                break;
            as_sleep_ms(100);
        }
        if (locked < 0) {
            as_err_set(err, "spool %s is in use by another alertsink daemon (%s)", dir,
                       strerror(errno));
            close(wfd);
            close(root);
            goto fail;
        }
        char pid[32];
        int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
        if (ftruncate(wfd, 0) < 0 || pwrite(wfd, pid, (size_t)n, 0) < 0)
            as_log(AS_LOG_WARN, "cannot write the spool lock file", AS_S("error", strerror(errno)));
        close(wfd);
    }
    close(root);
    return sp;
fail:
    as_spool_close(sp);
    return NULL;
}

as_spool_t *as_spool_open_existing(const char *dir, as_err_t *err)
{
    int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        as_err_set(err, "cannot open spool %s: %s", dir, strerror(errno));
        return NULL;
    }
    as_spool_t *sp = as_xcalloc(1, sizeof(*sp));
    sp->dir = as_xstrdup(dir);
    sp->lockfd = -1;
    sp->command = 1;
    pthread_mutex_init(&sp->leftover_lock, NULL);
    /* A state that was never made is empty: -1 lists nothing.  One that
     * cannot be read is an error, not an empty state. */
    for (int i = 0; i < AS_Q_COUNT; i++) {
        sp->dirfd[i] = openat(root, as_queue_names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sp->dirfd[i] < 0 && errno != ENOENT) {
            as_err_set(err, "cannot open spool %s/%s: %s", dir, as_queue_names[i], strerror(errno));
            close(root);
            as_spool_close(sp);
            return NULL;
        }
    }
    sp->dedupfd = openat(root, "dedup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(root);
    return sp;
}

void as_spool_close(as_spool_t *sp)
{
    if (sp == NULL)
        return;
    for (int i = 0; i < AS_Q_COUNT; i++)
        if (sp->dirfd[i] >= 0)
            close(sp->dirfd[i]);
    if (sp->lockfd >= 0)
        close(sp->lockfd);
    if (sp->dedupfd >= 0)
        close(sp->dedupfd);
    pthread_mutex_destroy(&sp->seg_lock);
    /* What could not be removed stays for the next start, which finds it
     * finished in its journal, or delivers it again. */
    for (struct as_spool_leftover_s *l = sp->leftovers, *next; l != NULL; l = next) {
        next = l->next;
        free(l);
    }
    pthread_mutex_destroy(&sp->leftover_lock);
    free(sp->dir);
    free(sp);
}

int as_spool_full(as_spool_t *sp, size_t size)
{
    return sp->max_size > 0 && atomic_load(&sp->bytes) + (long long)size > sp->max_size;
}

static void as_spool_account(as_spool_t *sp, as_queue_t q, long long bytes, int files)
{
    if (as_spool_counted(q))
        atomic_fetch_add(&sp->bytes, bytes);
    atomic_fetch_add(&sp->count[q], files);
}

static off_t as_spool_size(as_spool_t *sp, as_queue_t q, const char *name)
{
    struct stat st;
    return fstatat(sp->dirfd[q], name, &st, 0) == 0 ? st.st_size : -1;
}

/* tmp/NAME, written and fsync'ed, renamed to q/NAME, directory fsync'ed.
 * lockfd: keep the file open and flock'ed (taken before the rename, so
 * nobody can take the file in q first), for the caller to close. */
static int as_spool_put(as_spool_t *sp, as_queue_t q, const char *name, const char *data,
                        size_t len, int replace, int *lockfd, as_err_t *err)
{
    int fd = openat(sp->dirfd[AS_Q_TMP], name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return as_err_set(err, "spool: cannot create tmp/%s: %s", name, strerror(errno));
    if (as_write_all(fd, data, len) < 0 || fdatasync(fd) < 0 ||
        (lockfd && flock(fd, LOCK_EX) < 0)) {
        int e = errno;
        close(fd);
        unlinkat(sp->dirfd[AS_Q_TMP], name, 0);
        return as_err_set(err, "spool: cannot write tmp/%s: %s", name, strerror(e));
    }
    if (lockfd)
        *lockfd = fd;
    else
        close(fd);
    off_t old = replace ? as_spool_size(sp, q, name) : -1;
    if (renameat(sp->dirfd[AS_Q_TMP], name, sp->dirfd[q], name) < 0) {
        int e = errno;
        unlinkat(sp->dirfd[AS_Q_TMP], name, 0);
        if (lockfd) {
            close(*lockfd);
            *lockfd = -1;
        }
        return as_err_set(err, "spool: cannot move %s into %s/: %s", name, as_queue_names[q],
                          strerror(e));
    }
    /* The rename is durable only once the directory is.  If that fails,
     * a new file is taken back, as its caller reports a failure (an input
     * answers 503 and its client sends it again); a replaced one stays,
     * as the old content is gone either way. */
    if (fsync(sp->dirfd[q]) < 0) {
        int e = errno;
        if (old < 0) {
            unlinkat(sp->dirfd[q], name, 0);
            if (lockfd) {
                close(*lockfd);
                *lockfd = -1;
            }
        }
        return as_err_set(err, "spool: cannot sync %s/: %s", as_queue_names[q], strerror(e));
    }
    if (old >= 0)
        as_spool_account(sp, q, (long long)len - old, 0);
    else
        as_spool_account(sp, q, (long long)len, 1);
    return 0;
}

int as_spool_write(as_spool_t *sp, as_queue_t q, const char *name, const char *data, size_t len,
                   as_err_t *err)
{
    return as_spool_put(sp, q, name, data, len, 0, NULL, err);
}

int as_spool_write_locked(as_spool_t *sp, as_queue_t q, const char *name, const char *data,
                          size_t len, int *lockfd, as_err_t *err)
{
    return as_spool_put(sp, q, name, data, len, 0, lockfd, err);
}

int as_spool_probe(as_spool_t *sp, as_err_t *err)
{
    /* One page, so that a file system with less than that free says so;
     * the name has no dot, so a probe cut short is removed at start. */
    static const char page[4096];
    static const char name[] = "health-probe";
    int fd = openat(sp->dirfd[AS_Q_TMP], name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return as_err_set(err, "spool: cannot create tmp/%s: %s", name, strerror(errno));
    int rc = as_write_all(fd, page, sizeof(page)) < 0 || fdatasync(fd) < 0 ? -1 : 0;
    int e = errno;
    close(fd);
    unlinkat(sp->dirfd[AS_Q_TMP], name, 0);
    if (rc < 0)
        return as_err_set(err, "spool: cannot write tmp/%s: %s", name, strerror(e));
    if (fsync(sp->dirfd[AS_Q_TMP]) < 0)
        return as_err_set(err, "spool: cannot sync tmp/: %s", strerror(errno));
    return 0;
}

/* Is corrupt/CAND the file q/NAME is (linked before a crash)? */
static int as_spool_same_file(as_spool_t *sp, as_queue_t q, const char *name, const char *cand)
{
    struct stat a, b;
    return fstatat(sp->dirfd[q], name, &a, 0) == 0 &&
           fstatat(sp->dirfd[AS_Q_CORRUPT], cand, &b, 0) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int as_spool_quarantine(as_spool_t *sp, as_queue_t q, const char *name, const char *keep,
                        size_t keep_len, char *where, size_t where_len, as_err_t *err)
{
    /* A hard link keeps the bytes as they are without reading them again
     * (they may not read back), and is atomic: corrupt/ never holds half a
     * copy.  Another file of that name already there (an entry that went
     * bad twice) gets a suffix rather than being replaced. */
    char cand[AS_ID_LEN + 48];
    off_t size = as_spool_size(sp, q, name);
    int linked = 0;
    for (int i = 1; i <= 100 && !linked; i++) {
        if (i == 1)
            as_str_copy(cand, sizeof(cand), name);
        else
            snprintf(cand, sizeof(cand), "%s~%d", name, i);
        if (linkat(sp->dirfd[q], name, sp->dirfd[AS_Q_CORRUPT], cand, 0) == 0) {
            as_spool_account(sp, AS_Q_CORRUPT, size > 0 ? size : 0, 1);
            linked = 1;
        } else if (errno != EEXIST) {
            return as_err_set(err, "spool: cannot link %s/%s into corrupt/: %s", as_queue_names[q],
                              name, strerror(errno));
        } else if (as_spool_same_file(sp, q, name, cand)) {
            linked = 1;
        }
    }
    if (!linked)
        return as_err_set(err, "spool: too many files named %s in corrupt/", name);
    as_str_copy(where, where_len, cand);
    /* corrupt/ holds it before q loses it. */
    if (fsync(sp->dirfd[AS_Q_CORRUPT]) < 0)
        return as_err_set(err, "spool: cannot sync corrupt/: %s", strerror(errno));
    if (keep_len > 0) /* replaced whole, by the write protocol */
        return as_spool_put(sp, q, name, keep, keep_len, 1, NULL, err);
    if (as_spool_remove(sp, q, name) < 0 && errno != ENOENT)
        return as_err_set(err, "spool: cannot remove %s/%s: %s", as_queue_names[q], name,
                          strerror(errno));
    return 0;
}

static void as_journal_name(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s.log", name);
}

int as_spool_move(as_spool_t *sp, const char *name, as_queue_t from, as_queue_t to, int sync,
                  as_err_t *err)
{
    off_t size = as_spool_size(sp, from, name);
    char log[AS_ID_LEN + 48];
    as_journal_name(log, sizeof(log), name);
    /* The journal goes first.  A crash between the two renames leaves the
     * file without its journal: its deliveries are then redone, which can
     * repeat one (at-least-once), never lose one. */
    if (renameat(sp->dirfd[from], log, sp->dirfd[to], log) < 0 && errno != ENOENT)
        return as_err_set(err, "spool: cannot move %s: %s", log, strerror(errno));
    if (renameat(sp->dirfd[from], name, sp->dirfd[to], name) < 0) {
        int e = errno;
        as_err_set(err, "spool: cannot move %s from %s/ to %s/: %s", name, as_queue_names[from],
                   as_queue_names[to], strerror(e));
        errno = e; /* ENOENT: somebody else moved it first */
        return -1;
    }
    if (sync && fsync(sp->dirfd[to]) < 0)
        return as_err_set(err, "spool: cannot sync %s/: %s", as_queue_names[to], strerror(errno));
    if (size >= 0) {
        as_spool_account(sp, from, -(long long)size, -1);
        as_spool_account(sp, to, (long long)size, 1);
    }
    return 0;
}

int as_spool_remove(as_spool_t *sp, as_queue_t q, const char *name)
{
    off_t size = as_spool_size(sp, q, name);
    char log[AS_ID_LEN + 48];
    as_journal_name(log, sizeof(log), name);
    int rc = unlinkat(sp->dirfd[q], name, 0);
    int e = errno;
    if (rc == 0 && size >= 0)
        as_spool_account(sp, q, -(long long)size, -1);
    /* The file first: a leftover journal without its file is ignored and
     * removed at start, a file without its journal is delivered again. */
    unlinkat(sp->dirfd[q], log, 0);
    if (rc < 0 && e != ENOENT && !sp->command) {
        struct as_spool_leftover_s *l = as_xcalloc(1, sizeof(*l));
        l->q = q;
        as_str_copy(l->name, sizeof(l->name), name);
        pthread_mutex_lock(&sp->leftover_lock);
        int first = sp->leftovers == NULL;
        l->next = sp->leftovers;
        sp->leftovers = l;
        pthread_mutex_unlock(&sp->leftover_lock);
        if (first)
            as_log(AS_LOG_WARN, "cannot remove finished spool files: trying again every second",
                   AS_S("file", name), AS_S("state", as_queue_names[q]),
                   AS_S("error", strerror(e)));
    }
    errno = e;
    return rc;
}

void as_spool_sweep(as_spool_t *sp)
{
    pthread_mutex_lock(&sp->leftover_lock);
    struct as_spool_leftover_s *l = sp->leftovers;
    sp->leftovers = NULL;
    pthread_mutex_unlock(&sp->leftover_lock);
    for (struct as_spool_leftover_s *next; l != NULL; l = next) {
        next = l->next;
        as_spool_remove(sp, l->q, l->name); /* remembered again if it fails again */
        free(l);
    }
}

int as_spool_daemon(const char *dir, int *hold, long *pid)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/lock", dir);
    /* To hold it, take it as the daemon does; only to look, a shared lock
     * for a moment (a daemon starting meanwhile waits, as_spool_open()).
     * Through a read-only descriptor, as the daemon holds it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && hold) {
        /* No daemon ever started here: made, so that none starts now. */
        int w = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (w >= 0)
            close(w);
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (hold)
        *hold = -1;
    if (pid)
        *pid = 0;
    if (fd < 0)
        return !hold && errno == ENOENT ? 0 : -1; /* no daemon ever started here */
    if (flock(fd, (hold ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) {
        if (hold)
            *hold = fd;
        else
            close(fd);
        return 0;
    }
    int e = errno;
    if (e == EWOULDBLOCK && pid) {
        char buf[32];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        *pid = strtol(buf, NULL, 10);
    }
    close(fd);
    return e == EWOULDBLOCK ? 1 : -1;
}

static int as_read_fd(int fd, as_buf_t *out)
{
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        as_buf_append(out, chunk, (size_t)r);
    }
}

int as_spool_read(as_spool_t *sp, as_queue_t q, const char *name, as_buf_t *out, as_err_t *err)
{
    int fd = openat(sp->dirfd[q], name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return as_err_set(err, "spool: cannot open %s/%s: %s", as_queue_names[q], name,
                          strerror(errno));
    int rc = as_read_fd(fd, out);
    int e = errno;
    close(fd);
    if (rc < 0)
        return as_err_set(err, "spool: cannot read %s/%s: %s", as_queue_names[q], name,
                          strerror(e));
    if (out->data == NULL)
        as_buf_append(out, "", 0);
    return 0;
}

int as_spool_journal(as_spool_t *sp, as_queue_t q, const char *name, const char *line)
{
    char log[AS_ID_LEN + 48];
    as_journal_name(log, sizeof(log), name);
    int fd = openat(sp->dirfd[q], log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = as_write_all(fd, line, strlen(line));
    close(fd);
    return rc;
}

int as_spool_journal_read(as_spool_t *sp, as_queue_t q, const char *name, as_buf_t *out)
{
    char log[AS_ID_LEN + 48];
    as_journal_name(log, sizeof(log), name);
    int fd = openat(sp->dirfd[q], log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc = as_read_fd(fd, out);
    close(fd);
    return rc;
}

static int as_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int as_is_journal(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && strcmp(name + len - 4, ".log") == 0;
}

size_t as_spool_list(as_spool_t *sp, as_queue_t q, char ***names)
{
    *names = NULL;
    as_dir_t d;
    if (as_dir_open(&d, sp->dirfd[q]) < 0)
        return 0;
    size_t n = 0, cap = 0;
    const char *name;
    while ((name = as_dir_next(&d)) != NULL) {
        if (name[0] == '.' || as_is_journal(name) || strcmp(name, "lock") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            *names = as_xrealloc(*names, cap * sizeof(char *));
        }
        (*names)[n++] = as_xstrdup(name);
    }
    as_dir_close(&d);
    if (n > 1)
        qsort(*names, n, sizeof(char *), as_name_cmp);
    return n;
}

void as_spool_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int as_spool_exists(as_spool_t *sp, as_queue_t q, const char *name)
{
    return faccessat(sp->dirfd[q], name, F_OK, 0) == 0;
}

int as_spool_recover(as_spool_t *sp, as_err_t *err)
{
    char **names;
    size_t n;

    /* tmp/: half-written files were never acknowledged. */
    n = as_spool_list(sp, AS_Q_TMP, &names);
    for (size_t i = 0; i < n; i++)
        unlinkat(sp->dirfd[AS_Q_TMP], names[i], 0);
    as_spool_list_free(names, n);

    /* active/: attempts cut short.  A copy already written to deferred/ or
     * dead/ is newer (it was written after the attempt); otherwise the file
     * goes back to incoming/ with every attempt marked in doubt. */
    n = as_spool_list(sp, AS_Q_ACTIVE, &names);
    for (size_t i = 0; i < n; i++) {
        if (as_spool_exists(sp, AS_Q_DEFERRED, names[i]) ||
            as_spool_exists(sp, AS_Q_DEAD, names[i]) ||
            as_spool_exists(sp, AS_Q_INCOMING, names[i])) {
            char log[AS_ID_LEN + 48];
            unlinkat(sp->dirfd[AS_Q_ACTIVE], names[i], 0);
            as_journal_name(log, sizeof(log), names[i]);
            unlinkat(sp->dirfd[AS_Q_ACTIVE], log, 0);
            continue;
        }
        as_spool_journal(sp, AS_Q_ACTIVE, names[i], "A * *\n");
        if (as_spool_move(sp, names[i], AS_Q_ACTIVE, AS_Q_INCOMING, 0, err) < 0) {
            as_spool_list_free(names, n);
            return -1;
        }
    }
    as_spool_list_free(names, n);
    if (fsync(sp->dirfd[AS_Q_INCOMING]) < 0)
        return as_err_set(err, "spool: cannot sync incoming/: %s", strerror(errno));

    /* Journals whose file is gone: the file was finished and removed. */
    for (int q = AS_Q_MAILDROP; q < AS_Q_COUNT; q++) {
        as_dir_t d;
        if (as_dir_open(&d, sp->dirfd[q]) < 0)
            continue;
        const char *name;
        while ((name = as_dir_next(&d)) != NULL) {
            if (!as_is_journal(name))
                continue;
            char file[256];
            snprintf(file, sizeof(file), "%.*s", (int)(strlen(name) - 4), name);
            if (!as_spool_exists(sp, (as_queue_t)q, file))
                unlinkat(sp->dirfd[q], name, 0);
        }
        as_dir_close(&d);
    }

    as_spool_recount(sp);
    return 0;
}

void as_spool_recount(as_spool_t *sp)
{
    /* Counted apart and stored at once: a worker's move meanwhile is off
     * by one until the next recount, never lost for good. */
    long long bytes = 0, count[AS_Q_COUNT] = {0};
    for (int q = 0; q < AS_Q_COUNT; q++) {
        char **names;
        size_t n = as_spool_list(sp, (as_queue_t)q, &names);
        for (size_t i = 0; i < n; i++) {
            off_t size = as_spool_size(sp, (as_queue_t)q, names[i]);
            if (as_spool_counted((as_queue_t)q))
                bytes += size > 0 ? size : 0;
        }
        count[q] = (long long)n;
        as_spool_list_free(names, n);
    }
    atomic_store(&sp->bytes, bytes);
    for (int q = 0; q < AS_Q_COUNT; q++)
        atomic_store(&sp->count[q], count[q]);
}
