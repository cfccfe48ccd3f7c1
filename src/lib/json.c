/*
 * json.c - cJSON's allocator, strict parsing, and small getters (see
 * alertsink/json.h and json.h).
 *
 * Allocation.  Every block cJSON allocates comes through the hooks
 * installed here, before main() runs, with a 16-byte header that says
 * where it came from: the heap, or the pool the calling thread has
 * selected with as_json_use_pool().  A tree built in a pool (a request's
 * payload, a delivery's template context) is released with its pool in
 * one step, and cJSON freeing one of its nodes (a replaced member, a
 * print buffer that grew) does nothing; a heap block is freed as always.
 * So cJSON_Delete() is right for any tree, and what cJSON allocated
 * (cJSON_Print, as_json_print) is freed with cJSON_free, never free().
 *
 * Parsing is one pass of our own that builds cJSON nodes (cJSON's parser
 * takes two passes over each string, recurses without a bound and is
 * lenient): RFC 8259's grammar, nesting at most AS_JSON_MAX_DEPTH deep,
 * nothing but white space after the value, valid UTF-8 (checked first,
 * eight bytes at a time, with NUL bytes), and errors at their byte offset.
 * Like cJSON, it keeps duplicate keys (the first is the one found) and
 * accepts control characters inside strings; callers that store the text
 * as it came learn of those (as_json_parse_raw).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "lib/json.h"

/* --- allocation ------------------------------------------------------------------- */

#define AS_JSON_HEAP 0x70616568u /* "heap" */
#define AS_JSON_POOL 0x6c6f6f70u /* "pool" */

typedef struct {
    uint32_t tag;
    uint32_t unused;
    uint64_t pad; /* keeps what follows aligned as malloc's memory is */
} as_json_hdr_t;

static _Thread_local as_pool_t *as_json_pool;

as_pool_t *as_json_use_pool(as_pool_t *pool)
{
    as_pool_t *prev = as_json_pool;
    as_json_pool = pool;
    return prev;
}

static void *as_json_alloc(size_t n)
{
    as_pool_t *pool = as_json_pool;
    as_json_hdr_t *h = pool ? as_pnalloc(pool, sizeof(*h) + n) : as_xmalloc(sizeof(*h) + n);
    h->tag = pool ? AS_JSON_POOL : AS_JSON_HEAP;
    return h + 1;
}

static void as_json_dealloc(void *p)
{
    if (p == NULL)
        return;
    as_json_hdr_t *h = (as_json_hdr_t *)p - 1;
    if (h->tag == AS_JSON_HEAP) {
        h->tag = 0;
        free(h);
    } else if (h->tag != AS_JSON_POOL) {
        abort(); /* not cJSON's memory, or freed twice: fail here, not later */
    }
}

/* Before main(): no cJSON block may exist without a header. */
__attribute__((constructor)) static void as_json_hooks(void)
{
    cJSON_Hooks hooks = {as_json_alloc, as_json_dealloc};
    cJSON_InitHooks(&hooks);
}

size_t as_utf8_decode(const char *str, size_t len, long *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0];
    size_t n;
    long v;
    *cp = -1;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        v = c & 0x07;
    } else {
        return 1;
    }
    for (size_t k = 1; k <= n; k++) {
        if (k >= len || (s[k] & 0xc0) != 0x80)
            return 1;
        v = (v << 6) | (s[k] & 0x3f);
    }
    if ((n == 2 && v < 0x800) || (n == 3 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v <= 0xdfff))
        return 1;
    *cp = v;
    return n + 1;
}

/* --- validation before parsing ------------------------------------------------------- */

/* Offset of the first NUL byte, or len. */
static size_t as_json_nul(const char *d, size_t len)
{
    const char *z = memchr(d, '\0', len);
    return z ? (size_t)(z - d) : len;
}

int as_utf8_valid(const char *s, size_t len)
{
    long cp;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs eight bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        i += as_utf8_decode(s + i, len - i, &cp);
        if (cp < 0)
            return 0;
    }
    return 1;
}

/* --- the parser ------------------------------------------------------------------------ */

typedef struct {
    const char *start, *p, *end;
    int depth;
    int ctl;   /* a control character inside a string */
    int eof;   /* the error: the input ended */
    int deep;  /* the error: nested too deep */
    size_t at; /* the error's offset */
} as_jp_t;

static cJSON *as_jp_value(as_jp_t *j);

static void *as_jp_fail(as_jp_t *j, const char *at)
{
    if (at >= j->end)
        j->eof = 1;
    j->at = (size_t)(at - j->start);
    return NULL;
}

static void as_jp_space(as_jp_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static cJSON *as_jp_node(int type)
{
    cJSON *n = cJSON_malloc(sizeof(cJSON));
    memset(n, 0, sizeof(*n));
    n->type = type;
    return n;
}

static int as_jp_hex(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16)
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

static size_t as_jp_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Has the word a byte that is '"', '\\' or below 0x20?  (Bytes from 0x80
 * are none of them: the borrows below stay inside their byte.) */
static inline int as_json_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    return ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & high) != 0;
}

/* A string at j->p (its opening quote), decoded into a new block. */
static char *as_jp_string(as_jp_t *j)
{
    const char *q = j->p + 1, *r = q;
    int esc = 0;
    /* Eight bytes at a time while none is a quote, a backslash or a
     * control character: most strings are plain. */
    while (r + 8 <= j->end) {
        uint64_t w;
        memcpy(&w, r, 8);
        if (as_json_special(w))
            break;
        r += 8;
    }
    while (r < j->end && *r != '"') {
        if (*r == '\\') {
            esc = 1;
            r += 2;
            continue;
        }
        if ((unsigned char)*r < 0x20)
            j->ctl = 1;
        r++;
    }
    if (r >= j->end)
        return as_jp_fail(j, j->p + 1); /* unterminated: where it began, as cJSON says */
    /* Decoded text is never longer than its escaped form. */
    char *out = cJSON_malloc((size_t)(r - q) + 1), *o = out;
    if (!esc) {
        memcpy(out, q, (size_t)(r - q));
        o += r - q;
    } else {
        for (const char *s = q; s < r;) {
            if (*s != '\\') {
                *o++ = *s++;
                continue;
            }
            unsigned cp, lo;
            switch (s[1]) {
            case '"':
            case '\\':
            case '/':
                *o++ = s[1];
                s += 2;
                continue;
            case 'b':
                *o++ = '\b';
                s += 2;
                continue;
            case 'f':
                *o++ = '\f';
                s += 2;
                continue;
            case 'n':
                *o++ = '\n';
                s += 2;
                continue;
            case 'r':
                *o++ = '\r';
                s += 2;
                continue;
            case 't':
                *o++ = '\t';
                s += 2;
                continue;
            case 'u':
                if (r - s < 6 || as_jp_hex(s + 2, &cp) < 0)
                    break;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    break; /* a low surrogate alone */
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (r - s < 12 || s[6] != '\\' || s[7] != 'u' || as_jp_hex(s + 8, &lo) < 0 ||
                        lo < 0xdc00 || lo > 0xdfff)
                        break;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    s += 6;
                }
                o += as_jp_utf8(o, cp);
                s += 6;
                continue;
            default:
                break;
            }
            cJSON_free(out);
            return as_jp_fail(j, s);
        }
    }
    *o = '\0';
    j->p = r + 1;
    return out;
}

static cJSON *as_jp_number(as_jp_t *j)
{
    const char *s = j->p, *p = s;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end || *p < '0' || *p > '9')
        return as_jp_fail(j, p);
    if (*p == '0')
        p++;
    else
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    int integer = 1;
    if (p < j->end && *p == '.') {
        integer = 0;
        if (++p >= j->end || *p < '0' || *p > '9')
            return as_jp_fail(j, p);
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        integer = 0;
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || *p < '0' || *p > '9')
            return as_jp_fail(j, p);
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    double v;
    size_t len = (size_t)(p - s);
    if (integer && len <= 16) {
        /* Exact in a double: no strtod. */
        long long i = 0;
        for (const char *d = *s == '-' ? s + 1 : s; d < p; d++)
            i = i * 10 + (*d - '0');
        v = (double)(*s == '-' ? -i : i);
    } else {
        char small[64], *buf = len < sizeof(small) ? small : as_xmalloc(len + 1);
        memcpy(buf, s, len);
        buf[len] = '\0';
        v = strtod(buf, NULL);
        if (buf != small)
            free(buf);
    }
    cJSON *n = as_jp_node(cJSON_Number);
    n->valuedouble = v;
    /* cJSON's valueint: the double, saturated. */
    n->valueint = v >= 2147483647.0 ? 2147483647 : v <= -2147483648.0 ? (-2147483647 - 1) : (int)v;
    j->p = p;
    return n;
}

static cJSON *as_jp_literal(as_jp_t *j, const char *word, size_t len, int type)
{
    if ((size_t)(j->end - j->p) < len || memcmp(j->p, word, len) != 0) {
        /* Where the word stops matching. */
        const char *p = j->p;
        while (p < j->end && (size_t)(p - j->p) < len && *p == word[p - j->p])
            p++;
        return as_jp_fail(j, p);
    }
    j->p += len;
    cJSON *n = as_jp_node(type);
    if (type == cJSON_True)
        n->valueint = 1;
    return n;
}

/* Append item to the list whose first member is *head and last *tail. */
static void as_jp_link(cJSON **head, cJSON **tail, cJSON *item)
{
    if (*head == NULL) {
        *head = item;
    } else {
        (*tail)->next = item;
        item->prev = *tail;
    }
    *tail = item;
}

/* An array or an object at j->p. */
static cJSON *as_jp_container(as_jp_t *j, int object)
{
    if (++j->depth > AS_JSON_MAX_DEPTH) {
        j->deep = 1;
        return as_jp_fail(j, j->p);
    }
    char close = object ? '}' : ']';
    cJSON *c = as_jp_node(object ? cJSON_Object : cJSON_Array), *tail = NULL;
    j->p++;
    as_jp_space(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return c;
    }
    for (;;) {
        char *key = NULL;
        if (object) {
            if (j->p >= j->end || *j->p != '"') {
                as_jp_fail(j, j->p);
                goto fail;
            }
            if ((key = as_jp_string(j)) == NULL)
                goto fail;
            as_jp_space(j);
            if (j->p >= j->end || *j->p != ':') {
                cJSON_free(key);
                as_jp_fail(j, j->p);
                goto fail;
            }
            j->p++;
        }
        cJSON *item = as_jp_value(j);
        if (item == NULL) {
            cJSON_free(key);
            goto fail;
        }
        item->string = key;
        as_jp_link(&c->child, &tail, item);
        as_jp_space(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            as_jp_space(j);
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            break;
        }
        as_jp_fail(j, j->p);
        goto fail;
    }
    /* cJSON's lists: the first member's prev is the last one. */
    if (c->child != NULL)
        c->child->prev = tail;
    j->depth--;
    return c;
fail:
    if (c->child != NULL)
        c->child->prev = tail;
    cJSON_Delete(c);
    return NULL;
}

static cJSON *as_jp_value(as_jp_t *j)
{
    as_jp_space(j);
    if (j->p >= j->end)
        return as_jp_fail(j, j->p);
    switch (*j->p) {
    case '{':
        return as_jp_container(j, 1);
    case '[':
        return as_jp_container(j, 0);
    case '"': {
        char *s = as_jp_string(j);
        if (s == NULL)
            return NULL;
        cJSON *n = as_jp_node(cJSON_String);
        n->valuestring = s;
        return n;
    }
    case 't':
        return as_jp_literal(j, "true", 4, cJSON_True);
    case 'f':
        return as_jp_literal(j, "false", 5, cJSON_False);
    case 'n':
        return as_jp_literal(j, "null", 4, cJSON_NULL);
    default:
        return as_jp_number(j);
    }
}

/* Offset + 1 of the first bracket nested deeper than allowed, scanning
 * outside strings; 0 when there is none.  Run on a failed parse only, so
 * that too deep an input says so even where it is invalid earlier. */
static size_t as_json_too_deep(const char *d, size_t len)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = d[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > AS_JSON_MAX_DEPTH)
                return i + 1;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

cJSON *as_json_parse_raw(const char *data, size_t len, int *ctl, as_err_t *err)
{
    if (len == 0) {
        as_err_set(err, "empty body: expected JSON");
        return NULL;
    }
    size_t nul = as_json_nul(data, len);
    if (nul < len) {
        as_err_set(err, "invalid JSON: NUL byte at offset %zu", nul);
        return NULL;
    }
    if (!as_utf8_valid(data, len)) {
        as_err_set(err, "invalid JSON: not valid UTF-8");
        return NULL;
    }
    as_jp_t j = {data, data, data + len, 0, 0, 0, 0, 0};
    cJSON *root = as_jp_value(&j);
    if (root == NULL) {
        size_t deep = j.deep ? 0 : as_json_too_deep(data, len);
        if (deep > 0) {
            j.deep = 1;
            j.at = deep - 1;
        }
        if (j.deep)
            as_err_set(err, "invalid JSON: nested deeper than %d levels at offset %zu",
                       AS_JSON_MAX_DEPTH, j.at);
        else if (j.eof)
            as_err_set(err, "invalid JSON: unexpected end of input");
        else
            as_err_set(err, "invalid JSON at offset %zu", j.at);
        return NULL;
    }
    as_jp_space(&j);
    if (j.p < j.end) {
        size_t deep = as_json_too_deep(data, len);
        if (deep > 0)
            as_err_set(err, "invalid JSON: nested deeper than %d levels at offset %zu",
                       AS_JSON_MAX_DEPTH, deep - 1);
        else
            as_err_set(err, "invalid JSON: unexpected data after the value at offset %zu",
                       (size_t)(j.p - data));
        cJSON_Delete(root);
        return NULL;
    }
    if (ctl != NULL)
        *ctl = j.ctl;
    return root;
}

cJSON *as_json_parse(const char *data, size_t len, as_err_t *err)
{
    return as_json_parse_raw(data, len, NULL, err);
}

cJSON *as_json_ref(const cJSON *item)
{
    switch (item->type & 0xff) {
    case cJSON_Object:
        return cJSON_CreateObjectReference(item->child);
    case cJSON_Array:
        return cJSON_CreateArrayReference(item->child);
    case cJSON_String:
        return cJSON_CreateStringReference(item->valuestring);
    case cJSON_Raw:
        return cJSON_CreateRaw(item->valuestring);
    case cJSON_Number:
        return cJSON_CreateNumber(item->valuedouble);
    case cJSON_True:
        return cJSON_CreateTrue();
    case cJSON_False:
        return cJSON_CreateFalse();
    default:
        return cJSON_CreateNull();
    }
}

cJSON *as_json_get(const cJSON *obj, const char *key)
{
    /* cJSON_GetObjectItemCaseSensitive() calls strcmp() for every member;
     * keys mostly differ at their first byte, so that is compared first. */
    if (obj == NULL)
        return NULL;
    char k0 = key[0];
    for (cJSON *c = obj->child; c != NULL; c = c->next)
        if (c->string != NULL && c->string[0] == k0 && strcmp(c->string, key) == 0)
            return c;
    return NULL;
}

const char *as_json_str(const cJSON *obj, const char *key)
{
    const cJSON *it = as_json_get(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

const cJSON *as_json_obj(const cJSON *obj, const char *key)
{
    const cJSON *it = as_json_get(obj, key);
    return cJSON_IsObject(it) ? it : NULL;
}

const cJSON *as_json_arr(const cJSON *obj, const char *key)
{
    const cJSON *it = as_json_get(obj, key);
    return cJSON_IsArray(it) ? it : NULL;
}

double as_json_num(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *it = as_json_get(obj, key);
    return cJSON_IsNumber(it) ? it->valuedouble : dflt;
}

int as_json_bool(const cJSON *obj, const char *key, int dflt)
{
    const cJSON *it = as_json_get(obj, key);
    return cJSON_IsBool(it) ? cJSON_IsTrue(it) : dflt;
}

void as_json_set(cJSON *obj, const char *key, cJSON *item)
{
    if (as_json_get(obj, key) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        cJSON_AddItemToObject(obj, key, item);
}

typedef struct {
    cJSON *it;
    size_t pos;
} as_json_member_t;

/* By name, then in document order, so the first of a name sorts first. */
static int as_json_member_cmp(const void *a, const void *b)
{
    const as_json_member_t *x = a, *y = b;
    int c = strcmp(x->it->string, y->it->string);
    return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

cJSON **as_json_sorted(const cJSON *obj, size_t *n, const char **dup)
{
    size_t count = 0, i = 0, kept = 0;
    cJSON *it;
    if (dup != NULL)
        *dup = NULL;
    cJSON_ArrayForEach(it, obj)
    {
        count += it->string != NULL;
    }
    *n = 0;
    if (count == 0)
        return NULL;
    as_json_member_t *m = as_xcalloc(count, sizeof(*m));
    cJSON_ArrayForEach(it, obj)
    {
        if (it->string != NULL) {
            m[i].it = it;
            m[i].pos = i;
            i++;
        }
    }
    qsort(m, count, sizeof(*m), as_json_member_cmp);
    cJSON **v = as_xcalloc(count, sizeof(*v));
    for (i = 0; i < count; i++) {
        if (kept > 0 && strcmp(v[kept - 1]->string, m[i].it->string) == 0) {
            if (dup != NULL && *dup == NULL)
                *dup = m[i].it->string;
            continue;
        }
        v[kept++] = m[i].it;
    }
    free(m);
    *n = kept;
    return v;
}

char *as_json_print(const cJSON *item)
{
    return cJSON_PrintUnformatted(item);
}
