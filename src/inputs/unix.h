/*
 * unix.h - the Unix socket input's configuration, for the commands that
 * look at a running daemon from outside (`alertsink ready` connects to
 * unix.path when HTTP is off).
 */
#ifndef AS_INPUTS_UNIX_H
#define AS_INPUTS_UNIX_H

#include <stdint.h>

typedef struct as_unix_conf_s {
    char *path; /* "" or NULL: the input is off */
    int mode;
    int64_t max_clients;
    int64_t timeout; /* ms of silence before a connection is closed */
} as_unix_conf_t;

#endif
