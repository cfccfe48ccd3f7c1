/*
 * log.h - the one logger: stderr, one line an event, logfmt key=value
 * fields (time, level, msg, then the caller's), readable by people and by
 * journald.  Under systemd (JOURNAL_STREAM set) lines carry a <N> syslog
 * priority prefix instead of a timestamp, as journald adds its own.
 *
 * log.format: json writes the same event as one JSON object a line, with
 * the same keys in the same order: time, level, msg, then the fields
 * (numbers as JSON numbers).  Under systemd it keeps the <N> prefix too:
 * journald takes it off (it becomes the entry's PRIORITY), so the journal
 * holds the object alone, and "time" is left out, as in logfmt.
 *
 * Secrets never reach the output: every value registered with
 * as_log_secret() (the configuration registers all of its secret keys, the
 * WhatsApp client its token) is replaced by <redacted> in every value
 * before it is written, and in the finished line, whatever the field it
 * was passed in.
 */
#ifndef AS_LOG_H
#define AS_LOG_H

#include "alertsink/module.h"

enum { AS_LOG_LOGFMT = 0, AS_LOG_JSON = 1 };

void as_log_set_level(int level);
void as_log_set_format(int format);       /* AS_LOG_LOGFMT or AS_LOG_JSON */
int as_log_level_parse(const char *name); /* -1 when unknown */
const char *as_log_level_name(int level);
/* Redirect output (tests); fd -1 restores stderr. */
void as_log_set_fd(int fd);
/* Redact registered secrets in buf in place (used by the logger; also by
 * anything that echoes remote answers). Returns buf. */
char *as_log_redact(char *buf, size_t size);

#endif
