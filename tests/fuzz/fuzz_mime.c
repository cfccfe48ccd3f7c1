/*
 * fuzz_mime.c - the email sink's MIME writer (sinks/email/mime.h): header
 * encoding and folding (RFC 2047 encoded-words), addresses, the
 * quoted-printable and base64 bodies, and whole messages.
 *
 * The input is a subject and text part, with optional sections:
 *
 *   #@html           the HTML part (else the text again)
 *   #@to             addresses, one a line ("Name <a@b>" or "a@b")
 *   #@from SPEC      the sender (else a fixed one)
 *
 * What must hold besides not crashing (what mime.h promises):
 *   - a cleaned value is valid UTF-8, and on one line has no control
 *     character, no space at either end and no two spaces in a row;
 *   - a Subject header is ASCII, its lines end in CRLF and are at most 78
 *     characters, and unfolded and decoded it is the cleaned value;
 *   - quoted-printable and base64 decode back to the text (line breaks
 *     as CRLF), in lines of at most 76 characters;
 *   - a whole message is 7-bit ASCII with CRLF line ends only, no line
 *     over RFC 5322's 998 characters: no template output can break out of
 *     a header or smuggle a bare CR or LF.
 */
#include <string.h>

#include "alertsink/json.h"
#include "fuzz.h"
#include "sinks/email/mime.h"

#define FZ_MAX_TO 8

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

/* Every line of s ends in CRLF (no other CR or LF), is ASCII without NUL,
 * and is at most max characters. */
static void fz_lines_ok(const char *what, const char *s, size_t len, size_t max)
{
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r') {
            if (i + 1 >= len || s[i + 1] != '\n')
                fz_fail("%s: a bare CR at %zu", what, i);
            i++;
            col = 0;
            continue;
        }
        if (c == '\n')
            fz_fail("%s: a bare LF at %zu", what, i);
        if (c == 0 || c >= 0x80)
            fz_fail("%s: byte 0x%02x at %zu is not 7-bit text", what, c, i);
        if (++col > max)
            fz_fail("%s: a line longer than %zu at %zu", what, max, i);
    }
}

static int fz_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void fz_unqp(as_buf_t *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '=') {
            as_buf_putc(out, s[i]);
        } else if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (i + 2 < len && fz_hex(s[i + 1]) >= 0 && fz_hex(s[i + 2]) >= 0) {
            as_buf_putc(out, (char)(fz_hex(s[i + 1]) * 16 + fz_hex(s[i + 2])));
            i += 2;
        } else {
            fz_fail("quoted-printable: a bad escape at %zu", i);
        }
    }
}

/* Base64 (CRLF between lines allowed); -1 when malformed. */
static int fz_unbase64(as_buf_t *out, const char *s, size_t len)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' || s[i] == '\n')
            continue;
        if (s[i] == '=') {
            pad++;
            continue;
        }
        const char *p = s[i] ? strchr(set, s[i]) : NULL;
        if (p == NULL || pad)
            return -1;
        acc = (acc << 6) | (unsigned)(p - set);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            as_buf_putc(out, (char)((acc >> bits) & 0xff));
        }
    }
    return 0;
}

static void fz_bodies(const char *s, size_t len)
{
    as_buf_t enc = AS_BUF_INIT, dec = AS_BUF_INIT, want = AS_BUF_INIT;
    as_buf_append(&enc, "", 0);
    as_buf_append(&dec, "", 0);
    as_buf_append(&want, "", 0);
    as_mime_crlf(&want, s, len);

    as_mime_qp(&enc, s, len);
    fz_lines_ok("quoted-printable", enc.data, enc.len, AS_MIME_BODY_LINE);
    fz_unqp(&dec, enc.data, enc.len);
    if (dec.len != want.len || memcmp(dec.data, want.data, want.len) != 0)
        fz_fail("quoted-printable does not decode to the text");

    as_buf_reset(&enc);
    as_buf_reset(&dec);
    as_mime_base64(&enc, s, len);
    fz_lines_ok("base64", enc.data, enc.len, AS_MIME_BODY_LINE);
    if (fz_unbase64(&dec, enc.data, enc.len) < 0 || dec.len != len || memcmp(dec.data, s, len) != 0)
        fz_fail("base64 does not decode to the text");
    as_buf_free(&enc);
    as_buf_free(&dec);
    as_buf_free(&want);
}

static void fz_clean(const char *s)
{
    char *multi = as_mime_clean(s, 0), *one = as_mime_clean(s, 1);
    size_t n = strlen(one);
    if (!as_utf8_valid(multi, strlen(multi)) || !as_utf8_valid(one, n))
        fz_fail("a cleaned value is not UTF-8");
    if (n > 0 && (one[0] == ' ' || one[n - 1] == ' '))
        fz_fail("a cleaned line starts or ends with a space: '%s'", one);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)one[i] < 0x20 || one[i] == 0x7f ||
            (i && one[i] == ' ' && one[i - 1] == ' '))
            fz_fail("a cleaned line holds a control or two spaces: '%s'", one);
    free(multi);
    free(one);
}

/* "Subject: ..." unfolded and decoded, as a mail reader shows it. */
static void fz_subject(const char *value)
{
    as_buf_t b = AS_BUF_INIT, shown = AS_BUF_INIT;
    as_mime_header_text(&b, "Subject", value);
    fz_lines_ok("Subject", b.data, b.len, 78);
    if (b.len < 10 || strncmp(b.data, "Subject:", 8) != 0 ||
        strcmp(b.data + b.len - 2, "\r\n") != 0)
        fz_fail("not a Subject field: %s", b.data);
    as_buf_append(&shown, "", 0);
    int words = 0;
    for (char *t = b.data + 8, *end; *t != '\0'; t = end) {
        while (*t == ' ' || *t == '\r' || *t == '\n')
            t++;
        if (*t == '\0')
            break;
        end = t + strcspn(t, " \r\n");
        size_t tl = (size_t)(end - t);
        if (tl > 12 && strncmp(t, "=?UTF-8?B?", 10) == 0 && strncmp(end - 2, "?=", 2) == 0) {
            if (fz_unbase64(&shown, t + 10, tl - 12) < 0)
                fz_fail("a malformed encoded-word: %.*s", (int)tl, t);
            words = 1;
        } else {
            if (words || shown.len > 0)
                as_buf_putc(&shown, ' ');
            as_buf_append(&shown, t, tl);
        }
    }
    char *want = as_mime_clean(value, 1);
    if (strcmp(shown.data, want) != 0)
        fz_fail("a Subject reads '%s', not '%s'", shown.data, want);
    free(want);
    as_buf_free(&shown);
    as_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input_t in;
    fz_input_split(&in, data, size);
    const fz_part_t *body = &in.parts[0];
    fz_clean(body->data);
    fz_subject(body->data);
    fz_bodies(body->data, body->len);

    const char *to[FZ_MAX_TO];
    size_t nto = 0;
    const fz_part_t *tp = fz_input_get(&in, "to");
    char **lines = tp ? fz_lines(tp->data, tp->len) : NULL;
    for (char **l = lines; l && *l; l++) {
        char addr[320], spec[320];
        int ok = as_mime_addr(*l, addr, sizeof(addr)) == 0;
        if (as_mime_addr_spec(*l, spec, sizeof(spec)) < 0 && ok)
            fz_fail("'%s' is an address for the envelope but not a spec", *l);
        if (ok && nto < FZ_MAX_TO)
            to[nto++] = *l;
    }
    if (nto == 0)
        to[nto++] = "ops@example.org";

    as_buf_t b = AS_BUF_INIT;
    as_err_t err;
    if (as_mime_header_addrs(&b, "To", to, nto, &err) < 0)
        fz_fail("addresses that parse are refused: %s", err.msg);
    fz_lines_ok("To", b.data, b.len, 998);
    as_buf_reset(&b);

    const fz_part_t *from = fz_input_get(&in, "from"), *html = fz_input_get(&in, "html");
    as_mime_t m = {
        .from = from ? from->arg : "alertsink <as@example.org>",
        .to = to,
        .nto = nto,
        .subject = body->data,
        .text = body->data,
        .html = html ? html->data : body->data,
        .date = 1795527991,
    };
    if (as_mime_build(&m, &b, &err) == 0)
        fz_lines_ok("the message", b.data, b.len, 998);
    else if (err.msg[0] == '\0')
        fz_fail("a message refused without a reason");
    as_buf_free(&b);
    fz_lines_free(lines);
    fz_input_free(&in);
    return 0;
}
