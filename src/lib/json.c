/*
 * json.c - strict parsing and small getters over cJSON (see json.h).
 *
 * cJSON accepts some inputs alertsink must refuse: it stops at the end of
 * the first value (so "{...} x" would parse), it recurses as deep as the
 * input goes up to its own limit, and it copies bytes without checking
 * UTF-8.  The checks here run before or after cJSON, never instead of it.
 */
#include <stdlib.h>
#include <string.h>

#include "alertsink/mem.h"
#include "lib/json.h"

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

int as_utf8_valid(const char *s, size_t len)
{
    long cp;
    for (size_t i = 0; i < len;) {
        i += as_utf8_decode(s + i, len - i, &cp);
        if (cp < 0)
            return 0;
    }
    return 1;
}

/* Nesting depth, scanning outside strings: refuse before cJSON recurses. */
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

/* Where parsing failed, from cJSON's return_parse_end (its global error
 * pointer is shared by all threads).  cJSON reports running out of input
 * as an error at the last byte, so when that is where it failed, parse
 * again with a space appended to tell the two apart. */
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

cJSON *as_json_parse(const char *data, size_t len, as_err_t *err)
{
    size_t deep;
    if (len == 0) {
        as_err_set(err, "empty body: expected JSON");
        return NULL;
    }
    if (memchr(data, '\0', len) != NULL) {
        as_err_set(err, "invalid JSON: NUL byte at offset %zu",
                   (size_t)((const char *)memchr(data, '\0', len) - data));
        return NULL;
    }
    if (!as_utf8_valid(data, len)) {
        as_err_set(err, "invalid JSON: not valid UTF-8");
        return NULL;
    }
    if ((deep = as_json_too_deep(data, len)) != 0) {
        as_err_set(err, "invalid JSON: nested deeper than %d levels at offset %zu",
                   AS_JSON_MAX_DEPTH, deep - 1);
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
    return root;
}

const char *as_json_str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

const cJSON *as_json_obj(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(it) ? it : NULL;
}

const cJSON *as_json_arr(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(it) ? it : NULL;
}

double as_json_num(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(it) ? it->valuedouble : dflt;
}

int as_json_bool(const cJSON *obj, const char *key, int dflt)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(it) ? cJSON_IsTrue(it) : dflt;
}

void as_json_set(cJSON *obj, const char *key, cJSON *item)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
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
