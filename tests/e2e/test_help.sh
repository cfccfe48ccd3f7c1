#!/usr/bin/env bash
# test_help.sh - every command's usage, in one place each: `alertsink help`,
# `alertsink help CMD [SUBCMD]`, `alertsink CMD --help` and
# `alertsink wa CMD --help` print that command's usage on stdout and exit 0.
set -u
source "$(dirname "$0")/lib/check.sh"
: "${ALERTSINK:?}"

for h in help --help -h; do
    "$ALERTSINK" $h >"$tmp/out" 2>"$tmp/err"
    check "alertsink $h" 0 $?
    contains "alertsink $h: general usage" "$tmp/out" "usage: alertsink [-c FILE]"
    contains "alertsink $h: names help" "$tmp/out" "alertsink help [COMMAND [SUBCOMMAND]]"
    [ -s "$tmp/err" ] && { echo "FAIL: alertsink $h wrote to stderr"; fails=$((fails + 1)); }
done
contains "general usage: --no-env" "$tmp/out" "--no-env"

for cmd in send preview render routes status queue wa requeue ready; do
    "$ALERTSINK" help $cmd >"$tmp/help" 2>"$tmp/err"
    check "help $cmd" 0 $?
    contains "help $cmd: its usage" "$tmp/help" "usage: alertsink $cmd"
    "$ALERTSINK" $cmd --help >"$tmp/own" 2>"$tmp/err"
    check "$cmd --help" 0 $?
    same "help $cmd = $cmd --help" "$tmp/help" "$tmp/own"
done

for sub in login pair devices logout send; do
    "$ALERTSINK" wa $sub --help >"$tmp/own" 2>"$tmp/err"
    check "wa $sub --help" 0 $?
    contains "wa $sub --help: its usage first" "$tmp/own" "usage: alertsink wa $sub"
    for other in login pair devices logout send; do
        [ $other = $sub ] && continue
        absent "wa $sub --help: not wa $other" "$tmp/own" "alertsink wa $other"
    done
    "$ALERTSINK" help wa $sub >"$tmp/help" 2>"$tmp/err"
    check "help wa $sub" 0 $?
    same "help wa $sub = wa $sub --help" "$tmp/help" "$tmp/own"
    # --help wins over missing arguments, wherever it is.
    "$ALERTSINK" wa -c /nonexistent.yaml $sub --help >"$tmp/own" 2>"$tmp/err"
    check "wa -c F $sub --help" 0 $?
done
contains "wa send --help: options" "$tmp/help" "--at T"

for sub in show retry drop; do
    "$ALERTSINK" queue $sub --help >"$tmp/own" 2>"$tmp/err"
    check "queue $sub --help" 0 $?
    contains "queue $sub --help: its usage first" "$tmp/own" "usage: alertsink queue $sub"
    for other in show retry drop; do
        [ $other = $sub ] && continue
        absent "queue $sub --help: not queue $other" "$tmp/own" "alertsink queue $other"
    done
    "$ALERTSINK" help queue $sub >"$tmp/help" 2>"$tmp/err"
    check "help queue $sub" 0 $?
    same "help queue $sub = queue $sub --help" "$tmp/help" "$tmp/own"
done
"$ALERTSINK" queue --help >"$tmp/own"
for sub in show retry drop; do
    contains "queue --help lists $sub" "$tmp/own" "alertsink queue $sub"
done
"$ALERTSINK" send --help >"$tmp/own"
contains "send --help: --dry-run" "$tmp/own" "--dry-run"
contains "send --help: MESSAGE" "$tmp/own" "[MESSAGE...]"
"$ALERTSINK" wa pair --help >"$tmp/own"
contains "wa pair --help: --timeout" "$tmp/own" "--timeout D"
"$ALERTSINK" wa --help >"$tmp/own"
for sub in login pair devices logout send; do
    contains "wa --help lists $sub" "$tmp/own" "alertsink wa $sub"
done

"$ALERTSINK" help frobnicate >"$tmp/out" 2>"$tmp/err"
check "help of an unknown command" 2 $?
contains "help of an unknown command: named" "$tmp/err" "alertsink help: unknown command 'frobnicate'"
"$ALERTSINK" wa pair --phone >"$tmp/out" 2>"$tmp/err"
check "wa pair usage error" 2 $?
contains "wa pair usage error: pair's usage" "$tmp/err" "usage: alertsink wa pair"
absent "wa pair usage error: not the others" "$tmp/err" "alertsink wa send"

finish
