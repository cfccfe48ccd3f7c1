/*
 * fuzz_formats.c - what `alertsink send` reads: text, JSON, a Nagios or
 * Icinga notification's environment, collectd's NotificationExec, and the
 * detection of each (--format auto).
 *
 * The input is stdin, with optional sections:
 *
 *   #@env            NAME=VALUE lines: the environment (Nagios/Icinga)
 *   #@format NAME    auto (the default), json, text, nagios or collectd
 *   #@label K=V      --label (repeatable)
 *   #@title T        --title
 *   #@severity S     --severity
 *
 * What must hold besides not crashing: options that are refused and
 * inputs that are rejected say why; what is accepted came out as some
 * concrete format, and is an Alertmanager payload that the JSON input
 * accepts as it is (`send` spools it so; a daemon reads it back).
 */
#include <string.h>

#include "alertsink/json.h"
#include "cli/formats.h"
#include "fuzz.h"
#include "route/payload.h"

#define FZ_MAX_LABELS 8

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

static void fz_read(const fz_input_t *in, char **envp, const as_payload_opts_t *opts)
{
    as_format_t format = AS_FORMAT_AUTO, used = AS_FORMAT_AUTO;
    const fz_part_t *f = fz_input_get(in, "format");
    if (f != NULL && as_format_from_name(f->arg, &format) < 0)
        return;
    as_err_t err = {{0}};
    int grouped = -1;
    cJSON *p = as_format_read(format, in->parts[0].data, in->parts[0].len, envp, opts, &used,
                              &grouped, &err);
    if (p == NULL) {
        if (err.msg[0] == '\0')
            fz_fail("an input rejected without a reason");
        return;
    }
    if (used == AS_FORMAT_AUTO)
        fz_fail("an input accepted as no format in particular");
    char *text = as_json_print(p);
    unsigned again = 0;
    cJSON *p2 = as_payload_parse_opts(NULL, text, strlen(text), NULL, &again, &err);
    if (p2 == NULL || !(again & AS_SUB_GROUPED))
        fz_fail("what the %s format made is not a payload the JSON input takes: %s\n%s",
                as_format_name(used), p2 ? "not an Alertmanager payload" : err.msg, text);
    cJSON_Delete(p2);
    cJSON_free(text);
    cJSON_Delete(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input_t in;
    fz_input_split(&in, data, size);
    const fz_part_t *env = fz_input_get(&in, "env");
    char **envp = env ? fz_lines(env->data, env->len) : NULL;

    const char *labels[FZ_MAX_LABELS];
    as_payload_opts_t opts = {.labels = labels, .now_ms = FZ_NOW_MS};
    const fz_part_t *p;
    for (size_t pos = 0; (p = fz_input_next(&in, "label", &pos)) != NULL;)
        if (opts.nlabels < FZ_MAX_LABELS)
            labels[opts.nlabels++] = p->arg;
    if ((p = fz_input_get(&in, "title")) != NULL)
        opts.title = p->arg;
    if ((p = fz_input_get(&in, "severity")) != NULL)
        opts.severity = p->arg;

    as_err_t err = {{0}};
    if (as_payload_opts_check(&opts, &err) == 0)
        fz_read(&in, envp, &opts);
    else if (err.msg[0] == '\0')
        fz_fail("options refused without a reason");

    fz_lines_free(envp);
    fz_input_free(&in);
    return 0;
}
