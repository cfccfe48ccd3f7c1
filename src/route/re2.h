/*
 * re2.h - Go's regular expressions (RE2 syntax, Go's regexp semantics), as
 * Alertmanager compiles its matchers, on top of PCRE2.
 *
 * A pattern is walked token by token as Go's regexp/syntax parser walks
 * it, refused where Go refuses it (with Go's reason, and for PCRE's
 * constructs a word on what they are: backreferences, lookaround,
 * possessive quantifiers, atomic groups, recursion, conditionals, ...),
 * and otherwise rewritten into a PCRE2 pattern that matches what Go
 * matches: Perl classes and POSIX classes spelled out in ASCII (\s has no
 * \v), literals escaped, octal and hex escapes as \x{...}, capturing
 * groups made non-capturing, flags (i, m, s, U) passed through with Go's
 * scoping, a repetition applied after a flag group as Go applies it.
 * The compiled pattern is matched with PCRE2's DFA matcher, which, like
 * RE2, never backtracks: a label value cannot make a match take
 * exponential time.
 *
 * What cannot be matched exactly is refused rather than matched
 * differently: (?i) with \p{Lu}, \p{Ll} or \p{Lt} (Go folds the class
 * with its own Unicode tables).  Property names are Go's own (general
 * categories such as L, Lu, Nd, the scripts such as Greek, Latin, Han,
 * and Any), exactly spelled.
 */
#ifndef AS_RE2_H
#define AS_RE2_H

#include <pcre2.h>

#include "alertsink/buf.h"
#include "alertsink/module.h"

/* Translate the Go regular expression re into PCRE2 syntax (appended to
 * out, no anchors added).  -1 with err: "why at offset N" (a byte offset
 * into re). */
int as_re2_translate(const char *re, as_buf_t *out, as_err_t *err);

/* Compile re anchored as ^(?:re)$, as Alertmanager anchors a matcher's
 * regular expression.  NULL with err as above. */
pcre2_code *as_re2_compile(const char *re, as_err_t *err);

/* Does the whole of s match (a pattern of as_re2_compile)?  A string that
 * is not valid UTF-8 is read as Go reads it, each bad byte as U+FFFD. */
int as_re2_match(const pcre2_code *code, const char *s);

#endif
