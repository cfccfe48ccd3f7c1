/*
 * wamessage.h - the client of the Wamessage WhatsApp API (docs/channels.md),
 * shared by the WhatsApp sink and `alertsink wa`.
 *
 * A client holds the account (base URL, phone, password), an HTTP client
 * (alertsink/http.h) and the bearer token.  The token is fetched on first need
 * from the cache file, else by logging in; it is kept in memory and in
 * <cache_dir>/wamessage.token (the module's state directory: mode 0600,
 * written atomically by as_state_write(), keyed by base
 * URL and phone so another account never reuses it).  Every call but login
 * carries it.  A 401 makes exactly one new login and one repeat of the call;
 * a second 401 is a transient failure and the token is dropped, so the next
 * call logs in afresh.  Concurrent 401s share one login.
 *
 * Answers are not documented, so they are read tolerantly: a field is
 * looked for at the top level and under "data", under the spellings seen
 * in the wild (registration_id / registrationId), strings or numbers; a
 * 2xx answer with "status": false is a failure with its "message".
 *
 * Every call fills an as_result_t (module.h): AS_DELIVERED, AS_TRANSIENT
 * (429, 5xx, timeouts, broken connections; retry_after_ms from
 * Retry-After) or AS_PERMANENT (other 4xx, a refused login), with a reason
 * that names the call and carries the server's message but never the
 * password or the token.  Calls are safe from several threads at once.
 */
#ifndef AS_WAMESSAGE_H
#define AS_WAMESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "alertsink/module.h"

typedef struct as_wa_s as_wa_t;

typedef struct as_wa_opts_s {
    const char *base_url;  /* "https://api.wamessage.app" */
    const char *phone;     /* the account's phone number, digits */
    const char *password;  /* the account's password */
    int64_t timeout_ms;    /* bounds each request, connect to last byte */
    const char *cache_dir; /* directory of the token cache file; NULL = memory only */
} as_wa_opts_t;

typedef struct as_wa_device_s {
    char *reg_id;  /* registration id, as text */
    char *phone;   /* NULL when the answer has none */
    char *status;  /* as the server put it ("connected", "disconnected", ...) */
    int connected; /* what status means */
} as_wa_device_t;

typedef struct as_wa_devices_s {
    size_t n;
    as_wa_device_t *v;
} as_wa_devices_t;

typedef struct as_wa_send_s {
    const char *reg_id;
    const char *const *contacts; /* digits */
    size_t ncontacts;
    const char *message;
    const char *file;      /* path of a file to attach, or NULL */
    const char *send_time; /* "YYYY-MM-DD HH:MM:SS", or NULL / "" for now */
} as_wa_send_t;

/* No I/O: the first call that needs a token reads the cache or logs in. */
as_wa_t *as_wa_create(const as_wa_opts_t *opts);
void as_wa_free(as_wa_t *w);

/* Each returns 0 when res->outcome is AS_DELIVERED, else -1. */

/* POST /user/login, always (`wa login`): refreshes the token and the cache. */
int as_wa_login(as_wa_t *w, as_result_t *res);
/* POST /whatsapp/login/code: the pairing code and the registration id (malloc'd). */
int as_wa_login_code(as_wa_t *w, const char *phone, char **code, char **reg_id, as_result_t *res);
/* GET /whatsapp/ws/logincontrol: *linked is 1 once the phone is linked.  A
 * 2xx answer that does not say so is not a failure: *linked = 0. */
int as_wa_login_control(as_wa_t *w, const char *reg_id, const char *phone, int *linked,
                        as_result_t *res);
/* GET /whatsapp/devices?page=-1. */
int as_wa_devices(as_wa_t *w, as_wa_devices_t *out, as_result_t *res);
void as_wa_devices_free(as_wa_devices_t *d);
/* POST /whatsapp/sendmessage/multi (multipart/form-data). */
int as_wa_send_multi(as_wa_t *w, const as_wa_send_t *s, as_result_t *res);
/* POST /whatsapp/logout. */
int as_wa_logout(as_wa_t *w, const char *reg_id, const char *phone, as_result_t *res);

/*
 * The device to send from: reg_id when given (it must be listed and
 * connected), else the first connected device.  A missing or disconnected
 * device is AS_UNAVAILABLE: the next channel's cue, and retried.
 */
int as_wa_pick_device(const as_wa_devices_t *d, const char *reg_id, const as_wa_device_t **dev,
                      as_result_t *res);

/* send_time / --at: "YYYY-MM-DD HH:MM:SS", a real calendar date and time in
 * the local time zone (not Feb 30, not inside a DST gap).  -1 when not. */
int as_wa_parse_send_time(const char *s, time_t *when);

/* Set res->reason (printf-style, cut to fit), with secrets redacted. */
void as_wa_reason(as_result_t *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
