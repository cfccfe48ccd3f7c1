/*
 * fdio.h - small descriptor helpers: writing a whole buffer, reading a
 * directory we hold open.
 *
 * write(2) may take fewer bytes than it was given (a pipe, a socket, a
 * signal arriving mid-write); the rest is written in further calls, and a
 * call cut short by a signal before it wrote anything is repeated.
 */
#ifndef AS_FDIO_H
#define AS_FDIO_H

#include <dirent.h>
#include <stddef.h>

/* Write all len bytes of data to fd: 0, or -1 with errno at the first
 * failing write (what came before it was written). */
int as_write_all(int fd, const void *data, size_t len);

/* The names in a directory we hold open, read with getdents64(2) into a
 * buffer of the caller's (on its stack): a DIR would malloc 32 KB for
 * each scan, and the spool's folders are scanned every second, which
 * kept those pages in an idle daemon's heap. */
typedef struct {
    int fd; /* a duplicate of the directory's descriptor */
    size_t pos, len;
    char buf[4096] __attribute__((aligned(8)));
} as_dir_t;

/* From the start of dirfd (which stays the caller's): 0, or -1 with errno. */
int as_dir_open(as_dir_t *d, int dirfd);
/* The next name ("." and ".." included), or NULL at the end or on an
 * error. */
const char *as_dir_next(as_dir_t *d);
void as_dir_close(as_dir_t *d);

#endif
