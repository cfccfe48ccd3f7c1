/*
 * listener.c - listening sockets shared across reloads (see listener.h).
 *
 * A Unix socket file found at start is probed before it is touched: a
 * connect() that succeeds (or finds the backlog full) means a live daemon
 * owns it and we refuse to start; ECONNREFUSED means its owner died and
 * the file is stale, so it is unlinked and bound again.  The probe, the
 * unlink and the bind happen under an flock() on the parent directory, so
 * two daemons starting at once cannot both decide the file is stale and
 * unlink each other's socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "alertsink/mem.h"
#include "listener.h"

#define AS_LISTEN_BACKLOG 4096 /* the kernel caps it at somaxconn */

static as_listener_t *as_listener_new(int fd, const char *name)
{
    as_listener_t *l = as_xcalloc(1, sizeof(*l));
    l->fd = fd;
    l->name = as_xstrdup(name);
    atomic_init(&l->refs, 1);
    return l;
}

void as_listener_tcp_name(const as_listen_t *addr, char *name, size_t len)
{
    snprintf(name, len, "%s%s%s:%d", addr->host && strchr(addr->host, ':') ? "[" : "",
             addr->host ? addr->host : "", addr->host && strchr(addr->host, ':') ? "]" : "",
             addr->port);
}

static int as_tcp_bind(const struct addrinfo *ai, int *err_no)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *err_no = errno;
        return -1;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, AS_LISTEN_BACKLOG) < 0) {
        *err_no = errno;
        close(fd);
        return -1;
    }
    return fd;
}

as_listener_t *as_listener_tcp(const as_listen_t *addr, as_err_t *err)
{
    char name[300], port[16];
    as_listener_tcp_name(addr, name, sizeof(name));
    snprintf(port, sizeof(port), "%d", addr->port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(addr->host, port, &hints, &res);
    if (rc != 0) {
        as_err_set(err, "cannot resolve listen address %s: %s", name, gai_strerror(rc));
        return NULL;
    }
    int fd = -1, e = EADDRNOTAVAIL;
    /* Any address: IPv6 first, which also takes IPv4 (dual-stack); a
     * named host: its addresses in the resolver's order. */
    int passes = addr->host == NULL ? 2 : 1;
    for (int pass = 0; pass < passes && fd < 0; pass++)
        for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
            if (passes == 1 || (ai->ai_family == AF_INET6) == (pass == 0))
                fd = as_tcp_bind(ai, &e);
    freeaddrinfo(res);
    if (fd < 0) {
        as_err_set(err, "cannot listen on %s: %s", name, strerror(e));
        return NULL;
    }
    return as_listener_new(fd, name);
}

/* mkdir -p of path's parent; directories we create get 0755 whatever the
 * umask. */
static int as_mkdir_parents(const char *path, as_err_t *err)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
    as_str_copy(dir, sizeof(dir), path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0755) == 0) {
            if (chmod(dir, 0755) < 0)
                return as_err_set(err, "cannot set the mode of %s: %s", dir, strerror(errno));
        } else if (errno != EEXIST) {
            return as_err_set(err, "cannot create %s: %s", dir, strerror(errno));
        }
        *p = c;
        if (c == '\0')
            break;
    }
    return 0;
}

/* Is a live process listening on the socket file at sa? */
static int as_unix_alive(const struct sockaddr_un *sa, as_err_t *err)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return as_err_set(err, "socket: %s", strerror(errno));
    int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN)
        return 1;
    if (e == ECONNREFUSED)
        return 0;
    return as_err_set(err, "cannot probe %s: %s", sa->sun_path, strerror(e));
}

static int as_unix_prepare(const char *path, const struct sockaddr_un *sa, as_err_t *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return as_err_set(err, "cannot stat %s: %s", path, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        return as_err_set(err, "%s exists and is not a socket; refusing to replace it", path);
    int alive = as_unix_alive(sa, err);
    if (alive < 0)
        return -1;
    if (alive)
        return as_err_set(err, "another alertsink is listening on %s", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return as_err_set(err, "cannot remove the stale socket %s: %s", path, strerror(errno));
    return 0;
}

as_listener_t *as_listener_unix(const char *path, int mode, as_err_t *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        as_err_set(err, "socket path %s is too long (at most %zu bytes)", path,
                   sizeof(sa.sun_path) - 1);
        return NULL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (as_mkdir_parents(path, err) < 0)
        return NULL;

    char dir[sizeof(sa.sun_path) + 2];
    as_str_copy(dir, sizeof(dir), path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        as_err_set(err, "cannot open %s: %s", dir, strerror(errno));
        return NULL;
    }
    flock(dirfd, LOCK_EX); /* released by close() */

    int fd = -1;
    struct stat st;
    if (as_unix_prepare(path, &sa, err) < 0)
        goto fail;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        as_err_set(err, "socket: %s", strerror(errno));
        goto fail;
    }
    /* The file appears with the daemon's umask (no access for others);
     * its mode is set before listen(), so no one connects in between. */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        as_err_set(err, "cannot bind %s: %s", path, strerror(errno));
        goto fail;
    }
    if (chmod(path, (mode_t)mode) < 0 || lstat(path, &st) < 0) {
        as_err_set(err, "cannot set the mode of %s: %s", path, strerror(errno));
        unlink(path);
        goto fail;
    }
    if (listen(fd, AS_LISTEN_BACKLOG) < 0) {
        as_err_set(err, "cannot listen on %s: %s", path, strerror(errno));
        unlink(path);
        goto fail;
    }
    close(dirfd);
    as_listener_t *l = as_listener_new(fd, path);
    l->path = as_xstrdup(path);
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    return l;
fail:
    if (fd >= 0)
        close(fd);
    close(dirfd);
    return NULL;
}

as_listener_t *as_listener_ref(as_listener_t *l)
{
    atomic_fetch_add(&l->refs, 1);
    return l;
}

void as_listener_unref(as_listener_t *l)
{
    if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    struct stat st;
    if (l->path != NULL && lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
        unlink(l->path);
    close(l->fd);
    free(l->name);
    free(l->path);
    free(l);
}
