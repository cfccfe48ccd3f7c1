/*
 * smtpwatch.c - an SMTP session watched from its bytes (see smtpwatch.h).
 */
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "smtpwatch.h"

void as_smtp_copy_text(char *dst, size_t size, const char *src)
{
    char *clean = as_mime_clean(src != NULL ? src : "", 1);
    size_t n = strlen(clean);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)clean[n] & 0xc0) == 0x80)
            n--; /* never cut a UTF-8 character */
    }
    memcpy(dst, clean, n);
    dst[n] = '\0';
    free(clean);
}

void as_smtp_watch_init(as_smtp_watch_t *w)
{
    memset(w, 0, sizeof(*w));
    w->phase = "the greeting";
}

/* A complete reply line from the server. */
static void as_smtp_watch_reply(as_smtp_watch_t *w, const char *line, size_t len)
{
    if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
        line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' '))
        return; /* a continuation line, or not a reply */
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    /* The line buffer holds what longer lines left after len: the text
     * ends here, not at a NUL. */
    char text[sizeof(w->line) + 1];
    size_t tl = len > 4 ? len - 4 : 0;
    memcpy(text, line + 4, tl);
    text[tl] = '\0';
    w->reply_code = code;
    w->answered = 1;
    as_smtp_copy_text(w->reply_text, sizeof(w->reply_text), text);
    if (w->auth_pending && code != 334) {
        w->auth_pending = 0;
        if (code / 100 == 2) {
            w->auth_ok = 1;
        } else {
            w->auth_code = code;
            memcpy(w->auth_text, w->reply_text, sizeof(w->auth_text));
        }
    }
    if (code == 354) {
        w->phase = "the end of the message";
        w->answered = 0;
    }
}

void as_smtp_watch_read(as_smtp_watch_t *w, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            size_t n = w->linelen;
            if (n > 0 && w->line[n - 1] == '\r')
                n--;
            as_smtp_watch_reply(w, w->line, n);
            w->linelen = 0;
        } else if (w->linelen < sizeof(w->line)) {
            w->line[w->linelen++] = buf[i];
        }
    }
}

void as_smtp_watch_wrote(as_smtp_watch_t *w, const char *buf, size_t len)
{
    for (size_t i = 0, end; i < len; i = end) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t n = 0;
        end = nl != NULL ? (size_t)(nl - buf) + 1 : len;
        if (w->auth_pending) /* the client's half of a SASL exchange */
            continue;
        while (i + n < end && n + 1 < sizeof(w->verb) && buf[i + n] >= 'A' && buf[i + n] <= 'Z')
            n++;
        if (n == 0)
            continue; /* no command (libesmtp writes none such): the phase stays */
        /* libesmtp says QUIT when it gives up on a connection that went
         * silent: the reason is the command that got no reply (a server
         * that hung up during the message), not the QUIT. */
        if (n == 4 && memcmp(buf + i, "QUIT", 4) == 0 && !w->answered)
            continue;
        memcpy(w->verb, buf + i, n);
        w->verb[n] = '\0';
        w->phase = w->verb;
        w->answered = 0;
        if (strcmp(w->verb, "AUTH") == 0)
            w->auth_pending = 1;
        else if (strcmp(w->verb, "STARTTLS") == 0)
            w->tls_started = 1;
    }
}
