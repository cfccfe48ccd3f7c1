/*
 * mime.c - the email sink's message builder (see mime.h).
 *
 * Headers are written through a small folding writer: tokens (words,
 * encoded-words, mailboxes) are appended after a space, and a token that
 * would cross AS_MIME_HEADER_LINE starts a continuation line instead.  An
 * unstructured value is either plain ASCII words (each short enough to fit
 * a line) or, when it holds anything else, a run of "=?UTF-8?B?...?="
 * words sized to the room left on their line.  Decoders drop the white
 * space between adjacent encoded-words, so the text can be cut at any
 * character boundary.
 *
 * Bodies are quoted-printable when mostly ASCII (readable in a raw view)
 * and base64 otherwise (smaller for Cyrillic or emoji).  The boundary
 * starts with "=_", which neither encoding can produce ("=" is always
 * followed by hex digits or a line break in quoted-printable, and "_" is
 * not a base64 character), so it cannot occur in a part; as_mime_build()
 * checks it anyway.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "alertsink/module.h"
#include "mime.h"

#define AS_MIME_EW_PRE  "=?UTF-8?B?"
#define AS_MIME_EW_POST "?="
#define AS_MIME_EW_OVER (sizeof(AS_MIME_EW_PRE) - 1 + sizeof(AS_MIME_EW_POST) - 1)
#define AS_MIME_EW_MAX  75 /* RFC 2047 §2 */

/* Length of the valid UTF-8 character at s (len bytes left), 0 if invalid. */
static size_t as_mime_char(const char *s, size_t len)
{
    unsigned char c = (unsigned char)s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (n == 0 || n > len || !as_utf8_valid(s, n))
        return 0;
    return n;
}

char *as_mime_clean(const char *s, int one_line)
{
    as_buf_t b = AS_BUF_INIT;
    size_t len = s != NULL ? strlen(s) : 0;
    int space = 1; /* at the start, spaces are dropped */
    as_buf_reserve(&b, len);
    as_buf_append(&b, "", 0); /* an empty result is "" too */
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = as_mime_char(s + i, len - i);
        if (n == 0) {
            as_buf_puts(&b, "\xef\xbf\xbd"); /* U+FFFD REPLACEMENT CHARACTER */
            i++;
            space = 0;
            continue;
        }
        if (one_line && (c < 0x20 || c == 0x7f || c == ' ')) {
            if (!space)
                as_buf_putc(&b, ' ');
            space = 1;
        } else {
            as_buf_append(&b, s + i, n);
            space = 0;
        }
        i += n;
    }
    if (one_line && b.len > 0 && b.data[b.len - 1] == ' ')
        b.data[--b.len] = '\0';
    return as_buf_steal(&b);
}

/* ---- header folding ------------------------------------------------------ */

typedef struct {
    as_buf_t *b;
    size_t col; /* characters on the current line */
    int empty;  /* nothing written after the field name yet */
} as_fold_t;

static void as_fold_begin(as_fold_t *f, as_buf_t *b, const char *name)
{
    f->b = b;
    as_buf_puts(b, name);
    as_buf_putc(b, ':');
    f->col = strlen(name) + 1;
    f->empty = 1;
}

static void as_fold_break(as_fold_t *f)
{
    as_buf_puts(f->b, "\r\n");
    f->col = 0;
}

/* Room for one more token on the current line, after its space. */
static size_t as_fold_room(const as_fold_t *f)
{
    return f->col + 1 < AS_MIME_HEADER_LINE ? AS_MIME_HEADER_LINE - f->col - 1 : 0;
}

static void as_fold_put(as_fold_t *f, const char *tok, size_t len)
{
    if (!f->empty && len > as_fold_room(f))
        as_fold_break(f);
    as_buf_putc(f->b, ' ');
    as_buf_append(f->b, tok, len);
    f->col += 1 + len;
    f->empty = 0;
}

static void as_fold_end(as_fold_t *f)
{
    as_buf_puts(f->b, "\r\n");
}

/* s (clean UTF-8) as encoded-words, each fitting the line it lands on. */
static void as_fold_words(as_fold_t *f, const char *s, size_t len)
{
    char tok[AS_MIME_EW_MAX + 1];
    size_t i = 0;
    while (i < len) {
        size_t room = as_fold_room(f);
        if (room > AS_MIME_EW_MAX)
            room = AS_MIME_EW_MAX;
        if (room < AS_MIME_EW_OVER + 8) { /* not even one 4-byte character */
            as_fold_break(f);
            continue;
        }
        size_t max = (room - AS_MIME_EW_OVER) / 4 * 3, n = 0;
        while (i + n < len) {
            size_t c = as_mime_char(s + i + n, len - i - n);
            if (c == 0)
                c = 1; /* s is clean: cannot happen */
            if (n + c > max)
                break;
            n += c;
        }
        size_t pre = sizeof(AS_MIME_EW_PRE) - 1;
        memcpy(tok, AS_MIME_EW_PRE, pre);
        int enc = EVP_EncodeBlock((unsigned char *)tok + pre, (const unsigned char *)s + i, (int)n);
        memcpy(tok + pre + (size_t)enc, AS_MIME_EW_POST, sizeof(AS_MIME_EW_POST));
        as_fold_put(f, tok, strlen(tok));
        i += n;
    }
}

/* Can s go out as it is: ASCII, nothing a decoder would take for an
 * encoded-word, no word longer than maxword? */
static int as_mime_plain(const char *s, size_t maxword)
{
    size_t word = 0;
    if (strstr(s, "=?") != NULL)
        return 0;
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80)
            return 0;
        word = *s == ' ' ? 0 : word + 1;
        if (word > maxword)
            return 0;
    }
    return 1;
}

void as_mime_header_text(as_buf_t *b, const char *name, const char *value)
{
    char *v = as_mime_clean(value, 1);
    size_t maxword = AS_MIME_HEADER_LINE - strlen(name) - 2;
    as_fold_t f;
    as_fold_begin(&f, b, name);
    if (as_mime_plain(v, maxword)) {
        for (char *w = v, *sp; *w != '\0'; w = sp + 1) {
            sp = strchr(w, ' ');
            if (sp == NULL) {
                as_fold_put(&f, w, strlen(w));
                break;
            }
            as_fold_put(&f, w, (size_t)(sp - w));
        }
    } else {
        as_fold_words(&f, v, strlen(v));
    }
    as_fold_end(&f);
    free(v);
}

/* ---- addresses ----------------------------------------------------------- */

static int as_mime_addr_ok(const char *a, size_t n)
{
    const char *at = memchr(a, '@', n);
    if (at == NULL || at == a || at == a + n - 1 || memchr(at + 1, '@', n - (size_t)(at - a) - 1))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c <= ' ' || c == 0x7f || strchr("<>()[],;:\\\"", c))
            return 0;
    }
    return a[n - 1] != '.' && at[1] != '.';
}

int as_mime_addr_spec(const char *s, char *addr, size_t len)
{
    const char *lt = strchr(s, '<'), *a = s;
    size_t n;
    for (const char *p = s; *p; p++)
        if (*p == '\r' || *p == '\n')
            return -1; /* header injection */
    if (lt != NULL) {
        const char *gt = strchr(lt, '>');
        if (gt == NULL || gt[1] != '\0')
            return -1;
        a = lt + 1;
        n = (size_t)(gt - a);
    } else {
        while (*a == ' ')
            a++;
        n = strlen(a);
        while (n > 0 && a[n - 1] == ' ')
            n--;
    }
    if (n == 0 || n >= len || !as_mime_addr_ok(a, n))
        return -1;
    memcpy(addr, a, n);
    addr[n] = '\0';
    return 0;
}

int as_mime_addr(const char *spec, char *addr, size_t size)
{
    if (as_mime_addr_spec(spec, addr, size) < 0)
        return -1;
    for (const char *p = addr; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80)
            return -1; /* would need SMTPUTF8, which libesmtp does not speak */
    return 0;
}

/* The display name of "Name <a@b>" ("" for a bare address), unquoted and
 * folded to one line.  malloc'd. */
static char *as_mime_display_name(const char *spec)
{
    const char *lt = strchr(spec, '<');
    if (lt == NULL)
        return as_xstrdup("");
    const char *s = spec, *e = lt;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    as_buf_t b = AS_BUF_INIT;
    if (e - s >= 2 && *s == '"' && e[-1] == '"') {
        for (const char *p = s + 1; p < e - 1; p++) {
            if (*p == '\\' && p + 1 < e - 1)
                p++;
            as_buf_putc(&b, *p);
        }
    } else {
        as_buf_append(&b, s, (size_t)(e - s));
    }
    char *raw = as_buf_steal(&b);
    char *name = as_mime_clean(raw, 1);
    free(raw);
    return name;
}

/* RFC 5322 atext, and the space between atoms of a phrase. */
static int as_mime_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~ ", c) != NULL);
}

static void as_fold_phrase(as_fold_t *f, const char *name)
{
    size_t len = strlen(name);
    if (!as_mime_plain(name, 60) || len > 60) {
        as_fold_words(f, name, len);
        return;
    }
    int atoms = 1;
    for (const char *p = name; *p != '\0'; p++)
        atoms = atoms && as_mime_atext((unsigned char)*p);
    if (atoms) {
        as_fold_put(f, name, len);
        return;
    }
    as_buf_t q = AS_BUF_INIT;
    as_buf_putc(&q, '"');
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            as_buf_putc(&q, '\\');
        as_buf_putc(&q, *p);
    }
    as_buf_putc(&q, '"');
    as_fold_put(f, q.data, q.len);
    as_buf_free(&q);
}

int as_mime_header_addrs(as_buf_t *b, const char *name, const char *const *specs, size_t n,
                         as_err_t *err)
{
    as_fold_t f;
    as_fold_begin(&f, b, name);
    for (size_t i = 0; i < n; i++) {
        char addr[320], tok[330];
        if (as_mime_addr(specs[i], addr, sizeof(addr)) < 0)
            return as_err_set(err, "%s: invalid email address '%s'", name, specs[i]);
        char *display = as_mime_display_name(specs[i]);
        const char *comma = i + 1 < n ? "," : "";
        if (*display != '\0') {
            as_fold_phrase(&f, display);
            snprintf(tok, sizeof(tok), "<%s>%s", addr, comma);
        } else {
            snprintf(tok, sizeof(tok), "%s%s", addr, comma);
        }
        free(display);
        as_fold_put(&f, tok, strlen(tok));
    }
    as_fold_end(&f);
    return 0;
}

/* ---- bodies -------------------------------------------------------------- */

static int as_mime_eol(const char *s, size_t i, size_t len)
{
    return i >= len || s[i] == '\r' || s[i] == '\n';
}

void as_mime_qp(as_buf_t *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
                i++;
            as_buf_puts(b, "\r\n");
            col = 0;
            continue;
        }
        int literal = (c >= 33 && c <= 126 && c != '=') ||
                      ((c == ' ' || c == '\t') && !as_mime_eol(s, i + 1, len));
        /* A line starting "From " is rewritten to ">From " by mbox-minded
         * relays; an encoded F keeps the text intact. */
        if (col == 0 && c == 'F' && len - i >= 5 && memcmp(s + i, "From ", 5) == 0)
            literal = 0;
        size_t w = literal ? 1 : 3;
        if (col + w > AS_MIME_BODY_LINE - 1) { /* room for the soft break's "=" */
            as_buf_puts(b, "=\r\n");
            col = 0;
        }
        if (literal) {
            as_buf_putc(b, (char)c);
        } else {
            char e[3] = {'=', hex[c >> 4], hex[c & 15]};
            as_buf_append(b, e, 3);
        }
        col += w;
    }
}

void as_mime_base64(as_buf_t *b, const char *s, size_t len)
{
    enum { CHUNK = AS_MIME_BODY_LINE / 4 * 3 }; /* 57 bytes -> 76 characters */
    unsigned char line[AS_MIME_BODY_LINE + 1];
    for (size_t i = 0; i < len; i += CHUNK) {
        size_t n = len - i < CHUNK ? len - i : CHUNK;
        int enc = EVP_EncodeBlock(line, (const unsigned char *)s + i, (int)n);
        if (i > 0)
            as_buf_puts(b, "\r\n");
        as_buf_append(b, line, (size_t)enc);
    }
}

void as_mime_crlf(as_buf_t *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' || s[i] == '\n') {
            if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
                i++;
            as_buf_puts(b, "\r\n");
        } else {
            as_buf_putc(b, s[i]);
        }
    }
}

/* Encode one part's body; returns the Content-Transfer-Encoding. */
static const char *as_mime_body(as_buf_t *b, const char *body)
{
    char *clean = as_mime_clean(body, 0);
    size_t len = strlen(clean), escaped = 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)clean[i] >= 0x80 || clean[i] == '=')
            escaped++;
    /* Quoted-printable spends 3 characters on an escaped byte, base64 4/3
     * on every byte: past one escaped byte in six, base64 is smaller. */
    const char *cte;
    if (escaped * 6 > len) {
        as_buf_t canon = AS_BUF_INIT;
        as_mime_crlf(&canon, clean, len);
        as_mime_base64(b, canon.data != NULL ? canon.data : "", canon.len);
        as_buf_free(&canon);
        cte = "base64";
    } else {
        as_mime_qp(b, clean, len);
        cte = "quoted-printable";
    }
    free(clean);
    return cte;
}

/* ---- the message --------------------------------------------------------- */

void as_mime_date(char *buf, size_t size, time_t t)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    localtime_r(&t, &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(buf, size, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60,
             off % 60);
}

/* 2n hex digits of randomness; getrandom(2) has no failure worth more than
 * a weaker fallback here: these only need to be unique. */
static void as_mime_random_hex(char *out, size_t n)
{
    unsigned char r[32];
    if (n > sizeof(r))
        n = sizeof(r);
    if (getrandom(r, n, 0) != (ssize_t)n) {
        static _Atomic uint64_t counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                     ((uint64_t)getpid() << 48) ^ ++counter;
        for (size_t i = 0; i < n; i++) { /* splitmix64 */
            x += 0x9e3779b97f4a7c15ULL;
            uint64_t z = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            r[i] = (unsigned char)(z ^ (z >> 31));
        }
    }
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", r[i]);
}

int as_mime_build(const as_mime_t *m, as_buf_t *out, as_err_t *err)
{
    static const char *const types[2] = {"text/plain", "text/html"};
    char from[320], date[64], id[33], boundary[6 + 33];
    if (as_mime_addr(m->from, from, sizeof(from)) < 0)
        return as_err_set(err, "From: invalid email address '%s'", m->from);

    as_buf_t part[2] = {AS_BUF_INIT, AS_BUF_INIT};
    const char *cte[2];
    cte[0] = as_mime_body(&part[0], m->text);
    cte[1] = as_mime_body(&part[1], m->html);
    do {
        memcpy(boundary, "=_as_", 5);
        as_mime_random_hex(boundary + 5, 16);
    } while ((part[0].data != NULL && strstr(part[0].data, boundary) != NULL) ||
             (part[1].data != NULL && strstr(part[1].data, boundary) != NULL));

    as_mime_date(date, sizeof(date), m->date != 0 ? m->date : time(NULL));
    as_mime_random_hex(id, 16);
    as_buf_printf(out, "Date: %s\r\n", date);
    as_buf_printf(out, "Message-ID: <%s@%s>\r\n", id, strrchr(from, '@') + 1);
    int rc = as_mime_header_addrs(out, "From", &m->from, 1, err);
    if (rc == 0)
        rc = as_mime_header_addrs(out, "To", m->to, m->nto, err);
    if (rc == 0) {
        as_mime_header_text(out, "Subject", m->subject);
        as_buf_printf(out,
                      "MIME-Version: 1.0\r\n"
                      "Auto-Submitted: auto-generated\r\n"
                      "Content-Type: multipart/alternative;\r\n"
                      " boundary=\"%s\"\r\n"
                      "\r\n"
                      "This is a multi-part message in MIME format.\r\n",
                      boundary);
        for (int i = 0; i < 2; i++) {
            as_buf_printf(out,
                          "\r\n--%s\r\n"
                          "Content-Type: %s; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: %s\r\n"
                          "\r\n",
                          boundary, types[i], cte[i]);
            if (part[i].data != NULL)
                as_buf_append(out, part[i].data, part[i].len);
        }
        as_buf_printf(out, "\r\n--%s--\r\n", boundary);
    }
    as_buf_free(&part[0]);
    as_buf_free(&part[1]);
    return rc;
}
