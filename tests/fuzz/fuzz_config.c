/*
 * fuzz_config.c - the configuration loader, as `alertsink -t` and a reload
 * run it (as_cycle_create: YAML, includes, modules' sections, every key
 * table and type, cross-references, the templates compiled and rendered
 * once with the sample notification).
 *
 * The input is the main file, alertsink.yaml, written to a private
 * directory with the other files of the input beside it:
 *
 *   #@file NAME      the section is the file NAME (conf.d/x.yaml at most
 *                    one folder deep): included files, *_file secrets,
 *                    templates (templates.dir: NAME.mustache files)
 *   #@env            NAME=VALUE lines: the whole environment the loader
 *                    sees for ${NAME} (nothing of the harness's own leaks)
 *   #@no-env         load as `-t --no-env` does (a missing secret is a
 *                    warning, not an error)
 *
 * The loader runs in that directory (relative paths, as templates.dir:
 * tpl, are read there) and in a sandbox (sandbox.h): it can read that
 * directory and the system's zoneinfo, nothing else; modules never load.
 *
 * What must hold besides not crashing:
 *   - a refused configuration has errors, and every error and warning
 *     starts with the file of the input it is about, then ':';
 *   - an accepted one printed as -T prints it is itself a valid
 *     configuration once its secrets are put back (the man page and the
 *     README promise so), which prints the same once more.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/cycle.h"
#include "fuzz.h"
#include "sandbox.h"

/* Set the environment of one input: putenv() of its "#@env" lines, which
 * stay the harness's until fz_env_clear() (setenv() would keep a copy of
 * every value for good: a long run would grow without end, and libFuzzer
 * would take each run for a leak to look for). */
typedef struct {
    size_t n;
    char **lines[FZ_MAX_PARTS];
} fz_env_t;

static void fz_env_set(const fz_input_t *in, fz_env_t *env)
{
    clearenv();
    env->n = 0;
    const fz_part_t *p;
    for (size_t pos = 0; (p = fz_input_next(in, "env", &pos)) != NULL;) {
        char **lines = env->lines[env->n++] = fz_lines(p->data, p->len);
        for (char **l = lines; *l; l++)
            if (strchr(*l, '=') != NULL && **l != '=')
                putenv(*l);
    }
}

static void fz_env_clear(fz_env_t *env)
{
    clearenv();
    for (size_t i = 0; i < env->n; i++)
        fz_lines_free(env->lines[i]);
    env->n = 0;
}

/* Does an error start with the name of a file of the input, then ':'
 * (FILE:LINE:COL: or FILE: for a whole file)?  Names relative to the
 * directory (a relative templates.dir) count, as the loader ran there. */
static int fz_names_a_file(const char *e)
{
    const char *colon = strchr(e, ':');
    if (colon == NULL || colon == e)
        return 0;
    /* A secret of this or an earlier input that the name happens to hold
     * is redacted, as in every message: the name cannot be checked. */
    if (memmem(e, (size_t)(colon - e), "<redacted>", 10) != NULL)
        return 1;
    char path[4096];
    if (e[0] == '/')
        snprintf(path, sizeof(path), "%.*s", (int)(colon - e), e);
    else
        snprintf(path, sizeof(path), "%s/%.*s", fz_tmpdir(), (int)(colon - e), e);
    struct stat st;
    return strncmp(path, fz_tmpdir(), strlen(fz_tmpdir())) == 0 && stat(path, &st) == 0 &&
           S_ISREG(st.st_mode);
}

/* Load path in the sandbox as -t does (flags: AS_LOAD_*); NULL with the
 * errors checked when refused, and appended to errors (may be NULL). */
static as_cycle_t *fz_load(const char *path, unsigned flags, as_buf_t *errors)
{
    as_conf_t cf;
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (here < 0 || chdir(fz_tmpdir()) < 0)
        fz_fail("cannot change to %s", fz_tmpdir());
    fz_sandbox_enter(fz_tmpdir());
    as_cycle_t *c = as_cycle_create(&cf, path, AS_LOAD_CHECK | flags);
    fz_sandbox_leave();
    if (fchdir(here) < 0)
        fz_fail("cannot change back to the working directory");
    close(here);
    if (c == NULL && as_conf_errors(&cf) == 0)
        fz_fail("a configuration refused without an error");
    for (size_t i = 0; i < cf.nerrors; i++)
        if (!fz_names_a_file(cf.errors[i]))
            fz_fail("an error that names no file: %s", cf.errors[i]);
    for (size_t i = 0; i < cf.nwarnings; i++)
        if (!fz_names_a_file(cf.warnings[i]))
            fz_fail("a warning that names no file: %s", cf.warnings[i]);
    for (size_t i = 0; errors != NULL && i < cf.nerrors; i++)
        as_buf_printf(errors, "%s\n", cf.errors[i]);
    as_conf_free_errors(&cf);
    return c;
}

/* The -T output with its secrets put back (-T prints them "<redacted>",
 * which the loader refuses), written to printed.yaml: its path. */
static char *fz_put_back(const char *printed)
{
    static const char *const keys[] = {"bearer_token: ", "password: ", NULL};
    as_buf_t b = AS_BUF_INIT;
    as_buf_puts(&b, printed);
    for (const char *const *k = keys; *k; k++) {
        as_buf_t find = AS_BUF_INIT;
        as_buf_printf(&find, "%s\"<redacted>\"", *k);
        for (char *at; (at = strstr(b.data, find.data)) != NULL;)
            memcpy(at + strlen(*k) + 1, "put-back--", 10); /* as long as <redacted> */
        as_buf_free(&find);
    }
    char *path = fz_write("printed.yaml", b.data, b.len);
    as_buf_free(&b);
    return path;
}

/* The effective configuration as -T prints it, less its first line (a
 * comment naming the file). */
static char *fz_print(const as_cycle_t *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    as_config_print(out, c->cfg);
    fclose(out);
    char *nl = strchr(text, '\n');
    if (nl != NULL)
        memmove(text, nl + 1, strlen(nl + 1) + 1);
    return text;
}

/* What libraries set up once, on first use (OpenSSL's tables, the local
 * time zone, dlerror()'s buffer), is set up before the first input, so
 * that libFuzzer's leak check sees an input's memory only: a valid
 * configuration is loaded, then the same with a module that cannot load. */
static const char fz_warm_up[] =
    "spool: {dir: /nonexistent/alertsink-fuzz}\n"
    "whatsapp: {phone: '905550000000', password: x}\n"
    "smtp: {host: localhost, from: a@example.org}\n"
    "time_intervals: [{name: t, time_intervals: [{location: Local}, {location: "
    "Europe/Istanbul}]}]\n"
    "receivers: [{name: r, email: {to: [b@example.org]}, whatsapp: {to: ['905550000001']}}]\n"
    "route: {receiver: r, routes: [{receiver: r, matchers: ['a=~\"b.*\"']}]}\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    as_config_advice(as_cli_advice); /* as main() does: advice for unknown keys */
    for (int i = 0; i < 2; i++) {
        as_buf_t b = AS_BUF_INIT;
        as_buf_printf(&b, "%s%s", i ? "modules: [missing.so]\n" : "", fz_warm_up);
        char *path = fz_write("warm-up.yaml", b.data, b.len);
        as_cycle_t *c = fz_load(path, 0, NULL);
        if ((c == NULL) != (i == 1))
            fz_fail("the warm-up configuration %s",
                    i ? "loads with a missing module" : "is refused");
        as_cycle_unref(c);
        free(path);
        as_buf_free(&b);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input_t in;
    fz_input_split(&in, data, size);
    fz_tmpdir_clear();
    const fz_part_t *p;
    for (size_t pos = 0; (p = fz_input_next(&in, "file", &pos)) != NULL;)
        free(fz_write(p->arg, p->data, p->len));
    char *path = fz_write("alertsink.yaml", in.parts[0].data, in.parts[0].len);
    fz_env_t env;
    fz_env_set(&in, &env);

    unsigned flags = fz_input_get(&in, "no-env") ? AS_LOAD_NO_SEND : 0;
    as_cycle_t *c = fz_load(path, flags, NULL);
    if (c != NULL) {
        char *printed = fz_print(c);
        as_cycle_unref(c);
        char *again = fz_put_back(printed);
        fz_env_clear(&env);
        as_buf_t errors = AS_BUF_INIT;
        c = fz_load(again, flags, &errors);
        if (c == NULL)
            fz_fail("the -T output of a valid configuration is refused:\n%s\n%s", errors.data,
                    printed);
        as_buf_free(&errors);
        char *printed2 = fz_print(c);
        if (strcmp(printed, printed2) != 0)
            fz_fail("-T of -T differs:\n%s\n---\n%s", printed, printed2);
        as_cycle_unref(c);
        free(printed2);
        free(again);
        free(printed);
    }
    fz_env_clear(&env);
    free(path);
    fz_input_free(&in);
    return 0;
}
