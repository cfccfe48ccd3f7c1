/*
 * yamldoc.c - YAML to a positioned node tree with libyaml (see yamldoc.h).
 *
 * The tree is built from parser events with an explicit stack, so a deeply
 * nested document cannot overflow the C stack; nesting is bounded anyway
 * (AS_YAML_MAX_DEPTH) because no configuration needs more.  All nodes are
 * allocated from the configuration's pool and live as long as it does:
 * later checks (unknown receiver in a route, ...) still point at them.
 *
 * The loader's context (as_conf_t: the pool and the collected errors)
 * lives here too, as every error it holds is about a node's position.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "alertsink/json.h"
#include "alertsink/log.h"
#include "alertsink/mem.h"
#include "lib/yamldoc.h"

#define AS_YAML_MAX_DEPTH 64
/* Aliases share their node, so a "billion laughs" document (ten aliases of
 * ten aliases of ...) is small in memory but not for the readers that
 * walk it: the route tree is built per reference.  No configuration
 * needs aliases to stand for more nodes than this, all uses together. */
#define AS_YAML_MAX_ALIASED 100000

typedef struct {
    as_node_t *node;
    size_t cap;
    as_node_t *pending_key; /* maps: key waiting for its value */
    size_t weight;          /* nodes inside so far, aliases expanded */
    long anchor;            /* its entry in the anchors, or -1 */
    as_node_t *merge_key;   /* maps: the "<<" key, if any */
    as_node_t *merge;       /* its value, applied when the map ends */
    size_t merge_at;        /* where the merged keys go */
} as_yaml_frame_t;

typedef struct {
    char *name;
    as_node_t *node;
    size_t weight; /* the node's size with aliases expanded, once complete */
} as_yaml_anchor_t;

typedef struct {
    as_conf_t *cf;
    const char *file;
    as_yaml_anchor_t *anchors;
    size_t nanchors, anchors_cap;
    size_t aliased; /* nodes that aliases stand for, all uses together */
} as_yaml_ctx_t;

static as_node_t *as_yaml_node(as_yaml_ctx_t *y, as_node_kind_t kind, yaml_mark_t mark)
{
    as_node_t *n = as_palloc(as_conf_pool(y->cf), sizeof(*n));
    n->kind = kind;
    n->file = y->file;
    n->line = (int)mark.line + 1;
    n->col = (int)mark.column + 1;
    return n;
}

/* ${NAME} from the environment; $${ stays a literal ${. */
static char *as_yaml_substitute(as_yaml_ctx_t *y, as_node_t *at, const char *s, size_t len)
{
    if (memchr(s, '$', len) == NULL)
        return as_pstrndup(as_conf_pool(y->cf), s, len);

    size_t cap = len + 64, o = 0;
    char *out = as_xmalloc(cap);
    for (size_t i = 0; i < len;) {
        const char *add = s + i;
        size_t addlen = 1, step = 1;
        if (s[i] == '$' && i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
            add = "${";
            addlen = 2;
            step = 3;
        } else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
            const char *end = memchr(s + i + 2, '}', len - i - 2);
            size_t nlen = end ? (size_t)(end - (s + i + 2)) : 0;
            char name[256];
            if (end == NULL || nlen == 0 || nlen >= sizeof(name)) {
                as_conf_error(y->cf, at, "malformed ${...} reference");
                free(out);
                return NULL;
            }
            memcpy(name, s + i + 2, nlen);
            name[nlen] = '\0';
            for (size_t k = 0; k < nlen; k++) {
                char c = name[k];
                if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (k > 0 && c >= '0' && c <= '9'))) {
                    as_conf_error(y->cf, at, "invalid variable name '%s' in ${...}", name);
                    free(out);
                    return NULL;
                }
            }
            add = getenv(name);
            if (add == NULL && (y->cf->flags & AS_LOAD_NO_SEND)) {
                as_conf_warn(y->cf, at,
                             "environment variable '%s' is not set (taken as empty: this "
                             "command sends nothing)",
                             name);
                at->env_unset = 1;
                add = "";
            } else if (add == NULL) {
                as_conf_error(y->cf, at, "environment variable '%s' is not set", name);
                free(out);
                return NULL;
            }
            addlen = strlen(add);
            /* The value goes where the file's own UTF-8 text would: -T
             * prints it back into a YAML file, which must be UTF-8. */
            if (!as_utf8_valid(add, addlen)) {
                as_conf_error(y->cf, at, "environment variable '%s' is not valid UTF-8", name);
                free(out);
                return NULL;
            }
            step = nlen + 3;
        }
        if (o + addlen + 1 > cap) {
            cap = (o + addlen + 1) * 2;
            out = as_xrealloc(out, cap);
        }
        memcpy(out + o, add, addlen);
        o += addlen;
        i += step;
    }
    char *res = as_pstrndup(as_conf_pool(y->cf), out, o);
    free(out);
    return res;
}

/* Register anchor for node; returns its index, or -1 when there is none. */
static long as_yaml_anchor(as_yaml_ctx_t *y, const yaml_char_t *anchor, as_node_t *node,
                           size_t weight)
{
    if (anchor == NULL)
        return -1;
    if (y->nanchors == y->anchors_cap) {
        y->anchors_cap = y->anchors_cap ? y->anchors_cap * 2 : 8;
        y->anchors = as_xrealloc(y->anchors, y->anchors_cap * sizeof(*y->anchors));
    }
    y->anchors[y->nanchors].name = as_xstrdup((const char *)anchor);
    y->anchors[y->nanchors].node = node;
    y->anchors[y->nanchors].weight = weight;
    return (long)y->nanchors++;
}

static const as_yaml_anchor_t *as_yaml_alias(as_yaml_ctx_t *y, const yaml_char_t *anchor)
{
    for (size_t i = y->nanchors; i-- > 0;)
        if (strcmp(y->anchors[i].name, (const char *)anchor) == 0)
            return &y->anchors[i];
    return NULL;
}

/* A plain "<<" key: YAML's merge key (a quoted '<<' is an ordinary key). */
static int as_yaml_is_merge_key(const as_node_t *key)
{
    return key->kind == AS_NODE_SCALAR && !key->quoted && strcmp(key->value, "<<") == 0;
}

static void as_yaml_push_child(as_yaml_ctx_t *y, as_yaml_frame_t *f, as_node_t *child)
{
    as_pool_t *pool = as_conf_pool(y->cf);
    as_node_t *p = f->node;
    if (p->kind == AS_NODE_MAP && f->pending_key == NULL) {
        f->pending_key = child; /* a key; its value comes next */
        return;
    }
    if (p->kind == AS_NODE_MAP && f->pending_key->kind != AS_NODE_SCALAR) {
        /* Reported, and the pair is dropped: every later reader of the
         * tree may take keys[i]->value as a string (strcmp), which a map,
         * a list or a null written as a key has not. */
        as_node_t *key = f->pending_key;
        as_conf_error(y->cf, key, "a map key must be a plain value, not %s",
                      key->kind == AS_NODE_MAP   ? "a map"
                      : key->kind == AS_NODE_SEQ ? "a list"
                                                 : "null");
        f->pending_key = NULL;
        return;
    }
    if (p->kind == AS_NODE_MAP && as_yaml_is_merge_key(f->pending_key)) {
        if (f->merge_key != NULL)
            as_conf_error(y->cf, f->pending_key, "duplicate key '<<' (first at line %d)",
                          f->merge_key->line);
        f->merge_key = f->pending_key;
        f->merge = child;
        f->merge_at = p->n;
        f->pending_key = NULL;
        return;
    }
    if (p->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        as_node_t **items = as_palloc(pool, cap * sizeof(*items));
        if (p->n)
            memcpy(items, p->items, p->n * sizeof(*items));
        p->items = items;
        if (p->kind == AS_NODE_MAP) {
            as_node_t **keys = as_palloc(pool, cap * sizeof(*keys));
            if (p->n)
                memcpy(keys, p->keys, p->n * sizeof(*keys));
            p->keys = keys;
        }
        f->cap = cap;
    }
    if (p->kind == AS_NODE_MAP) {
        as_node_t *key = f->pending_key;
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->keys[i]->value, key->value) == 0)
                as_conf_error(y->cf, key, "duplicate key '%s' (first at line %d)", key->value,
                              p->keys[i]->line);
        p->keys[p->n] = key;
        f->pending_key = NULL;
    }
    p->items[p->n++] = child;
}

/* Is node one of the collections still open (an ancestor of what comes next)? */
static int as_yaml_open(const as_yaml_frame_t *stack, int depth, const as_node_t *node)
{
    for (int i = 0; i < depth; i++)
        if (stack[i].node == node)
            return 1;
    return 0;
}

/* Is key set in map's first n keys? */
static int as_yaml_has_key(as_node_t *const *keys, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i]->kind == AS_NODE_SCALAR && strcmp(keys[i]->value, key) == 0)
            return 1;
    return 0;
}

/* Apply the map's "<<" (YAML 1.1 merge, as Go's yaml.v2 reads Alertmanager's
 * files): the keys of the merged maps that the map does not set itself go
 * where "<<" was written; in a list, an earlier map wins over a later one.
 * Only the top level is merged: a nested map is taken whole. */
static void as_yaml_apply_merge(as_yaml_ctx_t *y, as_yaml_frame_t *f)
{
    as_node_t *p = f->node, *m = f->merge;
    size_t nsrc = m->kind == AS_NODE_SEQ ? m->n : 1, add = 0;
    for (size_t s = 0; s < nsrc; s++) {
        as_node_t *src = m->kind == AS_NODE_SEQ ? m->items[s] : m;
        if (src->kind != AS_NODE_MAP) {
            as_conf_error(y->cf, src,
                          "the merge key '<<' takes a map or a list of maps (as <<: *base)");
            return;
        }
        if (src == p) {
            as_conf_error(y->cf, src, "the merge key '<<' merges a map into itself");
            return;
        }
        add += src->n;
    }
    as_pool_t *pool = as_conf_pool(y->cf);
    size_t cap = p->n + add;
    as_node_t **keys = as_palloc(pool, (cap ? cap : 1) * sizeof(*keys));
    as_node_t **items = as_palloc(pool, (cap ? cap : 1) * sizeof(*items));
    size_t n = 0;
    for (size_t i = 0; i < f->merge_at; i++, n++) {
        keys[n] = p->keys[i];
        items[n] = p->items[i];
    }
    size_t merged_from = n;
    for (size_t s = 0; s < nsrc; s++) {
        as_node_t *src = m->kind == AS_NODE_SEQ ? m->items[s] : m;
        for (size_t i = 0; i < src->n; i++) {
            const char *k = src->keys[i]->value;
            if (as_yaml_has_key(p->keys, p->n, k) ||
                as_yaml_has_key(keys + merged_from, n - merged_from, k))
                continue;
            keys[n] = src->keys[i];
            items[n++] = src->items[i];
        }
    }
    for (size_t i = f->merge_at; i < p->n; i++, n++) {
        keys[n] = p->keys[i];
        items[n] = p->items[i];
    }
    p->keys = keys;
    p->items = items;
    p->n = n;
    f->cap = cap;
}

static as_node_t *as_yaml_parse(as_yaml_ctx_t *y, yaml_parser_t *parser)
{
    as_yaml_frame_t stack[AS_YAML_MAX_DEPTH];
    int depth = 0;
    as_node_t *root = NULL;
    int done = 0, ok = 1;

    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(parser, &ev)) {
            as_node_t at = {.file = y->file,
                            .line = (int)parser->problem_mark.line + 1,
                            .col = (int)parser->problem_mark.column + 1};
            if (parser->context)
                as_conf_error(y->cf, &at, "YAML: %s %s", parser->problem, parser->context);
            else
                as_conf_error(y->cf, &at, "YAML: %s", parser->problem ? parser->problem : "error");
            return NULL;
        }
        as_node_t *node = NULL;
        size_t weight = 0; /* of node */
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            done = ev.type == YAML_STREAM_END_EVENT || depth == 0;
            break;
        case YAML_SCALAR_EVENT: {
            const char *v = (const char *)ev.data.scalar.value;
            size_t len = ev.data.scalar.length;
            int quoted = ev.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                         ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                         ev.data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                         ev.data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
            int null = !quoted && (len == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
                                   strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0);
            node = as_yaml_node(y, null ? AS_NODE_NULL : AS_NODE_SCALAR, ev.start_mark);
            node->quoted = quoted;
            node->value = as_yaml_substitute(y, node, v, len);
            if (node->value == NULL) {
                ok = 0;
                node->value = as_pstrdup(as_conf_pool(y->cf), "");
            }
            as_yaml_anchor(y, ev.data.scalar.anchor, node, 1);
            weight = 1;
            break;
        }
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)ev.data.alias.anchor;
            const as_yaml_anchor_t *a = as_yaml_alias(y, ev.data.alias.anchor);
            int over = a != NULL && y->aliased > AS_YAML_MAX_ALIASED; /* reported already */
            if (a != NULL && !as_yaml_open(stack, depth, a->node) && !over &&
                (y->aliased += a->weight) <= AS_YAML_MAX_ALIASED) {
                node = a->node;
                weight = a->weight;
                break;
            }
            node = as_yaml_node(y, AS_NODE_NULL, ev.start_mark);
            node->value = as_pstrdup(as_conf_pool(y->cf), "");
            weight = 1;
            ok = 0;
            if (a == NULL)
                as_conf_error(y->cf, node, "unknown alias '*%s'", name);
            else if (as_yaml_open(stack, depth, a->node))
                /* `a: &x [*x]` would make the tree a graph with a cycle,
                 * and every reader that walks it (routes, merges) recurse
                 * until the stack runs out. */
                as_conf_error(y->cf, node, "alias '*%s' refers to a node that contains it", name);
            else if (!over) /* once: every later alias is past the limit too */
                as_conf_error(y->cf, node,
                              "alias '*%s': aliases stand for more than %d nodes in all "
                              "(an alias bomb?)",
                              name, AS_YAML_MAX_ALIASED);
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            as_node_kind_t kind = ev.type == YAML_SEQUENCE_START_EVENT ? AS_NODE_SEQ : AS_NODE_MAP;
            as_node_t *c = as_yaml_node(y, kind, ev.start_mark);
            const yaml_char_t *anchor =
                kind == AS_NODE_SEQ ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor;
            long ai = as_yaml_anchor(y, anchor, c, 0);
            if (depth > 0)
                as_yaml_push_child(y, &stack[depth - 1], c);
            else
                root = c;
            if (depth == AS_YAML_MAX_DEPTH) {
                as_conf_error(y->cf, c, "nesting deeper than %d levels", AS_YAML_MAX_DEPTH);
                yaml_event_delete(&ev);
                return NULL;
            }
            stack[depth++] = (as_yaml_frame_t){c, 0, NULL, 0, ai, NULL, NULL, 0};
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            if (stack[depth - 1].merge != NULL)
                as_yaml_apply_merge(y, &stack[depth - 1]);
            const as_yaml_frame_t *f = &stack[--depth];
            if (f->anchor >= 0)
                y->anchors[f->anchor].weight = f->weight + 1;
            if (depth > 0)
                stack[depth - 1].weight += f->weight + 1;
            break;
        }
        default:
            break;
        }
        if (node != NULL) {
            if (depth > 0) {
                stack[depth - 1].weight += weight;
                as_yaml_push_child(y, &stack[depth - 1], node);
            } else if (root == NULL)
                root = node;
        }
        yaml_event_delete(&ev);
    }
    /* Substitution errors are recorded; the tree is still checked whole so
     * that every other error is reported too. */
    (void)ok;
    return root;
}

static as_node_t *as_yaml_run(as_conf_t *cf, const char *name, FILE *fp, const char *text)
{
    yaml_parser_t parser;
    as_yaml_ctx_t y = {.cf = cf, .file = as_pstrdup(as_conf_pool(cf), name)};

    if (!yaml_parser_initialize(&parser)) {
        as_node_t at = {.file = y.file, .line = 1, .col = 1};
        as_conf_error(cf, &at, "cannot initialise the YAML parser");
        return NULL;
    }
    if (fp != NULL)
        yaml_parser_set_input_file(&parser, fp);
    else
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    as_node_t *root = as_yaml_parse(&y, &parser);
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < y.nanchors; i++)
        free(y.anchors[i].name);
    free(y.anchors);
    if (root == NULL && as_conf_errors(cf) == 0) { /* an empty document */
        root = as_palloc(as_conf_pool(cf), sizeof(*root));
        root->kind = AS_NODE_NULL;
        root->file = y.file;
        root->line = root->col = 1;
        root->value = "";
    }
    return root;
}

as_node_t *as_yaml_load(as_conf_t *cf, const char *path)
{
    as_node_t at = {.file = path, .line = 0, .col = 0};
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        /* fopen() takes a directory and libyaml then says "input error". */
        char guess[4096];
        snprintf(guess, sizeof(guess), "%s%s%s", path,
                 path[0] && path[strlen(path) - 1] == '/' ? "" : "/", "alertsink.yaml");
        if (access(guess, F_OK) == 0)
            as_conf_error(cf, &at, "is a directory, not a configuration file: did you mean %s?",
                          guess);
        else
            as_conf_error(cf, &at,
                          "is a directory, not a configuration file: name the file, as "
                          "-c DIR/alertsink.yaml");
        return NULL;
    }
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        as_conf_error(cf, &at, "cannot open: %s", strerror(errno));
        return NULL;
    }
    as_node_t *root = as_yaml_run(cf, path, fp, NULL);
    fclose(fp);
    return root;
}

as_node_t *as_yaml_load_string(as_conf_t *cf, const char *name, const char *text)
{
    return as_yaml_run(cf, name, NULL, text);
}

as_node_t *as_yaml_scalar(as_conf_t *cf, const as_node_t *at, const char *value)
{
    as_node_t *n = as_palloc(as_conf_pool(cf), sizeof(*n));
    n->kind = AS_NODE_SCALAR;
    n->file = at ? at->file : "<default>";
    n->line = at ? at->line : 0;
    n->col = at ? at->col : 0;
    n->value = as_pstrdup(as_conf_pool(cf), value);
    return n;
}

const as_node_t *as_yaml_get(const as_node_t *map, const char *key)
{
    if (map == NULL || map->kind != AS_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
}

int as_yaml_is_null(const as_node_t *node)
{
    return node == NULL || node->kind == AS_NODE_NULL;
}

static void as_yaml_append(as_pool_t *pool, as_node_t *dst, as_node_t *key, as_node_t *value)
{
    as_node_t **items = as_palloc(pool, (dst->n + 1) * sizeof(*items));
    if (dst->n)
        memcpy(items, dst->items, dst->n * sizeof(*items));
    items[dst->n] = value;
    dst->items = items;
    if (dst->kind == AS_NODE_MAP) {
        as_node_t **keys = as_palloc(pool, (dst->n + 1) * sizeof(*keys));
        if (dst->n)
            memcpy(keys, dst->keys, dst->n * sizeof(*keys));
        keys[dst->n] = key;
        dst->keys = keys;
    }
    dst->n++;
}

/* A copy of node with arrays of its own, room for extra more items: what
 * a merge changes is never a node an alias shares (an included list went
 * into every place the alias was used). */
static as_node_t *as_yaml_own(as_pool_t *pool, const as_node_t *node, size_t extra)
{
    as_node_t *c = as_palloc(pool, sizeof(*c));
    *c = *node;
    c->items = as_palloc(pool, (node->n + extra + 1) * sizeof(*c->items));
    if (node->n)
        memcpy(c->items, node->items, node->n * sizeof(*c->items));
    if (node->kind == AS_NODE_MAP) {
        c->keys = as_palloc(pool, (node->n + extra + 1) * sizeof(*c->keys));
        if (node->n)
            memcpy(c->keys, node->keys, node->n * sizeof(*c->keys));
    }
    return c;
}

int as_yaml_merge(as_conf_t *cf, as_node_t *dst, const as_node_t *src)
{
    as_pool_t *pool = as_conf_pool(cf);
    int rc = 0;
    for (size_t i = 0; i < src->n; i++) {
        as_node_t *key = src->keys[i], *val = src->items[i];
        size_t j;
        for (j = 0; j < dst->n; j++)
            if (strcmp(dst->keys[j]->value, key->value) == 0)
                break;
        if (j == dst->n) {
            as_yaml_append(pool, dst, key, val);
            continue;
        }
        as_node_t *have = dst->items[j];
        if (have->kind == AS_NODE_MAP && val->kind == AS_NODE_MAP) {
            dst->items[j] = as_yaml_own(pool, have, 0);
            rc |= as_yaml_merge(cf, dst->items[j], val);
        } else if (have->kind == AS_NODE_SEQ && val->kind == AS_NODE_SEQ) {
            /* One copy of both lists: appending an item at a time copied the
             * list each time (8000 included receivers took 281 MB). */
            as_node_t *both = as_yaml_own(pool, have, val->n);
            if (val->n)
                memcpy(both->items + have->n, val->items, val->n * sizeof(*both->items));
            both->n = have->n + val->n;
            dst->items[j] = both;
        } else if (have->kind == AS_NODE_NULL) {
            dst->items[j] = val;
        } else if (val->kind != AS_NODE_NULL) {
            as_conf_error(cf, key, "key '%s' is already set at %s:%d:%d", key->value,
                          dst->keys[j]->file, dst->keys[j]->line, dst->keys[j]->col);
            rc = -1;
        }
    }
    return rc;
}

/* --- the loader's context: its pool and the errors it collected ------------ */

void as_conf_init(as_conf_t *cf, as_pool_t *pool)
{
    memset(cf, 0, sizeof(*cf));
    cf->pool = pool;
}

static void as_conf_strv_free(char ***v, size_t *n, size_t *cap)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = *cap = 0;
}

void as_conf_free_errors(as_conf_t *cf)
{
    as_conf_strv_free(&cf->errors, &cf->nerrors, &cf->cap);
    as_conf_strv_free(&cf->warnings, &cf->nwarnings, &cf->wcap);
}

size_t as_conf_errors(const as_conf_t *cf)
{
    return cf->nerrors;
}

as_pool_t *as_conf_pool(as_conf_t *cf)
{
    return cf->pool;
}

void as_conf_print_errors(const as_conf_t *cf, FILE *out)
{
    for (size_t i = 0; i < cf->nerrors; i++)
        fprintf(out, "%s\n", cf->errors[i]);
}

void as_conf_print_warnings(const as_conf_t *cf, FILE *out)
{
    for (size_t i = 0; i < cf->nwarnings; i++)
        fprintf(out, "%s\n", cf->warnings[i]);
}

/* "FILE:LINE:COL: " (or less, as the node knows) + kind + the message,
 * appended to a list; secrets the message quotes are redacted. */
static void as_conf_add(char ***v, size_t *n, size_t *cap, const as_node_t *node, const char *kind,
                        const char *fmt, va_list ap)
{
    char msg[1024], line[1400];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (node == NULL)
        snprintf(line, sizeof(line), "%s%s", kind, msg);
    else if (node->line > 0)
        snprintf(line, sizeof(line), "%s:%d:%d: %s%s", node->file, node->line, node->col, kind,
                 msg);
    else
        snprintf(line, sizeof(line), "%s: %s%s", node->file, kind, msg);
    /* Errors may quote configuration values: a secret must not leak here. */
    as_log_redact(line, sizeof(line));
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = as_xrealloc(*v, *cap * sizeof(char *));
    }
    (*v)[(*n)++] = as_xstrdup(line);
}

void as_conf_error(as_conf_t *cf, const as_node_t *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    as_conf_add(&cf->errors, &cf->nerrors, &cf->cap, node, "", fmt, ap);
    va_end(ap);
}

void as_conf_warn(as_conf_t *cf, const as_node_t *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    as_conf_add(&cf->warnings, &cf->nwarnings, &cf->wcap, node, "warning: ", fmt, ap);
    va_end(ap);
}
