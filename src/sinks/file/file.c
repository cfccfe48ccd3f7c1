/*
 * file.c - the file sink: one JSON object a line (docs/channels.md):
 *
 *   {"id":..,"receiver":..,"channel":"file","status":"firing",
 *    "text":"<rendered message>","time":"2026-11-25T12:00:00.123Z"}
 *
 * The sink takes batches (deliver_batch): a worker's lines for one file
 * are appended with one write(2) on an O_APPEND descriptor, then
 * fdatasync'ed before the deliveries count: the lines have the file's own
 * durability, so the spool may forget the notifications.  Syncs are
 * grouped across workers too, as the spool's commits are: writes are
 * numbered, and one worker's fdatasync covers every write made before it
 * began, so the workers writing together wait for one sync, not one each.
 * A line is written by hand (as_buf_json), not printed from a cJSON tree.
 *
 * After a crash, a notification may come back "in doubt": its line may or
 * may not have been written.  The file's last AS_FILE_DOUBT_SCAN bytes are
 * searched for its id first (backwards, once per batch, until every id in
 * doubt is found), so a kill -9 does not double a line.  SIGUSR1 reopens
 * the files (logrotate), as nginx reopens its logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertsink/module.h"

#define AS_FILE_DOUBT_CHUNK (1 << 20)  /* the in-doubt search reads this much at a time */
#define AS_FILE_DOUBT_SCAN  (64 << 20) /* and looks this far back from the end */
#define AS_FILE_ID_MAX      64         /* longer than any notification id */

typedef struct {
    as_channel_conf_t base;
    char *path;
    int mode;
} as_file_channel_t;

typedef struct as_file_out_s {
    struct as_file_out_s *next;
    char *path;
    int mode;
    int fd;
    pthread_mutex_t lock;
    pthread_cond_t synced_cond;
    uint64_t written;     /* writes (a batch's lines each) made */
    uint64_t synced;      /* writes known to be on disk */
    uint64_t failed_upto; /* writes of a sync round that failed */
    int sync_errno;
    int syncing;
} as_file_out_t;

typedef struct {
    pthread_mutex_t lock; /* guards the list */
    as_file_out_t *outs;
} as_file_sink_t;

static const as_conf_key_t as_file_channel_keys[] = {
    {"path", &as_conf_string, offsetof(as_file_channel_t, path), AS_CONF_REQUIRED, NULL, NULL},
    {"mode", &as_conf_mode, offsetof(as_file_channel_t, mode), 0, "0600", NULL},
    {"template", &as_conf_string, offsetof(as_file_channel_t, base.template), 0, NULL, NULL},
    AS_CONF_END};

static int as_file_init(void **instance, const void *conf, const as_module_ctx_t *ctx,
                        as_err_t *err)
{
    as_file_sink_t *s = as_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    *instance = s;
    return 0;
}

static void as_file_fini(void *instance)
{
    as_file_sink_t *s = instance;
    for (as_file_out_t *o = s->outs, *next; o; o = next) {
        next = o->next;
        if (o->fd >= 0)
            close(o->fd);
        pthread_mutex_destroy(&o->lock);
        pthread_cond_destroy(&o->synced_cond);
        free(o->path);
        free(o);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int as_file_channel_init(void *instance, void *channel, const char *receiver, as_err_t *err)
{
    const as_file_channel_t *ch = channel;
    if (ch->path[0] == '\0')
        return as_err_set(err, "receiver '%s': file.path is empty", receiver);
    return 0;
}

/* The output of a path, shared by every receiver writing there. */
static as_file_out_t *as_file_out(as_file_sink_t *s, const as_file_channel_t *ch)
{
    pthread_mutex_lock(&s->lock);
    as_file_out_t *o;
    for (o = s->outs; o && strcmp(o->path, ch->path) != 0; o = o->next)
        ;
    if (o == NULL) {
        o = as_xcalloc(1, sizeof(*o));
        o->path = as_xstrdup(ch->path);
        o->mode = ch->mode;
        o->fd = -1;
        pthread_mutex_init(&o->lock, NULL);
        pthread_cond_init(&o->synced_cond, NULL);
        o->next = s->outs;
        s->outs = o;
    }
    pthread_mutex_unlock(&s->lock);
    return o;
}

/* The in-doubt items of a batch, by id, for the search below. */
typedef struct {
    const char *id;
    size_t item;
} as_file_doubt_t;

static int as_file_doubt_cmp(const void *a, const void *b)
{
    return strcmp(((const as_file_doubt_t *)a)->id, ((const as_file_doubt_t *)b)->id);
}

/* Lines written before a crash are the file's last ones, but not always
 * within a few lines: a line may be as long as the render budget lets a
 * message be, and deliveries after the restart may come first.  So the
 * file is read backwards a chunk at a time, up to AS_FILE_DOUBT_SCAN, and
 * the id of each line (a line starts with {"id":") looked up among the
 * batch's items in doubt; the search stops once all are found.  written[i]
 * is set for each one found. */
static void as_file_find_written(int fd, as_delivery_t *items, size_t n, char *written)
{
    static const char mark[] = "\n{\"id\":\"";
    const size_t mlen = sizeof(mark) - 1, overlap = mlen + AS_FILE_ID_MAX;
    as_file_doubt_t *d = as_xmalloc(n * sizeof(*d));
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].n->in_doubt)
            d[nd++] = (as_file_doubt_t){items[i].n->id, i};
    qsort(d, nd, sizeof(*d), as_file_doubt_cmp);
    struct stat st;
    size_t left = nd;
    char *buf = as_xmalloc(AS_FILE_DOUBT_CHUNK + overlap + 1);
    off_t end = fstat(fd, &st) == 0 ? st.st_size : 0, stop = end - AS_FILE_DOUBT_SCAN;
    while (left > 0 && end > 0 && end > stop) {
        /* [at, end), with the first bytes of the chunk after it again so
         * that no line's start is cut between two chunks. */
        off_t at = end > AS_FILE_DOUBT_CHUNK ? end - AS_FILE_DOUBT_CHUNK : 0;
        size_t want = (size_t)(end - at) + (end < st.st_size ? overlap : 0);
        ssize_t r = pread(fd, buf + 1, want, at);
        if (r <= 0)
            break;
        /* A newline before the file's first line, so that it is a line too. */
        buf[0] = at == 0 ? '\n' : 'x';
        const char *p = buf, *e = buf + 1 + r;
        while (left > 0 && (p = memmem(p, (size_t)(e - p), mark, mlen)) != NULL) {
            p += mlen;
            const char *q =
                memchr(p, '"', (size_t)(e - p) < AS_FILE_ID_MAX ? (size_t)(e - p) : AS_FILE_ID_MAX);
            if (q == NULL)
                continue;
            char id[AS_FILE_ID_MAX + 1];
            memcpy(id, p, (size_t)(q - p));
            id[q - p] = '\0';
            as_file_doubt_t key = {id, 0};
            as_file_doubt_t *f = bsearch(&key, d, nd, sizeof(*d), as_file_doubt_cmp);
            if (f != NULL && !written[f->item]) {
                written[f->item] = 1;
                left--;
            }
        }
        end = at;
    }
    free(buf);
    free(d);
}

/* One line of the outbox (see the top of this file). */
static void as_file_line(as_buf_t *out, const as_notification_t *n, const as_message_t *msg,
                         const char *ts)
{
    const char *text = msg->text ? msg->text : "";
    as_buf_puts(out, "{\"id\":");
    as_buf_json(out, n->id, strlen(n->id));
    as_buf_puts(out, ",\"receiver\":");
    as_buf_json(out, n->receiver, strlen(n->receiver));
    as_buf_puts(out, ",\"channel\":\"file\",\"status\":");
    as_buf_json(out, n->status, strlen(n->status));
    as_buf_puts(out, ",\"text\":");
    as_buf_json(out, text, strlen(text));
    as_buf_puts(out, ",\"time\":");
    as_buf_json(out, ts, strlen(ts));
    as_buf_puts(out, "}\n");
}

/* Every item not found written before a restart (written[i] 0) failed. */
static void as_file_fail(as_delivery_t *items, size_t n, const char *written,
                         const as_file_out_t *o, const char *what, int e)
{
    for (size_t i = 0; i < n; i++)
        if (written == NULL || !written[i])
            as_result_set(items[i].res, AS_TRANSIENT, 0, "cannot %s %s: %s", what, o->path,
                          strerror(e));
}

/* The items of one output: their lines appended with one write(2), then
 * made durable by one fdatasync shared with the other workers writing
 * there. */
static void as_file_append(as_file_out_t *o, as_delivery_t *items, size_t n)
{
    char ts[40];
    as_rfc3339_ms(as_now_ms(), ts, sizeof(ts));
    as_buf_t buf = AS_BUF_INIT;

    pthread_mutex_lock(&o->lock);
    if (o->fd < 0) {
        /* Created here: file.mode as written, whatever the umask (077). */
        o->fd = open(o->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, o->mode);
        if (o->fd >= 0)
            (void)fchmod(o->fd, (mode_t)o->mode);
        else if (errno == EEXIST)
            o->fd = open(o->path, O_RDWR | O_APPEND | O_CLOEXEC);
    }
    if (o->fd < 0) {
        int e = errno;
        pthread_mutex_unlock(&o->lock);
        as_file_fail(items, n, NULL, o, "open", e);
        return;
    }
    /* After a crash: a notification in doubt whose line is in the file
     * was written.  One search for the whole batch. */
    char *written = NULL;
    size_t lines = 0;
    for (size_t i = 0; i < n && written == NULL; i++)
        if (items[i].n->in_doubt) {
            written = as_xcalloc(n, 1);
            as_file_find_written(o->fd, items, n, written);
        }
    for (size_t i = 0; i < n; i++) {
        if (written != NULL && written[i]) {
            as_result_set(items[i].res, AS_DELIVERED, 0, "written before a restart");
            continue;
        }
        as_file_line(&buf, items[i].n, items[i].msg, ts);
        lines++;
    }
    if (lines == 0) {
        pthread_mutex_unlock(&o->lock);
        free(written);
        return;
    }
    ssize_t w = write(o->fd, buf.data, buf.len);
    int e = errno;
    if (w < 0 || (size_t)w != buf.len) {
        if (w >= 0) {
            /* A short append (disk full): cut it off so the file stays lines. */
            struct stat st;
            if (fstat(o->fd, &st) == 0 && ftruncate(o->fd, st.st_size - w) == 0)
                e = ENOSPC;
        }
        pthread_mutex_unlock(&o->lock);
        as_buf_free(&buf);
        as_file_fail(items, n, written, o, "write", e);
        free(written);
        return;
    }
    as_buf_free(&buf);
    uint64_t mine = ++o->written;
    while (o->synced < mine && o->failed_upto < mine) {
        if (o->syncing) {
            pthread_cond_wait(&o->synced_cond, &o->lock);
            continue;
        }
        /* This worker syncs for everyone written so far. */
        uint64_t target = o->written;
        int fd = dup(o->fd); /* survives a reopen while we sync */
        o->syncing = 1;
        pthread_mutex_unlock(&o->lock);
        int rc = fd >= 0 ? fdatasync(fd) : -1;
        int se = errno;
        if (fd >= 0)
            close(fd);
        pthread_mutex_lock(&o->lock);
        o->syncing = 0;
        /* Never backwards: a reopen meanwhile may have synced further. */
        if (rc == 0 && target > o->synced)
            o->synced = target;
        else if (rc != 0 && target > o->failed_upto) {
            o->failed_upto = target;
            o->sync_errno = se;
        }
        pthread_cond_broadcast(&o->synced_cond);
    }
    int ok = o->synced >= mine;
    e = o->sync_errno;
    pthread_mutex_unlock(&o->lock);
    if (!ok)
        as_file_fail(items, n, written, o, "sync", e);
    else
        for (size_t i = 0; i < n; i++)
            items[i].res->outcome = AS_DELIVERED;
    free(written);
}

static void as_file_deliver_batch(void *instance, as_delivery_t *items, size_t n)
{
    /* Items of one output are appended together; a batch seldom has more
     * than one output, so they are taken in runs. */
    size_t done = 0;
    as_delivery_t *sorted = as_xmalloc(n * sizeof(*sorted));
    memcpy(sorted, items, n * sizeof(*sorted));
    while (done < n) {
        as_file_out_t *o = as_file_out(instance, sorted[done].channel);
        size_t k = done;
        for (size_t i = done; i < n; i++)
            if (as_file_out(instance, sorted[i].channel) == o) {
                as_delivery_t t = sorted[k];
                sorted[k++] = sorted[i];
                sorted[i] = t;
            }
        as_file_append(o, sorted + done, k - done);
        done = k;
    }
    free(sorted);
}

static void as_file_reopen(void *instance)
{
    as_file_sink_t *s = instance;
    pthread_mutex_lock(&s->lock);
    for (as_file_out_t *o = s->outs; o; o = o->next) {
        pthread_mutex_lock(&o->lock);
        if (o->fd >= 0) {
            /* Lines not yet synced were written here, not to the new file:
             * their writers learn whether they are on disk from this sync
             * (with the file closed, they cannot sync it themselves). */
            if (fdatasync(o->fd) == 0) {
                o->synced = o->written;
            } else {
                o->failed_upto = o->written;
                o->sync_errno = errno;
            }
            pthread_cond_broadcast(&o->synced_cond);
            close(o->fd);
        }
        o->fd = -1; /* opened again, under its name, at the next line */
        pthread_mutex_unlock(&o->lock);
    }
    pthread_mutex_unlock(&s->lock);
}

/* Built from templates/file.mustache and the like by templates/embed.cmake. */
extern const as_template_src_t as_file_templates[];

const as_module_t as_file_module = {
    .abi = AS_ABI_VERSION,
    .name = "file",
    .kind = AS_MODULE_SINK,
    .channel_key = "file",
    .channel_keys = as_file_channel_keys,
    .channel_size = sizeof(as_file_channel_t),
    .default_template = "file",
    .templates = as_file_templates,
    .init = as_file_init,
    .channel_init = as_file_channel_init,
    .fini = as_file_fini,
    .reopen = as_file_reopen,
    .deliver_batch = as_file_deliver_batch,
};
