/*
 * ready.c - `alertsink ready`: is the daemon of this configuration ready to
 * take alerts?  The check that systemd units and Kubernetes exec probes
 * run, so that they need neither curl nor the port number.
 *
 *   alertsink ready [-c FILE] [--timeout 2s]
 *
 * With HTTP on, it GETs /healthz on http.listen through the one HTTP
 * client (never through a proxy: the address is the daemon's own) and the
 * daemon is ready when the answer is 200.  A listen address of any host
 * (":9095", "0.0.0.0", "::") is asked on loopback.  The daemon answers 503
 * with its reason while it starts, while it drains after SIGTERM, and when
 * its spool is not writable or full; that reason is printed.
 *
 * With HTTP off, the daemon is ready when its Unix socket accepts a
 * connection.  That is a weaker check: the kernel accepts into the backlog
 * whatever the daemon's state, so it says that a daemon holds the socket,
 * not that its spool takes alerts.
 *
 * Exit: 0 ready, 1 not ready (the reason on stderr), 2 usage or
 * configuration error, or no input to ask (both are off).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "alertsink/http.h"
#include "cli/cli.h"
#include "conf/config.h"

#define AS_READY_BODY_MAX 512 /* of an answer other than 200, printed */

static const char as_ready_usage[] =
    "usage: alertsink ready [-c FILE] [--timeout DURATION]\n"
    "  -c FILE             configuration (default $ALERTSINK_CONFIG, else "
    "/etc/alertsink/alertsink.yaml)\n"
    "  --timeout DURATION  how long to wait for the answer (default 2s)\n"
    "Asks the daemon of this configuration whether it takes alerts: GET /healthz on\n"
    "http.listen (200: ready), or with HTTP off a connection to unix.path.\n"
    "Exit 0 ready, 1 not ready (the reason on stderr), 2 usage or configuration error.\n";

/* GET /healthz: 1 ready (msg: "URL: BODY"), 0 not (msg: why). */
static int as_ready_http(const as_listen_t *l, int64_t timeout_ms, char *msg, size_t len)
{
    const char *host = l->host;
    if (host == NULL || host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    int v6 = strchr(host, ':') != NULL;
    char url[512];
    snprintf(url, sizeof(url), "http://%s%s%s:%d/healthz", v6 ? "[" : "", host, v6 ? "]" : "",
             l->port);

    as_httpc_t *c = as_httpc_create(&(as_httpc_opts_t){.timeout_ms = timeout_ms});
    as_httpc_req_t req = {.method = "GET", .url = url, .timeout_ms = timeout_ms, .direct = 1};
    as_httpc_resp_t resp;
    as_err_t err;
    int ready = 0;
    if (as_httpc_request(c, &req, &resp, &err) < 0) {
        as_str_copy(msg, len, err.msg);
    } else {
        char body[AS_READY_BODY_MAX + 1];
        as_httpc_excerpt(&resp.body, body, sizeof(body));
        if (resp.status == 200) {
            snprintf(msg, len, "%s: %s", url, body[0] ? body : "200");
            ready = 1;
        } else {
            snprintf(msg, len, "GET %s answered %ld%s%s", url, resp.status, body[0] ? ": " : "",
                     body);
        }
    }
    as_httpc_resp_free(&resp);
    as_httpc_free(c);
    return ready;
}

/* A connection to the socket: 1 accepted, 0 not, -1 an unusable path. */
static int as_ready_unix(const char *path, int64_t timeout_ms, char *msg, size_t len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(msg, len, "unix.path %s is too long for a socket address", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(msg, len, "socket: %s", strerror(errno));
        return 0;
    }
    /* A full backlog makes connect() wait; SO_SNDTIMEO bounds that wait
     * for Unix sockets. */
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int ready = 1;
    if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        snprintf(msg, len, "cannot connect to %s: %s", path,
                 e == EAGAIN || e == EINPROGRESS ? "timed out" : strerror(e));
        ready = 0;
    } else {
        snprintf(msg, len, "%s: accepts connections", path);
    }
    close(fd);
    return ready;
}

int as_cli_ready_check(const as_config_t *cfg, int64_t timeout_ms, char *msg, size_t len)
{
    /* The inputs' documented settings, read by name: a command does not
     * know an input's struct. */
    const as_conf_type_t *lt = NULL, *pt = NULL;
    const as_listen_t *listen = as_config_field(cfg, "http.listen", &lt);
    char *const *upath = as_config_field(cfg, "unix.path", &pt);
    if (listen != NULL && lt == &as_conf_listen && listen->text != NULL && listen->text[0])
        return as_ready_http(listen, timeout_ms, msg, len);
    if (upath != NULL && pt == &as_conf_string && *upath != NULL && (*upath)[0])
        return as_ready_unix(*upath, timeout_ms, msg, len);
    snprintf(msg, len, "http.listen and unix.path are both off in %s: nothing to ask", cfg->file);
    return -1;
}

int as_cli_ready(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int64_t timeout_ms = 2000;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'T':
            if (as_parse_duration(optarg, &timeout_ms) < 0 || timeout_ms <= 0)
                return as_cli_usage_error("alertsink ready", as_ready_usage,
                                          "invalid --timeout '%s': a duration such as 2s", optarg);
            break;
        case 'h':
            fputs(as_ready_usage, stdout);
            return AS_EXIT_OK;
        default:
            return as_cli_bad_option("alertsink ready", as_ready_usage, c, argv);
        }
    }
    if (optind < argc)
        return as_cli_usage_error("alertsink ready", as_ready_usage, "unexpected argument '%s'",
                                  argv[optind]);

    /* It sends nothing: secrets need not be set where a probe runs. */
    as_config_t *cfg = as_cli_config_flags("alertsink ready", path, AS_LOAD_NO_SEND | AS_CLI_QUIET);
    if (cfg == NULL)
        return AS_EXIT_USAGE;
    char msg[1024];
    int ready = as_cli_ready_check(cfg, timeout_ms, msg, sizeof(msg));
    as_config_free(cfg);
    if (ready > 0) {
        printf("%s\n", msg);
        return AS_EXIT_OK;
    }
    if (ready < 0) {
        fprintf(stderr, "alertsink ready: %s\n", msg);
        return AS_EXIT_USAGE;
    }
    fprintf(stderr, "alertsink ready: not ready: %s\n", msg);
    return AS_EXIT_FAIL;
}
