/*
 * webhook.h - what the webhook sink shares with its tests: the signature
 * it puts on a body and how it reads an HTTP answer.
 */
#ifndef AS_WEBHOOK_H
#define AS_WEBHOOK_H

#include <stddef.h>

#include "alertsink/module.h"

/* "sha256=" and 64 hex digits, with the NUL. */
#define AS_WEBHOOK_SIG_SIZE 72

/* The X-Alertsink-Signature value of body: "sha256=" and the lowercase hex
 * HMAC-SHA256 of exactly these len bytes under secret. */
void as_webhook_sign(const char *secret, const void *body, size_t len,
                     char out[AS_WEBHOOK_SIG_SIZE]);

/* The result of an HTTP answer: 2xx delivered; 408, 429 and 5xx transient
 * (retry_after_ms from Retry-After); anything else permanent.  A failure's
 * reason carries the status and what the server said (as_httpc_excerpt),
 * redacted. */
void as_webhook_classify(const as_httpc_resp_t *r, as_result_t *res);

#endif
