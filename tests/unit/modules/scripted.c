/*
 * scripted.c - a sink whose results a test writes in advance, built three
 * times under three names (alpha, beta, gamma: -DAS_SCRIPTED_NAME) so that
 * one receiver can hold a chain of three loaded channels.
 *
 * Each attempt takes the first word of SPOOL/state/NAME/script
 * ("delivered", "transient", "permanent" or "unavailable"; an empty or
 * missing script means delivered), rewrites the script without it, and
 * appends one JSON line to SPOOL/state/NAME/attempts.jsonl:
 * {"id", "channel", "outcome", "text"}.  A test reads that file to see
 * which channel was tried, in which order, and what it was told.
 *
 * Built with include/ as its only include path, as an outside module is.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertsink/module.h"

#ifndef AS_SCRIPTED_NAME
#define AS_SCRIPTED_NAME "alpha"
#endif

typedef struct {
    char *state_dir;
    pthread_mutex_t lock; /* one attempt at a time reads and rewrites the script */
} scripted_t;

static const as_conf_key_t scripted_channel_keys[] = {
    {"template", &as_conf_string, offsetof(as_channel_conf_t, template), 0, NULL, NULL},
    AS_CONF_END};

static int scripted_init(void **instance, const void *conf, const as_module_ctx_t *ctx,
                         as_err_t *err)
{
    scripted_t *s = as_xcalloc(1, sizeof(*s));
    s->state_dir = as_xstrdup(ctx->state_dir);
    pthread_mutex_init(&s->lock, NULL);
    *instance = s;
    return 0;
}

static void scripted_fini(void *instance)
{
    scripted_t *s = instance;
    pthread_mutex_destroy(&s->lock);
    free(s->state_dir);
    free(s);
}

/* The next scripted outcome, taken off the script. */
static as_outcome_t scripted_next(scripted_t *s)
{
    static const char *const words[] = {"delivered", "transient", "permanent", "unavailable"};
    as_buf_t b = AS_BUF_INIT;
    as_outcome_t o = AS_DELIVERED;
    if (as_state_read(s->state_dir, "script", &b, NULL) == 0 && b.len > 0) {
        size_t skip = strspn(b.data, " \t\n");
        size_t len = strcspn(b.data + skip, " \t\n");
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (strlen(words[i]) == len && strncmp(b.data + skip, words[i], len) == 0)
                o = (as_outcome_t)i;
        const char *rest = b.data + skip + len;
        as_state_write(s->state_dir, "script", rest, strlen(rest), NULL);
    }
    as_buf_free(&b);
    return o;
}

static void scripted_deliver(void *instance, const void *channel, const as_notification_t *n,
                             const as_message_t *msg, as_result_t *res)
{
    scripted_t *s = instance;
    pthread_mutex_lock(&s->lock);
    as_outcome_t o = scripted_next(s);
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "id", n->id);
    cJSON_AddStringToObject(line, "channel", n->channel);
    cJSON_AddStringToObject(line, "outcome", as_outcome_name(o));
    cJSON_AddStringToObject(line, "text", msg->text ? msg->text : "");
    char *text = as_json_print(line);
    cJSON_Delete(line);
    as_buf_t path = AS_BUF_INIT;
    as_buf_printf(&path, "%s/attempts.jsonl", s->state_dir);
    int fd = open(path.data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 && as_state_write(s->state_dir, "started", "", 0, NULL) == 0) /* made the dir */
        fd = open(path.data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        as_buf_t out = AS_BUF_INIT;
        as_buf_puts(&out, text);
        as_buf_putc(&out, '\n');
        if (write(fd, out.data, out.len) < 0)
            o = AS_TRANSIENT;
        as_buf_free(&out);
        close(fd);
    }
    as_buf_free(&path);
    cJSON_free(text);
    pthread_mutex_unlock(&s->lock);
    as_result_set(res, o, 0, "%s", o == AS_DELIVERED ? "" : "scripted");
}

AS_API const as_module_t alertsink_module = {
    .abi = AS_ABI_VERSION,
    .name = AS_SCRIPTED_NAME,
    .kind = AS_MODULE_SINK,
    .channel_key = AS_SCRIPTED_NAME,
    .channel_keys = scripted_channel_keys,
    .channel_size = sizeof(as_channel_conf_t),
    .default_template = "file",
    .init = scripted_init,
    .fini = scripted_fini,
    .deliver = scripted_deliver,
};
