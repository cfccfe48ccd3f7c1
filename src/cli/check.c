/*
 * check.c - `alertsink -t`, `-T` and `-V`: test the configuration, print it
 * with secrets redacted, and print what this binary is made of.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libesmtp.h>
#include <microhttpd.h>
#include <pcre2.h>
#include <stdio.h>
#include <yaml.h>

#include "cli/cli.h"
#include "conf/cycle.h"
#include "lib/log.h"

int as_cli_check(const char *path, int print)
{
    as_cycle_t *c = as_cli_cycle("alertsink", path);
    if (c == NULL)
        return AS_EXIT_FAIL;
    if (print)
        as_config_print(stdout, c->cfg);
    fprintf(stderr, "alertsink: configuration %s is valid\n", path);
    as_cycle_unref(c);
    return AS_EXIT_OK;
}

static void as_print_modules(const as_modset_t *set, int loaded)
{
    for (size_t i = 0; i < set->n; i++) {
        const as_module_t *m = set->v[i];
        if ((set->dl[i] != NULL) != loaded)
            continue;
        printf("  %-14s %s", m->name, m->kind == AS_MODULE_INPUT ? "input" : "sink");
        if (m->conf_key)
            printf("  (key %s)", m->conf_key);
        if (m->channel_key)
            printf("  (receiver key %s)", m->channel_key);
        putchar('\n');
    }
}

int as_cli_version(const char *path, int explicit_path)
{
    char pcre[64] = "", esmtp[64] = "";
    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    smtp_version(esmtp, sizeof(esmtp), 0);
    printf("alertsink %s (module ABI %d)\n", AS_VERSION, AS_ABI_VERSION);
    printf("built-in modules:\n");
    as_modset_t set;
    as_modset_init(&set);
    as_print_modules(&set, 0);

    as_conf_t cf;
    as_cycle_t *c = as_cycle_create(&cf, path, AS_CYCLE_CHECK);
    if (c != NULL) {
        printf("loaded modules (from %s):\n", path);
        as_print_modules(&c->cfg->mods, 1);
        as_cycle_unref(c);
    } else if (explicit_path) {
        printf("loaded modules: none (configuration %s does not load, see alertsink -t)\n", path);
    }
    as_conf_free_errors(&cf);
    printf("libraries:\n");
    printf("  libcurl       %s\n", curl_version_info(CURLVERSION_NOW)->version);
    printf("  cJSON         %s\n", cJSON_Version());
    printf("  libyaml       %s\n", yaml_get_version_string());
    printf("  libmicrohttpd %s\n", MHD_get_version());
    printf("  PCRE2         %s\n", pcre);
    printf("  libesmtp      %s\n", esmtp);
    return AS_EXIT_OK;
}
