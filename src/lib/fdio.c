/*
 * fdio.c - whole writes to a file descriptor, and the names in a directory
 * read with getdents64(2) into the caller's buffer (see fdio.h).
 */
#include <errno.h>
#include <unistd.h>

#include "lib/fdio.h"

int as_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) {
            errno = EIO; /* no progress: not a state to loop in */
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int as_dir_open(as_dir_t *d, int dirfd)
{
    d->pos = d->len = 0;
    d->fd = dup(dirfd);
    if (d->fd < 0)
        return -1;
    /* A duplicate shares the offset: start over whoever read it last. */
    if (lseek(d->fd, 0, SEEK_SET) < 0) {
        close(d->fd);
        d->fd = -1;
        return -1;
    }
    return 0;
}

const char *as_dir_next(as_dir_t *d)
{
    if (d->pos >= d->len) {
        ssize_t n = getdents64(d->fd, d->buf, sizeof(d->buf));
        if (n <= 0)
            return NULL;
        d->len = (size_t)n;
        d->pos = 0;
    }
    const struct dirent64 *e = (const struct dirent64 *)(d->buf + d->pos);
    d->pos += e->d_reclen;
    return e->d_name;
}

void as_dir_close(as_dir_t *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}
