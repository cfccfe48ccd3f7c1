/*
 * log.h - the logger's controls, beside the public alertsink/log.h: the
 * level, where lines go (tests), and the format.
 *
 * One line an event on stderr, logfmt key=value fields (level, msg, then
 * the caller's), readable by people and by journald.  Under systemd
 * (JOURNAL_STREAM set) lines carry a <N> syslog priority prefix instead of
 * a timestamp, as journald adds its own.
 */
#ifndef AS_LIB_LOG_H
#define AS_LIB_LOG_H

#include "alertsink/log.h"

void as_log_set_level(int level);
/* Redirect output (tests); fd -1 restores stderr. */
void as_log_set_fd(int fd);

#endif
