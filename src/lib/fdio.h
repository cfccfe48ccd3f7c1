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

/* A stream over the directory dirfd, from its start; dirfd stays ours
 * (the stream has a duplicate).  closedir() it; NULL with errno. */
DIR *as_opendir_fd(int dirfd);

#endif
