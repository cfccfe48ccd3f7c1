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
 * Parsing is cJSON's, with the checks it does not make run before and
 * after it, never instead of it: no NUL byte, valid UTF-8 (checked first,
 * eight bytes at a time), nesting at most AS_JSON_MAX_DEPTH deep (cJSON
 * would recurse as deep as the input goes; a spool entry, which holds a
 * payload, AS_JSON_ENTRY_DEPTH), none of what cJSON lets pass that RFC
 * 8259 does not (a byte order mark, control characters between tokens,
 * numbers outside the grammar, \u0000, which cJSON cuts a string at),
 * nothing but white space after the value (cJSON stops at the end of the
 * first), and errors at their byte offset.  cJSON keeps duplicate keys
 * (the first is the one found) and accepts control characters inside
 * strings; callers that store the text as it came learn of those
 * (as_json_parse_raw).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/buf.h"
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

char *as_utf8_repair(const char *s, size_t len)
{
    as_buf_t b = AS_BUF_INIT;
    as_buf_reserve(&b, len + 1);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        if (n <= len - i && as_utf8_valid(s + i, n)) {
            as_buf_append(&b, s + i, n);
            i += n;
        } else {
            as_buf_puts(&b, "\xef\xbf\xbd");
            i++;
        }
    }
    return as_buf_steal(&b);
}

/* --- parsing: cJSON, with the checks it does not make ----------------------------------- */

static int as_json_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The end of the number at d[i] (a '-' or a digit), when it is one by
 * JSON's grammar and a delimiter follows it; 0 otherwise. */
static size_t as_json_number(const char *d, size_t len, size_t i)
{
    size_t j = i + (d[i] == '-');
    if (j >= len || !as_json_digit(d[j]))
        return 0;
    if (d[j++] != '0')
        while (j < len && as_json_digit(d[j]))
            j++;
    if (j < len && d[j] == '.') {
        if (++j >= len || !as_json_digit(d[j]))
            return 0;
        while (j < len && as_json_digit(d[j]))
            j++;
    }
    if (j < len && (d[j] == 'e' || d[j] == 'E')) {
        j += j + 1 < len && (d[j + 1] == '+' || d[j + 1] == '-') ? 2 : 1;
        if (j >= len || !as_json_digit(d[j]))
            return 0;
        while (j < len && as_json_digit(d[j]))
            j++;
    }
    if (j < len && !strchr(" \t\n\r,]}", d[j]))
        return 0;
    return j;
}

/* One scan of the text, outside and inside strings, for what cJSON lets
 * pass: a byte order mark (skipped by cJSON, but a text stored as it came
 * must parse where it is copied), a bracket nested deeper than max_depth
 * (refused before cJSON recurses), a control character between tokens
 * (cJSON takes any byte up to a space for white space), a number outside
 * JSON's grammar (cJSON reads numbers with strtod: 01, 1., -.5), and
 * \u0000 in a string (cJSON would cut the string there).  Returns 0, or
 * the offset + 1 of the first with *why saying what.  *ctl: whether a
 * string holds a raw control character (accepted, as cJSON does, but such
 * a text cannot be stored on one line as it came). */
static size_t as_json_scan(const char *d, size_t len, int max_depth, int *ctl, const char **why)
{
    if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0) {
        *why = "a byte order mark (U+FEFF) before the value";
        return 1;
    }
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)d[i];
        if (in_str) {
            if (c == '\\') {
                if (i + 5 < len && memcmp(d + i + 1, "u0000", 5) == 0) {
                    *why = "\\u0000 in a string";
                    return i + 1;
                }
                i++;
            } else if (c == '"') {
                in_str = 0;
            } else if (c < 0x20) {
                *ctl = 1;
            }
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                *why = "nesting too deep";
                return i + 1;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == '-' || as_json_digit((char)c)) {
            size_t end = as_json_number(d, len, i);
            if (end == 0) {
                *why = "a number outside JSON's grammar";
                return i + 1;
            }
            i = end - 1;
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            *why = "a control character between tokens";
            return i + 1;
        }
    }
    return 0;
}

/* Where parsing failed, from cJSON's return_parse_end (its global error
 * pointer is shared by all threads).  cJSON reports running out of input
 * as an error at the last byte, so when that is where it failed, parse
 * again with a space appended to tell the two apart.  Error path only. */
static size_t as_json_error_offset(const char *data, size_t len, const char *end)
{
    size_t off = end != NULL && end >= data ? (size_t)(end - data) : 0;
    if (off + 1 == len) {
        char *copy = as_xmalloc(len + 1);
        const char *end2 = NULL;
        memcpy(copy, data, len);
        copy[len] = ' ';
        cJSON_Delete(cJSON_ParseWithLengthOpts(copy, len + 1, &end2, 0));
        if (end2 != NULL && end2 >= copy + len)
            off = len;
        free(copy);
    }
    return off;
}

static cJSON *as_json_parse_at(const char *data, size_t len, int max_depth, int *ctl, as_err_t *err)
{
    int has_ctl = 0;
    size_t bad;
    const char *why = NULL;
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
    if ((bad = as_json_scan(data, len, max_depth, &has_ctl, &why)) != 0) {
        if (strcmp(why, "nesting too deep") == 0)
            as_err_set(err, "invalid JSON: nested deeper than %d levels at offset %zu", max_depth,
                       bad - 1);
        else
            as_err_set(err, "invalid JSON: %s at offset %zu", why, bad - 1);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (root == NULL) {
        size_t off = as_json_error_offset(data, len, end);
        if (off >= len)
            as_err_set(err, "invalid JSON: unexpected end of input");
        else
            as_err_set(err, "invalid JSON at offset %zu", off);
        return NULL;
    }
    for (const char *p = end; p < data + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            as_err_set(err, "invalid JSON: unexpected data after the value at offset %zu",
                       (size_t)(p - data));
            cJSON_Delete(root);
            return NULL;
        }
    if (ctl != NULL)
        *ctl = has_ctl;
    return root;
}

cJSON *as_json_parse_raw(const char *data, size_t len, int *ctl, as_err_t *err)
{
    return as_json_parse_at(data, len, AS_JSON_MAX_DEPTH, ctl, err);
}

cJSON *as_json_parse_entry(const char *data, size_t len, as_err_t *err)
{
    return as_json_parse_at(data, len, AS_JSON_ENTRY_DEPTH, NULL, err);
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

int64_t as_json_int(const cJSON *obj, const char *key, int64_t dflt, int64_t min, int64_t max)
{
    const cJSON *it = as_json_get(obj, key);
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= (double)min && it->valuedouble <= (double)max))
        return dflt;
    return (int64_t)it->valuedouble;
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
