/*
 * routes.c - `alertsink routes`: print the receivers an alert with the
 * given labels reaches, one a line, in tree order, one line per matching
 * route (docs/routing.md), as `amtool config routes test` does (amtool joins
 * them with commas on one line).
 *
 *   alertsink routes --labels k=v[,k=v...] [-c FILE] [k=v ...]
 *
 * --labels takes Alertmanager's matcher-list syntax, the one of a route's
 * matchers: pairs separated by commas outside double quotes, values
 * optionally quoted with \" \\ and \n escapes, an optional {...} around the
 * list, so a value with a comma or an equals sign is written quoted:
 * --labels 'team="a,b",expr="x=1"'.  It may be given more than once.
 * Words after the options are single labels as amtool takes them (each
 * one pair, the whole rest after the operator its value: summary=a,b is
 * one label).  Only "=" is a label; a later value for a name replaces an
 * earlier one.  No labels at all is the empty label set.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "alertsink/mem.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "lib/json.h"
#include "route/matcher.h"

static const char as_routes_usage[] =
    "usage: alertsink routes --labels k=v[,k=v...] [-c FILE] [k=v ...]\n"
    "  --labels LIST   labels as Alertmanager matchers: a=1,b=\"x,y\" (repeatable)\n"
    "  -c FILE         configuration (default $ALERTSINK_CONFIG, else "
    "/etc/alertsink/alertsink.yaml)\n"
    "  k=v             one label, as amtool takes it (the rest after '=' is its value)\n"
    "Prints the receivers reached, one a line, in routing tree order, as\n"
    "`amtool config routes test` does.  Nothing is sent, so no secrets are needed: an\n"
    "unset ${NAME} or an unreadable *_file secret is a warning.\n";

/* Parse one --labels list (several = 1) or one amtool-style word into
 * labels; -1 with err. */
static int as_routes_labels(as_pool_t *pool, const char *s, int several, cJSON *labels,
                            as_err_t *err)
{
    as_matchers_t list = {0, NULL};
    if (several) {
        if (as_matchers_parse(pool, s, &list, err) < 0)
            return -1;
    } else {
        /* amtool's ParseMatcher: one word is one label, commas and all. */
        list.v = as_palloc(pool, sizeof(*list.v));
        if (as_matcher_parse(pool, s, list.v, err) < 0)
            return -1;
        list.n = 1;
    }
    for (size_t i = 0; i < list.n; i++) {
        const as_matcher_t *m = &list.v[i];
        if (m->op != AS_MATCH_EQ)
            return as_err_set(err, "labels must be specified as key=value pairs: %s", m->name);
        as_json_set(labels, m->name, cJSON_CreateString(m->value));
    }
    return 0;
}

int as_cli_routes(int argc, char **argv)
{
    static const struct option longopts[] = {{"labels", required_argument, NULL, 'l'},
                                             {"config", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *path = NULL;
    as_pool_t *pool = as_pool_create();
    cJSON *labels = cJSON_CreateObject();
    as_err_t err;
    int c, rc = AS_EXIT_USAGE;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'l':
            if (as_routes_labels(pool, optarg, 1, labels, &err) < 0) {
                fprintf(stderr, "alertsink routes: --labels: %s\n", err.msg);
                goto done;
            }
            break;
        case 'h':
            fputs(as_routes_usage, stdout);
            rc = AS_EXIT_OK;
            goto done;
        case ':':
            as_cli_usage_error("alertsink routes", as_routes_usage, "option %s needs a value",
                               argv[optind - 1]);
            goto done;
        default:
            as_cli_usage_error("alertsink routes", as_routes_usage, "unknown option %s",
                               argv[optind - 1]);
            goto done;
        }
    }
    for (int i = optind; i < argc; i++)
        if (as_routes_labels(pool, argv[i], 0, labels, &err) < 0) {
            fprintf(stderr, "alertsink routes: label '%s': %s\n", argv[i], err.msg);
            goto done;
        }

    as_config_t *cfg = as_cli_config_flags("alertsink routes", path, AS_LOAD_NO_SEND);
    if (cfg == NULL)
        goto done;

    size_t max = as_route_count(&cfg->route);
    const as_route_t **routes = as_xcalloc(max, sizeof(*routes));
    size_t n = as_route_match(&cfg->route, labels, routes, max);
    for (size_t i = 0; i < n && i < max; i++)
        printf("%s\n", routes[i]->recv);
    free(routes);
    as_config_free(cfg);
    rc = fflush(stdout) == 0 ? AS_EXIT_OK : AS_EXIT_FAIL;
done:
    cJSON_Delete(labels);
    as_pool_destroy(pool);
    return rc;
}
