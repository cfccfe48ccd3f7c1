/*
 * log.h - the logger's controls, beside the public alertsink/log.h: the
 * level, the format, where lines go (tests).  The logger: stderr, one line
 * an event, logfmt key=value
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
 * sinks their tokens) is replaced by <redacted> in every value
 * before it is written, and in the finished line, whatever the field it
 * was passed in.
 */
#ifndef AS_LIB_LOG_H
#define AS_LIB_LOG_H

#include "alertsink/log.h"

enum { AS_LOG_LOGFMT = 0, AS_LOG_JSON = 1 };

void as_log_set_level(int level);
void as_log_set_format(int format); /* AS_LOG_LOGFMT or AS_LOG_JSON */
/* Redirect output (tests); fd -1 restores stderr. */
void as_log_set_fd(int fd);

#endif
