/*
 * mime.h - building an RFC 5322 / MIME message for the email sink.
 *
 * as_mime_build() turns a rendered notification (subject, text, HTML) and
 * the configured addresses into the bytes handed to libesmtp: the header
 * fields Date, Message-ID, From, To, Subject, MIME-Version,
 * Auto-Submitted and Content-Type, then a multipart/alternative body with
 * a text/plain and a text/html part, both UTF-8.  Every line ends in CRLF
 * and is at most 78 characters in the headers and 76 in the bodies;
 * dot-stuffing is left to libesmtp, which does it on the way out.
 *
 * Header values never carry a raw CR or LF: subjects and display names are
 * folded to one line (controls become spaces), so no template output can
 * inject a header.  Non-ASCII text goes out as RFC 2047 "B" encoded-words
 * of at most 75 characters, each holding whole UTF-8 characters.  Invalid
 * UTF-8 becomes U+FFFD, so the charset label is never a lie.
 *
 * The pieces are exported for the unit tests.
 */
#ifndef AS_MIME_H
#define AS_MIME_H

#include <stddef.h>
#include <time.h>

#include "alertsink/module.h"

/* Folding column of header lines; RFC 5322 recommends at most 78. */
#define AS_MIME_HEADER_LINE 76
/* Longest encoded body line, RFC 2045's limit for QP and base64. */
#define AS_MIME_BODY_LINE 76

typedef struct as_mime_s {
    const char *from;      /* "Name <a@b>" or "a@b", as configured */
    const char *const *to; /* the same forms */
    size_t nto;
    const char *subject; /* UTF-8; folded to one line */
    const char *text;    /* the text/plain part, UTF-8 */
    const char *html;    /* the text/html part, UTF-8 */
    time_t date;         /* 0 = now */
} as_mime_t;

/* Append the whole message to out.  -1 (err set) when an address does
 * not parse. */
int as_mime_build(const as_mime_t *m, as_buf_t *out, as_err_t *err);

/* "Name: value\r\n" for an unstructured field (Subject): one line of text,
 * folded at spaces, or encoded-words when it is not plain ASCII. */
void as_mime_header_text(as_buf_t *b, const char *name, const char *value);
/* "Name: mailbox, mailbox\r\n" for From and To. */
int as_mime_header_addrs(as_buf_t *b, const char *name, const char *const *specs, size_t n,
                         as_err_t *err);

/* Body encodings of RFC 2045.  Line breaks of any kind (CRLF, LF, CR) in
 * s come out as CRLF; the output does not end with a line break unless s
 * does. */
void as_mime_qp(as_buf_t *b, const char *s, size_t len);
void as_mime_base64(as_buf_t *b, const char *s, size_t len);
/* Text's canonical form (RFC 2046 §4.1.1): every line break (CRLF, LF,
 * CR) a CRLF.  Encoded with base64, a body is first put in this form. */
void as_mime_crlf(as_buf_t *b, const char *s, size_t len);

/* RFC 5322 date-time in local time: "Thu, 13 Feb 2025 10:00:00 +0300". */
void as_mime_date(char *buf, size_t size, time_t t);

/* A copy of s with invalid UTF-8 replaced by U+FFFD; with one_line, also
 * every control character (CR, LF, TAB, ...) turned into a space, runs of
 * spaces collapsed and both ends trimmed.  malloc'd. */
char *as_mime_clean(const char *s, int one_line);

/* The address part of a mailbox spec, for the envelope: -1 if invalid. */
int as_mime_addr(const char *spec, char *addr, size_t size);
/* The same without the ASCII rule: "N <a@b>" or "a@b" -> "a@b"; -1 when
 * it is not one address (no CR or LF, one @, no spaces). */
int as_mime_addr_spec(const char *s, char *addr, size_t len);

#endif
