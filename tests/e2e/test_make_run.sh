#!/usr/bin/env bash
# test_make_run.sh - `make run` through the real Makefile: it prints its own
# lines, not make's or the build's (the build is quiet unless it fails), and
# when the port is taken the one line that matters names http.listen and the
# configuration file.  Release build only: `make run` configures its build
# folder as Release, which must not touch the sanitizer build's.
set -u
: "${ALERTSINK:?}" "${AS_SOURCE_DIR:?}" "${AS_BUILD_DIR:?}"
if [ "${AS_BUILD_TYPE:-}" != Release ]; then
    echo "skipped: make run builds Release, this is ${AS_BUILD_TYPE:-unknown}"
    exit 0
fi
source "$(dirname "$0")/lib/check.sh"

# A port that is in use for as long as the test runs.
port_file="$tmp/port"
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(120)' "$port_file" &
holder=$!
cleanup='kill $holder 2>/dev/null' 
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(cat "$port_file")

cat >"$tmp/run.yaml" <<YAML
spool: {dir: $tmp/spool}
http: {listen: "127.0.0.1:$port"}
unix: {path: ""}
receivers: [{name: out, file: {path: $tmp/out.jsonl}}]
route: {receiver: out}
YAML
# make's own jobserver and directory lines must not show either.
( cd "$AS_SOURCE_DIR" && timeout 300 make --no-print-directory run BUILD="$AS_BUILD_DIR" \
    RUN_CONFIG="$tmp/run.yaml" JOBS=2 ) >"$tmp/out" 2>&1
rc=$?
[ $rc != 0 ] && echo "ok: make run fails ($rc)" || { echo "FAIL: make run succeeded"; fails=$((fails + 1)); }
contains "says it builds" "$tmp/out" "building alertsink (Release, into $AS_BUILD_DIR/) ..."
contains "says what it starts" "$tmp/out" "starting alertsink -c $tmp/run.yaml"
contains "the port names http.listen" "$tmp/out" "error=\"http.listen: cannot listen on 127.0.0.1:$port: Address already in use"
contains "and the file" "$tmp/out" "config=$tmp/run.yaml"
absent_re "no build noise" "$tmp/out" '\[ *[0-9]+%\]|Building C|Linking C|-- Configuring|cmake'
absent_re "no make commands echoed" "$tmp/out" 'alertsink -c .*run.yaml$|^mkdir'
lines=$(grep -vc '^make: \*\*\*' "$tmp/out")
[ "$lines" -le 4 ] && echo "ok: $lines lines of its own" || { echo "FAIL: $lines lines:"; cat "$tmp/out"; fails=$((fails + 1)); }

finish
