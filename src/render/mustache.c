/*
 * mustache.c - the Mustache compiler and renderer (see mustache.h).
 *
 * Compiling is one pass over the source.  Each tag is found, and tags that
 * may stand alone (sections, comments, partials, delimiters, parents,
 * blocks) are checked for being alone on their line: a standalone tag's
 * line vanishes, indentation and newline included.  Nodes go into one
 * array; siblings are chained by index and a section's children are the
 * chain starting at its `child`.  Names are split at their dots once, into
 * "a\0b\0c\0" in the template's string area, where text is copied too.
 *
 * Rendering walks the chains recursively.  The context stack is a chain
 * of frames on the C stack (a section pushes one for its body), names are
 * compared in place against cJSON's keys, and everything is written into
 * the caller's one buffer: rendering allocates nothing else (a list or an
 * object printed as JSON is the one exception).  Every node rendered and
 * every turn of a section's loop is a step of the budget of mustache.h;
 * when the budget is spent, or partials nest too deep, a flag in the
 * renderer makes every level return at once and the render fails.
 *
 * Standalone partials are indented while rendering: the renderer keeps a
 * chain of indentation strings (a standalone partial inside an indented
 * one adds its own) and a flag set when the partial's own text ended a
 * line.  The next output of that partial writes the indentation first.
 * Newlines inside interpolated values do not set the flag, which is what
 * re-indenting the partial's source, as the spec describes it, would do.
 *
 * Inheritance: a parent tag renders the named template with its block
 * arguments pushed on a chain; a block renders the outermost argument of
 * its name, else its own content.  A block whose opening tag stands alone
 * has its content dedented at compile time (the spec's "block indentation
 * is removed at the site of definition"): its lines are compiled a second
 * time from a dedented copy, and the margin removed becomes the
 * indentation added where the block is expanded.  Pairs of tags on one
 * line ({{<p}}{{/p}}, {{<p}}{{$b}}, {{/b}}{{/p}}, {{$b}}{{/b}}) count as
 * standalone, as the inheritance spec asks.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "alertsink/sink.h"
#include "render/mustache.h"

enum {
    AS_MN_TEXT,
    AS_MN_VAR, /* {{name}}: escaped when the render asks for it */
    AS_MN_RAW, /* {{{name}}} and {{&name}} */
    AS_MN_SECTION,
    AS_MN_INVERTED,
    AS_MN_PARTIAL,
    AS_MN_PARENT, /* {{<name}}: its block children are the arguments */
    AS_MN_BLOCK,  /* {{$name}} */
};

#define AS_MN_STANDALONE 0x01 /* its line vanished: it does not write pending indentation */
#define AS_MN_DYNAMIC    0x02 /* {{>*name}}: the partial's name is the value of a name */
#define AS_MN_EOL        0x04 /* its (last) tag took the newline: a new line follows */

#define AS_MN_NONE UINT32_MAX

typedef struct {
    uint8_t type, flags;
    uint16_t nparts; /* parts of a dotted name; 0 = "." */
    uint32_t next;   /* next sibling, or AS_MN_NONE */
    uint32_t child;  /* first child of a section, parent or block */
    uint32_t str;    /* text, or the name: "a\0b\0" (partial, parent, block: whole) */
    uint32_t len;    /* text length */
    uint32_t indent; /* standalone partial, parent, block: its indentation */
    uint32_t ilen;
} as_mnode_t;

struct as_mustache_s {
    as_mnode_t *nodes;
    char *str;
    uint32_t root;
    char *name; /* as given to as_mustache_compile() */
};

/* ---------------------------------------------------------------------- */
/* Compiling                                                               */

typedef struct {
    const char *o, *c; /* opening and closing delimiters */
    size_t olen, clen;
} as_mdelims_t;

typedef struct {
    char kind;         /* 0: a variable; else its sigil: # ^ / ! > = & { < $ */
    size_t start, end; /* from the opening delimiter to just after the closing one */
    const char *name;  /* the content after the sigil, trimmed */
    size_t nlen;
} as_mtag_t;

typedef struct {
    uint32_t node, last; /* the container and its last child */
    as_mtag_t tag;
    size_t body;         /* where its content starts in the source */
    as_mdelims_t delims; /* in force at the opening tag */
} as_mopen_t;

/* What the compile of a template and of its dedented blocks share. */
typedef struct {
    as_mnode_t *v;
    uint32_t n, cap;
    as_buf_t str;
} as_mbuild_t;

typedef struct {
    const char *src;
    size_t len;
    const char *name;
    as_err_t *err;
    as_mbuild_t *b;
    as_mdelims_t d;
    uint32_t root, root_last;
    int depth;
    as_mopen_t open[AS_MUSTACHE_MAX_NESTING];
} as_mcomp_t;

static const as_mdelims_t as_mdefault = {"{{", "}}", 2, 2};

static int as_m_parse(as_mcomp_t *c);

static int as_m_error(as_mcomp_t *c, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void as_m_position(const char *src, size_t pos, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < pos; i++) {
        if (src[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)src[i] & 0xc0) != 0x80) {
            (*col)++; /* count characters, not bytes of UTF-8 */
        }
    }
}

static int as_m_error(as_mcomp_t *c, size_t pos, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line, col;
    as_m_position(c->src, pos, &line, &col);
    return as_err_set(c->err, "%s:%d:%d: %s", c->name, line, col, msg);
}

static uint32_t as_m_store(as_mcomp_t *c, const char *s, size_t len)
{
    uint32_t off = (uint32_t)c->b->str.len;
    as_buf_append(&c->b->str, s, len);
    return off;
}

/* Append a node to the innermost open container (or the top level). */
static uint32_t as_m_add(as_mcomp_t *c, const as_mnode_t *node)
{
    as_mbuild_t *b = c->b;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 32;
        b->v = as_xrealloc(b->v, b->cap * sizeof(*b->v));
    }
    uint32_t idx = b->n++;
    b->v[idx] = *node;
    b->v[idx].next = AS_MN_NONE;
    uint32_t *first, *last;
    if (c->depth > 0) {
        first = &b->v[c->open[c->depth - 1].node].child;
        last = &c->open[c->depth - 1].last;
    } else {
        first = &c->root;
        last = &c->root_last;
    }
    if (*last == AS_MN_NONE)
        *first = idx;
    else
        b->v[*last].next = idx;
    *last = idx;
    return idx;
}

static void as_m_text(as_mcomp_t *c, size_t from, size_t to)
{
    if (to <= from)
        return;
    as_mnode_t n = {.type = AS_MN_TEXT, .child = AS_MN_NONE};
    n.str = as_m_store(c, c->src + from, to - from);
    n.len = (uint32_t)(to - from);
    as_m_add(c, &n);
}

static int as_m_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Store tag t's name in n: split at dots when dotted (names of data),
 * whole otherwise (names of partials and blocks, which may hold dots). */
static int as_m_name(as_mcomp_t *c, const as_mtag_t *t, const char *name, size_t len, int dotted,
                     as_mnode_t *n)
{
    if (len == 0)
        return as_m_error(c, t->start, "empty tag name");
    for (size_t i = 0; i < len; i++)
        if (as_m_space(name[i]))
            return as_m_error(c, t->start, "invalid tag name '%.*s': spaces inside", (int)len,
                              name);
    n->nparts = 1;
    if (dotted && len == 1 && name[0] == '.') {
        n->nparts = 0;
        n->str = as_m_store(c, "", 1);
        return 0;
    }
    if (dotted) {
        if (name[0] == '.' || name[len - 1] == '.' || memmem(name, len, "..", 2))
            return as_m_error(c, t->start, "invalid tag name '%.*s': empty part", (int)len, name);
        for (size_t i = 0; i < len; i++)
            if (name[i] == '.')
                n->nparts++;
    }
    n->str = as_m_store(c, name, len);
    as_buf_putc(&c->b->str, '\0');
    if (dotted)
        for (char *p = c->b->str.data + n->str, *e = p + len; p < e; p++)
            if (*p == '.')
                *p = '\0';
    return 0;
}

/* Read the tag whose opening delimiter is at `at`. */
static int as_m_scan(as_mcomp_t *c, size_t at, as_mtag_t *t)
{
    const char *s = c->src;
    size_t p = at + c->d.olen;
    char kind = p < c->len ? s[p] : '\0';
    if (kind != '\0' && strchr("#^/!>=&{<$", kind) != NULL)
        p++;
    else
        kind = 0;
    /* {{{name}}} ends with "}" + closer, {{=a b=}} with "=" + closer. */
    char before = kind == '{' ? '}' : kind == '=' ? '=' : 0;
    size_t q = p;
    const char *hit;
    for (;;) {
        hit = memmem(s + q, c->len - q, c->d.c, c->d.clen);
        if (hit == NULL)
            return as_m_error(c, at, "unclosed tag: no '%.*s%.*s' after '%.*s%.*s'", before ? 1 : 0,
                              &before, (int)c->d.clen, c->d.c, (int)c->d.olen, c->d.o,
                              kind == '{' || kind == '=' ? 1 : 0, &kind);
        if (before == 0 || ((size_t)(hit - s) > p && hit[-1] == before))
            break;
        q = (size_t)(hit - s) + 1;
    }
    size_t e = (size_t)(hit - s) - (before ? 1 : 0);
    while (p < e && as_m_space(s[p]))
        p++;
    while (e > p && as_m_space(s[e - 1]))
        e--;
    t->kind = kind;
    t->start = at;
    t->end = (size_t)(hit - s) + c->d.clen;
    t->name = s + p;
    t->nlen = e - p;
    return 0;
}

/* Is the rest of the line after pos blank?  *eol: just after its newline. */
static int as_m_line_ends(const as_mcomp_t *c, size_t pos, size_t *eol)
{
    while (pos < c->len && (c->src[pos] == ' ' || c->src[pos] == '\t'))
        pos++;
    if (pos == c->len) {
        *eol = pos;
        return 1;
    }
    if (c->src[pos] == '\n') {
        *eol = pos + 1;
        return 1;
    }
    if (c->src[pos] == '\r' && pos + 1 < c->len && c->src[pos + 1] == '\n') {
        *eol = pos + 2;
        return 1;
    }
    return 0;
}

static int as_m_delims(as_mcomp_t *c, const as_mtag_t *t)
{
    const char *s = t->name, *end = t->name + t->nlen;
    const char *o = s;
    while (s < end && !as_m_space(*s))
        s++;
    size_t olen = (size_t)(s - o);
    while (s < end && as_m_space(*s))
        s++;
    const char *cl = s;
    while (s < end && !as_m_space(*s))
        s++;
    size_t clen = (size_t)(s - cl);
    if (olen == 0 || clen == 0 || s != end || memchr(o, '=', olen) || memchr(cl, '=', clen))
        return as_m_error(c, t->start,
                          "invalid delimiters '%.*s': expected two delimiters without '=', "
                          "separated by a space",
                          (int)t->nlen, t->name);
    c->d = (as_mdelims_t){o, cl, olen, clen};
    return 0;
}

/* The margin of a block's lines (textwrap.dedent's): the whitespace that
 * starts every line that is not blank.  Returns its length; *at is where a
 * line starting with it is.  *blanks: a blank line holds whitespace. */
static size_t as_m_margin(const char *s, size_t len, size_t *at, int *blanks)
{
    size_t m = SIZE_MAX;
    *at = 0;
    *blanks = 0;
    for (size_t i = 0; i < len;) {
        size_t w = i, e;
        while (w < len && (s[w] == ' ' || s[w] == '\t'))
            w++;
        for (e = w; e < len && s[e] != '\n'; e++)
            ;
        if (e == w) {
            *blanks |= w > i;
        } else if (m == SIZE_MAX) {
            m = w - i;
            *at = i;
        } else {
            size_t k = 0;
            while (k < m && k < w - i && s[i + k] == s[*at + k])
                k++;
            m = k;
        }
        i = e + 1;
    }
    return m == SIZE_MAX ? 0 : m;
}

/* Compile a standalone block's content again, dedented.  Its nodes replace
 * the ones the first pass made (those stay in the array, unused). */
static int as_m_dedent_block(as_mcomp_t *c, const as_mopen_t *o, size_t end)
{
    const char *s = c->src + o->body;
    size_t len = end > o->body ? end - o->body : 0, at;
    int blanks;
    size_t m = as_m_margin(s, len, &at, &blanks);
    if (m == 0 && !blanks)
        return 0;
    as_mnode_t *n = &c->b->v[o->node];
    if (m > 0) {
        n->indent = as_m_store(c, s + at, m);
        n->ilen = (uint32_t)m;
    }
    char *copy = as_xmalloc(len + 1);
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        size_t w = i, e;
        while (w < len && (s[w] == ' ' || s[w] == '\t'))
            w++;
        for (e = w; e < len && s[e] != '\n'; e++)
            ;
        size_t from = e == w ? w : i + m;
        size_t to = e < len ? e + 1 : len;
        memcpy(copy + k, s + from, to - from);
        k += to - from;
        i = to;
    }
    as_mcomp_t *sub = as_xcalloc(1, sizeof(*sub));
    sub->src = copy;
    sub->len = k;
    sub->name = c->name;
    sub->err = c->err;
    sub->b = c->b;
    sub->d = o->delims;
    sub->root = sub->root_last = AS_MN_NONE;
    int rc = as_m_parse(sub);
    c->b->v[o->node].child = sub->root;
    free(sub);
    free(copy);
    return rc;
}

static int as_m_open(as_mcomp_t *c, const as_mtag_t *t, int standalone, size_t ls, size_t body)
{
    if (c->depth == AS_MUSTACHE_MAX_NESTING)
        return as_m_error(c, t->start, "sections nested deeper than %d", AS_MUSTACHE_MAX_NESTING);
    as_mnode_t n = {.child = AS_MN_NONE, .flags = standalone ? AS_MN_STANDALONE : 0};
    const char *name = t->name;
    size_t len = t->nlen;
    int dotted = 1;
    switch (t->kind) {
    case '#':
        n.type = AS_MN_SECTION;
        break;
    case '^':
        n.type = AS_MN_INVERTED;
        break;
    case '<':
        n.type = AS_MN_PARENT;
        dotted = 0;
        if (len > 0 && name[0] == '*') {
            n.flags |= AS_MN_DYNAMIC;
            dotted = 1;
            for (name++, len--; len > 0 && as_m_space(*name); name++, len--)
                ;
        }
        break;
    default:
        n.type = AS_MN_BLOCK;
        dotted = 0;
        break;
    }
    if (as_m_name(c, t, name, len, dotted, &n) < 0)
        return -1;
    if (standalone && (n.type == AS_MN_PARENT || n.type == AS_MN_BLOCK)) {
        n.indent = as_m_store(c, c->src + ls, t->start - ls);
        n.ilen = (uint32_t)(t->start - ls);
    }
    uint32_t idx = as_m_add(c, &n);
    c->open[c->depth++] = (as_mopen_t){idx, AS_MN_NONE, *t, body, c->d};
    return 0;
}

/* A closing tag; content_end is where the section's content ends in the
 * source, eol says the closing tag took its line's newline. */
static int as_m_close(as_mcomp_t *c, const as_mtag_t *t, size_t content_end, int eol)
{
    if (c->depth == 0)
        return as_m_error(c, t->start, "closing tag '%.*s' without an open section", (int)t->nlen,
                          t->name);
    const as_mopen_t *o = &c->open[c->depth - 1];
    if (o->tag.nlen != t->nlen || memcmp(o->tag.name, t->name, t->nlen) != 0) {
        int line, col;
        as_m_position(c->src, o->tag.start, &line, &col);
        return as_m_error(c, t->start,
                          "closing tag '%.*s' does not match section '%.*s' opened at %d:%d",
                          (int)t->nlen, t->name, (int)o->tag.nlen, o->tag.name, line, col);
    }
    as_mnode_t *n = &c->b->v[o->node];
    if (eol)
        n->flags |= AS_MN_EOL;
    int rc = 0;
    if (n->type == AS_MN_BLOCK && (n->flags & AS_MN_STANDALONE))
        rc = as_m_dedent_block(c, o, content_end);
    c->depth--;
    return rc;
}

static int as_m_tag(as_mcomp_t *c, const as_mtag_t *t, int standalone, size_t ls, size_t after)
{
    as_mnode_t n = {.child = AS_MN_NONE};
    switch (t->kind) {
    case '!':
        return 0;
    case '=':
        return as_m_delims(c, t);
    case '#':
    case '^':
    case '<':
    case '$':
        return as_m_open(c, t, standalone, ls, after);
    case '/':
        return as_m_close(c, t, standalone ? ls : t->start, standalone);
    case '>':
        n.type = AS_MN_PARTIAL;
        if (standalone) {
            n.flags = AS_MN_STANDALONE | AS_MN_EOL;
            n.indent = as_m_store(c, c->src + ls, t->start - ls);
            n.ilen = (uint32_t)(t->start - ls);
        }
        if (t->nlen > 0 && t->name[0] == '*') {
            const char *name = t->name + 1;
            size_t len = t->nlen - 1;
            for (; len > 0 && as_m_space(*name); name++, len--)
                ;
            n.flags |= AS_MN_DYNAMIC;
            if (as_m_name(c, t, name, len, 1, &n) < 0)
                return -1;
        } else if (as_m_name(c, t, t->name, t->nlen, 0, &n) < 0) {
            return -1;
        }
        break;
    default:
        n.type = t->kind == 0 ? AS_MN_VAR : AS_MN_RAW;
        if (as_m_name(c, t, t->name, t->nlen, 1, &n) < 0)
            return -1;
        break;
    }
    as_m_add(c, &n);
    return 0;
}

static int as_m_same_name(const as_mtag_t *a, const as_mtag_t *b)
{
    return a->nlen == b->nlen && memcmp(a->name, b->name, a->nlen) == 0;
}

/* Two tags alone on a line that the inheritance spec treats as standalone:
 * {{$b}}{{/b}} (whose newline stays), {{<p}}{{/p}}, {{<p}}{{$b}} and
 * {{/b}}{{/p}}.  Returns 1 when t1 and t2 were handled as such a pair. */
static int as_m_pair(as_mcomp_t *c, const as_mtag_t *t1, size_t ls, size_t text, size_t *next,
                     int *rc)
{
    as_mtag_t t2;
    size_t eol;
    if (t1->end + c->d.olen > c->len || memcmp(c->src + t1->end, c->d.o, c->d.olen) != 0)
        return 0;
    if (as_m_scan(c, t1->end, &t2) < 0 || !as_m_line_ends(c, t2.end, &eol))
        return 0;
    int block_pair = t1->kind == '$' && t2.kind == '/' && as_m_same_name(t1, &t2);
    int parent_pair =
        t1->kind == '<' && (t2.kind == '$' || (t2.kind == '/' && as_m_same_name(t1, &t2)));
    int close_pair = 0;
    if (t1->kind == '/' && t2.kind == '/' && c->depth >= 2) {
        const as_mopen_t *b = &c->open[c->depth - 1], *p = &c->open[c->depth - 2];
        close_pair = c->b->v[b->node].type == AS_MN_BLOCK &&
                     c->b->v[p->node].type == AS_MN_PARENT && as_m_same_name(&b->tag, t1) &&
                     as_m_same_name(&p->tag, &t2);
    }
    if (!block_pair && !parent_pair && !close_pair)
        return 0;
    as_m_text(c, text, ls);
    if (block_pair) {
        *rc = as_m_open(c, t1, 1, ls, t1->end);
        if (*rc == 0)
            *rc = as_m_close(c, &t2, t2.start, 0);
        *next = t2.end;
    } else if (parent_pair) {
        *rc = as_m_open(c, t1, 1, ls, t1->end);
        if (*rc == 0 && t2.kind == '$')
            *rc = as_m_open(c, &t2, 1, t2.start, eol);
        else if (*rc == 0)
            *rc = as_m_close(c, &t2, t2.start, 1);
        *next = eol;
    } else {
        *rc = as_m_close(c, t1, ls, 0);
        if (*rc == 0)
            *rc = as_m_close(c, &t2, t2.start, 1);
        *next = eol;
    }
    return 1;
}

static int as_m_parse(as_mcomp_t *c)
{
    size_t pos = 0, text = 0; /* text: where the text not yet stored starts */
    const char *hit;
    while ((hit = memmem(c->src + pos, c->len - pos, c->d.o, c->d.olen)) != NULL) {
        as_mtag_t t;
        size_t at = (size_t)(hit - c->src), ls = at, eol = 0, next;
        int rc;
        if (as_m_scan(c, at, &t) < 0)
            return -1;
        int standalone = 0;
        if (t.kind != 0 && strchr("#^/!>=<$", t.kind) != NULL) {
            while (ls > text && (c->src[ls - 1] == ' ' || c->src[ls - 1] == '\t'))
                ls--;
            if (ls == 0 || c->src[ls - 1] == '\n') {
                if (as_m_line_ends(c, t.end, &eol))
                    standalone = 1;
                else if (strchr("$</", t.kind) && as_m_pair(c, &t, ls, text, &next, &rc)) {
                    if (rc < 0)
                        return -1;
                    pos = text = next;
                    continue;
                }
            }
        }
        as_m_text(c, text, standalone ? ls : at);
        pos = text = standalone ? eol : t.end;
        if (as_m_tag(c, &t, standalone, ls, pos) < 0)
            return -1;
    }
    as_m_text(c, text, c->len);
    if (c->depth > 0) {
        const as_mtag_t *t = &c->open[c->depth - 1].tag;
        return as_m_error(c, t->start, "unclosed section '%.*s'", (int)t->nlen, t->name);
    }
    return 0;
}

as_mustache_t *as_mustache_compile(const char *src, size_t len, const char *name, as_err_t *err)
{
    if (len > UINT32_MAX / 4) {
        as_err_set(err, "%s: template too large (%zu bytes)", name, len);
        return NULL;
    }
    as_mbuild_t b = {NULL, 0, 0, AS_BUF_INIT};
    as_mcomp_t *c = as_xcalloc(1, sizeof(*c));
    c->src = src;
    c->len = len;
    c->name = name;
    c->err = err;
    c->b = &b;
    c->d = as_mdefault;
    c->root = c->root_last = AS_MN_NONE;
    int rc = as_m_parse(c);
    uint32_t root = c->root;
    free(c);
    if (rc < 0) {
        free(b.v);
        as_buf_free(&b.str);
        return NULL;
    }
    as_mustache_t *t = as_xmalloc(sizeof(*t));
    t->nodes = b.v;
    t->str = as_buf_steal(&b.str);
    t->root = root;
    t->name = as_xstrdup(name);
    return t;
}

void as_mustache_free(as_mustache_t *t)
{
    if (t == NULL)
        return;
    free(t->nodes);
    free(t->str);
    free(t->name);
    free(t);
}

const char *as_mustache_name(const as_mustache_t *t)
{
    return t->name;
}

/* ---------------------------------------------------------------------- */
/* Rendering                                                               */

typedef struct as_mctx_s { /* the context stack */
    const cJSON *v;
    const struct as_mctx_s *up;
} as_mctx_t;

typedef struct as_mind_s { /* indentation of nested standalone partials */
    const char *s;
    size_t len;
    const struct as_mind_s *up;
} as_mind_t;

typedef struct as_marg_s { /* the block arguments of the parents being rendered */
    const as_mustache_t *t;
    uint32_t parent;
    const struct as_marg_s *up;
} as_marg_t;

/* Why a render stopped before its end. */
typedef enum { AS_MSTOP_NONE, AS_MSTOP_DEPTH, AS_MSTOP_STEPS, AS_MSTOP_OUTPUT } as_mstop_t;

typedef struct {
    as_buf_t *out;
    as_mustache_partial_pt partial;
    void *data;
    int escape, depth;
    const as_mind_t *indent;
    int pending; /* a line of the indented partial has started: indent before output */
    const as_marg_t *args;
    /* The budget (see mustache.h): every node rendered and every turn of a
     * section's loop is a step; output is what this render appended. */
    size_t steps, start;
    as_mstop_t stop;      /* set once: every level then returns at once */
    const char *where;    /* the innermost partial being rendered, or NULL */
    char stopped_in[128]; /* where was, when the render stopped */
    /* The last list or map printed as JSON, and its text (owned): a
     * template that prints one again and again (in a loop) prints it
     * once; the context does not change during a render. */
    const cJSON *json_of;
    char *json;
} as_mrender_t;

static void as_m_nodes(as_mrender_t *r, const as_mustache_t *t, uint32_t i, const as_mctx_t *ctx);

static void as_m_stop(as_mrender_t *r, as_mstop_t why)
{
    r->stop = why;
    as_str_copy(r->stopped_in, sizeof(r->stopped_in), r->where ? r->where : "");
}

/* One more step: 0 to go on, -1 when the render has stopped (now or before). */
static inline int as_m_step(as_mrender_t *r)
{
    if (r->stop != AS_MSTOP_NONE)
        return -1;
    if (++r->steps > AS_MUSTACHE_MAX_STEPS)
        as_m_stop(r, AS_MSTOP_STEPS);
    else if (r->out->len - r->start > AS_MUSTACHE_MAX_OUTPUT)
        as_m_stop(r, AS_MSTOP_OUTPUT);
    return r->stop != AS_MSTOP_NONE ? -1 : 0;
}

/* as_buf_append() with its common case inline: rendering is mostly many
 * short appends into a buffer that has room. */
static inline void as_m_put(as_buf_t *out, const char *s, size_t len)
{
    if (out->len + len < out->cap) {
        memcpy(out->data + out->len, s, len);
        out->len += len;
        out->data[out->len] = '\0';
    } else {
        as_buf_append(out, s, len);
    }
}

static void as_m_put_indent(as_buf_t *out, const as_mind_t *in)
{
    if (in == NULL)
        return;
    as_m_put_indent(out, in->up);
    as_m_put(out, in->s, in->len);
}

static void as_m_flush(as_mrender_t *r)
{
    if (r->pending) {
        r->pending = 0;
        as_m_put_indent(r->out, r->indent);
    }
}

static void as_m_put_text(as_mrender_t *r, const char *s, size_t len)
{
    if (r->indent == NULL) {
        as_m_put(r->out, s, len);
        return;
    }
    while (len > 0) {
        as_m_flush(r);
        const char *nl = memchr(s, '\n', len);
        size_t k = nl ? (size_t)(nl - s) + 1 : len;
        as_m_put(r->out, s, k);
        s += k;
        len -= k;
        if (nl)
            r->pending = 1;
    }
}

static void as_m_number(double d, char *buf, size_t size)
{
    if (fabs(d) < 1e15 && d == (double)(long long)d && size >= AS_INT_TEXT) {
        as_int_text(buf, (long long)d); /* the common case, without printf */
        return;
    }
    snprintf(buf, size, "%.15g", d);
    if (strtod(buf, NULL) != d)
        snprintf(buf, size, "%.17g", d);
}

static void as_m_put_value(as_mrender_t *r, const cJSON *v, int escape)
{
    char num[64];
    const char *s;
    switch (v ? v->type & 0xff : cJSON_NULL) {
    case cJSON_String:
    case cJSON_Raw:
        s = v->valuestring;
        break;
    case cJSON_Number:
        as_m_number(v->valuedouble, num, sizeof(num));
        s = num;
        break;
    case cJSON_True:
        s = "true";
        break;
    case cJSON_False:
        s = "false";
        break;
    case cJSON_Array:
    case cJSON_Object:
        if (r->json_of != v) {
            cJSON_free(r->json);
            r->json = cJSON_PrintUnformatted(v);
            r->json_of = r->json != NULL ? v : NULL;
        }
        s = r->json;
        break;
    default:
        return;
    }
    if (s == NULL)
        return;
    if (escape == AS_ESCAPE_HTML)
        as_buf_html(r->out, s, strlen(s));
    else if (escape == AS_ESCAPE_JSON)
        as_buf_json_chars(r->out, s, strlen(s));
    else
        as_m_put(r->out, s, strlen(s));
}

static const cJSON *as_m_child(const cJSON *v, const char *key)
{
    int type = v ? v->type & 0xff : cJSON_NULL;
    if (type == cJSON_Object) {
        /* Compared here, not with strcmp(): keys are short and mostly
         * differ at their first byte, so a call per key would be most of
         * a lookup's cost. */
        for (const cJSON *c = v->child; c; c = c->next) {
            const char *a = c->string, *b = key;
            if (a == NULL)
                continue;
            while (*a && *a == *b)
                a++, b++;
            if (*a == *b)
                return c;
        }
        return NULL;
    }
    if (type == cJSON_Array && key[0] >= '0' && key[0] <= '9') {
        size_t i = 0;
        for (const char *p = key; *p; p++) {
            if (*p < '0' || *p > '9' || i > 100000000)
                return NULL;
            i = i * 10 + (size_t)(*p - '0');
        }
        const cJSON *c = v->child;
        while (c && i-- > 0)
            c = c->next;
        return c;
    }
    return NULL;
}

/* Resolve a dotted name: the first part up the context stack, the others
 * inside what the first found. */
static const cJSON *as_m_lookup(const as_mctx_t *ctx, const char *parts, unsigned nparts)
{
    if (nparts == 0)
        return ctx->v;
    const cJSON *v = NULL;
    for (; ctx && v == NULL; ctx = ctx->up)
        v = as_m_child(ctx->v, parts);
    for (unsigned i = 1; v && i < nparts; i++) {
        parts += strlen(parts) + 1;
        v = as_m_child(v, parts);
    }
    return v;
}

static int as_m_truthy(const cJSON *v)
{
    switch (v ? v->type & 0xff : cJSON_NULL) {
    case cJSON_False:
    case cJSON_NULL:
    case cJSON_Invalid:
        return 0;
    case cJSON_Array:
        return v->child != NULL;
    case cJSON_String:
        return v->valuestring && v->valuestring[0];
    case cJSON_Number:
        return v->valuedouble != 0;
    default:
        return 1;
    }
}

/* Render the nodes of another template (a partial, a parent's template or
 * a block's content) at the place of node n, indented if n stands alone. */
static void as_m_include(as_mrender_t *r, const as_mustache_t *t, const as_mnode_t *n,
                         const as_mustache_t *inc, uint32_t first, const as_mctx_t *ctx)
{
    const as_mind_t *saved = r->indent;
    as_mind_t in;
    if (n->flags & AS_MN_STANDALONE) {
        if (n->ilen > 0) {
            in = (as_mind_t){t->str + n->indent, n->ilen, saved};
            r->indent = &in;
        }
        r->pending = r->indent != NULL;
    } else {
        as_m_flush(r);
        if (n->type != AS_MN_BLOCK) { /* an inline partial is not indented at all */
            r->indent = NULL;
            r->pending = 0;
        }
    }
    as_m_nodes(r, inc, first, ctx);
    r->indent = saved;
    if (n->flags & AS_MN_STANDALONE)
        r->pending = (n->flags & AS_MN_EOL) && saved != NULL;
    else if (n->type != AS_MN_BLOCK)
        r->pending = 0;
}

static void as_m_partial(as_mrender_t *r, const as_mustache_t *t, uint32_t i, const as_mctx_t *ctx)
{
    const as_mnode_t *n = &t->nodes[i];
    const char *name = t->str + n->str;
    if (n->flags & AS_MN_DYNAMIC) {
        const cJSON *v = as_m_lookup(ctx, name, n->nparts);
        name = v && (v->type & 0xff) == cJSON_String ? v->valuestring : NULL;
    }
    const as_mustache_t *p = r->partial && name ? r->partial(r->data, name) : NULL;
    if (p == NULL) {
        if (!(n->flags & AS_MN_STANDALONE))
            as_m_flush(r);
        return;
    }
    const char *where = r->where;
    r->where = name;
    if (r->depth >= AS_MUSTACHE_MAX_PARTIALS) {
        as_m_stop(r, AS_MSTOP_DEPTH);
        r->where = where;
        return;
    }
    const as_marg_t *saved = r->args;
    as_marg_t arg = {t, i, saved};
    if (n->type == AS_MN_PARENT)
        r->args = &arg;
    r->depth++;
    as_m_include(r, t, n, p, p->root, ctx);
    r->depth--;
    r->args = saved;
    r->where = where;
}

static void as_m_block(as_mrender_t *r, const as_mustache_t *t, const as_mnode_t *n,
                       const as_mctx_t *ctx)
{
    const char *name = t->str + n->str;
    const as_mustache_t *bt = t;
    uint32_t first = n->child;
    /* The outermost argument wins: walk the whole chain, keep the last. */
    for (const as_marg_t *a = r->args; a; a = a->up) {
        for (uint32_t k = a->t->nodes[a->parent].child; k != AS_MN_NONE; k = a->t->nodes[k].next) {
            const as_mnode_t *b = &a->t->nodes[k];
            if (b->type == AS_MN_BLOCK && strcmp(a->t->str + b->str, name) == 0) {
                bt = a->t;
                first = b->child;
                break;
            }
        }
    }
    as_m_include(r, t, n, bt, first, ctx);
}

static void as_m_nodes(as_mrender_t *r, const as_mustache_t *t, uint32_t i, const as_mctx_t *ctx)
{
    for (; i != AS_MN_NONE; i = t->nodes[i].next) {
        if (as_m_step(r) < 0)
            return;
        const as_mnode_t *n = &t->nodes[i];
        const char *s = t->str + n->str;
        const cJSON *v;
        switch (n->type) {
        case AS_MN_TEXT:
            as_m_put_text(r, s, n->len);
            break;
        case AS_MN_VAR:
        case AS_MN_RAW:
            as_m_flush(r);
            as_m_put_value(r, as_m_lookup(ctx, s, n->nparts),
                           n->type == AS_MN_VAR ? r->escape : AS_ESCAPE_NONE);
            break;
        case AS_MN_SECTION:
            if (!(n->flags & AS_MN_STANDALONE))
                as_m_flush(r);
            v = as_m_lookup(ctx, s, n->nparts);
            if (v != NULL && (v->type & 0xff) == cJSON_Array) {
                for (const cJSON *e = v->child; e && as_m_step(r) == 0; e = e->next) {
                    as_mctx_t frame = {e, ctx};
                    as_m_nodes(r, t, n->child, &frame);
                }
            } else if (as_m_truthy(v)) {
                as_mctx_t frame = {v, ctx};
                as_m_nodes(r, t, n->child, &frame);
            }
            break;
        case AS_MN_INVERTED:
            if (!(n->flags & AS_MN_STANDALONE))
                as_m_flush(r);
            if (!as_m_truthy(as_m_lookup(ctx, s, n->nparts)))
                as_m_nodes(r, t, n->child, ctx);
            break;
        case AS_MN_PARTIAL:
        case AS_MN_PARENT:
            as_m_partial(r, t, i, ctx);
            break;
        case AS_MN_BLOCK:
            as_m_block(r, t, n, ctx);
            break;
        }
    }
}

int as_mustache_render(const as_mustache_t *t, const cJSON *ctx, as_mustache_partial_pt partial,
                       void *data, int escape, as_buf_t *out, as_err_t *err)
{
    as_mrender_t r = {.out = out, .partial = partial, .data = data, .escape = escape};
    as_mctx_t root = {ctx, NULL};
    as_buf_append(out, "", 0); /* out.data is a string even when nothing is written */
    r.start = out->len;
    as_m_nodes(&r, t, t->root, &root);
    cJSON_free(r.json);
    char in[160] = "";
    if (r.stopped_in[0])
        snprintf(in, sizeof(in), " in partial '%s'", r.stopped_in);
    switch (r.stop) {
    case AS_MSTOP_NONE:
        return 0;
    case AS_MSTOP_DEPTH:
        return as_err_set(err,
                          "rendering stopped%s: partials nested deeper than %d (a partial "
                          "that includes itself?)",
                          in, AS_MUSTACHE_MAX_PARTIALS);
    case AS_MSTOP_STEPS:
        return as_err_set(err,
                          "rendering stopped%s: more than %d steps, the limit of one render "
                          "(partials that include each other without end, or loops in loops?)",
                          in, AS_MUSTACHE_MAX_STEPS);
    case AS_MSTOP_OUTPUT:
        return as_err_set(err,
                          "rendering stopped%s: more than %d MiB of output, the limit of one "
                          "render (partials that include each other without end, or loops in "
                          "loops?)",
                          in, AS_MUSTACHE_MAX_OUTPUT >> 20);
    }
    return 0;
}
