/*
 * fuzz_split.c - a long message cut into numbered parts (as_tpl_split,
 * render/template.h): what a channel's max_length does to a rendered
 * message.
 *
 * The input is the message.  It is split at a few lengths (tiny ones,
 * where the rules give way, and sizes a phone shows), and at the length of
 * an optional "#@max N" section.
 *
 * What must hold, as template.h promises: a message that fits is one part,
 * itself; otherwise every part starts "(i/n) ", is at most max bytes when
 * max leaves room for that and one character, and holds whole UTF-8
 * characters when the message does; taking "(i/n) " and the repeated
 * header line off each part and joining them gives the message back (the
 * part after its first line, when that line is repeated).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertsink/json.h"
#include "fuzz.h"
#include "render/template.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

static void fz_split(const char *text, size_t max)
{
    char **parts = NULL;
    size_t len = strlen(text);
    size_t n = as_tpl_split(text, max, &parts);
    if (n == 0)
        fz_fail("no part at all");
    if (max == 0 || len <= max) {
        if (n != 1 || strcmp(parts[0], text) != 0)
            fz_fail("a message that fits (%zu <= %zu) was changed", len, max);
        as_tpl_parts_free(parts, n);
        return;
    }
    /* Joined as they are, the parts give the message, or, when each
     * repeats the message's first line, they do once that is taken off. */
    const char *nl = strchr(text, '\n');
    size_t hlen = nl ? (size_t)(nl - text) + 1 : 0;
    int repeated = nl != NULL;
    int utf8 = as_utf8_valid(text, len);
    as_buf_t joined = AS_BUF_INIT, stripped = AS_BUF_INIT;
    as_buf_append(&joined, "", 0);
    as_buf_append(&stripped, "", 0);
    for (size_t i = 0; i < n; i++) {
        char prefix[64];
        int pl = snprintf(prefix, sizeof(prefix), "(%zu/%zu) ", i + 1, n);
        const char *p = parts[i];
        size_t plen = strlen(p);
        if (strncmp(p, prefix, (size_t)pl) != 0)
            fz_fail("part %zu of %zu does not start with '%s': %s", i + 1, n, prefix, p);
        if (max >= (size_t)pl + 4 && plen > max)
            fz_fail("part %zu is %zu bytes, more than %zu", i + 1, plen, max);
        if (utf8 && !as_utf8_valid(p, plen))
            fz_fail("part %zu cuts a UTF-8 character", i + 1);
        p += pl;
        as_buf_puts(&joined, p);
        if (repeated && strncmp(p, text, hlen) == 0)
            as_buf_puts(&stripped, p + hlen);
        else
            repeated = 0;
    }
    if (strcmp(joined.data, text) != 0 && !(repeated && strcmp(stripped.data, text + hlen) == 0))
        fz_fail("the parts do not join into the message (max %zu)", max);
    as_buf_free(&stripped);
    as_buf_free(&joined);
    as_tpl_parts_free(parts, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t maxes[] = {0, 1, 5, 12, 16, 17, 24, 40, 64, 160, 1000};
    fz_input_t in;
    fz_input_split(&in, data, size);
    const char *text = in.parts[0].data;
    for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++)
        fz_split(text, maxes[i]);
    const fz_part_t *m = fz_input_get(&in, "max");
    if (m != NULL)
        fz_split(text, strtoul(m->arg, NULL, 10) % 100000);
    fz_input_free(&in);
    return 0;
}
