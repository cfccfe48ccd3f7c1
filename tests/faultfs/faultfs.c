/*
 * faultfs.c - an LD_PRELOAD shim that makes file system calls fail (or
 * hang) on the files under one directory, switched on and off while the
 * process runs, so that a test can break the spool of a running daemon
 * and then mend it.
 *
 *   FAULTFS_PATH=/tmp/x/spool      only descriptors whose file is under it
 *   FAULTFS_CONTROL=/tmp/x/faults  what to break, read again when it changes
 *
 * The control file holds one rule a line, "CALL ACTION":
 *
 *   write EIO        write(2), writev(2), pwrite(2) fail with EIO
 *   fsync ENOSPC     fsync(2) and fdatasync(2) fail with ENOSPC
 *   read delay=3000  read(2) and pread(2) wait 3 s, then work
 *
 *   write KILL       the process is killed (SIGKILL) at its first write:
 *                    a crash at that point, nothing of the call done
 *
 * ACTION is EIO, ENOSPC, EDQUOT or EROFS, delay=MS, or KILL.  An empty or
 * missing file breaks nothing.  Checking costs a stat(2) of the control
 * file per call, and a readlink(2) of the descriptor only while a rule for
 * that call is on.
 *
 * The wrappers call the next definition of each function (dlsym
 * RTLD_NEXT), which is libc's, or, when the process runs under
 * AddressSanitizer with its runtime preloaded first
 * (LD_PRELOAD=libasan.so.N:faultfs.so), the chain is ASan's interceptor,
 * then this shim, then libc: ASan still checks the buffers, and the shim
 * still sees every call.  The shim itself is built without sanitizers.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define FAULTFS_EXPORT __attribute__((visibility("default")))

enum { FF_WRITE, FF_FSYNC, FF_READ, FF_CALLS };
static const char *const ff_call_names[FF_CALLS] = {"write", "fsync", "read"};

typedef struct {
    int on;
    int err; /* errno to fail with; 0: delay only */
    long delay_ms;
    int kill; /* SIGKILL the process instead */
} ff_rule_t;

static pthread_mutex_t ff_lock = PTHREAD_MUTEX_INITIALIZER;
static ff_rule_t ff_rules[FF_CALLS];
static struct timespec ff_mtime;
static off_t ff_size = -1;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static ssize_t (*real_pread64)(int, void *, size_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void *ff_next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (f == NULL) {
        static const char msg[] = "faultfs: a libc function is missing\n";
        syscall(SYS_write, 2, msg, sizeof(msg) - 1);
        abort();
    }
    return f;
}

/* From the constructor, or from the first wrapper called if another
 * library's constructor writes before this one ran. */
static pthread_once_t ff_once = PTHREAD_ONCE_INIT;

static void ff_resolve(void)
{
    real_write = ff_next("write");
    real_writev = ff_next("writev");
    real_pwrite = ff_next("pwrite");
    real_pwrite64 = ff_next("pwrite64");
    real_read = ff_next("read");
    real_pread = ff_next("pread");
    real_pread64 = ff_next("pread64");
    real_fsync = ff_next("fsync");
    real_fdatasync = ff_next("fdatasync");
}

__attribute__((constructor)) static void ff_init(void)
{
    pthread_once(&ff_once, ff_resolve);
}

static int ff_errno(const char *name)
{
    static const struct {
        const char *name;
        int err;
    } names[] = {{"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].err;
    return -1;
}

/* Read the control file again if it changed since the last look. */
static void ff_reload(void)
{
    const char *path = getenv("FAULTFS_CONTROL");
    struct stat st;
    if (path == NULL || stat(path, &st) < 0) {
        st.st_size = 0;
        st.st_mtim.tv_sec = st.st_mtim.tv_nsec = 0;
    }
    if (st.st_size == ff_size && st.st_mtim.tv_sec == ff_mtime.tv_sec &&
        st.st_mtim.tv_nsec == ff_mtime.tv_nsec)
        return;
    ff_size = st.st_size;
    ff_mtime = st.st_mtim;
    memset(ff_rules, 0, sizeof(ff_rules));
    char buf[4096];
    ssize_t n = 0;
    int fd = path && st.st_size > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        n = real_read(fd, buf, sizeof(buf) - 1);
        close(fd);
    }
    buf[n > 0 ? n : 0] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char call[16], action[32];
        if (sscanf(line, "%15s %31s", call, action) != 2)
            continue;
        for (int c = 0; c < FF_CALLS; c++) {
            if (strcmp(call, ff_call_names[c]) != 0)
                continue;
            if (strncmp(action, "delay=", 6) == 0) {
                ff_rules[c].on = 1;
                ff_rules[c].delay_ms = strtol(action + 6, NULL, 10);
            } else if (strcmp(action, "KILL") == 0) {
                ff_rules[c].on = 1;
                ff_rules[c].kill = 1;
            } else if (ff_errno(action) > 0) {
                ff_rules[c].on = 1;
                ff_rules[c].err = ff_errno(action);
            }
        }
    }
}

/* Is fd a file under FAULTFS_PATH? */
static int ff_covered(int fd)
{
    const char *root = getenv("FAULTFS_PATH");
    if (root == NULL || root[0] == '\0')
        return 0;
    char link[64], target[4096];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/')
        len--;
    return strncmp(target, root, len) == 0 && (target[len] == '/' || target[len] == '\0');
}

/* The rule for this call on fd: 0 to go on (after its delay), or -1 with
 * errno set. */
static int ff_check(int call, int fd)
{
    pthread_once(&ff_once, ff_resolve);
    pthread_mutex_lock(&ff_lock);
    ff_reload();
    ff_rule_t r = ff_rules[call];
    pthread_mutex_unlock(&ff_lock);
    if (!r.on || !ff_covered(fd))
        return 0;
    if (r.kill)
        raise(SIGKILL);
    if (r.delay_ms > 0) {
        struct timespec ts = {r.delay_ms / 1000, (r.delay_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    if (r.err != 0) {
        errno = r.err;
        return -1;
    }
    return 0;
}

FAULTFS_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    return ff_check(FF_WRITE, fd) < 0 ? -1 : real_write(fd, buf, len);
}

FAULTFS_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
    return ff_check(FF_WRITE, fd) < 0 ? -1 : real_writev(fd, iov, n);
}

FAULTFS_EXPORT ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    return ff_check(FF_WRITE, fd) < 0 ? -1 : real_pwrite(fd, buf, len, off);
}

FAULTFS_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    return ff_check(FF_WRITE, fd) < 0 ? -1 : real_pwrite64(fd, buf, len, off);
}

FAULTFS_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
    return ff_check(FF_READ, fd) < 0 ? -1 : real_read(fd, buf, len);
}

FAULTFS_EXPORT ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
    return ff_check(FF_READ, fd) < 0 ? -1 : real_pread(fd, buf, len, off);
}

FAULTFS_EXPORT ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
    return ff_check(FF_READ, fd) < 0 ? -1 : real_pread64(fd, buf, len, off);
}

FAULTFS_EXPORT int fsync(int fd)
{
    return ff_check(FF_FSYNC, fd) < 0 ? -1 : real_fsync(fd);
}

FAULTFS_EXPORT int fdatasync(int fd)
{
    return ff_check(FF_FSYNC, fd) < 0 ? -1 : real_fdatasync(fd);
}
