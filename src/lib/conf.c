/*
 * conf.c - the table-driven section loader and printer (see conf.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/buf.h"
#include "alertsink/mem.h"
#include "lib/conf.h"
#include "lib/log.h"
size_t as_conf_distance(const char *a, const char *b, size_t max)
{
    /* Optimal string alignment over three rows; keys are short. */
    enum { AS_DIST_MAX = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > AS_DIST_MAX || lb > AS_DIST_MAX)
        return max + 1;
    if ((la > lb ? la - lb : lb - la) > max)
        return max + 1;
    size_t rows[3][AS_DIST_MAX + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        size_t best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d)
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
            if (d < best)
                best = d;
        }
        if (best > max)
            return max + 1;
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > max ? max + 1 : prev[lb];
}

const char *as_conf_scalar(as_conf_t *cf, const as_node_t *node, const char *what)
{
    if (node->kind != AS_NODE_SCALAR) {
        as_conf_error(cf, node, "expected %s, got %s", what,
                      node->kind == AS_NODE_MAP   ? "a map"
                      : node->kind == AS_NODE_SEQ ? "a list"
                                                  : "nothing");
        return NULL;
    }
    return node->value;
}

/* The stand-in of a secret that AS_LOAD_NO_SEND let be missing; told
 * apart by its address. */
static char as_conf_unset_secret[] = AS_CONF_UNSET_SECRET;

static char *as_conf_read_secret(as_conf_t *cf, const as_node_t *node, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL && (cf->flags & AS_LOAD_NO_SEND)) {
        as_conf_warn(cf, node, "cannot read '%s': %s (ignored: this command sends nothing)", path,
                     strerror(errno));
        return as_conf_unset_secret;
    }
    if (fp == NULL) {
        as_conf_error(cf, node, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    int failed = ferror(fp), e = errno;
    int big = !failed && !feof(fp);
    fclose(fp);
    if (failed) { /* a directory, say: fopen takes it, reading fails */
        as_conf_error(cf, node, "cannot read '%s': %s", path, strerror(e));
        return NULL;
    }
    if (big) {
        as_conf_error(cf, node, "'%s' is larger than %zu bytes", path, sizeof(buf) - 1);
        return NULL;
    }
    buf[n] = '\0';
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    if (strlen(buf) != n) {
        as_conf_error(cf, node, "'%s' contains a NUL byte", path);
        return NULL;
    }
    char *s = as_pstrdup(cf->pool, buf);
    memset(buf, 0, sizeof(buf));
    return s;
}

static const as_conf_key_t *as_conf_find(const as_conf_key_t *keys, const char *name,
                                         int *file_form)
{
    *file_form = 0;
    for (const as_conf_key_t *k = keys; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    size_t len = strlen(name);
    if (len > 5 && strcmp(name + len - 5, "_file") == 0) {
        for (const as_conf_key_t *k = keys; k->name; k++)
            if ((k->flags & AS_CONF_SECRET) && strlen(k->name) == len - 5 &&
                strncmp(k->name, name, len - 5) == 0) {
                *file_form = 1;
                return k;
            }
    }
    return NULL;
}

/* The unknown key knode of a map read with keys: the caller's advice, or
 * the nearest known key within two edits. */
static void as_conf_unknown(as_conf_t *cf, const as_conf_key_t *keys, const as_node_t *knode,
                            const as_node_t *vnode)
{
    char hint[900], best[128] = "";
    const char *name = knode->value;
    if (cf->unknown_key != NULL && cf->unknown_key(knode, vnode, hint, sizeof(hint))) {
        as_conf_error(cf, knode, "unknown key '%s': %s", name, hint);
        return;
    }
    size_t bestd = 3, len = strlen(name);
    for (const as_conf_key_t *k = keys; k->name; k++) {
        int forms = (k->flags & AS_CONF_SECRET) ? 2 : 1; /* NAME, and NAME_file */
        for (int file = 0; file < forms; file++) {
            char cand[128];
            snprintf(cand, sizeof(cand), "%s%s", k->name, file ? "_file" : "");
            size_t d = as_conf_distance(name, cand, 2);
            /* Not closer than the name is long: "x" is no typo of "to". */
            if (d < bestd && d < len) {
                bestd = d;
                as_str_copy(best, sizeof(best), cand);
            }
        }
    }
    if (best[0] != '\0')
        as_conf_error(cf, knode, "unknown key '%s': did you mean '%s'?", name, best);
    else
        as_conf_error(cf, knode, "unknown key '%s'", name);
}

/* A secret was read into field (an inline value or NAME_file's content). */
static void as_conf_secret(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *vnode,
                           char *value, void *field)
{
    if (value == as_conf_unset_secret || vnode->env_unset) {
        /* AS_LOAD_NO_SEND, and the secret cannot be had here: the warning
         * was given; a stand-in keeps the modules' "is it set" checks
         * quiet, and is no secret to hide. */
        *(char **)field = as_conf_unset_secret;
        return;
    }
    if (strcmp(value, "<redacted>") == 0) {
        as_conf_error(cf, vnode,
                      "%s: \"<redacted>\" looks like a value copied from alertsink -T output, "
                      "which hides secrets: write the real secret (or use %s_file)",
                      k->name, k->name);
        return;
    }
    as_log_secret(value);
    *(char **)field = value;
}

static int as_conf_is_section(const as_conf_key_t *k)
{
    return (k->type->flags & AS_CONF_TYPE_ALWAYS) != 0;
}

int as_conf_section_parse(as_conf_t *cf, const as_conf_key_t *keys, const as_node_t *map,
                          void *base)
{
    size_t before = cf->nerrors;
    size_t nkeys = 0;
    while (keys[nkeys].name)
        nkeys++;
    const as_node_t *seen[nkeys ? nkeys : 1];
    memset(seen, 0, sizeof(seen));

    /* Not a map: that one error says it all (no "missing key" after it). */
    int rejected = map != NULL && map->kind != AS_NODE_MAP && map->kind != AS_NODE_NULL;
    if (rejected) {
        as_conf_error(cf, map, "expected a map of keys");
        map = NULL;
    }
    if (map != NULL && map->kind == AS_NODE_MAP) {
        for (size_t i = 0; i < map->n; i++) {
            const as_node_t *knode = map->keys[i], *vnode = map->items[i];
            int file_form;
            const as_conf_key_t *k = as_conf_find(keys, knode->value, &file_form);
            if (k == NULL) {
                as_conf_unknown(cf, keys, knode, vnode);
                continue;
            }
            size_t idx = (size_t)(k - keys);
            if (seen[idx] != NULL) {
                as_conf_error(cf, knode, "'%s' is set twice (also at line %d)", knode->value,
                              seen[idx]->line);
                continue;
            }
            seen[idx] = knode;
            void *field = (char *)base + k->offset;
            if (file_form) {
                const char *path = as_conf_scalar(cf, vnode, "a file name");
                if (path == NULL)
                    continue;
                char *secret = as_conf_read_secret(cf, vnode, path);
                if (secret != NULL)
                    as_conf_secret(cf, k, vnode, secret, field);
                continue;
            }
            if (as_yaml_is_null(vnode) && !as_conf_is_section(k) && k->type != &as_conf_sections) {
                /* "key:" with no value means "not set": defaults apply below. */
                seen[idx] = NULL;
                continue;
            }
            if (k->type->parse(cf, k, vnode, field) == 0 && (k->flags & AS_CONF_SECRET))
                as_conf_secret(cf, k, vnode, *(char **)field, field);
        }
    }
    for (size_t i = 0; i < nkeys; i++) {
        const as_conf_key_t *k = &keys[i];
        void *field = (char *)base + k->offset;
        if (seen[i] != NULL)
            continue;
        if (as_conf_is_section(k)) {
            k->type->parse(cf, k, NULL, field); /* defaults of the nested keys */
        } else if ((k->flags & AS_CONF_REQUIRED) && !rejected) {
            const as_node_t *at = map;
            as_node_t none = {.file = "<config>"};
            as_conf_error(cf, at ? at : &none, "missing required key '%s'", k->name);
        } else if (k->dflt != NULL) {
            as_node_t *d = as_yaml_scalar(cf, map, k->dflt);
            k->type->parse(cf, k, d, field);
        }
    }
    return cf->nerrors == before ? 0 : -1;
}

int as_conf_print_list(FILE *out, size_t n)
{
    fputs(n == 0 ? " []\n" : "\n", out);
    return n != 0;
}

/* The length of the sequence at p when YAML does not allow it unescaped
 * (libyaml's reader refuses it anywhere in a file), with its code point in
 * *cp; 0 when it is printable.  Control characters, DEL, the C1 controls,
 * U+FEFF, U+FFFE, U+FFFF; and the line breaks YAML knows beside \n (NEL,
 * U+2028, U+2029), which libyaml reads as ends of lines, even in quotes
 * (where it folds them). */
static size_t as_yaml_unprintable(const unsigned char *p, unsigned *cp)
{
    if ((*p < ' ' && *p != '\t' && *p != '\n') || *p == 0x7f) {
        *cp = *p;
        return 1;
    }
    if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
        *cp = p[1];
        return 2;
    }
    if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
        *cp = p[2] == 0xa8 ? 0x2028u : 0x2029u;
        return 3;
    }
    if (p[0] == 0xef && ((p[1] == 0xbb && p[2] == 0xbf) || (p[1] == 0xbf && p[2] >= 0xbe))) {
        *cp = p[1] == 0xbb ? 0xfeffu : (p[2] == 0xbe ? 0xfffeu : 0xffffu);
        return 3;
    }
    return 0;
}

void as_conf_print_string(FILE *out, const char *s)
{
    unsigned cp;
    int plain = *s != '\0' && strchr("-?:,[]{}#&*!|>'\"%@` ", *s) == NULL;
    for (const char *p = s; *p && plain; p++)
        if ((unsigned char)*p < ' ' || *p == '"' || *p == '\\' || (p[0] == ':' && p[1] == ' ') ||
            (p[0] == ' ' && p[1] == '#') || (p[0] == ':' && p[1] == '\0') ||
            as_yaml_unprintable((const unsigned char *)p, &cp) > 0)
            plain = 0;
    /* Every spelling the reader takes for a boolean or null (YAML 1.1's,
     * as yamldoc.c reads them) is quoted, or it would come back as one. */
    static const char *const words[] = {"true", "True", "TRUE", "false", "False", "FALSE",
                                        "null", "Null", "NULL", "~",     "yes",   "Yes",
                                        "YES",  "no",   "No",   "NO",    "on",    "On",
                                        "ON",   "off",  "Off",  "OFF",   NULL};
    for (const char *const *w = words; plain && *w; w++)
        if (strcmp(s, *w) == 0)
            plain = 0;
    if (plain && s[strlen(s) - 1] == ' ')
        plain = 0;
    if (!plain)
        fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t n;
        if (p[0] == '$' && p[1] == '{')
            fputc('$', out); /* $${: a literal ${ when read back, not a variable */
        if (plain)
            fputc(*p, out);
        else if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if ((n = as_yaml_unprintable(p, &cp)) > 0) {
            fprintf(out, cp > 0xff ? "\\u%04x" : "\\x%02x", cp);
            p += n - 1;
        } else
            fputc(*p, out);
    }
    if (!plain)
        fputc('"', out);
}

void as_conf_section_print(FILE *out, const as_conf_key_t *keys, const void *base, int indent)
{
    for (const as_conf_key_t *k = keys; k->name; k++) {
        const void *field = (const char *)base + k->offset;
        fprintf(out, "%*s%s:", indent, "", k->name);
        if (k->flags & AS_CONF_SECRET) {
            const char *v = *(char *const *)field;
            fputs(v && *v ? " \"<redacted>\"\n" : " null\n", out);
            continue;
        }
        k->type->print(out, k, field, indent);
    }
}

/* --- sections ---------------------------------------------------------------- */

static int as_set_section(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const as_conf_section_t *s = k->data;
    return as_conf_section_parse(cf, s->keys, n, field);
}

static void as_print_section(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_conf_section_t *s = k->data;
    fputc('\n', out);
    as_conf_section_print(out, s->keys, field, indent + 2);
}

const as_conf_type_t as_conf_section = {"map", as_set_section, as_print_section,
                                        AS_CONF_TYPE_ALWAYS};

static int as_set_sections(as_conf_t *cf, const as_conf_key_t *k, const as_node_t *n, void *field)
{
    const as_conf_section_t *s = k->data;
    as_array_t *a = field;
    int rc = 0;
    a->n = 0;
    a->elts = NULL;
    if (as_yaml_is_null(n))
        return 0;
    if (n->kind != AS_NODE_SEQ) {
        as_conf_error(cf, n, "%s: expected a list", k->name);
        return -1;
    }
    a->elts = as_palloc(as_conf_pool(cf), (n->n ? n->n : 1) * s->size);
    for (size_t i = 0; i < n->n; i++) {
        void *elt = (char *)a->elts + a->n * s->size;
        if (n->items[i]->kind != AS_NODE_MAP) {
            as_conf_error(cf, n->items[i], "%s: expected a map for each item", k->name);
            rc = -1;
            continue;
        }
        if (as_conf_section_parse(cf, s->keys, n->items[i], elt) < 0)
            rc = -1;
        a->n++;
    }
    return rc;
}

static void as_print_sections(FILE *out, const as_conf_key_t *k, const void *field, int indent)
{
    const as_conf_section_t *s = k->data;
    const as_array_t *a = field;
    if (!as_conf_print_list(out, a->n))
        return;
    for (size_t i = 0; i < a->n; i++) {
        /* "- " then the first key on the same line, as people write YAML. */
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        as_conf_section_print(m, s->keys, (const char *)a->elts + i * s->size, indent + 4);
        fclose(m);
        fprintf(out, "%*s- %s", indent + 2, "", buf + (len ? (size_t)indent + 4 : 0));
        free(buf);
    }
}

const as_conf_type_t as_conf_sections = {"list of maps", as_set_sections, as_print_sections};
