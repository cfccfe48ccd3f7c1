/*
 * fuzz.c - the helpers every harness shares (see fuzz.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/buf.h"
#include "alertsink/mem.h"
#include "fuzz.h"
#include "lib/log.h"
#include "lib/yamldoc.h"
#include "render/render.h"

#ifndef FZ_SOURCE_DIR
#error "FZ_SOURCE_DIR: the source tree, set by tests/fuzz/CMakeLists.txt"
#endif

/* --- sections -------------------------------------------------------------------- */

/* Is there a section line "#@KEY..." at data[i]? */
static int fz_is_header(const uint8_t *data, size_t size, size_t i)
{
    return (i == 0 || data[i - 1] == '\n') && i + 2 < size && data[i] == '#' &&
           data[i + 1] == '@' && data[i + 2] != '\n' && data[i + 2] != ' ';
}

void fz_input_split(fz_input_t *in, const uint8_t *data, size_t size)
{
    /* Room for every byte plus a NUL after each part, its key and its arg. */
    char *o = in->buf = as_xmalloc(size + 3 * FZ_MAX_PARTS + 1);
    size_t i = 0;
    in->n = 0;
    for (;;) {
        fz_part_t *p = &in->parts[in->n++];
        if (in->n == 1) {
            p->key = p->arg = o;
            *o++ = '\0';
        } else {
            size_t eol = i;
            while (eol < size && data[eol] != '\n')
                eol++;
            size_t k = i + 2, end = eol;
            if (end > k && data[end - 1] == '\r')
                end--;
            size_t ke = k;
            while (ke < end && data[ke] != ' ' && data[ke] != '\0')
                ke++;
            p->key = o;
            memcpy(o, data + k, ke - k);
            o += ke - k;
            *o++ = '\0';
            size_t a = ke < end ? ke + 1 : end;
            p->arg = o;
            memcpy(o, data + a, end - a);
            o += end - a;
            *o++ = '\0';
            i = eol < size ? eol + 1 : size;
        }
        size_t start = i;
        while (i < size && !(in->n < FZ_MAX_PARTS && fz_is_header(data, size, i)))
            i++;
        p->data = o;
        p->len = i - start;
        memcpy(o, data + start, p->len);
        o += p->len;
        *o++ = '\0';
        if (i >= size)
            break;
    }
}

void fz_input_free(fz_input_t *in)
{
    free(in->buf);
    in->buf = NULL;
    in->n = 0;
}

const fz_part_t *fz_input_next(const fz_input_t *in, const char *key, size_t *pos)
{
    for (size_t i = *pos + 1; i < in->n; i++)
        if (strcmp(in->parts[i].key, key) == 0) {
            *pos = i;
            return &in->parts[i];
        }
    *pos = in->n;
    return NULL;
}

const fz_part_t *fz_input_get(const fz_input_t *in, const char *key)
{
    size_t pos = 0;
    return fz_input_next(in, key, &pos);
}

/* --- small things ---------------------------------------------------------------- */

char **fz_lines(const char *data, size_t len)
{
    size_t n = 0, cap = 8;
    char **v = as_xmalloc(cap * sizeof(*v));
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && data[e] != '\n' && data[e] != '\0')
            e++;
        if (e > i) {
            if (n + 2 > cap) {
                cap *= 2;
                v = as_xrealloc(v, cap * sizeof(*v));
            }
            v[n++] = as_xstrndup(data + i, e - i);
        }
        i = e + 1;
    }
    v[n] = NULL;
    return v;
}

void fz_lines_free(char **lines)
{
    for (size_t i = 0; lines != NULL && lines[i] != NULL; i++)
        free(lines[i]);
    free(lines);
}

void fz_quiet(void)
{
    static int done;
    if (done++)
        return;
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd >= 0)
        as_log_set_fd(fd); /* kept open: the logger writes to it from now on */
}

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* --- instants -------------------------------------------------------------------- */

size_t fz_instants(const uint8_t *data, size_t size, int64_t *t, size_t max)
{
    static const int64_t fixed[] = {
        0, /* the epoch */
        951782400,
        951868800,          /* 2000-02-29, 2000-03-01 */
        1709164800,         /* 2024-02-29 */
        1710054000,         /* 2024-03-10 07:00 UTC: New York springs forward */
        1711846800,         /* 2024-03-31 01:00 UTC: Europe springs forward */
        1730595600,         /* 2024-11-03 01:00 UTC: New York falls back */
        1795527991,         /* 2026-11-24 13:46:31, the fixtures' time */
        4102444799,         /* 2099-12-31 23:59:59 */
        -2208988800,        /* 1900-01-01 */
        253402300799,       /* 9999-12-31 23:59:59 */
        (INT64_C(1) << 50), /* as far as a zone goes (tz.c) */
        (INT64_C(1) << 50) + 1,
        -(INT64_C(1) << 50),
        INT64_MAX,
        INT64_MIN,
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && n < max; i++)
        t[n++] = fixed[i];
    uint64_t h = 1469598103934665603ULL; /* FNV-1a of the input, then an LCG */
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ULL;
    for (int i = 0; i < 16 && n < max; i++) {
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        t[n++] = (int64_t)(h >> 31) - (INT64_C(1) << 32); /* about 1834 to 2106 */
    }
    return n;
}

/* --- the private directory ------------------------------------------------------- */

static char fz_dir[256];

/* rm -r of what is inside path (path itself stays). */
static void fz_rm_inside(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[512];
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            fz_rm_inside(sub);
            rmdir(sub);
        } else {
            unlink(sub);
        }
    }
    closedir(d);
}

static void fz_tmpdir_remove(void)
{
    fz_rm_inside(fz_dir);
    rmdir(fz_dir);
}

const char *fz_tmpdir(void)
{
    if (fz_dir[0] != '\0')
        return fz_dir;
    const char *base = getenv("TMPDIR");
    snprintf(fz_dir, sizeof(fz_dir), "%s/alertsink-fuzz-XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(fz_dir) == NULL)
        fz_fail("cannot make a directory %s: %s", fz_dir, strerror(errno));
    atexit(fz_tmpdir_remove);
    return fz_dir;
}

void fz_tmpdir_clear(void)
{
    fz_rm_inside(fz_tmpdir());
}

/* name made safe in place: [A-Za-z0-9._-] components, at most two, none
 * made of dots only.  0 when nothing usable is left. */
static int fz_safe_name(char *name)
{
    int slashes = 0;
    for (char *p = name; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '.' || *p == '-' || *p == '_';
        if (*p == '/' && p != name && p[1] != '\0' && p[-1] != '/' && slashes++ == 0)
            continue;
        if (!ok)
            *p = '_';
    }
    for (char *c = name; *c;) {
        size_t n = strcspn(c, "/");
        if (strspn(c, ".") >= n)
            memset(c, '_', n ? n : 1);
        c += n + (c[n] == '/');
    }
    return name[0] != '\0';
}

char *fz_write(const char *name, const char *data, size_t len)
{
    char safe[128];
    snprintf(safe, sizeof(safe), "%s", name);
    if (!fz_safe_name(safe))
        return NULL;
    char *path = as_xmalloc(strlen(fz_tmpdir()) + strlen(safe) + 2);
    sprintf(path, "%s/%s", fz_tmpdir(), safe);
    char *slash = strchr(safe, '/');
    if (slash != NULL) {
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/%.*s", fz_tmpdir(), (int)(slash - safe), safe);
        mkdir(dir, 0700);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    return path;
}

/* --- the source tree ------------------------------------------------------------- */

char *fz_source_path(const char *rel)
{
    char *path = as_xmalloc(strlen(FZ_SOURCE_DIR) + strlen(rel) + 2);
    sprintf(path, "%s/%s", FZ_SOURCE_DIR, rel);
    return path;
}

char *fz_source_file(const char *rel, size_t *len)
{
    char *path = fz_source_path(rel);
    FILE *fp = fopen(path, "rb");
    free(path);
    if (fp == NULL)
        return NULL;
    as_buf_t b = AS_BUF_INIT;
    int rc = as_buf_read(&b, fp, 0);
    fclose(fp);
    if (rc < 0) {
        as_buf_free(&b);
        return NULL;
    }
    if (len != NULL)
        *len = b.len;
    return as_buf_steal(&b);
}

/* --- configurations -------------------------------------------------------------- */

as_cycle_t *fz_cycle(const char *yaml)
{
    char *path = fz_write("fixed.yaml", yaml, strlen(yaml));
    if (path == NULL)
        fz_fail("cannot write the harness's configuration");
    as_conf_t cf;
    as_cycle_t *c = as_cycle_create(&cf, path, AS_LOAD_CHECK);
    if (c == NULL) {
        as_conf_print_errors(&cf, stderr);
        fz_fail("the harness's own configuration does not load");
    }
    as_conf_free_errors(&cf);
    unlink(path);
    free(path);
    return c;
}

void fz_http_answer(const fz_input_t *in, as_httpc_resp_t *resp)
{
    const fz_part_t *st = fz_input_get(in, "status"), *ra = fz_input_get(in, "retry-after");
    memset(resp, 0, sizeof(*resp));
    resp->status = st ? strtol(st->arg, NULL, 10) : 200;
    resp->retry_after_ms = ra ? as_httpc_parse_retry_after(ra->arg, FZ_NOW_MS) : -1;
    as_buf_append(&resp->body, in->parts[0].data, in->parts[0].len);
    if (resp->retry_after_ms < -1 || resp->retry_after_ms > AS_HTTPC_RETRY_AFTER_MAX)
        fz_fail("Retry-After '%s' read as %lld ms", ra->arg, (long long)resp->retry_after_ms);
}

void fz_render_channels(const as_cycle_t *c, const char *receiver, const cJSON *ctx)
{
    const as_config_t *cfg = c->cfg;
    const as_receiver_t *rv = cfg->receivers.elts;
    for (size_t r = 0; r < cfg->receivers.n; r++) {
        if (strcmp(rv[r].name, receiver) != 0)
            continue;
        for (size_t m = 0; m < cfg->mods.n; m++) {
            as_rendered_t out;
            as_err_t err;
            if (rv[r].channel[m].conf == NULL)
                continue;
            as_pool_t *pool = as_pool_create();
            if (as_cycle_render(c, pool, r, m, ctx, &out, &err) < 0 && err.msg[0] == '\0')
                fz_fail("a render failed without a reason");
            as_pool_destroy(pool);
        }
    }
}
