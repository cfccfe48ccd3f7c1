/*
 * fdio.h - writing a whole buffer to a file descriptor.
 *
 * write(2) may take fewer bytes than it was given (a pipe, a socket, a
 * signal arriving mid-write); the rest is written in further calls, and a
 * call cut short by a signal before it wrote anything is repeated.
 */
#ifndef AS_FDIO_H
#define AS_FDIO_H

#include <stddef.h>

/* Write all len bytes of data to fd: 0, or -1 with errno at the first
 * failing write (what came before it was written). */
int as_write_all(int fd, const void *data, size_t len);

#endif
