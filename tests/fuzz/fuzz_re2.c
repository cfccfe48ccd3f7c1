/*
 * fuzz_re2.c - Go's regular expressions on PCRE2 (route/re2.h): the
 * translation of a matcher's regex, its compilation anchored as
 * Alertmanager anchors it, and matching with the DFA matcher.
 *
 * The input is a regular expression; each "#@match" section is a label
 * value to match it against (its content, less one final newline),
 * besides a few fixed ones and the expression itself.
 *
 * What must hold besides not crashing or hanging (the DFA matcher must
 * never take exponential time): a refusal says why and at which offset
 * (one inside the expression); an expression that translates and then does
 * not compile says so as "cannot compile it: ...".
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "route/re2.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

/* err is "why at offset N", N at most the length of re. */
static void fz_refusal(const char *what, const as_err_t *err, size_t relen)
{
    const char *at = NULL; /* the last one: the expression quoted before may hold one */
    for (const char *p = err->msg; (p = strstr(p, " at offset ")) != NULL; p++)
        at = p;
    if (err->msg[0] == '\0' || at == NULL)
        fz_fail("%s refused without an offset: '%s'", what, err->msg);
    if (strtoul(at + 11, NULL, 10) > relen)
        fz_fail("%s refused at an offset past its end (%zu): '%s'", what, relen, err->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fixed[] = {
        "",  "a", "foo", "db1:9100", "\n", "\xff", "ǅ", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
        NULL};
    fz_input_t in;
    fz_input_split(&in, data, size);
    const char *re = in.parts[0].data;
    size_t relen = strlen(re);

    as_buf_t out = AS_BUF_INIT;
    as_err_t err = {{0}};
    if (as_re2_translate(re, &out, &err) < 0)
        fz_refusal("an expression", &err, relen);
    as_buf_free(&out);

    err.msg[0] = '\0';
    pcre2_code *code = as_re2_compile(re, &err);
    if (code == NULL) {
        if (strncmp(err.msg, "cannot compile it: ", 19) != 0)
            fz_refusal("an anchored expression", &err, relen);
    } else {
        for (const char *const *s = fixed; *s; s++)
            as_re2_match(code, *s);
        as_re2_match(code, re);
        const fz_part_t *p;
        for (size_t pos = 0; (p = fz_input_next(&in, "match", &pos)) != NULL;) {
            char *s =
                as_xstrndup(p->data, p->len && p->data[p->len - 1] == '\n' ? p->len - 1 : p->len);
            as_re2_match(code, s);
            free(s);
        }
        pcre2_code_free(code);
    }
    fz_input_free(&in);
    return 0;
}
