/* batchy.c - a sink module that takes batches (deliver_batch only): each
 * call appends "CALL n" and the ids it got to the file named by its
 * channel's `log`, so a test sees how deliveries were grouped. */
#include <stddef.h>
#include <stdio.h>

#include "alertsink/module.h"

typedef struct {
    as_channel_conf_t base;
    char *log;
} batchy_channel_t;

static const as_conf_key_t batchy_channel_keys[] = {
    {"log", &as_conf_string, offsetof(batchy_channel_t, log), AS_CONF_REQUIRED, NULL, NULL},
    AS_CONF_END};

static void batchy_deliver_batch(void *instance, as_delivery_t *items, size_t n)
{
    const batchy_channel_t *ch = items[0].channel;
    FILE *f = fopen(ch->log, "a");
    if (f != NULL) {
        fprintf(f, "CALL %zu\n", n);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "ID %s %s\n", items[i].n->id, items[i].msg->text ? "text" : "none");
        fclose(f);
    }
    for (size_t i = 0; i < n; i++)
        items[i].res->outcome = f != NULL ? AS_DELIVERED : AS_TRANSIENT;
}

AS_API const as_module_t alertsink_module = {
    .abi = AS_ABI_VERSION,
    .name = "batchy",
    .kind = AS_MODULE_SINK,
    .channel_key = "batchy",
    .channel_keys = batchy_channel_keys,
    .channel_size = sizeof(batchy_channel_t),
    .default_template = "file",
    .deliver_batch = batchy_deliver_batch,
};
