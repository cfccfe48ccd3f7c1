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
 *
 * The loader runs in that directory (relative paths, as templates.dir:
 * tpl, are read there) and in a sandbox (sandbox.h): it can read that
 * directory and the system's zoneinfo, nothing else; modules never load.
 *
 * What must hold besides not crashing:
 *   - a refused configuration has errors, each starting with the file it
 *     is about (the directory's path, then ':');
 *   - an accepted one printed as -T prints it is itself a valid
 *     configuration (the man page and the README promise so), which
 *     prints the same once more.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/cycle.h"
#include "fuzz.h"
#include "sandbox.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    fz_tmpdir();
    return 0;
}

static void fz_environment(const fz_input_t *in)
{
    clearenv();
    const fz_part_t *p;
    for (size_t pos = 0; (p = fz_input_next(in, "env", &pos)) != NULL;) {
        char **lines = fz_lines(p->data, p->len);
        for (char **l = lines; *l; l++) {
            char *eq = strchr(*l, '=');
            if (eq == NULL || eq == *l)
                continue;
            *eq = '\0';
            setenv(*l, eq + 1, 1);
        }
        fz_lines_free(lines);
    }
}

/* Load path in the sandbox; NULL with the errors checked when refused. */
static as_cycle_t *fz_load(const char *path)
{
    as_conf_t cf;
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (here < 0 || chdir(fz_tmpdir()) < 0)
        fz_fail("cannot change to %s", fz_tmpdir());
    fz_sandbox_enter(fz_tmpdir());
    as_cycle_t *c = as_cycle_create(&cf, path, AS_CYCLE_CHECK);
    fz_sandbox_leave();
    if (fchdir(here) < 0)
        fz_fail("cannot change back to the working directory");
    close(here);
    if (c == NULL && as_conf_errors(&cf) == 0)
        fz_fail("a configuration refused without an error");
    size_t dl = strlen(fz_tmpdir());
    for (size_t i = 0; i < cf.nerrors; i++) {
        const char *e = cf.errors[i];
        if (strncmp(e, fz_tmpdir(), dl) != 0 || e[dl] != '/' || strchr(e + dl, ':') == NULL)
            fz_fail("an error that names no file: %s", e);
    }
    as_conf_free_errors(&cf);
    return c;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input_t in;
    fz_input_split(&in, data, size);
    fz_tmpdir_clear();
    const fz_part_t *p;
    for (size_t pos = 0; (p = fz_input_next(&in, "file", &pos)) != NULL;)
        free(fz_write(p->arg, p->data, p->len));
    char *path = fz_write("alertsink.yaml", in.parts[0].data, in.parts[0].len);
    fz_environment(&in);

    as_cycle_t *c = fz_load(path);
    if (c != NULL) {
        char *printed = fz_print(c);
        as_cycle_unref(c);
        char *again = fz_write("printed.yaml", printed, strlen(printed));
        clearenv();
        c = fz_load(again);
        if (c == NULL)
            fz_fail("the -T output of a valid configuration is refused:\n%s", printed);
        char *printed2 = fz_print(c);
        if (strcmp(printed, printed2) != 0)
            fz_fail("-T of -T differs:\n%s\n---\n%s", printed, printed2);
        as_cycle_unref(c);
        free(printed2);
        free(again);
        free(printed);
    }
    free(path);
    fz_input_free(&in);
    return 0;
}
