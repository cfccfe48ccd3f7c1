/*
 * fuzz_timeinterval.c - Alertmanager's time_intervals: the YAML of the
 * time_intervals: key (times, weekdays, days_of_month, months, years,
 * location), its validation, and evaluation at many instants.
 *
 * The input is the value of a time_intervals: key, as YAML (a list of
 * {name, time_intervals: [...]}).  When it parses, every interval is
 * evaluated at fixed instants (month ends, leap days, DST changes, the
 * limits of the years an int holds) and at instants drawn from the input.
 *
 * What must hold besides not crashing: a refusal has errors; an accepted
 * value printed as -T prints it parses again and every interval contains
 * the same instants as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/conf.h"
#include "lib/yamldoc.h"
#include "route/timeinterval.h"

static const as_conf_key_t fz_key = {"time_intervals", &as_conf_time_intervals, 0, 0, NULL, NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

typedef struct {
    as_pool_t *pool;
    as_conf_t cf;
    as_array_t tis;
} fz_parsed_t;

static int fz_parse(fz_parsed_t *p, const char *yaml)
{
    memset(p, 0, sizeof(*p));
    p->pool = as_pool_create();
    as_conf_init(&p->cf, p->pool);
    as_node_t *root = as_yaml_load_string(&p->cf, "fuzz.yaml", yaml);
    int rc = root ? as_conf_time_intervals.parse(&p->cf, &fz_key, root, &p->tis) : -1;
    if (rc == 0 && as_conf_errors(&p->cf) == 0)
        return 0;
    if (as_conf_errors(&p->cf) == 0)
        fz_fail("time intervals refused without an error");
    return -1;
}

static void fz_parsed_free(fz_parsed_t *p)
{
    as_conf_free_errors(&p->cf);
    as_pool_destroy(p->pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *yaml = as_xstrndup((const char *)data, size);
    fz_parsed_t a;
    if (fz_parse(&a, yaml) == 0) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        fputs("time_intervals:", out);
        as_conf_time_intervals.print(out, &fz_key, &a.tis, 0);
        fclose(out);
        fz_parsed_t b;
        if (fz_parse(&b, strchr(text, ':') + 1) < 0) {
            as_conf_print_errors(&b.cf, stderr);
            fz_fail("time intervals, as printed, do not parse:\n%s", text);
        }
        if (b.tis.n != a.tis.n)
            fz_fail("time intervals, as printed, are not as many:\n%s", text);
        int64_t t[64];
        size_t nt = fz_instants(data, size, t, 64);
        for (size_t i = 0; i < a.tis.n; i++)
            for (size_t k = 0; k < nt; k++) {
                const as_time_interval_t *x = (const as_time_interval_t *)a.tis.elts + i;
                const as_time_interval_t *y = (const as_time_interval_t *)b.tis.elts + i;
                if (as_time_interval_contains(x, (time_t)t[k]) !=
                    as_time_interval_contains(y, (time_t)t[k]))
                    fz_fail("time interval %zu, as printed, differs at %lld:\n%s", i,
                            (long long)t[k], text);
            }
        fz_parsed_free(&b);
        free(text);
    }
    fz_parsed_free(&a);
    free(yaml);
    return 0;
}
