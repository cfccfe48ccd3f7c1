/*
 * whatsapp_cloud.h - what the whatsapp_cloud sink shares with `alertsink
 * wa-cloud`: the accounts it sends with, so that the command checks
 * exactly what the daemon will use.
 *
 * The whatsapp_cloud: section of a configuration is an as_graph_account_t
 * (as_config_module_conf(cfg, "whatsapp_cloud")).  A receiver's channel
 * may set any of the account's keys itself; channel_init fills the ones
 * it leaves unset from the section.
 */
#ifndef AS_WHATSAPP_CLOUD_H
#define AS_WHATSAPP_CLOUD_H

#include "alertsink/module.h"
#include "graph.h"

/* The account of a receiver's whatsapp_cloud channel, after channel_init
 * (a cycle, as_cli_cycle(), has run it). */
const as_graph_account_t *as_wacloud_channel_account(const void *channel);

#endif
