/*
 * matcher.c - Alertmanager label matchers over PCRE2 (see matcher.h).
 *
 * Parsing follows Alertmanager 0.25's pkg/labels/parse.go rule for rule:
 * the same splitting of "{a=1, b=2}" on commas outside quotes, the same
 * regular expression for one matcher (here compiled with PCRE2 once), and
 * the same unescaping, so a matcher that amtool accepts means the same
 * here.  User regexes are Go's (re2.c), anchored as ^(?:re)$.
 */
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "alertsink/buf.h"
#include "alertsink/mem.h"
#include "lib/conf.h"
#include "lib/json.h"
#include "route/matcher.h"
#include "route/re2.h"

/* Go's \s is [\t\n\f\r ] (no \v, unlike PCRE2's), so it is spelled out. */
#define AS_GO_SPACE "[\\t\\n\\f\\r ]"
#define AS_MATCHER_RE                                                                              \
    "^" AS_GO_SPACE "*([a-zA-Z_:][a-zA-Z0-9_:]*)" AS_GO_SPACE "*(=~|=|!=|!~)" AS_GO_SPACE          \
    "*((?s).*?)" AS_GO_SPACE "*$"

static pcre2_code *as_matcher_syntax;
static pthread_once_t as_matcher_once = PTHREAD_ONCE_INIT;

static void as_matcher_syntax_free(void)
{
    pcre2_code_free(as_matcher_syntax);
}

static void as_matcher_syntax_init(void)
{
    int code;
    PCRE2_SIZE off;
    as_matcher_syntax = pcre2_compile((PCRE2_SPTR)AS_MATCHER_RE, PCRE2_ZERO_TERMINATED,
                                      PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &code, &off, NULL);
    atexit(as_matcher_syntax_free);
}

static void as_re_free(void *p)
{
    pcre2_code_free(p);
}

static int as_matcher_init(as_pool_t *pool, as_matcher_t *m, const char *name, as_match_op_t op,
                           const char *value, as_err_t *err)
{
    m->name = as_pstrdup(pool, name);
    m->value = as_pstrdup(pool, value);
    m->op = op;
    m->re = NULL;
    if (op != AS_MATCH_RE && op != AS_MATCH_NRE)
        return 0;
    as_err_t why;
    m->re = as_re2_compile(value, &why);
    if (m->re == NULL)
        return as_err_set(err, "invalid regular expression '%s' for label '%s': %s", value, name,
                          why.msg);
    as_pool_cleanup(pool, as_re_free, m->re);
    return 0;
}

/* One matcher: pkg/labels/parse.go ParseMatcher. */
int as_matcher_parse(as_pool_t *pool, const char *s, as_matcher_t *m, as_err_t *err)
{
    pthread_once(&as_matcher_once, as_matcher_syntax_init);
    if (!as_utf8_valid(s, strlen(s)))
        return as_err_set(err, "matcher value not valid UTF-8: %s", s);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(as_matcher_syntax, NULL);
    int rc = pcre2_match(as_matcher_syntax, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    if (rc < 4) {
        pcre2_match_data_free(md);
        return as_err_set(err, "bad matcher format: %s", s);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    char opstr[3];
    size_t olen = ov[5] - ov[4];
    const char *raw = s + ov[6], *quoted = raw; /* ov dies with md */
    size_t rlen = ov[7] - ov[6], qlen = rlen;
    char *name = as_pstrndup(pool, s + ov[2], ov[3] - ov[2]);
    memcpy(opstr, s + ov[4], olen);
    opstr[olen] = '\0';
    pcre2_match_data_free(md);

    int expect_quote = 0;
    if (rlen > 0 && raw[0] == '"') {
        raw++;
        rlen--;
        expect_quote = 1;
    }
    char *value = as_xmalloc(rlen + 1);
    size_t o = 0;
    int escaped = 0;
    for (size_t i = 0; i < rlen; i++) {
        char c = raw[i];
        if (escaped) {
            escaped = 0;
            if (c == 'n') {
                value[o++] = '\n';
            } else if (c == '"' || c == '\\') {
                value[o++] = c;
            } else { /* a spurious escape keeps its backslash */
                value[o++] = '\\';
                value[o++] = c;
            }
            continue;
        }
        if (c == '\\') {
            if (i < rlen - 1) {
                escaped = 1;
                continue;
            }
            value[o++] = '\\';
        } else if (c == '"') {
            if (!expect_quote || i < rlen - 1) {
                free(value);
                return as_err_set(err, "matcher value contains unescaped double quote: %.*s",
                                  (int)qlen, quoted);
            }
            expect_quote = 0;
        } else {
            value[o++] = c;
        }
    }
    value[o] = '\0';
    if (expect_quote) {
        free(value);
        return as_err_set(err, "matcher value contains unescaped double quote: %.*s", (int)qlen,
                          quoted);
    }
    as_match_op_t op = strcmp(opstr, "=") == 0    ? AS_MATCH_EQ
                       : strcmp(opstr, "!=") == 0 ? AS_MATCH_NE
                       : strcmp(opstr, "=~") == 0 ? AS_MATCH_RE
                                                  : AS_MATCH_NRE;
    rc = as_matcher_init(pool, m, name, op, value, err);
    free(value);
    return rc;
}

/* Go's unicode.IsSpace. */
static int as_go_space(long cp)
{
    switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
        return 1;
    }
    return cp >= 0x2000 && cp <= 0x200a;
}

/* Go's strings.TrimSpace, in place: the start of the trimmed string. */
static char *as_go_trim_space(char *s)
{
    size_t len = strlen(s), w;
    long cp;
    while (len > 0 && (w = as_utf8_decode(s, len, &cp), as_go_space(cp))) {
        s += w;
        len -= w;
    }
    while (len > 0) {
        size_t b = len - 1; /* back to the first byte of the last code point */
        while (b > 0 && len - b < 4 && ((unsigned char)s[b] & 0xc0) == 0x80)
            b--;
        if (as_utf8_decode(s + b, len - b, &cp) != len - b || !as_go_space(cp))
            break;
        len = b;
    }
    s[len] = '\0';
    return s;
}

static as_matcher_t *as_matchers_add(as_pool_t *pool, as_matchers_t *list)
{
    as_matcher_t *v = as_palloc(pool, (list->n + 1) * sizeof(*v));
    if (list->n)
        memcpy(v, list->v, list->n * sizeof(*v));
    list->v = v;
    return &v[list->n++];
}

/* Several matchers: pkg/labels/parse.go ParseMatchers. */
int as_matchers_parse(as_pool_t *pool, const char *s, as_matchers_t *list, as_err_t *err)
{
    size_t len = strlen(s);
    if (len > 0 && s[0] == '{') {
        s++;
        len--;
    }
    if (len > 0 && s[len - 1] == '}')
        len--;
    char *tok = as_xmalloc(len + 1);
    size_t t = 0;
    int in_quotes = 0, escaped = 0, rc = 0;
    for (size_t i = 0; i <= len && rc == 0; i++) {
        char c = i < len ? s[i] : ',';
        int last = i == len;
        if (c == ',' && (!in_quotes || last)) {
            tok[t] = '\0';
            /* Go appends every comma-separated token as it is, but trims
             * the last one (Unicode spaces too) and skips it when blank;
             * an empty token in the middle fails to parse. */
            const char *b = last ? as_go_trim_space(tok) : tok;
            if (!(last && *b == '\0'))
                rc = as_matcher_parse(pool, b, as_matchers_add(pool, list), err);
            t = 0;
            continue;
        }
        if (c == ',') {
            /* a comma inside quotes: kept, escape state untouched (as Go) */
        } else if (c == '"') {
            if (!escaped)
                in_quotes = !in_quotes;
            else
                escaped = 0;
        } else if (c == '\\') {
            escaped = !escaped;
        } else {
            escaped = 0;
        }
        tok[t++] = c;
    }
    free(tok);
    if (rc < 0 && list->n > 0)
        list->n--; /* drop the slot of the failed one */
    return rc;
}

int as_matcher_matches(const as_matcher_t *m, const char *value)
{
    if (value == NULL)
        value = "";
    switch (m->op) {
    case AS_MATCH_EQ:
        return strcmp(value, m->value) == 0;
    case AS_MATCH_NE:
        return strcmp(value, m->value) != 0;
    case AS_MATCH_RE:
    case AS_MATCH_NRE:
        return as_re2_match(m->re, value) == (m->op == AS_MATCH_RE);
    }
    return 0;
}

void as_matcher_append(as_buf_t *b, const as_matcher_t *m)
{
    static const char *ops[] = {"=", "!=", "=~", "!~"};
    /* openMetricsEscape: only \\, \n and \" are escaped. */
    as_buf_printf(b, "%s%s\"", m->name, ops[m->op]);
    for (const char *p = m->value; *p; p++) {
        if (*p == '"' || *p == '\\')
            as_buf_putc(b, '\\');
        if (*p == '\n')
            as_buf_puts(b, "\\n");
        else
            as_buf_putc(b, *p);
    }
    as_buf_putc(b, '"');
}

/* labels.Matchers.Less: by name, then value, then operator. */
static int as_matcher_cmp(const void *a, const void *b)
{
    const as_matcher_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c == 0)
        c = strcmp(x->value, y->value);
    return c ? c : (int)x->op - (int)y->op;
}

void as_matchers_sort(as_matchers_t *list)
{
    if (list->n > 1)
        qsort(list->v, list->n, sizeof(*list->v), as_matcher_cmp);
}

int as_matchers_match(const as_matchers_t *list, const cJSON *labels)
{
    for (size_t i = 0; i < list->n; i++) {
        const cJSON *v = as_json_get(labels, list->v[i].name);
        if (!as_matcher_matches(&list->v[i], cJSON_IsString(v) ? v->valuestring : NULL))
            return 0;
    }
    return 1;
}

/* --- configuration types ------------------------------------------------------ */

static int as_set_matchers(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    int rc = 0;
    if (n->kind != AS_NODE_SEQ) {
        as_conf_error(cf, n, "%s: expected a list of matchers, as ['severity=\"critical\"']",
                      k->name);
        return -1;
    }
    for (size_t i = 0; i < n->n; i++) {
        as_err_t err;
        const char *s = as_conf_scalar(cf, n->items[i], "a matcher");
        if (s == NULL) {
            rc = -1;
        } else if (as_matchers_parse(as_conf_pool(cf), s, field, &err) < 0) {
            as_conf_error(cf, n->items[i], "%s", err.msg);
            rc = -1;
        }
    }
    return rc;
}

static int as_label_name_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int as_set_match_map(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field,
                            as_match_op_t op)
{
    int rc = 0;
    as_pool_t *pool = as_conf_pool(cf);
    if (n->kind != AS_NODE_MAP) {
        as_conf_error(cf, n, "%s: expected a map of label: value", k->name);
        return -1;
    }
    for (size_t i = 0; i < n->n; i++) {
        as_err_t err;
        const char *name = n->keys[i]->value;
        const char *v;
        if (n->items[i]->kind == AS_NODE_NULL && op == AS_MATCH_EQ) {
            v = ""; /* "env:" with no value: Alertmanager reads "" */
        } else if (n->items[i]->kind == AS_NODE_NULL) {
            as_conf_error(cf, n->items[i],
                          "%s: '%s' has no value: write \"\" for the empty regular expression "
                          "(Alertmanager refuses an empty value here too)",
                          k->name, name);
            rc = -1;
            continue;
        } else if ((v = as_conf_scalar(cf, n->items[i], "a label value")) == NULL) {
            rc = -1;
            continue;
        }
        if (!as_label_name_ok(name)) {
            as_conf_error(cf, n->keys[i], "%s: invalid label name '%s'", k->name, name);
            rc = -1;
            continue;
        }
        as_matcher_t *m = as_matchers_add(pool, field);
        int ok = as_matcher_init(pool, m, name, op, v, &err) == 0;
        /* Alertmanager keeps a match_re value as its compiled regexp's
         * String(), "^(?:v)$", and anchors that again: route keys show it
         * so, and a value such as "a)|(b" means what the double anchoring
         * makes of it. */
        if (ok && op == AS_MATCH_RE)
            ok = as_matcher_init(pool, m, name, op, as_psprintf(pool, "^(?:%s)$", v), &err) == 0;
        if (!ok) {
            ((as_matchers_t *)field)->n--;
            as_conf_error(cf, n->items[i], "%s", err.msg);
            rc = -1;
        }
    }
    return rc;
}

static int as_set_match(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    return as_set_match_map(cf, k, n, field, AS_MATCH_EQ);
}

static int as_set_match_re(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    return as_set_match_map(cf, k, n, field, AS_MATCH_RE);
}

/* match: and match_re: are folded into matchers:; -T prints them all there. */
static void as_print_matchers(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_matchers_t *l = field;
    if (strcmp(k->name, "matchers") != 0) {
        fputs(" {}\n", out);
        return;
    }
    if (!as_conf_print_list(out, l->n))
        return;
    as_buf_t b = AS_BUF_INIT;
    for (size_t i = 0; i < l->n; i++) {
        as_buf_reset(&b);
        as_matcher_append(&b, &l->v[i]);
        fprintf(out, "%*s- ", indent + 2, "");
        as_conf_print_string(out, b.data);
        fputc('\n', out);
    }
    as_buf_free(&b);
}

const as_conf_type_t as_conf_matchers = {"list of matchers", as_set_matchers, as_print_matchers};
const as_conf_type_t as_conf_match_map = {"map of labels", as_set_match, as_print_matchers};
const as_conf_type_t as_conf_match_re_map = {"map of label regexes", as_set_match_re,
                                             as_print_matchers};
