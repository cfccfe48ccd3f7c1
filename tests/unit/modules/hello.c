/* hello.c - a minimal sink module, loaded by the module loader tests. */
#include <stddef.h>

#include "alertsink/module.h"

typedef struct {
    as_channel_conf_t base;
    char *greeting;
} hello_channel_t;

typedef struct {
    int64_t volume;
} hello_conf_t;

static const as_conf_key_t hello_keys[] = {
    {"volume", &as_conf_int, offsetof(hello_conf_t, volume), 0, "3", NULL}, AS_CONF_END};

static const as_conf_key_t hello_channel_keys[] = {{"greeting", &as_conf_string,
                                                    offsetof(hello_channel_t, greeting),
                                                    AS_CONF_REQUIRED, NULL, NULL},
                                                   AS_CONF_END};

static void hello_deliver(void *instance, const void *channel, const as_notification_t *n,
                          const as_message_t *msg, as_result_t *res)
{
    res->outcome = AS_DELIVERED;
}

AS_API const as_module_t alertsink_module = {
    .abi = AS_ABI_VERSION,
    .name = "hello",
    .kind = AS_MODULE_SINK,
    .conf_key = "hello",
    .conf_keys = hello_keys,
    .conf_size = sizeof(hello_conf_t),
    .channel_key = "hello",
    .channel_keys = hello_channel_keys,
    .channel_size = sizeof(hello_channel_t),
    .deliver = hello_deliver,
};
