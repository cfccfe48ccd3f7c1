#!/usr/bin/env bash
# send.sh - one-shot sends: `alertsink send` next to Apprise's CLI, both
# delivering the same alert to the same local SMTP server.
#
#   bench/send.sh                  # RUNS=30; ALERTSINK=path/to/alertsink
#
# The target is tests/smtp_server.py (aiosmtpd) on a loopback port, plain
# SMTP, no AUTH, for both.  Each run is a whole process from start to exit,
# as a cron job or a monitoring hook would run it:
#
#   A  alertsink send -c CONF --title T < BODY    (receiver: email, mode email;
#      its spool on disk under $TMPDIR: the alert is written to maildrop/
#      and fsync'ed before it is sent, dedup_window 0s so every run sends)
#   B  apprise -t T -b BODY mailto://127.0.0.1:PORT?from=...&to=...
#
# Both send one multipart/alternative message (text and HTML parts) in
# one SMTP transaction.  hyperfine runs them in the same call (Debian
# package hyperfine, installed when missing and running as root), each
# through the same `sh -c`; afterwards the server must have received one
# message per run of each, or the figures are refused.  Prints both
# medians and the ratio B/A.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
ALERTSINK=${ALERTSINK:-$here/build/alertsink}
PY=/usr/bin/python3
RUNS=${RUNS:-30} WARMUP=${WARMUP:-3}

die() { echo "send.sh: $*" >&2; exit 1; }
[ -x "$ALERTSINK" ] || die "no alertsink binary at $ALERTSINK (build first, or set ALERTSINK)"
missing=""
command -v apprise >/dev/null || missing="$missing apprise"
command -v hyperfine >/dev/null || missing="$missing hyperfine"
$PY -c 'import aiosmtpd' 2>/dev/null || missing="$missing python3-aiosmtpd"
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || die "missing:$missing (apt-get install$missing)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi

dir=$(mktemp -d "${TMPDIR:-/var/tmp}/as-bench-send-XXXXXX")
smtp_pid=
cleanup() {
    [ -z "$smtp_pid" ] || kill "$smtp_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT

mkdir -p "$dir/mail"
$PY "$here/tests/smtp_server.py" --spool "$dir/mail" >"$dir/smtp.out" 2>"$dir/smtp.err" &
smtp_pid=$!
for _ in $(seq 1 100); do
    grep -q '^READY ' "$dir/smtp.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '^READY ' "$dir/smtp.out" || die "the SMTP server did not start: $(cat "$dir/smtp.err")"
port=$(awk '/^READY/ {print $2}' "$dir/smtp.out")

cat >"$dir/alertsink.yaml" <<EOF
log: {level: warn}
spool: {dir: $dir/spool}
defaults: {dedup_window: 0s}
smtp: {host: 127.0.0.1, port: $port, tls: none, from: "alerts@example.com", timeout: 10s}
receivers:
  - name: mail
    email: {to: ["oncall@example.com"]}
    mode: email
route: {receiver: mail}
EOF
title="DiskFull on db1"
body="disk / is 97% full on db1 since 10:42"
printf '%s\n' "$body" >"$dir/body.txt"
url="mailto://127.0.0.1:$port?from=alerts@example.com&to=oncall@example.com"

a="$ALERTSINK send -c $dir/alertsink.yaml --title '$title' < $dir/body.txt"
b="apprise -t '$title' -b '$body' '$url'"
# One of each first: both must deliver, or there is nothing to compare.
sh -c "$a" >/dev/null || die "alertsink send failed: $a"
sh -c "$b" >/dev/null || die "apprise failed: $b"
[ "$(ls "$dir/mail" | grep -c '\.eml$')" = 2 ] || die "a check send did not arrive"

hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$dir/times.json" \
    -n "alertsink send" "sh -c \"$a\"" -n "apprise" "sh -c \"$b\"" >"$dir/hyperfine.out" 2>&1 ||
    { cat "$dir/hyperfine.out" >&2; die "hyperfine failed"; }

want=$((2 + 2 * (WARMUP + RUNS)))
got=$(ls "$dir/mail" | grep -c '\.eml$')
[ "$got" = "$want" ] || die "the server received $got messages, not $want: a run did not deliver"

$PY - "$dir/times.json" "$RUNS" "$got" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
a, b = r["alertsink send"], r["apprise"]
print("bench/send.sh: one alert by email to a local aiosmtpd, %s runs each (hyperfine), "
      "%s messages received" % (sys.argv[2], sys.argv[3]))
for name, x in (("alertsink send", a), ("apprise", b)):
    print("  %-15s median %7.1f ms   (min %6.1f, max %6.1f; user %5.1f ms, sys %5.1f ms mean)"
          % (name, x["median"] * 1e3, x["min"] * 1e3, x["max"] * 1e3, x["user"] * 1e3,
             x["system"] * 1e3))
print("  ratio apprise / alertsink send (medians): %.1fx" % (b["median"] / a["median"]))
EOF
