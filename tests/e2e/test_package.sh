#!/usr/bin/env bash
# test_package.sh - the Debian package, end to end, on this machine.
#
#   make deb (DEB_BUILD_OPTIONS=nocheck) -> alertsink_VERSION_ARCH.deb
#   lintian: no error
#   dpkg -i: binary, conffile, templates, header, unit, logrotate, man pages,
#            bash completion,
#            the system user
#   alertsink -t on the installed configuration
#   systemd-analyze verify (clean) and security --offline=yes (<= 1.5)
#   the installed binary, as the user alertsink, on the installed
#   configuration (its HTTP port moved to a free one), with the folders
#   systemd would create: a fixture posted is found in the outbox; SIGHUP
#   reloads, SIGTERM stops with 0
#   dpkg --purge: everything gone
#
# It changes the machine (installs and purges a package), so it runs only
# as root, only in the Release build (ctest label "package"), and never
# inside the package build.  A machine where alertsink is installed for
# real is left alone (exit 77: skipped).  Cleanup runs even on failure.
set -euo pipefail

SRC=${AS_SOURCE_DIR:?AS_SOURCE_DIR is not set}
SKIP=77

if [ "$(id -u)" != 0 ]; then
    echo "test_package: needs root (dpkg -i); skipped"
    exit $SKIP
fi
if dpkg-query -W -f='${Status}' alertsink 2>/dev/null | grep -q 'install ok installed'; then
    echo "test_package: the package alertsink is installed on this machine; not touching it"
    exit $SKIP
fi
for d in /var/lib/alertsink /run/alertsink /etc/alertsink; do
    if [ -e "$d" ]; then
        echo "FAIL: $d exists although the package is not installed: remove it first" >&2
        exit 1
    fi
done

# Run as the package's user with no process in between (runuser forks and
# would stand between the test and the daemon's signals).
AS_USER="setpriv --reuid=alertsink --regid=alertsink --init-groups --"
tmp=$(mktemp -d /tmp/as-package.XXXXXX)
installed=0
pid=
cleanup() {
    rc=$?
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
    fi
    if [ "$installed" = 1 ]; then
        dpkg --purge alertsink >"$tmp/purge.log" 2>&1 || cat "$tmp/purge.log" >&2
    fi
    if [ "$rc" != 0 ] && [ -f "$tmp/daemon.log" ]; then
        echo "--- daemon log" >&2
        tail -50 "$tmp/daemon.log" >&2
    fi
    rm -rf "$tmp"
    exit $rc
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# --- build --------------------------------------------------------------------------------
version=$(dpkg-parsechangelog -l "$SRC/packaging/debian/changelog" -SVersion)
cmake_version=$(sed -n 's/^project(alertsink VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ "$version" = "$cmake_version" ] ||
    fail "debian/changelog says $version, CMakeLists.txt says $cmake_version"
arch=$(dpkg --print-architecture)
echo "== make deb ($version, $arch)"
start=$(date +%s)
if ! DEB_BUILD_OPTIONS=nocheck make -C "$SRC" --no-print-directory deb \
    DEB_STAGE="$tmp/stage" DEB_OUT="$tmp/out" >"$tmp/build.log" 2>&1; then
    tail -40 "$tmp/build.log" >&2
    fail "make deb failed"
fi
deb="$tmp/out/alertsink_${version}_${arch}.deb"
[ -f "$deb" ] || fail "no $deb; the build wrote: $(ls "$tmp/out")"
[ ! -e "$tmp/stage" ] || fail "make deb left its staging folder"
echo "built $(basename "$deb") in $(($(date +%s) - start)) s"

# --- lintian --------------------------------------------------------------------------------
echo "== lintian"
lintian --fail-on error --display-info "$deb" >"$tmp/lintian.log" 2>&1 || {
    cat "$tmp/lintian.log"
    fail "lintian reports errors"
}
grep -v '^running with root' "$tmp/lintian.log" || true
echo "lintian: $(grep -c '^E:' "$tmp/lintian.log" || true) errors," \
    "$(grep -c '^W:' "$tmp/lintian.log" || true) warnings," \
    "$(grep -c '^I:' "$tmp/lintian.log" || true) info"

# --- install --------------------------------------------------------------------------------
echo "== dpkg -i"
installed=1
if ! dpkg -i "$deb" >"$tmp/install.log" 2>&1; then
    # Dependencies missing on this machine: let apt bring them.
    DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >>"$tmp/install.log" 2>&1 || {
        cat "$tmp/install.log" >&2
        fail "dpkg -i failed"
    }
fi
dpkg-query -W -f='${Status}\n' alertsink | grep -q 'install ok installed' || fail "not installed"
for f in /usr/sbin/alertsink /etc/alertsink/alertsink.yaml /usr/include/alertsink/module.h \
    /lib/systemd/system/alertsink.service /etc/logrotate.d/alertsink \
    /usr/share/alertsink/templates/whatsapp.mustache /usr/share/alertsink/templates/email.mustache \
    /usr/share/alertsink/templates/email.html.mustache /usr/share/alertsink/templates/file.mustache \
    /usr/share/bash-completion/completions/alertsink; do
    [ -f "$f" ] || fail "$f is not installed"
done
bash -c 'source /usr/share/bash-completion/completions/alertsink && complete -p alertsink' |
    grep -q '_alertsink alertsink' || fail "the bash completion does not load"
for t in "$SRC"/templates/*.mustache; do
    cmp -s "$t" "/usr/share/alertsink/templates/$(basename "$t")" ||
        fail "template $(basename "$t") differs from the source"
done
dpkg-query -W -f='${Conffiles}\n' alertsink | grep -q '^ /etc/alertsink/alertsink.yaml ' ||
    fail "/etc/alertsink/alertsink.yaml is not a conffile"
for page in alertsink.8 alertsink.yaml.5; do
    f=$(man -w "${page##*.}" "${page%.*}" 2>/dev/null) || fail "man page $page not found"
    [ -z "$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)" ] || fail "man warnings in $f"
done
entry=$(getent passwd alertsink) || fail "no user alertsink"
uid=$(echo "$entry" | cut -d: -f3)
[ "$uid" -lt 1000 ] || fail "alertsink is not a system user ($entry)"
getent group alertsink >/dev/null || fail "no group alertsink"
/usr/sbin/alertsink -V | grep -q "^alertsink $version " || fail "alertsink -V: $(/usr/sbin/alertsink -V | head -1)"
echo "installed: $(dpkg-query -W -f='${Package} ${Version} ${Installed-Size} KiB' alertsink), user $entry"

# --- the installed configuration -----------------------------------------------------------
echo "== alertsink -t"
$AS_USER /usr/sbin/alertsink -t -c /etc/alertsink/alertsink.yaml >"$tmp/t.log" 2>&1 || {
    cat "$tmp/t.log" >&2
    fail "the installed configuration does not pass alertsink -t"
}
cat "$tmp/t.log"
! grep -q "level=warn" "$tmp/t.log" || fail "alertsink -t warns on the installed configuration"

# --- the unit ---------------------------------------------------------------------------------
echo "== systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/alertsink.service >"$tmp/verify.log" 2>&1 || {
    cat "$tmp/verify.log" >&2
    fail "systemd-analyze verify failed"
}
[ ! -s "$tmp/verify.log" ] || { cat "$tmp/verify.log" >&2; fail "systemd-analyze verify is not clean"; }
echo "clean"
echo "== systemd-analyze security --offline=yes"
systemd-analyze security --offline=yes /lib/systemd/system/alertsink.service >"$tmp/security.log" 2>&1 || true
grep -v '^✓' "$tmp/security.log" | sed 's/ *$//'
exposure=$(sed -n 's/.*Overall exposure level for alertsink.service: \([0-9.]*\).*/\1/p' "$tmp/security.log")
[ -n "$exposure" ] || fail "no exposure level"
awk -v e="$exposure" 'BEGIN { exit !(e <= 1.5) }' || fail "exposure $exposure > 1.5"
if command -v logrotate >/dev/null; then
    echo "== logrotate -d"
    logrotate -d -s "$tmp/logrotate.state" /etc/logrotate.d/alertsink >"$tmp/logrotate.log" 2>&1 || {
        cat "$tmp/logrotate.log" >&2
        fail "logrotate rejects /etc/logrotate.d/alertsink"
    }
    ! grep -qi "error" "$tmp/logrotate.log" || { cat "$tmp/logrotate.log" >&2; fail "logrotate errors"; }
    echo "ok"
fi

# --- run it -----------------------------------------------------------------------------------
echo "== the installed daemon"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conf="$tmp/alertsink.yaml"
sed "s/^\(  listen: \)127\.0\.0\.1:9095/\1127.0.0.1:$port/" /etc/alertsink/alertsink.yaml >"$conf"
grep -q "^  listen: 127.0.0.1:$port" "$conf" || fail "the installed configuration has no 'listen: 127.0.0.1:9095' line to move"
chmod 755 "$tmp"
chmod 644 "$conf"
# What systemd's StateDirectory= and RuntimeDirectory= would create.
install -d -o alertsink -g alertsink -m 0700 /var/lib/alertsink
install -d -o alertsink -g alertsink -m 0750 /run/alertsink
$AS_USER /usr/sbin/alertsink -c "$conf" >"$tmp/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || fail "the daemon exited"
    sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || fail "the daemon does not answer"
[ -S /run/alertsink/alertsink.sock ] || fail "no socket /run/alertsink/alertsink.sock"
[ -d /var/lib/alertsink/spool/incoming ] || fail "no spool in /var/lib/alertsink/spool"

fixture="$SRC/tests/fixtures/alertmanager-0.25/firing-group-2.json"
answer=$(curl -sf --data-binary @"$fixture" "http://127.0.0.1:$port/api/v1/alertmanager") ||
    fail "POST of the fixture failed"
id=$(echo "$answer" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
echo "posted $(basename "$fixture"): $answer"
outbox=/var/lib/alertsink/outbox.jsonl
for _ in $(seq 100); do
    grep -q "\"id\":\"$id\"" "$outbox" 2>/dev/null && break
    sleep 0.1
done
line=$(grep "\"id\":\"$id\"" "$outbox") || fail "$id is not in $outbox"
echo "$line" | /usr/bin/python3 -c '
import json, sys
l = json.loads(sys.stdin.read())
assert l["channel"] == "file" and l["receiver"] == "outbox" and l["status"] == "firing", l
assert l["text"].startswith("[FIRING:2]"), l["text"]
print("in the outbox:", l["text"].splitlines()[0])'
[ "$(stat -c %U "$outbox")" = alertsink ] || fail "the outbox is not the user alertsink's"

kill -HUP "$pid"
for _ in $(seq 100); do
    grep -q "msg=reloaded" "$tmp/daemon.log" && break
    sleep 0.1
done
grep -q "msg=reloaded" "$tmp/daemon.log" || fail "SIGHUP did not reload"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "the daemon exited with $rc"
echo "reloaded, stopped with 0"

# --- purge ----------------------------------------------------------------------------------
echo "== dpkg --purge"
dpkg --purge alertsink >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; fail "purge failed"; }
installed=0
for f in /usr/sbin/alertsink /etc/alertsink /var/lib/alertsink /run/alertsink \
    /lib/systemd/system/alertsink.service /etc/logrotate.d/alertsink /usr/share/alertsink \
    /usr/share/bash-completion/completions/alertsink; do
    [ ! -e "$f" ] || fail "$f is left after the purge"
done
echo "purged"
echo "1 passed, 0 failed"
