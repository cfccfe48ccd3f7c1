/*
 * test_mime.c - the email sink's message builder (src/sinks/mime.c).
 *
 * Everything it produces is decoded back here by small independent
 * decoders (RFC 2047 words, quoted-printable, base64 through OpenSSL) and
 * compared with the input, and checked against the wire rules: CRLF line
 * ends only, 7-bit, header lines of at most 78 characters, encoded-words
 * of at most 75, body lines of at most 76, one of each header, a boundary
 * that occurs nowhere but in its delimiters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "alertsink/buf.h"
#include "lib/json.h"
#include "sinks/email/mime.h"

/* ---- decoders -------------------------------------------------------------- */

/* base64 of len characters (no line breaks) into out; returns the length. */
static size_t b64_decode(const char *s, size_t len, unsigned char *out)
{
    int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
    assert_true(n >= 0);
    while (len > 0 && s[len - 1] == '=') { /* EVP_DecodeBlock counts padding */
        len--;
        n--;
    }
    return (size_t)n;
}

/* Every line of s (CRLF-separated, s ends with CRLF) at most max long. */
static void assert_lines_at_most(const char *s, size_t max)
{
    const char *p = s;
    while (*p != '\0') {
        const char *e = strstr(p, "\r\n");
        assert_non_null(e);
        if ((size_t)(e - p) > max)
            fail_msg("line longer than %zu: %.*s", max, (int)(e - p), p);
        p = e + 2;
    }
}

/* No bare CR or LF, nothing but 7-bit. */
static void assert_wire_clean(const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        assert_true((unsigned char)*p < 0x80);
        if (*p == '\r')
            assert_true(p[1] == '\n');
        if (*p == '\n')
            assert_true(p > s && p[-1] == '\r');
    }
}

/* Decode an unstructured header value produced by as_mime_header_text()
 * ("Name: ...\r\n", possibly folded) back to its text.  Checks every
 * encoded-word's size and that each holds whole UTF-8 characters. */
static char *decode_text_header(const char *field, const char *name)
{
    size_t nlen = strlen(name);
    assert_true(strncmp(field, name, nlen) == 0 && field[nlen] == ':');
    assert_lines_at_most(field, 78);
    /* unfold: a CRLF followed by a space is folding white space */
    as_buf_t u = AS_BUF_INIT;
    const char *end = field + strlen(field) - 2;
    assert_string_equal(end, "\r\n");
    for (const char *p = field + nlen + 1; p < end; p++) {
        if (p[0] == '\r') {
            assert_true(p[1] == '\n' && (p[2] == ' ' || p[2] == '\t'));
            p++;
            continue;
        }
        as_buf_putc(&u, *p);
    }
    as_buf_t out = AS_BUF_INIT;
    char *v = u.data != NULL ? u.data : "";
    while (*v == ' ')
        v++;
    if (strncmp(v, "=?", 2) != 0) {
        as_buf_puts(&out, v);
    } else {
        char *save = NULL;
        for (char *w = strtok_r(v, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
            size_t wl = strlen(w);
            assert_true(wl <= 75);
            assert_true(strncmp(w, "=?UTF-8?B?", 10) == 0);
            assert_string_equal(w + wl - 2, "?=");
            unsigned char dec[80];
            size_t n = b64_decode(w + 10, wl - 12, dec);
            assert_true(as_utf8_valid((const char *)dec, n)); /* no character split */
            as_buf_append(&out, dec, n);
        }
    }
    as_buf_free(&u);
    return as_buf_steal(&out);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Quoted-printable back to bytes (CRLF line breaks kept as CRLF). */
static char *qp_decode(const char *s)
{
    as_buf_t b = AS_BUF_INIT;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p != '=') {
            as_buf_putc(&b, *p);
        } else if (p[1] == '\r' && p[2] == '\n') {
            p += 2; /* soft line break */
        } else {
            int hi = hexval(p[1]), lo = hexval(p[2]);
            assert_true(hi >= 0 && lo >= 0);
            as_buf_putc(&b, (char)(hi * 16 + lo));
            p += 2;
        }
    }
    return as_buf_steal(&b);
}

/* base64 body (CRLF-separated lines) back to bytes. */
static char *b64_body_decode(const char *s)
{
    as_buf_t b = AS_BUF_INIT;
    const char *p = s;
    while (*p != '\0') {
        const char *e = strstr(p, "\r\n");
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        unsigned char dec[80];
        assert_true(len <= 76);
        as_buf_append(&b, dec, b64_decode(p, len, dec));
        p += len + (e != NULL ? 2 : 0);
    }
    return as_buf_steal(&b);
}

static char *crlf(const char *s)
{
    as_buf_t b = AS_BUF_INIT;
    for (; *s != '\0'; s++) {
        if (*s == '\n')
            as_buf_putc(&b, '\r');
        as_buf_putc(&b, *s);
    }
    return as_buf_steal(&b);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- headers --------------------------------------------------------------- */

static void test_ascii_subject_goes_out_as_is(void **state)
{
    as_buf_t b = AS_BUF_INIT;
    as_mime_header_text(&b, "Subject", "[FIRING:1] DiskFull (db-01)");
    assert_string_equal(b.data, "Subject: [FIRING:1] DiskFull (db-01)\r\n");
    as_buf_free(&b);
}

static void test_long_ascii_subject_folds_at_spaces(void **state)
{
    as_buf_t s = AS_BUF_INIT, b = AS_BUF_INIT;
    for (int i = 0; i < 40; i++)
        as_buf_printf(&s, "%sword%02d", i ? " " : "", i);
    as_mime_header_text(&b, "Subject", s.data);
    assert_true(count(b.data, "\r\n") > 2); /* folded */
    assert_null(strstr(b.data, "=?"));      /* not encoded */
    char *back = decode_text_header(b.data, "Subject");
    assert_string_equal(back, s.data);
    free(back);
    as_buf_free(&s);
    as_buf_free(&b);
}

static void test_non_ascii_subject_round_trips(void **state)
{
    static const char *const subjects[] = {
        "Diskte yer kalmadı",
        "İstanbul şubesinde disk doldu: ğüşıöç ĞÜŞİÖÇ",
        "🔥🔥🔥 [FIRING:3] CPU yüksek 🚒 — müdahale edin",
        "é",
        "a🔥b🔥c🔥d🔥e🔥f🔥g🔥h🔥i🔥j🔥k🔥l🔥m🔥n🔥o🔥p🔥q🔥r🔥s🔥t🔥u🔥v🔥w🔥x🔥y🔥z🔥",
        "ünlü Çağrı ünlü Çağrı ünlü Çağrı ünlü Çağrı ünlü Çağrı ünlü Çağrı ünlü Çağrı "
        "ünlü Çağrı ünlü Çağrı ünlü Çağrı ünlü Çağrı ünlü Çağrı ünlü Çağrı ünlü Çağrı",
        "=?UTF-8?B?QUJD?= looks encoded but is plain text",
        "aVeryLongWordWithoutAnySpaceThatCannotBeFoldedAnywhereAtAllBecauseItIsLongerThanALine",
    };
    for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
        as_buf_t b = AS_BUF_INIT;
        as_mime_header_text(&b, "Subject", subjects[i]);
        assert_wire_clean(b.data);
        if (strstr(b.data, "=?UTF-8?B?") == NULL)
            fail_msg("not encoded: %s", b.data);
        char *back = decode_text_header(b.data, "Subject");
        assert_string_equal(back, subjects[i]);
        free(back);
        as_buf_free(&b);
    }
}

static void test_subject_cannot_inject_a_header(void **state)
{
    as_buf_t b = AS_BUF_INIT;
    as_mime_header_text(&b, "Subject", "Disk full\r\nBcc: victim@example.com\r\n\r\nbody\n.\r\n");
    /* one field: every CRLF but the last is followed by folding space */
    const char *last = b.data + b.len - 2;
    for (const char *p = b.data; (p = strstr(p, "\r\n")) != NULL; p += 2)
        assert_true(p == last || p[2] == ' ');
    char *back = decode_text_header(b.data, "Subject");
    assert_string_equal(back, "Disk full Bcc: victim@example.com body .");
    free(back);
    as_buf_free(&b);

    as_buf_t e = AS_BUF_INIT; /* and when encoded */
    as_mime_header_text(&e, "Subject", "Şişli\nX-Evil: 1");
    back = decode_text_header(e.data, "Subject");
    assert_string_equal(back, "Şişli X-Evil: 1");
    free(back);
    as_buf_free(&e);
}

static void test_clean(void **state)
{
    char *s = as_mime_clean("  a\tb\r\n  c\x01 d  ", 1);
    assert_string_equal(s, "a b c d");
    free(s);
    s = as_mime_clean("ok \xff\xfe end \xc3", 1);
    assert_string_equal(s, "ok \xef\xbf\xbd\xef\xbf\xbd end \xef\xbf\xbd");
    free(s);
    s = as_mime_clean("line 1\nline 2\n", 0); /* bodies keep their lines */
    assert_string_equal(s, "line 1\nline 2\n");
    free(s);
    s = as_mime_clean("\xed\xa0\x80", 0); /* a UTF-16 surrogate is not UTF-8 */
    assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    s = as_mime_clean(NULL, 1);
    assert_string_equal(s, "");
    free(s);
}

static void test_address_headers(void **state)
{
    static const char *const to[] = {"oncall@example.com", "Ali Veli <ali@example.com>",
                                     "\"Doe, John\" <john@example.com>",
                                     "  Say \"hi\"  <hi@example.com>"};
    as_buf_t b = AS_BUF_INIT;
    as_err_t err;
    assert_int_equal(as_mime_header_addrs(&b, "To", to, 4, &err), 0);
    assert_string_equal(b.data,
                        "To: oncall@example.com, Ali Veli <ali@example.com>, \"Doe, John\"\r\n"
                        " <john@example.com>, \"Say \\\"hi\\\"\" <hi@example.com>\r\n");
    as_buf_free(&b);

    static const char *const from[] = {"Bülent Öztürk <bulent@example.com>"};
    assert_int_equal(as_mime_header_addrs(&b, "From", from, 1, &err), 0);
    assert_wire_clean(b.data);
    assert_lines_at_most(b.data, 78);
    char *name = strdup(b.data); /* "From: =?...?= <addr>\r\n": decode the phrase */
    char *lt = strstr(name, " <bulent@example.com>\r\n");
    assert_non_null(lt);
    strcpy(lt, "\r\n");
    char *back = decode_text_header(name, "From");
    assert_string_equal(back, "Bülent Öztürk");
    free(back);
    free(name);
    as_buf_free(&b);

    static const char *const bad[] = {"not an address"};
    assert_int_equal(as_mime_header_addrs(&b, "To", bad, 1, &err), -1);
    assert_non_null(strstr(err.msg, "not an address"));
    as_buf_free(&b);

    char addr[64];
    assert_int_equal(as_mime_addr("Ops <ops@example.com>", addr, sizeof(addr)), 0);
    assert_string_equal(addr, "ops@example.com");
    assert_int_equal(as_mime_addr("ünlü@example.com", addr, sizeof(addr)), -1); /* no SMTPUTF8 */
}

static void test_date(void **state)
{
    char buf[64];
    setenv("TZ", "Europe/Istanbul", 1);
    tzset();
    as_mime_date(buf, sizeof(buf), 1700000000); /* 2023-11-14 22:13:20 UTC */
    assert_string_equal(buf, "Wed, 15 Nov 2023 01:13:20 +0300");
    setenv("TZ", "America/New_York", 1);
    tzset();
    as_mime_date(buf, sizeof(buf), 1700000000);
    assert_string_equal(buf, "Tue, 14 Nov 2023 17:13:20 -0500");
    setenv("TZ", "UTC", 1);
    tzset();
    as_mime_date(buf, sizeof(buf), 0);
    assert_string_equal(buf, "Thu, 1 Jan 1970 00:00:00 +0000");
}

/* ---- bodies ---------------------------------------------------------------- */

static void test_quoted_printable(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain text", "plain text"},
        {"x = y", "x =3D y"},
        {"trailing \nspace\t\r\nend ", "trailing=20\r\nspace=09\r\nend=20"},
        {"From me\nFrom you", "=46rom me\r\n=46rom you"},
        {"a From b", "a From b"},
        {"é\rü", "=C3=A9\r\n=C3=BC"},
        {".dot", ".dot"}, /* dot-stuffing is libesmtp's job */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        as_buf_t b = AS_BUF_INIT;
        as_mime_qp(&b, cases[i].in, strlen(cases[i].in));
        assert_string_equal(b.data, cases[i].out);
        as_buf_free(&b);
    }
}

static void test_quoted_printable_long_lines(void **state)
{
    as_buf_t in = AS_BUF_INIT, b = AS_BUF_INIT;
    for (int i = 0; i < 300; i++)
        as_buf_puts(&in, i % 7 == 0 ? "ş" : i % 11 == 0 ? "=" : "a");
    as_buf_puts(&in, "\n");
    for (int i = 0; i < 200; i++)
        as_buf_putc(&in, ' ');
    as_buf_puts(&in, "x\n");
    as_mime_qp(&b, in.data, in.len);
    assert_wire_clean(b.data);
    assert_lines_at_most(b.data, 76);
    /* a soft break never splits an escape */
    for (const char *p = b.data; (p = strchr(p, '=')) != NULL; p++)
        assert_true((p[1] == '\r' && p[2] == '\n') || (hexval(p[1]) >= 0 && hexval(p[2]) >= 0));
    char *back = qp_decode(b.data), *want = crlf(in.data);
    assert_string_equal(back, want);
    free(back);
    free(want);
    as_buf_free(&in);
    as_buf_free(&b);
}

static void test_base64(void **state)
{
    unsigned char in[1000];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 7 + (i >> 3));
    as_buf_t b = AS_BUF_INIT;
    as_mime_base64(&b, (const char *)in, sizeof(in));
    as_buf_puts(&b, "\r\n");
    assert_wire_clean(b.data);
    assert_lines_at_most(b.data, 76);
    assert_int_equal(b.data[76], '\r'); /* full lines */
    b.data[b.len - 2] = '\0';
    char *back = b64_body_decode(b.data);
    assert_memory_equal(back, in, sizeof(in));
    free(back);
    as_buf_free(&b);
}

/* ---- the whole message ----------------------------------------------------- */

typedef struct {
    char *head;
    char *boundary;
    char *part[2];
    char *type[2];
    char *cte[2];
} parsed_t;

static char *header_value(const char *head, const char *name)
{
    as_buf_t key = AS_BUF_INIT;
    as_buf_printf(&key, "\r\n%s: ", name);
    const char *p = strstr(head, key.data);
    assert_non_null(p);
    assert_null(strstr(p + 1, key.data)); /* exactly once */
    p += key.len;
    const char *e = p;
    while (!(e[0] == '\r' && e[1] == '\n' && e[2] != ' ' && e[2] != '\t'))
        e++;
    as_buf_free(&key);
    return strndup(p, (size_t)(e - p));
}

/* Split a message built by as_mime_build() into its pieces. */
static void parse(const char *msg, parsed_t *m)
{
    memset(m, 0, sizeof(*m));
    const char *sep = strstr(msg, "\r\n\r\n");
    assert_non_null(sep);
    as_buf_t h = AS_BUF_INIT;
    as_buf_puts(&h, "\r\n"); /* so every field starts with CRLF */
    as_buf_append(&h, msg, (size_t)(sep - msg) + 2);
    m->head = as_buf_steal(&h);
    assert_lines_at_most(m->head + 2, 78);

    char *ct = header_value(m->head, "Content-Type");
    const char *bp = strstr(ct, "boundary=\"");
    assert_non_null(bp);
    bp += 10;
    m->boundary = strndup(bp, strcspn(bp, "\""));
    assert_true(strncmp(ct, "multipart/alternative;", 22) == 0);
    free(ct);

    const char *body = sep + 4;
    assert_lines_at_most(body, 76);
    as_buf_t delim = AS_BUF_INIT;
    as_buf_printf(&delim, "\r\n--%s", m->boundary);
    assert_int_equal(count(body, delim.data), 3); /* nowhere else */
    assert_int_equal(count(msg, m->boundary), 4); /* and the parameter */
    const char *p = strstr(body, delim.data);
    for (int i = 0; i < 2; i++) {
        p += delim.len;
        assert_true(p[0] == '\r' && p[1] == '\n');
        const char *ph = p, *pb = strstr(p, "\r\n\r\n") + 4;
        as_buf_t hh = AS_BUF_INIT;
        as_buf_append(&hh, ph, (size_t)(pb - ph) - 2);
        m->type[i] = header_value(hh.data, "Content-Type");
        m->cte[i] = header_value(hh.data, "Content-Transfer-Encoding");
        as_buf_free(&hh);
        const char *next = strstr(pb, delim.data);
        m->part[i] = strndup(pb, (size_t)(next - pb));
        p = next;
    }
    assert_string_equal(p + delim.len, "--\r\n");
    as_buf_free(&delim);
}

static void parsed_free(parsed_t *m)
{
    free(m->head);
    free(m->boundary);
    for (int i = 0; i < 2; i++) {
        free(m->part[i]);
        free(m->type[i]);
        free(m->cte[i]);
    }
}

static char *part_text(const parsed_t *m, int i)
{
    if (strcmp(m->cte[i], "base64") == 0)
        return b64_body_decode(m->part[i]);
    assert_string_equal(m->cte[i], "quoted-printable");
    return qp_decode(m->part[i]);
}

static void test_build_message(void **state)
{
    static const char *const to[] = {"oncall@example.com", "Bülent <b@example.com>"};
    const char *subject = "[FIRING:2] Disk dolu — İstanbul 🔥";
    const char *text = "Disk dolu: /var %97\nSunucu: db-01 🔥\n.nokta\n";
    const char *html = "<p>Disk <b>dolu</b> 🔥</p>\n";
    as_mime_t mm = {.from = "Alert Şişli <alerts@example.com>",
                    .to = to,
                    .nto = 2,
                    .subject = subject,
                    .text = text,
                    .html = html,
                    .date = 1700000000};
    setenv("TZ", "UTC", 1);
    tzset();
    as_buf_t b = AS_BUF_INIT, b2 = AS_BUF_INIT;
    as_err_t err;
    assert_int_equal(as_mime_build(&mm, &b, &err), 0);
    assert_int_equal(as_mime_build(&mm, &b2, &err), 0);
    assert_wire_clean(b.data);

    parsed_t m, m2;
    parse(b.data, &m);
    parse(b2.data, &m2);
    char *v = header_value(m.head, "Date");
    assert_string_equal(v, "Tue, 14 Nov 2023 22:13:20 +0000");
    free(v);
    v = header_value(m.head, "MIME-Version");
    assert_string_equal(v, "1.0");
    free(v);
    char *id = header_value(m.head, "Message-ID"), *id2 = header_value(m2.head, "Message-ID");
    assert_int_equal(strlen(id), 1 + 32 + 1 + 11 + 1);
    assert_true(id[0] == '<' && strspn(id + 1, "0123456789abcdef") == 32);
    assert_string_equal(id + 33, "@example.com>");
    assert_string_not_equal(id, id2);
    assert_string_not_equal(m.boundary, m2.boundary);
    free(id);
    free(id2);
    v = header_value(m.head, "To");
    assert_non_null(strstr(v, "oncall@example.com,"));
    assert_non_null(strstr(v, "<b@example.com>"));
    free(v);
    v = header_value(m.head, "From");
    assert_non_null(strstr(v, "<alerts@example.com>"));
    free(v);

    const char *s = strstr(b.data, "\r\nSubject:") + 2;
    char *field = strndup(s, (size_t)(strstr(s, "\r\nMIME-Version:") - s) + 2);
    char *back = decode_text_header(field, "Subject");
    assert_string_equal(back, subject);
    free(back);
    free(field);

    assert_string_equal(m.type[0], "text/plain; charset=UTF-8");
    assert_string_equal(m.type[1], "text/html; charset=UTF-8");
    char *t = part_text(&m, 0), *h = part_text(&m, 1), *want = crlf(text), *wanth = crlf(html);
    assert_string_equal(t, want);
    assert_string_equal(h, wanth);
    free(t);
    free(h);
    free(want);
    free(wanth);
    parsed_free(&m);
    parsed_free(&m2);
    as_buf_free(&b);
    as_buf_free(&b2);
}

static void test_encoding_choice_and_boundary_lookalikes(void **state)
{
    static const char *const to[] = {"oncall@example.com"};
    /* Text that quotes a boundary of ours, and one all emoji. */
    const char *text = "--=_as_0123456789abcdef0123456789abcdef\n=_as_\nmostly ASCII\n";
    const char *html = "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥";
    as_mime_t mm = {.from = "alerts@example.com",
                    .to = to,
                    .nto = 1,
                    .subject = "",
                    .text = text,
                    .html = html};
    as_buf_t b = AS_BUF_INIT;
    as_err_t err;
    assert_int_equal(as_mime_build(&mm, &b, &err), 0);
    assert_wire_clean(b.data);
    parsed_t m;
    parse(b.data, &m); /* asserts the boundary occurs only where it belongs */
    assert_string_equal(m.cte[0], "quoted-printable");
    assert_string_equal(m.cte[1], "base64");
    char *t = part_text(&m, 0), *h = part_text(&m, 1), *want = crlf(text);
    assert_string_equal(t, want);
    assert_string_equal(h, html);
    assert_non_null(strstr(b.data, "\r\nSubject:\r\n"));
    free(t);
    free(h);
    free(want);
    parsed_free(&m);
    as_buf_free(&b);
}

static void test_build_rejects_a_bad_sender(void **state)
{
    static const char *const to[] = {"oncall@example.com"};
    as_mime_t mm = {.from = "nobody", .to = to, .nto = 1, .subject = "x", .text = "", .html = ""};
    as_buf_t b = AS_BUF_INIT;
    as_err_t err;
    assert_int_equal(as_mime_build(&mm, &b, &err), -1);
    assert_non_null(strstr(err.msg, "From"));
    as_buf_free(&b);
}

/* The configuration's address form, which the sink's keys read. */
static void test_addr_spec(void **state)
{
    char buf[320];
    assert_int_equal(as_mime_addr_spec("Ops <ops@example.com>", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "ops@example.com");
    assert_int_equal(as_mime_addr_spec("root@localhost", buf, sizeof(buf)), 0);
    assert_int_equal(as_mime_addr_spec("no-at-sign", buf, sizeof(buf)), -1);
    assert_int_equal(as_mime_addr_spec("a@b\r\nBcc: x@y", buf, sizeof(buf)), -1);
    assert_int_equal(as_mime_addr_spec("a b@c", buf, sizeof(buf)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_spec),
        cmocka_unit_test(test_ascii_subject_goes_out_as_is),
        cmocka_unit_test(test_long_ascii_subject_folds_at_spaces),
        cmocka_unit_test(test_non_ascii_subject_round_trips),
        cmocka_unit_test(test_subject_cannot_inject_a_header),
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_address_headers),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_quoted_printable),
        cmocka_unit_test(test_quoted_printable_long_lines),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_build_message),
        cmocka_unit_test(test_encoding_choice_and_boundary_lookalikes),
        cmocka_unit_test(test_build_rejects_a_bad_sender),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
