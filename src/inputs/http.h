/*
 * http.h - the HTTP input's configuration, shared with the Unix socket
 * input: socket lines are bounded by http.max_body (CONTRACT §9).
 */
#ifndef AS_INPUTS_HTTP_H
#define AS_INPUTS_HTTP_H

#include <stdint.h>

#include "alertsink/module.h"

typedef struct as_http_conf_s {
    as_listen_t listen;
    char *bearer_token;
    int64_t max_body;
    int64_t max_connections;
    int64_t timeout; /* ms: a connection idle this long is closed */
} as_http_conf_t;

/* http.max_body of the current configuration (the default before one is
 * loaded). */
int64_t as_http_max_body(void);

#endif
