/*
 * conf.h - the generic configuration loader: key tables in, structs out.
 *
 * As nginx's ngx_conf_parse walks ngx_command_t arrays, as_conf_section()
 * walks an as_conf_key_t table over a YAML map: every key of the map must
 * be in the table (else "unknown key"), every key of the table is parsed by
 * its type into the struct at its offset, or gets its default, or is
 * reported missing.  A key flagged AS_CONF_SECRET also takes the NAME_file
 * form (the file's content, less one trailing newline), is registered with
 * the logger's redaction list and prints as <redacted>.
 *
 * Errors never stop the loader: each is collected as "FILE:LINE:COL:
 * message" so `alertsink -t` shows all of them at once.  An unknown key
 * gets advice when there is some: the hook of the caller (config.c knows
 * Alertmanager's keys), else the nearest known key of that map within two
 * edits ("did you mean 'level'?").
 *
 * Warnings are collected the same way; the command prints them.  With
 * AS_LOAD_NO_SEND (commands that never send: routes, -t --no-env), a
 * secret that cannot be had (an unset ${NAME}, an unreadable NAME_file) is
 * a warning and the key holds AS_CONF_UNSET_SECRET, so that the modules'
 * checks of "is it set" pass; nothing is ever sent with it.
 */
#ifndef AS_CONF_H
#define AS_CONF_H

#include "alertsink/conf.h"
#include "lib/yamldoc.h"

/* Edit distance (insertions, deletions, substitutions and swaps of two
 * neighbours) between a and b, or max + 1 when it is over max. */
size_t as_conf_distance(const char *a, const char *b, size_t max);

/* Parse map (NULL or null: defaults only) into base with keys. */
int as_conf_section_parse(as_conf_t *cf, const as_conf_key_t *keys, const as_node_t *map,
                          void *base);
/* Print base as YAML at indent, key by key. */
void as_conf_section_print(FILE *out, const as_conf_key_t *keys, const void *base, int indent);

/* Print a string as a YAML scalar (quoted when needed). */
void as_conf_print_string(FILE *out, const char *s);
/* After "key:", open a list of n items: " []" and 0 when it is empty,
 * else a line break and 1, the caller printing the items on lines of
 * their own. */
int as_conf_print_list(FILE *out, size_t n);
/* A duration as the configuration writes it: "90s", "2m", "1h30m". */
void as_format_duration(int64_t ms, char *buf, size_t len);

#endif
