/*
 * fdio.c - whole writes to a file descriptor (see fdio.h).
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

DIR *as_opendir_fd(int dirfd)
{
    int fd = dup(dirfd);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return NULL;
    }
    /* A duplicate shares the offset: start over whoever read it last. */
    rewinddir(d);
    return d;
}
