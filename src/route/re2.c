/*
 * re2.c - Go's regular expression syntax on PCRE2 (see re2.h).
 *
 * The walk follows Go's regexp/syntax parse.go (Perl flags, as
 * regexp.Compile uses them) step by step: the same tokens in the same
 * order, the same rules for what is a literal ("{" that does not start a
 * valid repetition, "]" outside a class, "\_"), the same limits (a count
 * over 1000, or nested counts whose product is over 1000, is refused),
 * the same flag scoping (a flag group lasts to the end of its group,
 * across "|").  The output is built item by item: an item is what a
 * repetition applies to, so "a(?i)*" repeats the "a" as Go does, and an
 * assertion or an item repeated already is wrapped in (?:...) first.
 *
 * Classes are resolved to what Go puts in them: Perl and POSIX classes
 * are ASCII ranges (under (?i) with Go's two extra folds, U+017F for s and
 * U+212A for k), a negated one under (?i) is the complement of the folded
 * class, with PCRE2's own folding turned off for it; \p{C} is Go's C (no
 * unassigned code points, unlike PCRE2's); a property that Go folds under
 * (?i) gets Go's extra code points.  A class with parts PCRE2 cannot hold
 * in one [...] becomes an alternation, or for a negated class a negative
 * lookahead and any one character.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "lib/json.h"
#include "lib/log.h"
#include "route/re2.h"

#define AS_RE2_MAX_REPEAT 1000 /* Go's maxRepeat */
#define AS_RE2_MAX_RUNE   0x10ffffL

enum { AS_RE_I = 1, AS_RE_M = 2, AS_RE_S = 4, AS_RE_U = 8 };

/* What the last item of the current concatenation is. */
enum {
    AS_ITEM_NONE,   /* none: a repetition here has no argument */
    AS_ITEM_ATOM,   /* a literal, a class, a group: repeatable as it is */
    AS_ITEM_ASSERT, /* ^ $ \A \z \b \B: wrapped before it is repeated */
    AS_ITEM_SEQ,    /* repeated already, or several PCRE2 items: wrapped */
};

typedef struct {
    unsigned flags;   /* the flags at "(", restored at ")" */
    size_t out_start; /* where the group starts in the output */
    size_t need;      /* the enclosing group's need, restored at ")" */
    size_t at;        /* the "(" in the pattern */
} as_re2_group_t;

typedef struct {
    const char *re;
    size_t len, i;
    size_t base, user_len; /* offsets in errors: into re + base, at most user_len */
    as_buf_t *out;
    as_err_t *err;
    unsigned flags;
    as_buf_t pending; /* flag changes, emitted before the next item */
    int item;
    size_t item_start, item_need;
    int last_repeat; /* the previous token was a repetition */
    size_t last_repeat_at;
    size_t need; /* repeat need of the current group's finished items */
    as_re2_group_t *groups;
    size_t ngroups, gcap;
} as_re2_parser_t;

/* A class being built: ranges PCRE2 may fold as Go folds them, property
 * escapes, and parts that need a [...] of their own. */
typedef struct {
    long *r; /* pairs lo, hi */
    size_t nr, cr;
    as_buf_t props;
    as_buf_t alts; /* "|"-separated */
} as_re2_class_t;

static int as_re2_fail(as_re2_parser_t *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int as_re2_fail(as_re2_parser_t *p, size_t at, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    at = at > p->base ? at - p->base : 0;
    return as_err_set(p->err, "%s at offset %zu", msg, at < p->user_len ? at : p->user_len);
}

/* The code point at p->re + at, its length in *w (valid UTF-8: checked). */
static long as_re2_rune(const as_re2_parser_t *p, size_t at, size_t *w)
{
    long cp;
    *w = as_utf8_decode(p->re + at, p->len - at, &cp);
    return cp;
}

/* --- output ----------------------------------------------------------------------- */

static void as_re2_put_cp(as_buf_t *b, long cp)
{
    as_buf_printf(b, "\\x{%lx}", cp);
}

/* A literal outside a class, escaped so that PCRE2 reads only it. */
static void as_re2_put_literal(as_buf_t *b, long cp)
{
    if ((cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z')) {
        as_buf_putc(b, (char)cp);
    } else if (cp > ' ' && cp < 0x7f) {
        as_buf_putc(b, '\\'); /* PCRE2: a backslash and punctuation is that character */
        as_buf_putc(b, (char)cp);
    } else {
        as_re2_put_cp(b, cp);
    }
}

static void as_re2_insert(as_buf_t *b, size_t at, const char *s)
{
    size_t n = strlen(s);
    as_buf_reserve(b, n);
    memmove(b->data + at + n, b->data + at, b->len - at + 1);
    memcpy(b->data + at, s, n);
    b->len += n;
}

/* A new item starts: the previous one is done, waiting flag changes go
 * out before it. */
static void as_re2_begin_item(as_re2_parser_t *p)
{
    if (p->item != AS_ITEM_NONE && p->item_need > p->need)
        p->need = p->item_need;
    if (p->pending.len > 0) {
        as_buf_append(p->out, p->pending.data, p->pending.len);
        as_buf_reset(&p->pending);
    }
    p->item_start = p->out->len;
    p->item = AS_ITEM_NONE;
    p->item_need = 0;
}

static void as_re2_end_item(as_re2_parser_t *p, int kind)
{
    p->item = kind;
    p->last_repeat = 0;
}

static void as_re2_literal(as_re2_parser_t *p, long cp)
{
    as_re2_begin_item(p);
    as_re2_put_literal(p->out, cp);
    as_re2_end_item(p, AS_ITEM_ATOM);
}

static void as_re2_text_item(as_re2_parser_t *p, const char *text, int kind)
{
    as_re2_begin_item(p);
    as_buf_puts(p->out, text);
    as_re2_end_item(p, kind);
}

/* --- escapes ------------------------------------------------------------------------ */

static int as_re2_hex(long c)
{
    return c >= '0' && c <= '9'   ? (int)(c - '0')
           : c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10)
           : c >= 'A' && c <= 'F' ? (int)(c - 'A' + 10)
                                  : -1;
}

static int as_re2_isalnum(long c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Why an escape Go does not have is refused, for the PCRE constructs that
 * people bring along. */
static const char *as_re2_escape_why(long c, int in_class)
{
    switch (c) {
    case '8':
    case '9':
        return "backreferences are not supported (Go's RE2 syntax has none)";
    case 'k':
    case 'g':
        return "backreferences and subroutine calls are not supported (Go's RE2 syntax)";
    case 'G':
        return "\\G (where the previous match ended) is PCRE's, not Go's";
    case 'K':
        return "\\K (reset the match start) is PCRE's, not Go's";
    case 'X':
        return "\\X (a grapheme cluster) is PCRE's, not Go's";
    case 'R':
        return "\\R (any line break) is PCRE's, not Go's: use (?:\\r\\n|\\n|\\r)";
    case 'N':
        return "\\N is PCRE's, not Go's: use [^\\n]";
    case 'h':
    case 'H':
        return "\\h and \\H (horizontal space) are PCRE's, not Go's: use [\\t ] or [^\\t ]";
    case 'V':
        return "\\V is PCRE's, not Go's (Go's \\v is the vertical tab character)";
    case 'Z':
        return "\\Z is PCRE's, not Go's: use \\z (the end of the text) or $";
    case 'E':
        return "\\E without \\Q";
    case 'e':
        return "Go has no \\e: use \\x1b";
    case 'c':
        return "Go has no \\cX control escapes: use \\x01 ... \\x1f";
    case 'o':
        return "Go has no \\o{...}: use \\x{...}";
    case 'u':
    case 'U':
        return "Go has no \\u: use \\x{...}";
    case 'b':
        return in_class ? "Go has no backspace escape in a class: use \\x08" : NULL;
    case 'A':
    case 'z':
    case 'B':
    case 'Q':
    case 'C':
        return in_class ? "not in a character class" : NULL;
    }
    return NULL;
}

/* Go's parseEscape: the character of the escape at p->i ("\..."), p->i
 * moved past it; -1 after reporting. */
static long as_re2_escape(as_re2_parser_t *p, int in_class)
{
    size_t start = p->i, w;
    if (p->i + 1 >= p->len)
        return as_re2_fail(p, start, "trailing backslash at end of expression");
    p->i++;
    long c = as_re2_rune(p, p->i, &w);
    p->i += w;
    const char *why = NULL;
    switch (c) {
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
        /* A single non-zero digit is a backreference: not supported. */
        if (p->i >= p->len || p->re[p->i] < '0' || p->re[p->i] > '7') {
            why = "backreferences are not supported (Go's RE2 syntax has none)";
            break;
        }
        /* fall through */
    case '0': {
        long r = c - '0';
        for (int k = 1; k < 3 && p->i < p->len && p->re[p->i] >= '0' && p->re[p->i] <= '7'; k++)
            r = r * 8 + (p->re[p->i++] - '0');
        return r;
    }
    case 'x': {
        if (p->i >= p->len)
            break;
        long r = 0;
        c = as_re2_rune(p, p->i, &w);
        p->i += w;
        if (c == '{') {
            int nhex = 0;
            for (;;) {
                if (p->i >= p->len)
                    goto bad;
                c = as_re2_rune(p, p->i, &w);
                p->i += w;
                if (c == '}')
                    break;
                int v = as_re2_hex(c);
                if (v < 0)
                    goto bad;
                r = r * 16 + v;
                if (r > AS_RE2_MAX_RUNE)
                    goto bad;
                nhex++;
            }
            if (nhex == 0)
                goto bad;
            return r;
        }
        int x = as_re2_hex(c);
        if (p->i >= p->len)
            goto bad;
        c = as_re2_rune(p, p->i, &w);
        p->i += w;
        int y = as_re2_hex(c);
        if (x < 0 || y < 0)
            goto bad;
        return x * 16 + y;
    }
    case 'a':
        return '\a';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'v':
        return '\v';
    default:
        if (c < 0x80 && !as_re2_isalnum(c))
            return c; /* escaped punctuation is itself, \_ included */
        why = as_re2_escape_why(c, in_class);
    }
bad:
    if (why != NULL)
        return as_re2_fail(p, start, "invalid escape sequence %.*s: %s", (int)(p->i - start),
                           p->re + start, why);
    return as_re2_fail(p, start, "invalid escape sequence %.*s", (int)(p->i - start),
                       p->re + start);
}

/* --- classes -------------------------------------------------------------------------- */

static void as_re2_class_range(as_re2_class_t *c, long lo, long hi)
{
    if (c->nr + 2 > c->cr) {
        c->cr = c->cr ? c->cr * 2 : 16;
        c->r = as_xrealloc(c->r, c->cr * sizeof(long));
    }
    c->r[c->nr++] = lo;
    c->r[c->nr++] = hi;
}

static void as_re2_class_alt(as_re2_class_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void as_re2_class_alt(as_re2_class_t *c, const char *fmt, ...)
{
    if (c->alts.len > 0)
        as_buf_putc(&c->alts, '|');
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    as_buf_reserve(&c->alts, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(c->alts.data + c->alts.len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->alts.len += (size_t)n;
}

static void as_re2_class_free(as_re2_class_t *c)
{
    free(c->r);
    as_buf_free(&c->props);
    as_buf_free(&c->alts);
}

/* The ranges of an ASCII set (128 flags) into b, plus U+017F and U+212A
 * when fold and s or k are in it (Go's folds of ASCII letters beyond
 * ASCII). */
static void as_re2_put_ascii(as_buf_t *b, const unsigned char *set, int fold)
{
    for (int lo = 0; lo < 128;) {
        if (!set[lo]) {
            lo++;
            continue;
        }
        int hi = lo;
        while (hi + 1 < 128 && set[hi + 1])
            hi++;
        as_re2_put_cp(b, lo);
        if (hi > lo) {
            as_buf_putc(b, '-');
            as_re2_put_cp(b, hi);
        }
        lo = hi + 1;
    }
    if (fold && set['s'])
        as_re2_put_cp(b, 0x17f);
    if (fold && set['k'])
        as_re2_put_cp(b, 0x212a);
}

/* An ASCII set from spec: pairs of characters "azAZ" giving ranges, a
 * leading "\x01\x01" pair standing for NUL (C strings cannot hold it). */
static void as_re2_ascii_set(unsigned char *set, const char *spec)
{
    memset(set, 0, 128);
    for (const char *s = spec; s[0] && s[1]; s += 2)
        for (int ch = (unsigned char)s[0]; ch <= (unsigned char)s[1]; ch++)
            set[ch == 1 && s == spec && s[1] == 1 ? 0 : ch] = 1;
}

/* A Perl or POSIX class (an ASCII set) with its sign, added as Go's
 * appendGroup adds it. */
static void as_re2_class_group(as_re2_parser_t *p, as_re2_class_t *c, const char *spec, int sign)
{
    unsigned char set[128];
    as_re2_ascii_set(set, spec);
    int fold = (p->flags & AS_RE_I) != 0;
    if (fold) /* Go folds the class: each letter brings its other case */
        for (int ch = 'A'; ch <= 'Z'; ch++)
            set[ch] = set[ch + 32] = set[ch] | set[ch + 32];
    if (sign > 0) {
        /* As ranges; PCRE2's folding adds nothing Go's did not (the set
         * is closed under folding, U+017F and U+212A included). */
        as_buf_t b = AS_BUF_INIT;
        as_re2_put_ascii(&b, set, fold);
        as_buf_append(&c->props, b.data, b.len);
        as_buf_free(&b);
    } else if (fold) {
        /* The complement of the folded class, not folded again. */
        as_buf_t b = AS_BUF_INIT;
        as_re2_put_ascii(&b, set, 1);
        as_re2_class_alt(c, "(?-i:[^%s])", b.data);
        as_buf_free(&b);
    } else {
        int lo = 0;
        for (int ch = 0; ch <= 128; ch++)
            if (ch == 128 || set[ch]) {
                if (ch > lo)
                    as_re2_class_range(c, lo, ch - 1);
                lo = ch + 1;
            }
        as_re2_class_range(c, 128, AS_RE2_MAX_RUNE);
    }
}

static const struct {
    const char *name, *spec;
} as_re2_posix[] = {
    {"alnum", "09AZaz"},
    {"alpha", "AZaz"},
    {"ascii", "\x01\x01\x01\x7f"},
    {"blank", "\t\t  "},
    {"cntrl", "\x01\x01\x01\x1f\x7f\x7f"},
    {"digit", "09"},
    {"graph", "!~"},
    {"lower", "az"},
    {"print", " ~"},
    {"punct", "!/:@[`{~"},
    {"space", "\t\r  "},
    {"upper", "AZ"},
    {"word", "09AZaz__"},
    {"xdigit", "09AFaf"},
    {NULL, NULL},
};

/* Go's Perl classes: \d \s \w (\s without \v, unlike PCRE2's). */
static const char *as_re2_perl(char c)
{
    switch (c) {
    case 'd':
    case 'D':
        return "09";
    case 's':
    case 'S':
        return "\t\n\f\r  ";
    case 'w':
    case 'W':
        return "09AZaz__";
    }
    return NULL;
}

/* Go's unicode.Categories and unicode.Scripts (Unicode 15), and "Any". */
static const char *const as_re2_categories[] = {
    "C",  "Cc", "Cf", "Co", "Cs", "L",  "Ll", "Lm", "Lo", "Lt", "Lu", "M",  "Mc",
    "Me", "Mn", "N",  "Nd", "Nl", "No", "P",  "Pc", "Pd", "Pe", "Pf", "Pi", "Po",
    "Ps", "S",  "Sc", "Sk", "Sm", "So", "Z",  "Zl", "Zp", "Zs", NULL};

/* A list, not code: */
/* clang-format off */
static const char *const as_re2_scripts[] = {
    "Adlam", "Ahom", "Anatolian_Hieroglyphs", "Arabic", "Armenian", "Avestan", "Balinese",
    "Bamum", "Bassa_Vah", "Batak", "Bengali", "Bhaiksuki", "Bopomofo", "Brahmi", "Braille",
    "Buginese", "Buhid", "Canadian_Aboriginal", "Carian", "Caucasian_Albanian", "Chakma", "Cham",
    "Cherokee", "Chorasmian", "Common", "Coptic", "Cuneiform", "Cypriot", "Cypro_Minoan",
    "Cyrillic", "Deseret", "Devanagari", "Dives_Akuru", "Dogra", "Duployan",
    "Egyptian_Hieroglyphs", "Elbasan", "Elymaic", "Ethiopic", "Georgian", "Glagolitic", "Gothic",
    "Grantha", "Greek", "Gujarati", "Gunjala_Gondi", "Gurmukhi", "Han", "Hangul",
    "Hanifi_Rohingya", "Hanunoo", "Hatran", "Hebrew", "Hiragana", "Imperial_Aramaic", "Inherited",
    "Inscriptional_Pahlavi", "Inscriptional_Parthian", "Javanese", "Kaithi", "Kannada",
    "Katakana", "Kawi", "Kayah_Li", "Kharoshthi", "Khitan_Small_Script", "Khmer", "Khojki",
    "Khudawadi", "Lao", "Latin", "Lepcha", "Limbu", "Linear_A", "Linear_B", "Lisu", "Lycian",
    "Lydian", "Mahajani", "Makasar", "Malayalam", "Mandaic", "Manichaean", "Marchen",
    "Masaram_Gondi", "Medefaidrin", "Meetei_Mayek", "Mende_Kikakui", "Meroitic_Cursive",
    "Meroitic_Hieroglyphs", "Miao", "Modi", "Mongolian", "Mro", "Multani", "Myanmar", "Nabataean",
    "Nag_Mundari", "Nandinagari", "New_Tai_Lue", "Newa", "Nko", "Nushu", "Nyiakeng_Puachue_Hmong",
    "Ogham", "Ol_Chiki", "Old_Hungarian", "Old_Italic", "Old_North_Arabian", "Old_Permic",
    "Old_Persian", "Old_Sogdian", "Old_South_Arabian", "Old_Turkic", "Old_Uyghur", "Oriya",
    "Osage", "Osmanya", "Pahawh_Hmong", "Palmyrene", "Pau_Cin_Hau", "Phags_Pa", "Phoenician",
    "Psalter_Pahlavi", "Rejang", "Runic", "Samaritan", "Saurashtra", "Sharada", "Shavian",
    "Siddham", "SignWriting", "Sinhala", "Sogdian", "Sora_Sompeng", "Soyombo", "Sundanese",
    "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa", "Tai_Le", "Tai_Tham", "Tai_Viet", "Takri",
    "Tamil", "Tangsa", "Tangut", "Telugu", "Thaana", "Thai", "Tibetan", "Tifinagh", "Tirhuta",
    "Toto", "Ugaritic", "Vai", "Vithkuqi", "Wancho", "Warang_Citi", "Yezidi", "Yi",
    "Zanabazar_Square", NULL};
/* clang-format on */

/* Code points outside a class that Go's (?i) adds to it (unicode's
 * FoldCategory and FoldScript); Lu, Ll and Lt add hundreds. */
static const struct {
    const char *name, *extra;
} as_re2_fold_extra[] = {
    {"L", "\\x{345}"},
    {"M", "\\x{399}\\x{3b9}\\x{1fbe}"},
    {"Mn", "\\x{399}\\x{3b9}\\x{1fbe}"},
    {"Common", "\\x{39c}\\x{3bc}"},
    {"Greek", "\\x{b5}\\x{345}"},
    {"Inherited", "\\x{399}\\x{3b9}\\x{1fbe}"},
    {"Lu", NULL},
    {"Ll", NULL},
    {"Lt", NULL},
    {NULL, NULL},
};

static int as_re2_known(const char *const *list, const char *name, size_t n)
{
    for (; *list; list++)
        if (strlen(*list) == n && strncmp(*list, name, n) == 0)
            return 1;
    return 0;
}

/* \pN, \p{Name}, \PN, \P{Name}, \p{^Name} at p->i: Go's parseUnicodeClass. */
static int as_re2_unicode_class(as_re2_parser_t *p, as_re2_class_t *c)
{
    size_t start = p->i, w;
    int sign = p->re[p->i + 1] == 'P' ? -1 : 1;
    const char *name;
    size_t n;
    p->i += 2;
    if (p->i >= p->len)
        return as_re2_fail(p, start, "invalid character class range \\%c: a name must follow",
                           p->re[start + 1]);
    if (p->re[p->i] != '{') {
        as_re2_rune(p, p->i, &w);
        name = p->re + p->i;
        n = w;
        p->i += w;
    } else {
        const char *end = memchr(p->re + p->i, '}', p->len - p->i);
        if (end == NULL)
            return as_re2_fail(p, start, "invalid character class range %.*s: missing }",
                               (int)(p->len - start), p->re + start);
        name = p->re + p->i + 1;
        n = (size_t)(end - name);
        p->i = (size_t)(end - p->re) + 1;
    }
    if (n > 0 && name[0] == '^') {
        sign = -sign;
        name++;
        n--;
    }
    int any = n == 3 && strncmp(name, "Any", 3) == 0;
    if (!any && !as_re2_known(as_re2_categories, name, n) && !as_re2_known(as_re2_scripts, name, n))
        return as_re2_fail(p, start,
                           "invalid character class range %.*s: Go knows the general categories "
                           "(L, Lu, Nd, ...), the scripts (Greek, Latin, Han, ...) and Any, "
                           "spelled exactly so",
                           (int)(p->i - start), p->re + start);
    if (any) {
        if (sign > 0)
            as_re2_class_range(c, 0, AS_RE2_MAX_RUNE);
        return 0;
    }
    if (p->flags & AS_RE_I)
        for (size_t k = 0; as_re2_fold_extra[k].name; k++) {
            if (strlen(as_re2_fold_extra[k].name) != n ||
                strncmp(as_re2_fold_extra[k].name, name, n) != 0)
                continue;
            if (as_re2_fold_extra[k].extra == NULL)
                return as_re2_fail(p, start,
                                   "%.*s under (?i) is not supported: Go folds the class with "
                                   "its own case tables; write [\\p{Lu}\\p{Ll}\\p{Lt}] without "
                                   "(?i), or (?-i:%.*s)",
                                   (int)(p->i - start), p->re + start, (int)(p->i - start),
                                   p->re + start);
            /* Exactly Go's set: PCRE2 must not fold it again. */
            as_re2_class_alt(c, "(?-i:[%s\\p{%.*s}%s])", sign < 0 ? "^" : "", (int)n, name,
                             as_re2_fold_extra[k].extra);
            return 0;
        }
    if (n == 1 && name[0] == 'C') {
        /* Go's C is Cc|Cf|Co|Cs; PCRE2's also has the unassigned Cn. */
        if (sign > 0)
            as_buf_puts(&c->props, "\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}");
        else
            as_re2_class_alt(c, "[^\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}]");
        return 0;
    }
    as_buf_printf(&c->props, "\\%c{%.*s}", sign > 0 ? 'p' : 'P', (int)n, name);
    return 0;
}

/* A Perl class escape (\d \D \s \S \w \W) at p->i, if there is one. */
static int as_re2_perl_class(as_re2_parser_t *p, as_re2_class_t *c)
{
    if (p->i + 1 >= p->len || p->re[p->i] != '\\')
        return 0;
    char e = p->re[p->i + 1];
    const char *spec = as_re2_perl(e);
    if (spec == NULL)
        return 0;
    as_re2_class_group(p, c, spec, e >= 'a' ? 1 : -1);
    p->i += 2;
    return 1;
}

/* Emit a finished class as one item (negated: Go's [^...]). */
static void as_re2_class_emit(as_re2_parser_t *p, as_re2_class_t *c, int negated)
{
    as_buf_t simple = AS_BUF_INIT;
    for (size_t k = 0; k < c->nr; k += 2) {
        as_re2_put_cp(&simple, c->r[k]);
        if (c->r[k + 1] > c->r[k]) {
            as_buf_putc(&simple, '-');
            as_re2_put_cp(&simple, c->r[k + 1]);
        }
    }
    if (c->props.len > 0)
        as_buf_append(&simple, c->props.data, c->props.len);
    as_re2_begin_item(p);
    int kind = AS_ITEM_ATOM;
    if (c->alts.len == 0) {
        if (simple.len == 0) {
            /* Go's empty class matches nothing; its negation anything. */
            as_buf_puts(p->out, negated ? "(?s:.)" : "(?!)");
            kind = negated ? AS_ITEM_ATOM : AS_ITEM_ASSERT;
        } else {
            as_buf_printf(p->out, "[%s%s]", negated ? "^" : "", simple.data);
        }
    } else {
        as_buf_puts(p->out, negated ? "(?!" : "(?:");
        if (simple.len > 0)
            as_buf_printf(p->out, "[%s]|", simple.data);
        as_buf_append(p->out, c->alts.data, c->alts.len);
        as_buf_puts(p->out, negated ? ")(?s:.)" : ")");
        kind = negated ? AS_ITEM_SEQ : AS_ITEM_ATOM;
    }
    as_re2_end_item(p, kind);
    as_buf_free(&simple);
}

/* One character of a class (a literal or an escape): Go's parseClassChar. */
static long as_re2_class_char(as_re2_parser_t *p, size_t class_start)
{
    size_t w;
    if (p->i >= p->len)
        return as_re2_fail(p, class_start, "missing closing ]");
    if (p->re[p->i] == '\\')
        return as_re2_escape(p, 1);
    long cp = as_re2_rune(p, p->i, &w);
    p->i += w;
    return cp;
}

/* A class "[...]" at p->i: Go's parseClass. */
static int as_re2_class(as_re2_parser_t *p)
{
    size_t start = p->i;
    as_re2_class_t c = {NULL, 0, 0, AS_BUF_INIT, AS_BUF_INIT};
    int negated = 0, first = 1, rc = -1;
    p->i++;
    if (p->i < p->len && p->re[p->i] == '^') {
        negated = 1;
        p->i++;
    }
    while (p->i >= p->len || p->re[p->i] != ']' || first) {
        if (p->i >= p->len) {
            as_re2_fail(p, start, "missing closing ]");
            goto done;
        }
        first = 0;
        /* [:alnum:] and the like. */
        if (p->i + 2 < p->len && p->re[p->i] == '[' && p->re[p->i + 1] == ':') {
            const char *end = NULL;
            for (size_t k = p->i + 2; k + 1 < p->len && end == NULL; k++)
                if (p->re[k] == ':' && p->re[k + 1] == ']')
                    end = p->re + k;
            if (end != NULL) {
                const char *name = p->re + p->i + 2;
                size_t n = (size_t)(end - name);
                int sign = 1;
                if (n > 0 && name[0] == '^') {
                    sign = -1;
                    name++;
                    n--;
                }
                size_t k;
                for (k = 0; as_re2_posix[k].name; k++)
                    if (strlen(as_re2_posix[k].name) == n &&
                        strncmp(as_re2_posix[k].name, name, n) == 0)
                        break;
                if (as_re2_posix[k].name == NULL) {
                    as_re2_fail(p, p->i, "invalid character class range %.*s",
                                (int)(end + 2 - (p->re + p->i)), p->re + p->i);
                    goto done;
                }
                as_re2_class_group(p, &c, as_re2_posix[k].spec, sign);
                p->i = (size_t)(end - p->re) + 2;
                continue;
            }
        }
        if (p->i + 1 < p->len && p->re[p->i] == '\\' &&
            (p->re[p->i + 1] == 'p' || p->re[p->i + 1] == 'P')) {
            if (as_re2_unicode_class(p, &c) < 0)
                goto done;
            continue;
        }
        if (as_re2_perl_class(p, &c))
            continue;
        size_t rng = p->i;
        long lo = as_re2_class_char(p, start), hi = lo;
        if (lo < 0)
            goto done;
        /* [a-] is a and -, so a "-" before "]" is no range. */
        if (p->i + 1 < p->len && p->re[p->i] == '-' && p->re[p->i + 1] != ']') {
            p->i++;
            if ((hi = as_re2_class_char(p, start)) < 0)
                goto done;
            if (hi < lo) {
                as_re2_fail(p, rng, "invalid character class range %.*s", (int)(p->i - rng),
                            p->re + rng);
                goto done;
            }
        }
        as_re2_class_range(&c, lo, hi);
    }
    p->i++; /* the ] */
    as_re2_class_emit(p, &c, negated);
    rc = 0;
done:
    as_re2_class_free(&c);
    return rc;
}

/* --- repetition ------------------------------------------------------------------------- */

/* Go's parseInt: decimal, no leading zeros; -1 past 10^8. */
static int as_re2_int(const as_re2_parser_t *p, size_t *i, long *n)
{
    size_t k = *i;
    if (k >= p->len || p->re[k] < '0' || p->re[k] > '9')
        return 0;
    if (k + 1 < p->len && p->re[k] == '0' && p->re[k + 1] >= '0' && p->re[k + 1] <= '9')
        return 0;
    *n = 0;
    for (; k < p->len && p->re[k] >= '0' && p->re[k] <= '9'; k++)
        if (*n >= 0)
            *n = *n >= 100000000 ? -1 : *n * 10 + (p->re[k] - '0');
    *i = k;
    return 1;
}

/* Go's parseRepeat: {n}, {n,} or {n,m} at p->i; 0 when it is not one. */
static int as_re2_braces(const as_re2_parser_t *p, long *min, long *max, size_t *end)
{
    size_t k = p->i + 1;
    if (!as_re2_int(p, &k, min) || k >= p->len)
        return 0;
    if (p->re[k] != ',') {
        *max = *min;
    } else {
        k++;
        if (k >= p->len)
            return 0;
        if (p->re[k] == '}')
            *max = -1;
        else if (!as_re2_int(p, &k, max))
            return 0;
        else if (*max < 0)
            *min = -1; /* too big */
    }
    if (k >= p->len || p->re[k] != '}')
        return 0;
    *end = k + 1;
    return 1;
}

/* A repetition operator from p->i to end (min, max for {..}; op '*', '+',
 * '?' or '{'): applied to the last item as Go's parser.repeat does. */
static int as_re2_repeat(as_re2_parser_t *p, char op, long min, long max, size_t end)
{
    size_t start = p->i;
    int lazy = end < p->len && p->re[end] == '?';
    size_t after = end + (size_t)lazy;
    if (p->last_repeat) {
        int possessive = op == '+';
        return as_re2_fail(p, p->last_repeat_at, "invalid nested repetition operator %.*s%s",
                           (int)(after - p->last_repeat_at), p->re + p->last_repeat_at,
                           possessive ? " (possessive quantifiers are PCRE's, not Go's)" : "");
    }
    if (p->item == AS_ITEM_NONE)
        return as_re2_fail(p, start, "missing argument to repetition operator %.*s%s",
                           (int)(after - start), p->re + start,
                           start > 0 && p->re[start - 1] == '(' && op == '*'
                               ? " (PCRE2 verbs such as (*LF) are not Go's)"
                               : "");
    if (op == '{') {
        /* repeatIsValid: the product of nested counts is at most 1000. */
        long m = max >= 0 ? max : min;
        size_t need = m == 0 ? 0 : (size_t)m * (p->item_need > 1 ? p->item_need : 1);
        if ((min >= 2 || max >= 2) && need > AS_RE2_MAX_REPEAT)
            return as_re2_fail(p, start,
                               "invalid repeat count %.*s: repetitions nested in it make more "
                               "than %d",
                               (int)(after - start), p->re + start, AS_RE2_MAX_REPEAT);
        p->item_need = need;
    }
    if (p->item == AS_ITEM_ASSERT || p->item == AS_ITEM_SEQ) {
        as_re2_insert(p->out, p->item_start, "(?:");
        as_buf_putc(p->out, ')');
    }
    as_buf_append(p->out, p->re + start, end - start);
    if (lazy)
        as_buf_putc(p->out, '?');
    p->item = AS_ITEM_SEQ;
    p->last_repeat = 1;
    p->last_repeat_at = start;
    p->i = after;
    return 0;
}

/* --- groups and flags ------------------------------------------------------------------- */

static void as_re2_push_group(as_re2_parser_t *p, const char *open)
{
    as_re2_begin_item(p);
    if (p->ngroups == p->gcap) {
        p->gcap = p->gcap ? p->gcap * 2 : 8;
        p->groups = as_xrealloc(p->groups, p->gcap * sizeof(*p->groups));
    }
    p->groups[p->ngroups++] =
        (as_re2_group_t){.flags = p->flags, .out_start = p->out->len, .need = p->need, .at = p->i};
    p->need = 0;
    as_buf_puts(p->out, open);
    p->item = AS_ITEM_NONE;
    p->last_repeat = 0;
}

static int as_re2_close_group(as_re2_parser_t *p)
{
    if (p->ngroups == 0)
        return as_re2_fail(p, p->i, "unexpected )");
    if (p->item != AS_ITEM_NONE && p->item_need > p->need)
        p->need = p->item_need;
    as_re2_group_t g = p->groups[--p->ngroups];
    as_buf_reset(&p->pending); /* flag changes end with the group */
    as_buf_putc(p->out, ')');
    p->flags = g.flags;
    p->item_start = g.out_start;
    p->item_need = p->need;
    p->need = g.need;
    p->i++;
    as_re2_end_item(p, AS_ITEM_ATOM);
    return 0;
}

static void as_re2_put_flags(as_buf_t *b, unsigned set, unsigned clear)
{
    static const char letters[] = "imsU";
    for (int k = 0; k < 4; k++)
        if (set & (1u << k))
            as_buf_putc(b, letters[k]);
    if (clear) {
        as_buf_putc(b, '-');
        for (int k = 0; k < 4; k++)
            if (clear & (1u << k))
                as_buf_putc(b, letters[k]);
    }
}

/* What a "(?" that Go does not have is, for PCRE's constructs. */
static const char *as_re2_group_why(const as_re2_parser_t *p, size_t k)
{
    const char *t = p->re + k;
    size_t left = p->len - k;
    if (left >= 1 && (t[0] == '=' || t[0] == '!'))
        return "lookahead (?=...) and (?!...) is not supported (Go's RE2 syntax has no "
               "lookaround)";
    if (left >= 2 && t[0] == '<' && (t[1] == '=' || t[1] == '!'))
        return "lookbehind (?<=...) and (?<!...) is not supported (Go's RE2 syntax has no "
               "lookaround)";
    if (left >= 1 && t[0] == '>')
        return "atomic groups (?>...) are PCRE's, not Go's";
    if (left >= 1 && t[0] == '|')
        return "branch reset groups (?|...) are PCRE's, not Go's";
    if (left >= 1 && t[0] == '#')
        return "comments (?#...) are PCRE's, not Go's";
    if (left >= 1 && t[0] == '(')
        return "conditionals (?(...)...) are PCRE's, not Go's";
    if (left >= 1 && (t[0] == 'R' || t[0] == '&' || (t[0] >= '0' && t[0] <= '9') ||
                      ((t[0] == '+' || t[0] == '-') && left >= 2 && t[1] >= '0' && t[1] <= '9')))
        return "recursion and subroutine calls are PCRE's, not Go's";
    if (left >= 2 && t[0] == 'P' && (t[1] == '=' || t[1] == '>'))
        return "named backreferences and calls are not supported (Go's RE2 syntax)";
    if (left >= 1 && t[0] == '\'')
        return "Go names a group (?P<name>...) or (?<name>...)";
    if (left >= 1 && t[0] == 'C')
        return "callouts are PCRE's, not Go's";
    return NULL;
}

/* "(?" at p->i: a named group, a flag group (?flags) or (?flags:...):
 * Go's parsePerlFlags. */
static int as_re2_perl_group(as_re2_parser_t *p)
{
    size_t start = p->i, k = p->i + 2;
    const char *why = as_re2_group_why(p, k);
    if (why != NULL)
        return as_re2_fail(p, start, "invalid or unsupported Perl syntax %.*s: %s",
                           (int)(k + 1 <= p->len ? 3 : 2), p->re + start, why);
    int named_p = p->len - start > 4 && p->re[k] == 'P' && p->re[k + 1] == '<';
    int named = p->len - start > 3 && p->re[k] == '<';
    if (named_p || named) {
        size_t name = k + (named_p ? 2 : 1);
        const char *end = memchr(p->re + start, '>', p->len - start);
        if (end == NULL)
            return as_re2_fail(p, start, "invalid named capture %.*s", (int)(p->len - start),
                               p->re + start);
        size_t n = (size_t)(end - (p->re + name));
        int ok = n > 0 && end >= p->re + name;
        for (size_t j = 0; ok && j < n; j++)
            ok = p->re[name + j] == '_' || as_re2_isalnum((unsigned char)p->re[name + j]);
        if (!ok)
            return as_re2_fail(p, start,
                               "invalid named capture %.*s: a name is letters, digits and _",
                               (int)(end + 1 - (p->re + start)), p->re + start);
        p->i = (size_t)(end - p->re) + 1;
        as_re2_push_group(p, "(?:"); /* captures are never used here */
        p->groups[p->ngroups - 1].at = start;
        return 0;
    }
    unsigned set = 0, clear = 0;
    int sign = 1, saw = 0;
    for (; k < p->len; k++) {
        unsigned bit = 0;
        char c = p->re[k];
        switch (c) {
        case 'i':
            bit = AS_RE_I;
            break;
        case 'm':
            bit = AS_RE_M;
            break;
        case 's':
            bit = AS_RE_S;
            break;
        case 'U':
            bit = AS_RE_U;
            break;
        case '-':
            if (sign < 0)
                return as_re2_fail(p, start,
                                   "invalid or unsupported Perl syntax %.*s: one - "
                                   "at most in a flag group",
                                   (int)(k + 1 - start), p->re + start);
            sign = -1;
            saw = 0;
            continue;
        case ':':
        case ')': {
            if (sign < 0 && !saw)
                return as_re2_fail(p, start,
                                   "invalid or unsupported Perl syntax %.*s: flags must follow -",
                                   (int)(k + 1 - start), p->re + start);
            set &= ~clear;
            unsigned flags = (p->flags | set) & ~clear;
            as_buf_t f = AS_BUF_INIT;
            as_re2_put_flags(&f, set, clear);
            if (c == ':') {
                as_buf_t open = AS_BUF_INIT;
                as_buf_printf(&open, "(?%s:", f.len ? f.data : "");
                p->i = k + 1;
                as_re2_push_group(p, open.data);
                p->groups[p->ngroups - 1].at = start;
                as_buf_free(&open);
            } else {
                /* Until the end of the group; emitted before the next item
                 * so that a repetition right after still applies to the
                 * previous one, as in Go. */
                if (f.len > 0)
                    as_buf_printf(&p->pending, "(?%s)", f.data);
                p->i = k + 1;
                p->last_repeat = 0;
            }
            as_buf_free(&f);
            p->flags = flags;
            return 0;
        }
        default:
            return as_re2_fail(p, start,
                               "invalid or unsupported Perl syntax %.*s: Go's flags are i, m, "
                               "s and U",
                               (int)(k + 1 - start), p->re + start);
        }
        if (sign > 0)
            set |= bit;
        else
            clear |= bit;
        saw = 1;
    }
    return as_re2_fail(p, start, "invalid or unsupported Perl syntax %.*s: missing )",
                       (int)(p->len - start), p->re + start);
}

/* --- the walk -------------------------------------------------------------------------- */

static int as_re2_escape_item(as_re2_parser_t *p)
{
    char e = p->i + 1 < p->len ? p->re[p->i + 1] : '\0';
    switch (e) {
    case 'A':
        p->i += 2;
        as_re2_text_item(p, "\\A", AS_ITEM_ASSERT);
        return 0;
    case 'z':
        p->i += 2;
        as_re2_text_item(p, "\\z", AS_ITEM_ASSERT);
        return 0;
    case 'b':
        /* Without UCP, PCRE2's \b is Go's: an ASCII word boundary. */
        p->i += 2;
        as_re2_text_item(p, "\\b", AS_ITEM_ASSERT);
        return 0;
    case 'B':
        p->i += 2;
        as_re2_text_item(p, "\\B", AS_ITEM_ASSERT);
        return 0;
    case 'C':
        return as_re2_fail(p, p->i,
                           "invalid escape sequence \\C: any single byte is not "
                           "supported");
    case 'Q': {
        /* \Q...\E: literals, up to \E or the end. */
        size_t k = p->i + 2, w;
        const char *stop = NULL;
        for (size_t j = k; j + 1 < p->len && stop == NULL; j++)
            if (p->re[j] == '\\' && p->re[j + 1] == 'E')
                stop = p->re + j;
        size_t end = stop ? (size_t)(stop - p->re) : p->len;
        for (; k < end; k += w)
            as_re2_literal(p, as_re2_rune(p, k, &w));
        p->i = stop ? end + 2 : end;
        p->last_repeat = 0;
        return 0;
    }
    case 'p':
    case 'P': {
        as_re2_class_t c = {NULL, 0, 0, AS_BUF_INIT, AS_BUF_INIT};
        int rc = as_re2_unicode_class(p, &c);
        if (rc == 0)
            as_re2_class_emit(p, &c, 0);
        as_re2_class_free(&c);
        return rc;
    }
    }
    as_re2_class_t c = {NULL, 0, 0, AS_BUF_INIT, AS_BUF_INIT};
    if (as_re2_perl_class(p, &c)) {
        as_re2_class_emit(p, &c, 0);
        as_re2_class_free(&c);
        return 0;
    }
    as_re2_class_free(&c);
    long cp = as_re2_escape(p, 0);
    if (cp < 0)
        return -1;
    as_re2_literal(p, cp);
    return 0;
}

/* Translate re; errors give offsets into re + base (the caller's own
 * pattern inside re). */
static int as_re2_translate_at(const char *re, size_t base, size_t user_len, as_buf_t *out,
                               as_err_t *err)
{
    as_re2_parser_t p = {.re = re, .len = strlen(re), .out = out, .err = err};
    p.base = base;
    p.user_len = user_len;
    p.pending = (as_buf_t)AS_BUF_INIT;
    if (!as_utf8_valid(re, p.len))
        return as_err_set(err, "invalid UTF-8");
    as_buf_puts(out, ""); /* never NULL, even for "" */
    int rc = 0;
    while (rc == 0 && p.i < p.len) {
        char c = re[p.i];
        size_t w;
        switch (c) {
        case '(':
            if (p.i + 1 < p.len && re[p.i + 1] == '?') {
                rc = as_re2_perl_group(&p);
            } else {
                p.i++;
                as_re2_push_group(&p, "(?:");
                p.groups[p.ngroups - 1].at = p.i - 1;
            }
            break;
        case ')':
            rc = as_re2_close_group(&p);
            break;
        case '|':
            if (p.item != AS_ITEM_NONE && p.item_need > p.need)
                p.need = p.item_need;
            /* Flag changes carry into the next branch, as in Go. */
            as_buf_append(out, p.pending.data ? p.pending.data : "", p.pending.len);
            as_buf_reset(&p.pending);
            as_buf_putc(out, '|');
            p.item = AS_ITEM_NONE;
            p.last_repeat = 0;
            p.i++;
            break;
        case '^':
        case '$':
            /* Without (?m) Go's ^ and $ are the text's ends: \A and \z
             * (PCRE2's $ would also match before a final \n).  With it,
             * PCRE2's (with PCRE2_ALT_CIRCUMFLEX) are Go's. */
            p.i++;
            as_re2_text_item(
                &p, p.flags & AS_RE_M ? (c == '^' ? "^" : "$") : (c == '^' ? "\\A" : "\\z"),
                AS_ITEM_ASSERT);
            break;
        case '.':
            p.i++;
            as_re2_text_item(&p, ".", AS_ITEM_ATOM);
            break;
        case '[':
            rc = as_re2_class(&p);
            break;
        case '*':
        case '+':
        case '?':
            rc = as_re2_repeat(&p, c, 0, 0, p.i + 1);
            break;
        case '{': {
            long min, max;
            size_t end;
            if (!as_re2_braces(&p, &min, &max, &end)) {
                p.i++;
                as_re2_literal(&p, '{'); /* not a repetition: a literal { */
                break;
            }
            if (min < 0 || min > AS_RE2_MAX_REPEAT || max > AS_RE2_MAX_REPEAT ||
                (max >= 0 && min > max)) {
                rc = as_re2_fail(&p, p.i, "invalid repeat count %.*s%s", (int)(end - p.i), re + p.i,
                                 min > max && max >= 0 ? ": the minimum is over the maximum"
                                                       : ": at most 1000");
                break;
            }
            rc = as_re2_repeat(&p, '{', min, max, end);
            break;
        }
        case '\\':
            rc = as_re2_escape_item(&p);
            break;
        default: {
            long cp = as_re2_rune(&p, p.i, &w);
            p.i += w;
            as_re2_literal(&p, cp);
        }
        }
    }
    if (rc == 0 && p.ngroups > 0) {
        /* Alertmanager anchors the pattern as ^(?:re)$ before Go reads it:
         * a \Q without \E takes the closing parenthesis in too. */
        const char *q = strstr(re + base, "\\Q");
        int open_q = q != NULL && strstr(q, "\\E") == NULL;
        rc = as_re2_fail(&p, p.len, "missing closing parenthesis%s",
                         open_q ? " (a \\Q without \\E takes in the rest, and the ) that "
                                  "closes ^(?:...)$ too)"
                                : "");
    }
    as_buf_free(&p.pending);
    free(p.groups);
    return rc;
}

int as_re2_translate(const char *re, as_buf_t *out, as_err_t *err)
{
    return as_re2_translate_at(re, 0, strlen(re), out, err);
}

/* --- compile and match --------------------------------------------------------------- */

pcre2_code *as_re2_compile(const char *re, as_err_t *err)
{
    /* Alertmanager compiles "^(?:" + re + ")$" as one pattern: so is it
     * read here, with what that means for "a)|(b" or a \Q without \E. */
    as_buf_t anchored = AS_BUF_INIT, pat = AS_BUF_INIT;
    as_buf_printf(&anchored, "^(?:%s)$", re);
    /* (*LF): "." and "$" know only \n as a newline, as Go. */
    as_buf_puts(&pat, "(*LF)");
    int rc = as_re2_translate_at(anchored.data, 4, strlen(re), &pat, err);
    as_buf_free(&anchored);
    if (rc < 0) {
        as_buf_free(&pat);
        return NULL;
    }
    int code;
    PCRE2_SIZE off;
    /* (?m)^ also after a final \n (Go's); never Unicode classes for \b
     * (ASCII, as Go's). */
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat.data, pat.len,
                                  PCRE2_UTF | PCRE2_ALT_CIRCUMFLEX | PCRE2_NEVER_BACKSLASH_C |
                                      PCRE2_NEVER_UCP | PCRE2_NO_AUTO_CAPTURE,
                                  &code, &off, NULL);
    if (c == NULL) {
        /* Go accepts it, PCRE2 cannot hold it (too large, an unknown script
         * in this PCRE2's Unicode tables, ...). */
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        as_err_set(err, "cannot compile it: %s", (const char *)msg);
    }
    as_buf_free(&pat);
    return c;
}

/* Go reads a bad byte as U+FFFD (utf8.DecodeRune): so does this. */
static char *as_re2_repair(const char *s, size_t len)
{
    as_buf_t b = AS_BUF_INIT;
    as_buf_reserve(&b, len + 1);
    for (size_t i = 0; i < len;) {
        long cp;
        size_t w = as_utf8_decode(s + i, len - i, &cp);
        if (cp < 0)
            as_buf_puts(&b, "\xef\xbf\xbd");
        else
            as_buf_append(&b, s + i, w);
        i += w;
    }
    return as_buf_steal(&b);
}

int as_re2_match(const pcre2_code *code, const char *s)
{
    size_t len = strlen(s);
    char *fixed = NULL;
    if (!as_utf8_valid(s, len)) {
        s = fixed = as_re2_repair(s, len);
        len = strlen(s);
    }
    /* The DFA matcher: no backtracking, so no label value can make it
     * slow, as with RE2.  It needs a workspace for the states it tracks;
     * a pattern with many gets a bigger one. */
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int small[256], *ws = small, rc;
    size_t wsn = sizeof(small) / sizeof(small[0]);
    for (;;) {
        rc = pcre2_dfa_match(code, (PCRE2_SPTR)s, len, 0, PCRE2_DFA_SHORTEST, md, NULL, ws, wsn);
        if (rc != PCRE2_ERROR_DFA_WSSIZE || wsn >= (1u << 20))
            break;
        wsn *= 16;
        if (ws != small)
            free(ws);
        ws = as_xmalloc(wsn * sizeof(int));
    }
    if (ws != small)
        free(ws);
    pcre2_match_data_free(md);
    free(fixed);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof(msg));
        as_log(AS_LOG_ERROR, "regular expression match failed: taken as no match",
               AS_S("error", (const char *)msg));
    }
    return rc >= 0;
}
