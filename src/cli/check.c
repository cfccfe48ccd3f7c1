/*
 * check.c - `alertsink -t`, `-T` and `-V`: test the configuration, print it
 * with secrets redacted, and print what this binary is made of.
 *
 * -t checks what the daemon meets when it starts, as `nginx -t` does, and
 * changes nothing: the configuration loads (every module initialised, every
 * receiver's channels checked, every template found and compiled, *_file
 * secrets and smtp.tls_ca_file read), and the spool directory exists and
 * can be used by this user, or can be created by it, and each file sink's
 * file can be appended to (it is writable, or can be created in its
 * directory, or in one that creating the spool makes).  Problems of the
 * second kind are printed as "FILE: spool.dir PATH (ABSOLUTE here): why";
 * with --no-env (checking away from the machine the configuration is for)
 * they are warnings.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <libesmtp.h>
#include <limits.h>
#include <microhttpd.h>
#include <pcre2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "alertsink/buf.h"
#include "alertsink/http.h"
#include "alertsink/mem.h"
#include "cli/cli.h"
#include "conf/cycle.h"
#include "lib/log.h"

/* This user, for the messages. */
static const char *as_check_user(char *buf, size_t size)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw != NULL)
        snprintf(buf, size, "user %s", pw->pw_name);
    else
        snprintf(buf, size, "uid %d", (int)geteuid());
    return buf;
}

/* "user U cannot write to PATH[, purpose]: strerror(errno)" */
static int as_check_denied(as_buf_t *why, const char *path, const char *purpose)
{
    char user[64];
    int e = errno;
    as_buf_printf(why, "%s cannot write to %s%s: %s", as_check_user(user, sizeof(user)), path,
                  purpose, strerror(e));
    return -1;
}

/* May this user use the existing directory dir as the spool: read, write
 * and enter it and its subdirectories, read and write its files? */
static int as_check_spool_tree(const char *dir, as_buf_t *why)
{
    if (access(dir, R_OK | W_OK | X_OK) < 0)
        return as_check_denied(why, dir, "");
    DIR *d = opendir(dir);
    if (d == NULL) {
        as_buf_printf(why, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    as_buf_t path = AS_BUF_INIT;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        as_buf_reset(&path);
        as_buf_printf(&path, "%s/%s", dir, e->d_name);
        if (lstat(path.data, &st) < 0)
            continue;
        int need = S_ISDIR(st.st_mode) ? R_OK | W_OK | X_OK : S_ISREG(st.st_mode) ? R_OK | W_OK : 0;
        if (need != 0 && access(path.data, need) < 0)
            rc = as_check_denied(why, path.data, "");
    }
    as_buf_free(&path);
    closedir(d);
    return rc;
}

/* The nearest existing ancestor of abs (abs itself when it exists), in a
 * new string; NULL with why when the walk fails. */
static char *as_check_existing(const char *abs, struct stat *st, as_buf_t *why)
{
    char *probe = as_xstrdup(abs);
    while (stat(probe, st) < 0) {
        char *slash = strrchr(probe, '/');
        if (errno != ENOENT || slash == NULL) {
            as_buf_printf(why, "cannot reach %s: %s", probe, strerror(errno));
            free(probe);
            return NULL;
        }
        slash[slash == probe] = '\0'; /* "/x" goes to "/" */
    }
    return probe;
}

/* Can the daemon open or create the spool at abs (an absolute path)?
 * Nothing is created: the nearest existing ancestor of a missing directory
 * must be writable. */
static int as_check_spool(const char *abs, as_buf_t *why)
{
    struct stat st;
    char *probe = as_check_existing(abs, &st, why);
    int rc = -1;
    if (probe == NULL)
        return -1;
    if (!S_ISDIR(st.st_mode))
        as_buf_printf(why, "%s is not a directory", probe);
    else if (strcmp(probe, abs) == 0)
        rc = as_check_spool_tree(abs, why);
    else if (access(probe, W_OK | X_OK) < 0)
        as_check_denied(why, probe, ", where the spool would be created");
    else
        rc = 0;
    free(probe);
    return rc;
}

/* Can the file sink append to abs?  The file is writable, or its directory
 * is, or that directory is one that creating the spool makes (spool: the
 * spool's absolute path, NULL when it cannot be created). */
static int as_check_append(const char *abs, const char *spool, as_buf_t *why)
{
    if (access(abs, W_OK) == 0)
        return 0;
    if (errno != ENOENT)
        return as_check_denied(why, abs, "");
    char *dir = as_xstrdup(abs), *slash = strrchr(dir, '/');
    slash[slash == dir] = '\0';
    size_t dlen = strlen(dir);
    int rc = 0;
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (access(dir, W_OK | X_OK) < 0)
            rc = as_check_denied(why, dir, ", where the file would be created");
    } else if (spool == NULL || strncmp(spool, dir, dlen) != 0 ||
               (spool[dlen] != '\0' && spool[dlen] != '/')) {
        as_buf_printf(why, "the directory %s does not exist", dir);
        rc = -1;
    }
    free(dir);
    return rc;
}

/* path made absolute against the working directory, as the daemon sees it. */
static void as_check_abs(as_buf_t *b, const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
        as_buf_printf(b, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path);
    else
        as_buf_puts(b, path);
}

/* One problem the daemon would meet at start: an error, or under --no-env
 * (a check away from the machine the configuration is for) a warning. A
 * relative path is shown with the absolute one it means here. */
static void as_check_report(const char *file, const char *what, const char *path, const char *abs,
                            const char *why, int no_env)
{
    fprintf(stderr, "%s: %s%s %s", file, no_env ? "warning: " : "", what, path);
    if (strcmp(path, abs) != 0)
        fprintf(stderr, " (%s here)", abs);
    fprintf(stderr, ": %s\n", why);
}

/* What the daemon meets at start beyond the configuration itself: the
 * spool, and each file sink's file.  Returns the number of problems. */
static int as_check_runtime(const as_config_t *cfg, int no_env)
{
    int problems = 0;
    as_buf_t abs = AS_BUF_INIT, why = AS_BUF_INIT, spool = AS_BUF_INIT;
    as_check_abs(&spool, cfg->spool.dir);
    int spool_ok = as_check_spool(spool.data, &why) == 0;
    if (!spool_ok) {
        as_check_report(cfg->file, "spool.dir", cfg->spool.dir, spool.data, why.data, no_env);
        problems++;
    }
    int fm = as_modset_find(&cfg->mods, "file");
    const as_receiver_t *rv = cfg->receivers.elts;
    for (size_t r = 0; fm >= 0 && r < cfg->receivers.n; r++) {
        const as_node_t *p = as_yaml_get(rv[r].channel[fm].node, "path");
        if (rv[r].channel[fm].conf == NULL || p == NULL || p->kind != AS_NODE_SCALAR)
            continue;
        as_buf_reset(&abs);
        as_buf_reset(&why);
        as_check_abs(&abs, p->value);
        if (as_check_append(abs.data, spool_ok ? spool.data : NULL, &why) < 0) {
            char what[300];
            snprintf(what, sizeof(what), "receiver '%s': file.path", rv[r].name);
            as_check_report(cfg->file, what, p->value, abs.data, why.data, no_env);
            problems++;
        }
    }
    as_buf_free(&abs);
    as_buf_free(&why);
    as_buf_free(&spool);
    return no_env ? 0 : problems;
}

int as_cli_check(const char *path, int print, int no_env)
{
    as_cycle_t *c =
        as_cli_cycle_flags("alertsink", path, AS_LOAD_CHECK | (no_env ? AS_LOAD_NO_SEND : 0));
    if (c == NULL)
        return AS_EXIT_FAIL;
    if (print)
        as_config_print(stdout, c->cfg);
    int problems = as_check_runtime(c->cfg, no_env);
    if (problems > 0)
        fprintf(stderr,
                "alertsink: configuration %s is valid, but the daemon would not start "
                "(%d problem%s above)\n",
                path, problems, problems == 1 ? "" : "s");
    else
        fprintf(stderr, "alertsink: configuration %s is valid\n", path);
    as_cycle_unref(c);
    return problems > 0 ? AS_EXIT_FAIL : AS_EXIT_OK;
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
    as_cycle_t *c = as_cycle_create(&cf, path, AS_LOAD_CHECK | AS_LOAD_NO_SEND);
    if (c != NULL) {
        printf("loaded modules (from %s):\n", path);
        as_print_modules(&c->cfg->mods, 1);
        as_cycle_unref(c);
    } else if (explicit_path) {
        printf("loaded modules: none (configuration %s does not load, see alertsink -t)\n", path);
    }
    as_conf_free_errors(&cf);
    printf("libraries:\n");
    const char *curl = as_httpc_curl_version();
    printf("  libcurl       %s\n", curl ? curl : "cannot be loaded");
    printf("  cJSON         %s\n", cJSON_Version());
    printf("  libyaml       %s\n", yaml_get_version_string());
    printf("  libmicrohttpd %s\n", MHD_get_version());
    printf("  PCRE2         %s\n", pcre);
    printf("  libesmtp      %s\n", esmtp);
    return AS_EXIT_OK;
}
