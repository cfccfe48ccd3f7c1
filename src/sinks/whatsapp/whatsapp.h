/*
 * whatsapp.h - what the WhatsApp sink shares with `alertsink wa`: a
 * Wamessage client made from the "whatsapp:" section of a configuration,
 * so the command line and the sink read the same keys the same way.
 */
#ifndef AS_WHATSAPP_H
#define AS_WHATSAPP_H

#include "alertsink/module.h"
#include "wamessage.h"

/*
 * A client for conf, the whatsapp section (as_config_module_conf(cfg,
 * "whatsapp")), with its token cache in cache_dir (spool.dir; NULL = memory
 * only).  NULL with err when whatsapp.phone or whatsapp.password is unset.
 */
as_wa_t *as_whatsapp_client(const void *conf, const char *cache_dir, as_err_t *err);

/* whatsapp.reg_id, or NULL: send from the first connected device. */
const char *as_whatsapp_reg_id(const void *conf);

#endif
