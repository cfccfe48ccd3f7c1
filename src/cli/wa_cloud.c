/*
 * wa_cloud.c - `alertsink wa-cloud check`: can the WhatsApp Cloud API
 * accounts of this configuration send?
 *
 * Every account the daemon would send with is asked once: each receiver's
 * whatsapp_cloud channel (its own keys over the whatsapp_cloud: section,
 * as the sink resolves them: the configuration is loaded as a cycle), or
 * the section alone when no receiver uses it.  For each, GET
 * {base_url}/{api_version}/{phone_number_id} with its token (the sink's
 * own Graph API client, graph.c) and print what Meta knows of the number:
 * the display number, the verified name and the quality rating, one
 * "key: value" a line, a blank line between accounts.
 *
 * Exit codes: 0 every account answered, 1 the API or the network failed
 * for one (its reason on stderr, never the token), 2 a usage or
 * configuration error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/buf.h"
#include "alertsink/http.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "lib/log.h"
#include "sinks/whatsapp_cloud/whatsapp_cloud.h"

static const char as_wa_cloud_usage[] =
    "usage: alertsink wa-cloud check [-c FILE]\n"
    "Asks the WhatsApp Cloud API (GET /API_VERSION/PHONE_NUMBER_ID) about every account\n"
    "the configuration sends with, and prints the display phone number, the verified\n"
    "name and the quality rating of each.\n"
    "The configuration is FILE, else $ALERTSINK_CONFIG, else /etc/alertsink/alertsink.yaml.\n"
    "Exit 0 every account answered, 1 the API or the network failed, 2 usage or\n"
    "configuration error.\n";

#define AS_WA_CLOUD_ACCOUNTS_MAX 64

/* One account to ask, and the receivers that send with it. */
typedef struct {
    const as_graph_account_t *account;
    as_buf_t receivers;
} as_wa_cloud_target_t;

static int as_wa_cloud_same(const as_graph_account_t *a, const as_graph_account_t *b)
{
    return strcmp(a->phone_number_id, b->phone_number_id) == 0 && strcmp(a->token, b->token) == 0 &&
           strcmp(a->base_url, b->base_url) == 0 && strcmp(a->api_version, b->api_version) == 0;
}

/* The distinct accounts of the receivers; 0 when none has the channel. */
static size_t as_wa_cloud_targets(const as_config_t *cfg, int m, as_wa_cloud_target_t *t)
{
    size_t n = 0;
    const as_receiver_t *rv = cfg->receivers.elts;
    for (size_t r = 0; r < cfg->receivers.n; r++) {
        if (rv[r].channel[m].conf == NULL)
            continue;
        const as_graph_account_t *a = as_wacloud_channel_account(rv[r].channel[m].conf);
        size_t i = 0;
        while (i < n && !as_wa_cloud_same(t[i].account, a))
            i++;
        if (i == n) {
            if (n == AS_WA_CLOUD_ACCOUNTS_MAX)
                continue; /* more numbers than anyone has: the first ones are asked */
            t[n].account = a;
            t[n].receivers = (as_buf_t)AS_BUF_INIT;
            n++;
        }
        as_buf_printf(&t[i].receivers, "%s%s", t[i].receivers.len ? ", " : "", rv[r].name);
    }
    return n;
}

static int as_wa_cloud_ask(as_httpc_t *http, const as_wa_cloud_target_t *t, int first)
{
    as_graph_phone_t info;
    as_result_t res;
    const as_graph_account_t *a = t->account;
    if (as_graph_phone(http, a, &info, &res) < 0) {
        fprintf(stderr, "alertsink wa-cloud check: phone_number_id %s: %s\n", a->phone_number_id,
                res.reason[0] ? res.reason : "failed");
        return AS_EXIT_FAIL;
    }
    printf("%sphone_number_id: %s\n", first ? "" : "\n", a->phone_number_id);
    printf("display_phone_number: %s\n", info.display_phone_number);
    if (info.verified_name[0] != '\0')
        printf("verified_name: %s\n", info.verified_name);
    printf("quality_rating: %s\n", info.quality_rating);
    if (t->receivers.len > 0)
        printf("receivers: %s\n", t->receivers.data);
    fflush(stdout);
    return AS_EXIT_OK;
}

static int as_wa_cloud_check(const char *path)
{
    as_cycle_t *c = as_cli_cycle("alertsink wa-cloud check", path);
    if (c == NULL)
        return AS_EXIT_USAGE;
    const as_config_t *cfg = c->cfg;
    /* The command speaks for itself on stdout and stderr: the logger only
     * adds warnings, unless the configuration asks for debug. */
    as_log_set_level(cfg->log.level == AS_LOG_DEBUG ? AS_LOG_DEBUG
                     : cfg->log.level > AS_LOG_WARN ? cfg->log.level
                                                    : AS_LOG_WARN);
    int m = as_modset_find(&cfg->mods, "whatsapp_cloud");
    const as_graph_account_t *section = as_config_module_conf(cfg, "whatsapp_cloud");
    if (m < 0 || section == NULL) {
        fprintf(stderr, "alertsink wa-cloud check: the whatsapp_cloud module is not loaded\n");
        as_cycle_unref(c);
        return AS_EXIT_USAGE;
    }
    as_wa_cloud_target_t t[AS_WA_CLOUD_ACCOUNTS_MAX];
    size_t n = as_wa_cloud_targets(cfg, m, t);
    if (n == 0) { /* no receiver uses it: the section's account */
        as_err_t err;
        if (as_graph_account_check(section, "whatsapp_cloud", &err) < 0) {
            fprintf(stderr, "alertsink wa-cloud check: %s: %s\n", cfg->file, err.msg);
            as_cycle_unref(c);
            return AS_EXIT_USAGE;
        }
        t[0].account = section;
        t[0].receivers = (as_buf_t)AS_BUF_INIT;
        n = 1;
    }
    as_httpc_t *http = as_httpc_create(NULL);
    int rc = AS_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        if (as_wa_cloud_ask(http, &t[i], i == 0) != AS_EXIT_OK)
            rc = AS_EXIT_FAIL;
        as_buf_free(&t[i].receivers);
    }
    as_httpc_free(http);
    as_cycle_unref(c);
    return rc;
}

int as_cli_wa_cloud(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *path = NULL, *cmd = NULL;
    int c;
    /* Options may come before and after the subcommand. */
    optind = 0;
    opterr = 0;
    while (optind < argc) {
        c = getopt_long(argc, argv, "+:c:h", longopts, NULL);
        if (c == -1) {
            if (cmd != NULL)
                return as_cli_usage_error("alertsink wa-cloud", as_wa_cloud_usage,
                                          "unexpected argument '%s'", argv[optind]);
            cmd = argv[optind++];
            continue;
        }
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            fputs(as_wa_cloud_usage, stdout);
            return AS_EXIT_OK;
        case ':':
            return as_cli_usage_error("alertsink wa-cloud", as_wa_cloud_usage,
                                      "option %s needs a value", argv[optind - 1]);
        default:
            return as_cli_usage_error("alertsink wa-cloud", as_wa_cloud_usage, "unknown option %s",
                                      argv[optind - 1]);
        }
    }
    if (cmd == NULL)
        return as_cli_usage_error("alertsink wa-cloud", as_wa_cloud_usage, "%s",
                                  "a subcommand is needed");
    if (strcmp(cmd, "check") != 0)
        return as_cli_usage_error("alertsink wa-cloud", as_wa_cloud_usage,
                                  "unknown subcommand '%s'", cmd);
    return as_wa_cloud_check(path);
}
