/*
 * fuzz_smtp.c - the SMTP replies the email sink reads itself
 * (sinks/email/smtpwatch.h: libesmtp parses the protocol, but the reply
 * texts and the AUTH and STARTTLS outcomes in our reasons come from
 * watching the bytes).
 *
 * The input is a session: the body is what the server sends first, then
 * "#@wrote" sections are what the client writes and "#@read" sections
 * what the server sends next, in their order.  The server's bytes are fed
 * in pieces of varying sizes, as reads return them.
 *
 * What must hold besides not crashing: the last reply seen is the last
 * complete line of the server's that is a reply ("NNN" or "NNN text"),
 * with that code and that text made one printable line (as the harness
 * reads the bytes itself); texts are valid UTF-8 without control
 * characters; the phase is never missing.
 */
#include <string.h>

#include "alertsink/json.h"
#include "fuzz.h"
#include "sinks/email/smtpwatch.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

/* The harness's own reading of the server's bytes: the last complete
 * line that is a reply. */
typedef struct {
    as_buf_t line;
    int code;
    char text[200];
} fz_expect_t;

static void fz_expect_read(fz_expect_t *e, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n') {
            as_buf_putc(&e->line, buf[i]);
            continue;
        }
        const char *l = e->line.data ? e->line.data : "";
        size_t n = e->line.len < 512 ? e->line.len : 512; /* the watch keeps 512 bytes */
        if (n > 0 && l[n - 1] == '\r')
            n--;
        if (n >= 3 && l[0] >= '1' && l[0] <= '5' && l[1] >= '0' && l[1] <= '9' && l[2] >= '0' &&
            l[2] <= '9' && (n == 3 || l[3] == ' ')) {
            char *text = as_xstrndup(n > 4 ? l + 4 : "", n > 4 ? n - 4 : 0);
            e->code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
            as_smtp_copy_text(e->text, sizeof(e->text), text);
            free(text);
        }
        as_buf_reset(&e->line);
    }
}

static void fz_text_ok(const char *what, const char *s)
{
    if (!as_utf8_valid(s, strlen(s)))
        fz_fail("%s is not UTF-8: %s", what, s);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            fz_fail("%s holds a control character: %s", what, s);
}

static void fz_read(as_smtp_watch_t *w, fz_expect_t *e, const char *buf, size_t len)
{
    fz_expect_read(e, buf, len);
    for (size_t off = 0, k = len; off < len; k = k * 7 + 3) {
        size_t n = k % 13 + 1;
        if (n > len - off)
            n = len - off;
        as_smtp_watch_read(w, buf + off, n);
        off += n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input_t in;
    fz_input_split(&in, data, size);
    as_smtp_watch_t w;
    fz_expect_t e = {AS_BUF_INIT, 0, ""};
    as_smtp_watch_init(&w);
    fz_read(&w, &e, in.parts[0].data, in.parts[0].len);
    for (size_t i = 1; i < in.n; i++) {
        const fz_part_t *p = &in.parts[i];
        if (strcmp(p->key, "read") == 0)
            fz_read(&w, &e, p->data, p->len);
        else if (strcmp(p->key, "wrote") == 0)
            as_smtp_watch_wrote(&w, p->data, p->len);
        if (w.phase == NULL || w.phase[0] == '\0')
            fz_fail("no phase after section %zu", i);
    }
    if (w.reply_code != e.code || strcmp(w.reply_text, e.text) != 0)
        fz_fail("the last reply reads %d '%s', not %d '%s'", w.reply_code, w.reply_text, e.code,
                e.text);
    fz_text_ok("a reply text", w.reply_text);
    fz_text_ok("an AUTH reply text", w.auth_text);
    as_buf_free(&e.line);
    fz_input_free(&in);
    return 0;
}
