/*
 * alertsink/api.h - what every public header of alertsink shares: the ABI
 * version a module is built against, the mark of an exported function, and
 * the error type.
 *
 * Everything declared with AS_API in include/alertsink/ is exported by the
 * alertsink binary (it is linked with -rdynamic and built with hidden
 * visibility otherwise), so a module links against nothing but the
 * libraries it uses itself.  The ABI version covers every struct and
 * signature of these headers: a module built for another version is
 * refused when it is loaded, with the file named.
 */
#ifndef ALERTSINK_API_H
#define ALERTSINK_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bump on any change of a struct or a signature of include/alertsink/. */
#define AS_ABI_VERSION 2

#define AS_API __attribute__((visibility("default")))

/*
 * Errors are values: a function that can fail returns -1 (or NULL) and
 * fills an as_err_t with a message that says what failed and where, ready
 * to be shown with more context by the caller ("receiver 'oncall': ...").
 */
typedef struct as_err_s {
    char msg[1024];
} as_err_t;

/* Format the message into err (may be NULL); returns -1. */
AS_API int as_err_set(as_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* ALERTSINK_API_H */
