# check.sh - what the shell tests of tests/e2e share: a temporary directory
# removed at exit, and checks that count failures and say what they saw.
#
#   source "$(dirname "$0")/lib/check.sh"
#   "$ALERTSINK" -t -c x.yaml 2>"$tmp/err"; check "-t" 1 $?
#   contains "-t says why" "$tmp/err" "unknown key"
#   finish                      # the summary line, and the exit status
#
# A test that needs more at exit sets `cleanup` to a command; it runs
# before the directory goes.
set -u
tmp=$(mktemp -d)
fails=0
cleanup=:
trap 'eval "$cleanup"; rm -rf "$tmp"' EXIT

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { # check NAME EXPECTED_RC ACTUAL_RC
    if [ "$2" != "$3" ]; then bad "$1: exit $3, expected $2"; else ok "$1"; fi
}
contains() { # contains NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then ok "$1"; else bad "$1: '$3' not in:"; cat "$2"; fi
}
absent() { # absent NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then bad "$1: '$3' found in:"; cat "$2"; else ok "$1"; fi
}
absent_re() { # absent_re NAME FILE REGEX
    if grep -qE -- "$3" "$2"; then bad "$1: /$3/ in:"; cat "$2"; else ok "$1"; fi
}
same() { # same NAME FILE1 FILE2
    if cmp -s "$2" "$3"; then ok "$1"; else bad "$1: they differ:"; diff "$2" "$3"; fi
}
finish() {
    if [ "$fails" = 0 ]; then echo "all passed"; else echo "$fails failed"; exit 1; fi
}
