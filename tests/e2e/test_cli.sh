#!/usr/bin/env bash
# test_cli.sh - the command line of alertsink(8) through the real binary:
# -t, -T (secrets redacted), -V, exit codes, $ALERTSINK_CONFIG.
set -u
source "$(dirname "$0")/lib/check.sh"
: "${ALERTSINK:?}" "${AS_SOURCE_DIR:?}"

"$ALERTSINK" -t -c "$AS_SOURCE_DIR/rules/quickstart.yaml" 2>"$tmp/err"
check "quickstart -t" 0 $?
for f in "$AS_SOURCE_DIR"/rules/*.yaml; do
    # --no-env: what they write to (/var/lib/alertsink) is the package's,
    # which this machine need not have.
    ( cd "$AS_SOURCE_DIR" && WAMESSAGE_PASSWORD=x SMTP_PASSWORD=x ALERTSINK_TOKEN=y "$ALERTSINK" -t --no-env -c "$f" ) 2>"$tmp/err"
    rc=$?
    [ $rc = 0 ] || cat "$tmp/err"
    check "example $(basename "$f") -t" 0 $rc
done

cat >"$tmp/bad.yaml" <<'YAML'
spool: {dir: /tmp/x, max_age: soon}
receivers:
  - name: r
    file: {path: /tmp/o}
route:
  receiver: nobody
YAML
"$ALERTSINK" -t -c "$tmp/bad.yaml" 2>"$tmp/err"
check "broken -t" 1 $?
contains "error with file:line:col (duration)" "$tmp/err" "$tmp/bad.yaml:1:31: max_age: invalid duration 'soon'"
contains "error with file:line:col (receiver)" "$tmp/err" "$tmp/bad.yaml:6:13: route: unknown receiver 'nobody'"

cat >"$tmp/secret.yaml" <<'YAML'
spool: {dir: /tmp/x}
http: {bearer_token: "tok-SECRET-123"}
whatsapp: {phone: "+90 555 000 0001", password: "${AS_PW}"}
receivers:
  - name: r
    file: {path: /tmp/o}
route: {receiver: r}
YAML
AS_PW="pw-SECRET-456" "$ALERTSINK" -T -c "$tmp/secret.yaml" >"$tmp/out" 2>"$tmp/err"
check "-T" 0 $?
contains "-T prints the effective configuration" "$tmp/out" "phone: 905550000001"
contains "-T redacts" "$tmp/out" 'bearer_token: "<redacted>"'
absent "-T hides the token" "$tmp/out" "tok-SECRET-123"
absent "-T hides the password" "$tmp/out" "pw-SECRET-456"
absent "-T stderr hides secrets" "$tmp/err" "SECRET"
# The printed configuration is itself a valid configuration once the
# secrets are put back: a "<redacted>" left in is an error that says so.
"$ALERTSINK" -t -c "$tmp/out" 2>"$tmp/err"
check "-T output with <redacted> secrets" 1 $?
contains "<redacted> named" "$tmp/err" 'bearer_token: "<redacted>" looks like a value copied from alertsink -T output'
sed 's/"<redacted>"/"put-back"/' "$tmp/out" >"$tmp/out2"
"$ALERTSINK" -t -c "$tmp/out2" 2>"$tmp/err"
check "-T output loads again" 0 $?

# Found by fuzzing (tests/fuzz/fuzz_config.c): -T printed a literal ${
# (written $${) as a variable, and the include: list, whose files it had
# already merged, so its output did not load again.
mkdir -p "$tmp/inc/conf.d"
cat >"$tmp/inc/main.yaml" <<'YAML'
include: [conf.d/*.yaml]
spool: {dir: "/tmp/$${HOME}/spool"}
receivers:
  - name: r
    file: {path: "/tmp/out-$${x}.jsonl"}
YAML
cat >"$tmp/inc/conf.d/route.yaml" <<'YAML'
route:
  receiver: r
  routes: [{receiver: r, matchers: ['x="a$${y}"']}]
YAML
"$ALERTSINK" -T -c "$tmp/inc/main.yaml" >"$tmp/inc/printed.yaml" 2>"$tmp/err"
check "-T with include and \$\${" 0 $?
contains "-T keeps a literal \${" "$tmp/inc/printed.yaml" 'dir: /tmp/$${HOME}/spool'
env -u HOME "$ALERTSINK" -T -c "$tmp/inc/printed.yaml" >"$tmp/inc/printed2.yaml" 2>"$tmp/err"
rc=$?
[ $rc = 0 ] || cat "$tmp/err"
check "-T output with include and \$\${ loads again" 0 $rc
tail -n +2 "$tmp/inc/printed.yaml" >"$tmp/inc/a"
tail -n +2 "$tmp/inc/printed2.yaml" >"$tmp/inc/b"
cmp -s "$tmp/inc/a" "$tmp/inc/b"
check "-T of the -T output is the same" 0 $?

# Found by fuzzing: an error about templates.dir itself named no file.
cat >"$tmp/tpldir.yaml" <<YAML
spool: {dir: /tmp/x}
templates: {dir: $tmp/tpldir.yaml}
receivers: [{name: r, file: {path: /tmp/o}}]
route: {receiver: r}
YAML
"$ALERTSINK" -t -c "$tmp/tpldir.yaml" 2>"$tmp/err"
check "templates.dir not a directory" 1 $?
contains "templates.dir error with file:line:col" "$tmp/err" \
    "$tmp/tpldir.yaml:2:18: templates.dir '$tmp/tpldir.yaml': Not a directory"

# Found by fuzzing: a channel written as a scalar also got an error with
# no position at all ("<config>: missing required key 'path'").
cat >"$tmp/scalar-channel.yaml" <<'YAML'
spool: {dir: /tmp/x}
receivers: [{name: r, file: x}]
route: {receiver: r}
YAML
"$ALERTSINK" -t -c "$tmp/scalar-channel.yaml" 2>"$tmp/err"
check "channel not a map" 1 $?
contains "channel not a map: its position" "$tmp/err" "$tmp/scalar-channel.yaml:2:29: expected a map of keys"
absent "channel not a map: no error without a position" "$tmp/err" "<config>"

# Found by fuzzing: a value from the environment that is not UTF-8 was
# taken, and -T then printed a file that is not YAML.
cat >"$tmp/latin1.yaml" <<'YAML'
spool: {dir: "/tmp/${AS_LATIN1}"}
receivers: [{name: r, file: {path: /tmp/o}}]
route: {receiver: r}
YAML
AS_LATIN1=$(printf 'caf\351') "$ALERTSINK" -t -c "$tmp/latin1.yaml" 2>"$tmp/err"
check "environment value not UTF-8" 1 $?
contains "environment value not UTF-8: named" "$tmp/err" \
    "$tmp/latin1.yaml:1:14: environment variable 'AS_LATIN1' is not valid UTF-8"

ALERTSINK_CONFIG="$tmp/bad.yaml" "$ALERTSINK" -t 2>"$tmp/err"
check "\$ALERTSINK_CONFIG used" 1 $?
contains "\$ALERTSINK_CONFIG file named" "$tmp/err" "$tmp/bad.yaml:1:31"

"$ALERTSINK" -V >"$tmp/out" 2>&1
check "-V" 0 $?
for word in "alertsink " "module ABI" "http" "unix" "whatsapp" "email" "file" libcurl cJSON libyaml libmicrohttpd PCRE2 libesmtp; do
    contains "-V mentions $word" "$tmp/out" "$word"
done

"$ALERTSINK" -Z 2>"$tmp/err"
check "unknown option" 2 $?
contains "usage on stderr" "$tmp/err" "usage: alertsink"
"$ALERTSINK" frobnicate 2>"$tmp/err"
check "unknown command" 2 $?
contains "unknown command named" "$tmp/err" "unknown command 'frobnicate'"
"$ALERTSINK" -c 2>"$tmp/err"
check "missing option value" 2 $?
"$ALERTSINK" -t -c "$tmp/nonexistent.yaml" 2>"$tmp/err"
check "missing file" 1 $?
contains "missing file named" "$tmp/err" "$tmp/nonexistent.yaml: cannot open: No such file or directory"

finish
