/*
 * wa.c - `alertsink wa ...`: the WhatsApp account from the command line
 * (docs/channels.md, alertsink(8)): log in, pair a phone, list and unlink
 * devices, send a message by hand.
 *
 * Every subcommand reads the configuration (-c FILE, else
 * $ALERTSINK_CONFIG, else the default path) and takes the account from its
 * whatsapp: section through the sink's own helper, so the command line and
 * the daemon share one client, one token cache (spool.dir/state/whatsapp/) and one set
 * of rules.  Arguments are checked before anything goes out.  Exit codes:
 * 0 done, 1 the API or the network failed (with the server's message), 2 a
 * usage or configuration error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alertsink/buf.h"
#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "lib/log.h"
#include "sinks/whatsapp/whatsapp.h"

#define AS_WA_POLL_MS 2000 /* docs/channels.md: pair polls logincontrol every 2 s */

/* Each subcommand's usage, in one place: `wa CMD --help` prints its own,
 * `wa --help` all of them. */
static const struct {
    const char *cmd, *usage;
} as_wa_cmds[] = {
    {"login", "alertsink wa login [-c FILE]\n"
              "  Log in with whatsapp.phone and whatsapp.password, refresh the cached token,\n"
              "  print OK.\n"},
    {"pair", "alertsink wa pair --phone P [--timeout 2m] [-c FILE]\n"
             "  Ask a pairing code for the phone P (\"+90 555 111 2233\"), print it, then poll\n"
             "  every 2 s until the phone is linked; the registration id is the last line.\n"
             "  --timeout D   give up after D (default 2m): exit 1\n"},
    {"devices", "alertsink wa devices [-c FILE]\n"
                "  List the account's devices: registration id, phone, status.\n"},
    {"logout", "alertsink wa logout --reg-id R --phone P [-c FILE]\n"
               "  Unlink the device R of the phone P.\n"},
    {"send", "alertsink wa send --to P[,P...] [--file F] [--at \"YYYY-MM-DD HH:MM:SS\"] [-c FILE]\n"
             "                   [MESSAGE | stdin]\n"
             "  Send a message by hand from whatsapp.reg_id (else the first connected device).\n"
             "  --to P,...    the phone numbers (with the country code)\n"
             "  --file F      attach the file F\n"
             "  --at T        schedule it, in this machine's time zone\n"
             "  MESSAGE       the words of the message; without them, stdin\n"},
};

#define AS_WA_NCMDS (sizeof(as_wa_cmds) / sizeof(as_wa_cmds[0]))

static const char as_wa_tail[] =
    "The configuration is FILE, else $ALERTSINK_CONFIG, else /etc/alertsink/alertsink.yaml.\n"
    "Exit: 0 done, 1 the API or the network failed, 2 a usage or configuration error.\n";

/* The usage of one subcommand (cmd) or of all (NULL), "usage: " first. */
static void as_wa_print_usage(FILE *out, const char *cmd)
{
    int first = 1;
    for (size_t i = 0; i < AS_WA_NCMDS; i++) {
        if (cmd != NULL && strcmp(cmd, as_wa_cmds[i].cmd) != 0)
            continue;
        fputs(first ? "usage: " : "       ", out);
        if (cmd != NULL) {
            fputs(as_wa_cmds[i].usage, out);
        } else { /* the first line of each */
            const char *nl = strchr(as_wa_cmds[i].usage, '\n');
            fprintf(out, "%.*s\n", (int)(nl - as_wa_cmds[i].usage), as_wa_cmds[i].usage);
        }
        first = 0;
    }
    if (cmd == NULL)
        fputs("`alertsink wa COMMAND --help` prints a command's options.\n", out);
    fputs(as_wa_tail, out);
}

/* What every subcommand needs: the loaded configuration and the client. */
typedef struct {
    as_config_t *cfg;
    const void *conf; /* the whatsapp section */
    as_wa_t *wa;
} as_wa_ctx_t;

/* A usage error of "alertsink wa", or of one of its subcommands (cmd). */
static int as_wa_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "alertsink wa%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    as_wa_print_usage(stderr, cmd);
    return AS_EXIT_USAGE;
}

static int as_wa_open(const char *path, as_wa_ctx_t *ctx)
{
    as_err_t err;
    memset(ctx, 0, sizeof(*ctx));
    ctx->cfg = as_cli_config("alertsink", path);
    if (ctx->cfg == NULL)
        return AS_EXIT_USAGE;
    /* The command line speaks for itself on stdout and stderr: the logger
     * only adds warnings, unless the configuration asks for debug. */
    as_log_set_level(ctx->cfg->log.level == AS_LOG_DEBUG ? AS_LOG_DEBUG
                     : ctx->cfg->log.level > AS_LOG_WARN ? ctx->cfg->log.level
                                                         : AS_LOG_WARN);
    ctx->conf = as_config_module_conf(ctx->cfg, "whatsapp");
    if (ctx->conf == NULL) {
        fprintf(stderr, "alertsink: %s: the whatsapp module is not loaded\n", path);
        as_config_free(ctx->cfg);
        return AS_EXIT_USAGE;
    }
    ctx->wa = as_whatsapp_client(ctx->conf, as_config_state_dir(ctx->cfg, "whatsapp"), &err);
    if (ctx->wa == NULL) {
        fprintf(stderr, "alertsink: %s: %s\n", path, err.msg);
        as_config_free(ctx->cfg);
        return AS_EXIT_USAGE;
    }
    return AS_EXIT_OK;
}

static void as_wa_close(as_wa_ctx_t *ctx)
{
    as_wa_free(ctx->wa);
    as_config_free(ctx->cfg);
}

static int as_wa_failed(const char *cmd, const as_result_t *res)
{
    fprintf(stderr, "alertsink wa %s: %s\n", cmd, res->reason[0] ? res->reason : "failed");
    return AS_EXIT_FAIL;
}

/* --- login ---------------------------------------------------------------- */

static int as_wa_cmd_login(as_wa_ctx_t *ctx)
{
    as_result_t res;
    if (as_wa_login(ctx->wa, &res) < 0)
        return as_wa_failed("login", &res);
    puts("OK");
    return AS_EXIT_OK;
}

/* --- pair ----------------------------------------------------------------- */

static int as_wa_cmd_pair(as_wa_ctx_t *ctx, const char *phone, int64_t timeout_ms,
                          const char *timeout_text)
{
    as_result_t res;
    char *code, *reg_id;
    if (as_wa_login_code(ctx->wa, phone, &code, &reg_id, &res) < 0)
        return as_wa_failed("pair", &res);
    printf("Pairing code: %s\n"
           "On the phone with number +%s, open WhatsApp: Settings > Linked devices >\n"
           "Link a device > Link with phone number instead, and type the code.\n"
           "Waiting for the phone to link (up to %s)...\n",
           code, phone, timeout_text);
    fflush(stdout);

    int rc = AS_EXIT_FAIL;
    int64_t deadline = as_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - as_mono_ms();
        if (left <= 0) {
            fprintf(stderr, "alertsink wa pair: the phone did not link within %s\n", timeout_text);
            break;
        }
        as_sleep_ms(left < AS_WA_POLL_MS ? left : AS_WA_POLL_MS);
        int linked = 0;
        if (as_wa_login_control(ctx->wa, reg_id, phone, &linked, &res) < 0) {
            if (res.outcome == AS_PERMANENT) {
                as_wa_failed("pair", &res);
                break;
            }
            /* The network or the server hiccuped: the pairing is still
             * pending on the phone, keep polling until the deadline. */
            fprintf(stderr, "alertsink wa pair: %s (still waiting)\n", res.reason);
            continue;
        }
        if (linked) {
            printf("Linked. Set whatsapp.reg_id in the configuration to:\n%s\n", reg_id);
            rc = AS_EXIT_OK;
            break;
        }
    }
    free(code);
    free(reg_id);
    return rc;
}

/* --- devices -------------------------------------------------------------- */

/* One column of the table: no spaces inside a field, "-" for none. */
static void as_wa_column(const char *s, const char *sep)
{
    if (s == NULL || *s == '\0')
        s = "-";
    for (; *s; s++)
        putchar(*s == ' ' || *s == '\t' || *s == '\n' ? '_' : *s);
    fputs(sep, stdout);
}

static int as_wa_cmd_devices(as_wa_ctx_t *ctx)
{
    as_result_t res;
    as_wa_devices_t d;
    if (as_wa_devices(ctx->wa, &d, &res) < 0)
        return as_wa_failed("devices", &res);
    puts("REGISTRATION_ID PHONE STATUS");
    for (size_t i = 0; i < d.n; i++) {
        as_wa_column(d.v[i].reg_id, " ");
        as_wa_column(d.v[i].phone, " ");
        as_wa_column(d.v[i].status, "\n");
    }
    as_wa_devices_free(&d);
    return AS_EXIT_OK;
}

/* --- logout --------------------------------------------------------------- */

static int as_wa_cmd_logout(as_wa_ctx_t *ctx, const char *reg_id, const char *phone)
{
    as_result_t res;
    if (as_wa_logout(ctx->wa, reg_id, phone, &res) < 0)
        return as_wa_failed("logout", &res);
    puts("OK");
    return AS_EXIT_OK;
}

/* --- send ----------------------------------------------------------------- */

typedef struct {
    as_strv_t to; /* digits */
    const char *file;
    const char *at;
    char *message;
} as_wa_sendargs_t;

static int as_wa_cmd_send(as_wa_ctx_t *ctx, const as_wa_sendargs_t *a)
{
    as_result_t res;
    const char *reg_id = as_whatsapp_reg_id(ctx->conf);
    as_wa_devices_t d = {0, NULL};
    if (reg_id == NULL) {
        const as_wa_device_t *dev;
        if (as_wa_devices(ctx->wa, &d, &res) < 0 || as_wa_pick_device(&d, NULL, &dev, &res) < 0) {
            as_wa_devices_free(&d);
            return as_wa_failed("send", &res);
        }
        reg_id = dev->reg_id;
    }
    as_wa_send_t s = {.reg_id = reg_id,
                      .contacts = (const char *const *)a->to.v,
                      .ncontacts = a->to.n,
                      .message = a->message,
                      .file = a->file,
                      .send_time = a->at};
    int rc = as_wa_send_multi(ctx->wa, &s, &res);
    if (rc == 0)
        printf("OK: sent from device %s to %zu contact%s%s%s\n", reg_id, a->to.n,
               a->to.n == 1 ? "" : "s", a->at ? ", scheduled for " : "", a->at ? a->at : "");
    as_wa_devices_free(&d);
    return rc == 0 ? AS_EXIT_OK : as_wa_failed("send", &res);
}

/* Split "P[,P...]" into digits; -1 naming the bad number. */
static int as_wa_parse_to(const char *list, as_strv_t *to, const char **bad)
{
    to->n = 0;
    to->v = as_xcalloc(strlen(list) / 2 + 2, sizeof(char *));
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char one[64], digits[32];
        snprintf(one, sizeof(one), "%.*s", (int)(len < sizeof(one) ? len : sizeof(one) - 1), p);
        if (len >= sizeof(one) || as_parse_phone(one, digits, sizeof(digits)) < 0) {
            *bad = p;
            return -1;
        }
        to->v[to->n++] = as_xstrdup(digits);
        p = comma ? comma + 1 : p + len;
    }
    if (to->n == 0) {
        *bad = list;
        return -1;
    }
    return 0;
}

static void as_wa_strv_free(as_strv_t *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
}

static char *as_wa_read_stdin(void)
{
    as_buf_t b = AS_BUF_INIT;
    as_buf_read(&b, stdin, 0); /* a read error ends the message there */
    while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.data[--b.len] = '\0';
    return as_buf_steal(&b);
}

/* --- argument parsing ------------------------------------------------------ */

enum { AS_OPT_PHONE = 256, AS_OPT_TIMEOUT, AS_OPT_REG_ID, AS_OPT_TO, AS_OPT_FILE, AS_OPT_AT };

/* What the command line said. */
typedef struct {
    const char *path, *phone_arg, *timeout_arg, *reg_id, *to_arg, *cmd;
    int timeout_set, help;
    as_wa_sendargs_t send;
    char phone[32];
    int64_t timeout_ms;
    int rest; /* argv index of the first MESSAGE word */
} as_wa_args_t;

/* Options before the subcommand ("+" stops at it), then the subcommand's
 * own, in any order around its MESSAGE words.  0, or an exit code. */
static int as_wa_parse(int argc, char **argv, as_wa_args_t *a)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"phone", required_argument, NULL, AS_OPT_PHONE},
                                             {"timeout", required_argument, NULL, AS_OPT_TIMEOUT},
                                             {"reg-id", required_argument, NULL, AS_OPT_REG_ID},
                                             {"to", required_argument, NULL, AS_OPT_TO},
                                             {"file", required_argument, NULL, AS_OPT_FILE},
                                             {"at", required_argument, NULL, AS_OPT_AT},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    opterr = 0;
    for (int pass = 0; pass < 2; pass++) {
        while ((c = getopt_long(argc, argv, pass == 0 ? "+:c:h" : ":c:h", longopts, NULL)) != -1) {
            const char *opt = argv[optind - 1];
            if (pass == 0 && c != 'c' && c != 'h' && c != ':' && c != '?')
                return as_wa_usage_error(NULL, "option %s comes after the subcommand", opt);
            switch (c) {
            case 'c':
                a->path = optarg;
                break;
            case 'h':
                as_wa_print_usage(stdout, a->cmd); /* after the subcommand: its own */
                a->help = 1;
                return AS_EXIT_OK;
            case AS_OPT_PHONE:
                a->phone_arg = optarg;
                break;
            case AS_OPT_TIMEOUT:
                a->timeout_arg = optarg;
                a->timeout_set = 1;
                break;
            case AS_OPT_REG_ID:
                a->reg_id = optarg;
                break;
            case AS_OPT_TO:
                a->to_arg = optarg;
                break;
            case AS_OPT_FILE:
                a->send.file = optarg;
                break;
            case AS_OPT_AT:
                a->send.at = optarg;
                break;
            case ':':
                return as_wa_usage_error(a->cmd, "option %s needs a value", opt);
            default:
                return as_wa_usage_error(a->cmd, "unknown option %s", opt);
            }
        }
        if (pass == 1)
            break;
        if (optind >= argc)
            return as_wa_usage_error(NULL, "%s", "a subcommand is needed");
        a->cmd = argv[optind];
        int known = 0;
        for (size_t i = 0; i < AS_WA_NCMDS; i++)
            known |= strcmp(a->cmd, as_wa_cmds[i].cmd) == 0;
        if (!known)
            return as_wa_usage_error(NULL, "unknown subcommand '%s'", a->cmd);
        /* Parse the rest as its own argv, argv[0] being the subcommand. */
        argv += optind;
        argc -= optind;
        optind = 0;
    }
    a->rest = optind;
    return a->cmd == NULL ? as_wa_usage_error(NULL, "%s", "a subcommand is needed") : 0;
}

/* Which options belong to which subcommand, and their values; extra:
 * the first word after the options (MESSAGE, for send only), or NULL. */
static int as_wa_check(as_wa_args_t *a, const char *extra)
{
    const char *cmd = a->cmd;
    int is_pair = strcmp(cmd, "pair") == 0, is_logout = strcmp(cmd, "logout") == 0;
    int is_send = strcmp(cmd, "send") == 0;
    if (a->phone_arg && !is_pair && !is_logout)
        return as_wa_usage_error(cmd, "%s", "--phone is for pair and logout");
    if (a->reg_id && !is_logout)
        return as_wa_usage_error(cmd, "%s", "--reg-id is for logout");
    if (a->timeout_set && !is_pair)
        return as_wa_usage_error(cmd, "%s", "--timeout is for pair");
    if ((a->to_arg || a->send.file || a->send.at) && !is_send)
        return as_wa_usage_error(cmd, "%s", "--to, --file and --at are for send");
    if (extra != NULL && !is_send)
        return as_wa_usage_error(cmd, "unexpected argument '%s'", extra);
    if (is_pair || is_logout) {
        if (a->phone_arg == NULL)
            return as_wa_usage_error(cmd, "%s", "--phone is required");
        if (as_parse_phone(a->phone_arg, a->phone, sizeof(a->phone)) < 0)
            return as_wa_usage_error(cmd,
                                     "invalid phone number '%s': digits with the country code, "
                                     "as \"+90 555 111 2233\"",
                                     a->phone_arg);
    }
    if (is_logout && (a->reg_id == NULL || a->reg_id[0] == '\0'))
        return as_wa_usage_error(cmd, "%s", "--reg-id is required");
    if (is_pair && (as_parse_duration(a->timeout_arg, &a->timeout_ms) < 0 || a->timeout_ms <= 0))
        return as_wa_usage_error(cmd, "invalid --timeout '%s': a duration such as 90s or 2m",
                                 a->timeout_arg);
    return 0;
}

/* `wa send`: the recipients, --at, --file and the message (the MESSAGE
 * words, else stdin).  0, or an exit code. */
static int as_wa_check_send(as_wa_args_t *a, char **words, int nwords)
{
    const char *bad, *cmd = a->cmd;
    as_wa_sendargs_t *send = &a->send;
    time_t when;
    struct stat st;
    if (a->to_arg == NULL)
        return as_wa_usage_error(cmd, "%s", "--to is required");
    if (as_wa_parse_to(a->to_arg, &send->to, &bad) < 0)
        return as_wa_usage_error(cmd,
                                 "invalid phone number in --to at '%s': digits with the "
                                 "country code, as \"+90 555 111 2233\"",
                                 bad);
    if (send->at != NULL) {
        if (as_wa_parse_send_time(send->at, &when) < 0)
            return as_wa_usage_error(cmd,
                                     "invalid --at '%s': a real date and time, "
                                     "\"YYYY-MM-DD HH:MM:SS\", local time",
                                     send->at);
        if (when <= time(NULL))
            return as_wa_usage_error(cmd, "--at '%s' is in the past", send->at);
    }
    if (send->file != NULL) {
        int fd = open(send->file, O_RDONLY | O_CLOEXEC);
        int ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        if (fd >= 0)
            close(fd);
        if (!ok) {
            fprintf(stderr, "alertsink wa send: --file %s: %s\n", send->file,
                    fd < 0 ? strerror(errno) : "not a regular file");
            return AS_EXIT_USAGE;
        }
    }
    if (nwords > 0) {
        as_buf_t b = AS_BUF_INIT;
        as_cli_words(&b, words, (size_t)nwords);
        send->message = as_buf_steal(&b);
    } else {
        send->message = as_wa_read_stdin();
    }
    if (send->message[0] == '\0' && send->file == NULL)
        return as_wa_usage_error(cmd, "%s", "the message is empty (give MESSAGE or stdin)");
    return 0;
}

int as_cli_wa(int argc, char **argv)
{
    as_wa_args_t a = {.timeout_arg = "2m"};
    int rc = as_wa_parse(argc, argv, &a);
    if (rc != 0 || a.help)
        return rc;
    /* The subcommand's argv starts at a.cmd; its MESSAGE words at a.rest. */
    char **sub = argv;
    while (*sub != a.cmd)
        sub++;
    int nsub = argc - (int)(sub - argv);
    rc = as_wa_check(&a, a.rest < nsub ? sub[a.rest] : NULL);
    if (rc == 0 && strcmp(a.cmd, "send") == 0)
        rc = as_wa_check_send(&a, sub + a.rest, nsub - a.rest);
    if (rc == 0) {
        as_wa_ctx_t ctx;
        rc = as_wa_open(a.path ? a.path : as_config_default_path(), &ctx);
        if (rc == AS_EXIT_OK) {
            if (strcmp(a.cmd, "login") == 0)
                rc = as_wa_cmd_login(&ctx);
            else if (strcmp(a.cmd, "pair") == 0)
                rc = as_wa_cmd_pair(&ctx, a.phone, a.timeout_ms, a.timeout_arg);
            else if (strcmp(a.cmd, "devices") == 0)
                rc = as_wa_cmd_devices(&ctx);
            else if (strcmp(a.cmd, "logout") == 0)
                rc = as_wa_cmd_logout(&ctx, a.reg_id, a.phone);
            else
                rc = as_wa_cmd_send(&ctx, &a.send);
            as_wa_close(&ctx);
        }
    }
    as_wa_strv_free(&a.send.to);
    free(a.send.message);
    return rc;
}
