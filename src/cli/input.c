/*
 * input.c - what `alertsink send` and `alertsink preview` read (see
 * cli.h): the words of the command line when there are any, else a file
 * or stdin, in any of send's formats (formats.c), with send's options
 * applied.
 *
 * A command that reads stdin and finds a terminal there says so, and how
 * to end the input: otherwise it looks as if it hung.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alertsink/clock.h"
#include "alertsink/mem.h"
#include "cli/cli.h"
#include "queue/spool.h"

extern char **environ;

#define AS_INPUT_MAX (16u << 20) /* bytes of stdin or a file */

void as_cli_words(as_buf_t *b, char *const *words, size_t nwords)
{
    for (size_t i = 0; i < nwords; i++) {
        if (i > 0)
            as_buf_putc(b, ' ');
        as_buf_puts(b, words[i]);
    }
}

as_note_t *as_cli_record(cJSON *payload, int grouped, const char *receiver)
{
    as_mem_t *mem = as_mem_new(NULL, payload); /* the record's: its notes share it */
    as_note_t *rec = as_note_new(mem);
    as_mem_unref(mem);
    as_spool_id(rec->id);
    memcpy(rec->record, rec->id, sizeof(rec->record));
    rec->accepted_ms = as_now_ms();
    rec->input = as_note_str(rec, "stdin");
    rec->receiver = as_note_str(rec, receiver);
    rec->grouped = grouped != 0;
    rec->payload = payload;
    return rec;
}

cJSON *as_cli_input(const char *who, char *const *words, size_t nwords, const char *path,
                    as_format_t format, const as_payload_opts_t *opts, int *grouped, as_err_t *err)
{
    as_format_t used;
    *grouped = 0;
    if (nwords > 0) {
        as_buf_t text = AS_BUF_INIT;
        as_cli_words(&text, words, nwords);
        cJSON *p = as_format_read(format, text.data, text.len, environ, opts, &used, grouped, err);
        as_buf_free(&text);
        return p;
    }
    FILE *in = stdin;
    if (path != NULL && strcmp(path, "-") != 0) {
        if ((in = fopen(path, "r")) == NULL) {
            as_err_set(err, "cannot read %s: %m", path);
            return NULL;
        }
    } else if (isatty(STDIN_FILENO)) {
        fprintf(stderr,
                "%s: reading the notification from stdin; end it with Ctrl-D on a line of its "
                "own (or %s)\n",
                who,
                words != NULL ? "give the message as arguments: alertsink send 'disk full on db1'"
                              : "name a file: --data FILE");
    }
    cJSON *p = as_format_read_stream(format, in, AS_INPUT_MAX, environ, opts, &used, grouped, err);
    if (in != stdin)
        fclose(in);
    return p;
}
