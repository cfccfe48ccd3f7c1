/*
 * listener.h - listening sockets shared across configuration reloads.
 *
 * An input's listening socket outlives the configuration generation that
 * opened it: on SIGHUP the new generation's input starts while the old one
 * still serves, and when both name the same address the new one takes a
 * reference on the old one's listener instead of binding again.  Both
 * accept from the one socket until the old input stops and drops its
 * reference, so no connection is refused during a reload, and a reload
 * that fails half-way leaves the old input exactly as it was.
 *
 * The last reference closes the socket; for a Unix socket it also removes
 * the socket file, if the file is still the one this listener bound.
 */
#ifndef AS_INPUTS_LISTENER_H
#define AS_INPUTS_LISTENER_H

#include <stdatomic.h>
#include <sys/types.h>

#include "alertsink/module.h"

typedef struct as_listener_s {
    int fd; /* non-blocking, close-on-exec */
    atomic_int refs;
    char *name; /* what a reload compares: "host:port" or the socket path */
    char *path; /* Unix: the socket file; NULL for TCP */
    dev_t dev;  /* Unix: the file bound, so that we never unlink another's */
    ino_t ino;
} as_listener_t;

/* Bind and listen on a TCP address; a NULL host is every address (IPv6
 * dual-stack when the system has it, else IPv4). */
as_listener_t *as_listener_tcp(const as_listen_t *addr, as_err_t *err);

/* Bind and listen on a Unix socket at path with the given file mode,
 * creating missing parent directories (0755: the socket's own mode is what
 * guards it).  A socket file left behind by a dead process is replaced; one
 * that a live process answers on is an error. */
as_listener_t *as_listener_unix(const char *path, int mode, as_err_t *err);

/* The name a listener for this TCP address would have. */
void as_listener_tcp_name(const as_listen_t *addr, char *name, size_t len);

as_listener_t *as_listener_ref(as_listener_t *l);
void as_listener_unref(as_listener_t *l);

#endif
