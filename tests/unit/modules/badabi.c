/* badabi.c - a module built for another ABI: the loader must refuse it. */
#include "alertsink/module.h"

AS_API const as_module_t alertsink_module = {
    .abi = AS_ABI_VERSION + 41,
    .name = "badabi",
    .kind = AS_MODULE_INPUT,
};
