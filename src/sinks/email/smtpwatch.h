/*
 * smtpwatch.h - what the email sink learns by watching an SMTP session's
 * bytes go by (libesmtp's protocol monitor), which libesmtp does not tell
 * otherwise: the server's last reply and the command it answers, whether
 * AUTH succeeded, whether STARTTLS was asked for.
 *
 * Replies arrive in pieces of any size; a reply line is complete at its
 * LF (a CR before it is dropped).  Only the last line of a reply counts
 * ("250 OK", not the "250-..." continuation lines before it), and lines
 * that are not replies are ignored.  Of what the client writes, only the
 * verb of each command is kept (an AUTH line and the SASL lines after it
 * carry credentials).  Texts are kept as one printable line, cut at a
 * character boundary: they end up in log lines and dead letters.
 */
#ifndef AS_SMTPWATCH_H
#define AS_SMTPWATCH_H

#include <stddef.h>

typedef struct as_smtp_watch_s {
    int tls_started; /* STARTTLS was sent */
    int auth_pending, auth_ok, auth_code;
    char auth_text[200];

    int reply_code; /* the last reply the server sent, 0 before any */
    char reply_text[200];
    const char *phase; /* what that reply answers, for reasons: never NULL */
    int answered;      /* the phase got its reply */
    char verb[12];
    char line[512]; /* a reply line being assembled (longer ones are cut) */
    size_t linelen;
} as_smtp_watch_t;

/* Before the session: nothing seen, phase "the greeting". */
void as_smtp_watch_init(as_smtp_watch_t *w);
/* Bytes the server sent. */
void as_smtp_watch_read(as_smtp_watch_t *w, const char *buf, size_t len);
/* Bytes the client wrote (libesmtp writes whole lines). */
void as_smtp_watch_wrote(as_smtp_watch_t *w, const char *buf, size_t len);

/* A server's text made safe for a log line: one line, at most size-1
 * bytes, never cutting a UTF-8 character. */
void as_smtp_copy_text(char *dst, size_t size, const char *src);

#endif
