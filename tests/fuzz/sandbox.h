/*
 * sandbox.h - keep the configuration loader inside one directory while a
 * harness runs it on a fuzz input.
 *
 * A fuzzed configuration names files: include: patterns, *_file secrets,
 * templates.dir, time zone locations, smtp.tls_ca_file, modules: to
 * dlopen().  Between fz_sandbox_enter() and fz_sandbox_leave() every
 * such access (fopen, open, openat, opendir, stat, lstat, glob, mkdir,
 * dlopen, whoever calls them: our code, libyaml's caller, OpenSSL) is
 * checked against the path written lexically normalised ("." and ".."
 * resolved, relative paths against the working directory):
 *
 *   - inside dir: allowed (the harness wrote every file there itself, so
 *     there is no symbolic link to follow out);
 *   - reading the system's zoneinfo (/usr/share/zoneinfo, /etc/localtime):
 *     allowed, as time zone names are confined to it by the loader itself;
 *   - writing a file that libFuzzer names as an artifact (crash-, leak-,
 *     timeout-, oom-, slow-unit-): allowed, so a crash found while the
 *     sandbox is on is still saved;
 *   - anything else fails with EACCES, as a file the loader may not read;
 *   - dlopen() always fails: loading a fuzz-written shared object is not
 *     the loader's to test.
 *
 * Not thread-safe to enter and leave; the loader runs on one thread.
 */
#ifndef AS_FUZZ_SANDBOX_H
#define AS_FUZZ_SANDBOX_H

#include <stddef.h>

void fz_sandbox_enter(const char *dir);
void fz_sandbox_leave(void);
/* How many accesses were refused since the last enter (for the tests of
 * the harness itself). */
size_t fz_sandbox_refused(void);

#endif
