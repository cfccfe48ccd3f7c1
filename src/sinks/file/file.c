/*
 * file.c - the file sink: one JSON object a line (docs/channels.md):
 *
 *   {"id":..,"receiver":..,"channel":"file","status":"firing",
 *    "text":"<rendered message>","time":"2026-11-25T12:00:00.123Z"}
 *
 * A line is appended with one write(2) on an O_APPEND descriptor, then
 * fdatasync'ed before the delivery counts: the line has the file's own
 * durability, so the spool may forget the notification.  Syncs are
 * grouped, as the spool's commits are: lines are numbered as they are
 * written, and one worker's fdatasync covers every line written before it
 * began, so the workers writing together wait for one sync, not one each.
 *
 * After a crash, a notification may come back "in doubt": its line may or
 * may not have been written.  The tail of the file is searched for its id
 * first, so a kill -9 never doubles a line.  SIGUSR1 reopens the files
 * (logrotate), as nginx reopens its logs.
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

#define AS_FILE_DOUBT_SCAN (1 << 20) /* in-doubt lines are among the last ones */

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
    uint64_t written;     /* lines written */
    uint64_t synced;      /* lines known to be on disk */
    uint64_t failed_upto; /* lines of a sync round that failed */
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

/* Was a line for id written already (before a crash)? */
static int as_file_has_id(int fd, const char *id)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size == 0)
        return 0;
    off_t len = st.st_size < AS_FILE_DOUBT_SCAN ? st.st_size : AS_FILE_DOUBT_SCAN;
    char *buf = as_xmalloc((size_t)len + 1);
    ssize_t r = pread(fd, buf, (size_t)len, st.st_size - len);
    int found = 0;
    if (r > 0) {
        buf[r] = '\0';
        char needle[128];
        snprintf(needle, sizeof(needle), "\"id\":\"%s\"", id);
        found = memmem(buf, (size_t)r, needle, strlen(needle)) != NULL;
    }
    free(buf);
    return found;
}

static void as_file_deliver(void *instance, const void *channel, const as_notification_t *n,
                            const as_message_t *msg, as_result_t *res)
{
    const as_file_channel_t *ch = channel;
    as_file_out_t *o = as_file_out(instance, ch);
    char ts[40];
    as_rfc3339_ms(as_now_ms(), ts, sizeof(ts));

    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "id", n->id);
    cJSON_AddStringToObject(line, "receiver", n->receiver);
    cJSON_AddStringToObject(line, "channel", "file");
    cJSON_AddStringToObject(line, "status", n->status);
    cJSON_AddStringToObject(line, "text", msg->text);
    cJSON_AddStringToObject(line, "time", ts);
    char *json = as_json_print(line);
    cJSON_Delete(line);
    as_buf_t buf = AS_BUF_INIT;
    as_buf_puts(&buf, json);
    as_buf_putc(&buf, '\n');
    cJSON_free(json);

    pthread_mutex_lock(&o->lock);
    if (o->fd < 0)
        o->fd = open(o->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, o->mode);
    if (o->fd < 0) {
        int e = errno;
        pthread_mutex_unlock(&o->lock);
        as_buf_free(&buf);
        res->outcome = AS_TRANSIENT;
        snprintf(res->reason, sizeof(res->reason), "cannot open %s: %s", o->path, strerror(e));
        return;
    }
    if (n->in_doubt && as_file_has_id(o->fd, n->id)) {
        pthread_mutex_unlock(&o->lock);
        as_buf_free(&buf);
        res->outcome = AS_DELIVERED;
        snprintf(res->reason, sizeof(res->reason), "written before a restart");
        return;
    }
    size_t len = buf.len;
    ssize_t w = write(o->fd, buf.data, len);
    int e = errno;
    as_buf_free(&buf);
    if (w < 0 || (size_t)w != len) {
        if (w >= 0) {
            /* A short append (disk full): cut it off so the file stays lines. */
            struct stat st;
            if (fstat(o->fd, &st) == 0 && ftruncate(o->fd, st.st_size - w) == 0)
                e = ENOSPC;
        }
        pthread_mutex_unlock(&o->lock);
        res->outcome = AS_TRANSIENT;
        snprintf(res->reason, sizeof(res->reason), "cannot write %s: %s", o->path, strerror(e));
        return;
    }
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
        if (rc == 0) {
            o->synced = target;
        } else {
            o->failed_upto = target;
            o->sync_errno = se;
        }
        pthread_cond_broadcast(&o->synced_cond);
    }
    int ok = o->synced >= mine;
    e = o->sync_errno;
    pthread_mutex_unlock(&o->lock);
    if (ok) {
        res->outcome = AS_DELIVERED;
    } else {
        res->outcome = AS_TRANSIENT;
        snprintf(res->reason, sizeof(res->reason), "cannot sync %s: %s", o->path, strerror(e));
    }
}

static void as_file_reopen(void *instance)
{
    as_file_sink_t *s = instance;
    pthread_mutex_lock(&s->lock);
    for (as_file_out_t *o = s->outs; o; o = o->next) {
        pthread_mutex_lock(&o->lock);
        if (o->fd >= 0) {
            /* Lines not yet synced were written here, not to the new file. */
            if (fdatasync(o->fd) == 0)
                o->synced = o->written;
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
    .deliver = as_file_deliver,
    .reopen = as_file_reopen,
};
