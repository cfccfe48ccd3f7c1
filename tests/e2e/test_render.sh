#!/usr/bin/env bash
# test_render.sh - `alertsink render` end to end (docs/templates.md): the
# real binary, escaping, the partials directory, data as it is, and the
# exit codes (0 rendered, 1 template syntax error or bad data, 2 usage).
set -u
BIN=${ALERTSINK:?ALERTSINK must name the alertsink binary}
DATA=${AS_TEST_DATA:?AS_TEST_DATA must name the tests directory}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
pass=0

check() { # check NAME EXPECTED ACTUAL
    if [ "$2" == "$3" ]; then
        pass=$((pass + 1))
    else
        fails=$((fails + 1))
        printf 'FAIL %s\n--- expected\n%s\n--- got\n%s\n' "$1" "$2" "$3"
    fi
}

# run ARGS...: sets out, err, rc
run() {
    "$BIN" render "$@" >"$T/out" 2>"$T/err"
    rc=$?
    out=$(cat "$T/out")
    err=$(cat "$T/err")
}

# 1. {{x}} is HTML-escaped, {{{x}}} and {{& x}} are not; data from stdin.
printf '%s\n' '{{name}}|{{{name}}}|{{& name}}|{{missing}}|{{n}}' >"$T/esc.mustache"
run --template "$T/esc.mustache" <<<'{"name": "<a href=\"x\">Tom & Jerry</a>", "n": 1.5}'
check "escape rc" 0 "$rc"
check "escape output" '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&lt;/a&gt;|<a href="x">Tom & Jerry</a>|<a href="x">Tom & Jerry</a>||1.5' "$out"

# 2. Partials from --partials DIR (NAME.mustache), standalone ones
#    indented, a missing one renders as nothing; data from --data FILE.
mkdir "$T/parts"
printf '%s\n' '- {{name}}' '  ({{role}})' >"$T/parts/person.mustache"
printf '%s\n' 'Team:' '{{#people}}' '  {{> person}}' '{{/people}}' '[{{> nosuch}}]' >"$T/team.mustache"
printf '%s' '{"people": [{"name": "Ann", "role": "lead"}, {"name": "Bob", "role": "dev"}]}' >"$T/team.json"
run --template "$T/team.mustache" --partials "$T/parts" --data "$T/team.json"
check "partials rc" 0 "$rc"
check "partials output" "$(printf '%s\n' 'Team:' '  - Ann' '    (lead)' '  - Bob' '    (dev)' '[]')" "$out"
# without --partials, every partial is missing
run --template "$T/team.mustache" --data "$T/team.json"
check "no partials dir" "$(printf '%s\n' 'Team:' '[]')" "$out"

# 3. The data is the context as it is: no firing/resolved added.
printf '%s' '{{receiver}}:{{firingCount}}[{{#firing}}x{{/firing}}]{{#alerts}}{{labels.instance}} {{/alerts}}' >"$T/as-is.mustache"
run --template "$T/as-is.mustache" --data "$DATA/fixtures/alertmanager-0.25/firing-group-2.json"
check "as is" 'wa:[]db1:9100 db2:9100 ' "$out"
# any JSON value is a context
run --template "$T/as-is.mustache" <<<'[1, 2]'
check "array data rc" 0 "$rc"

# 4. A syntax error: FILE:LINE:COL: message on stderr, exit 1, no output.
printf '%s\n' 'Hello' '{{#alerts}}' '  {{labels.instance}}' '  {{/alert}}' >"$T/bad.mustache"
run --template "$T/bad.mustache" <<<'{}'
check "syntax error rc" 1 "$rc"
check "syntax error message" "$T/bad.mustache:4:3: closing tag 'alert' does not match section 'alerts' opened at 2:1" "$err"
check "syntax error stdout" "" "$out"
printf 'ok {{name' >"$T/open.mustache"
run --template "$T/open.mustache" <<<'{}'
check "unclosed tag rc" 1 "$rc"
check "unclosed tag message" "$T/open.mustache:1:4: unclosed tag: no '}}' after '{{'" "$err"
# ... also in a partial, named by its own path
printf '%s' 'x {{#y}}' >"$T/parts/broken.mustache"
printf '%s' 'a {{> broken}} b' >"$T/usebroken.mustache"
run --template "$T/usebroken.mustache" --partials "$T/parts" <<<'{}'
check "partial error rc" 1 "$rc"
check "partial error message" "$T/parts/broken.mustache:1:3: unclosed section 'y'" "$err"
check "partial error stdout" "" "$out"

# 5. Bad data: a clear message, exit 1.
run --template "$T/esc.mustache" <<<'{"name": '
check "bad json rc" 1 "$rc"
case "$err" in "alertsink: stdin: invalid JSON"*) pass=$((pass + 1)) ;; *) fails=$((fails + 1)); echo "FAIL bad json message: $err" ;; esac
run --template "$T/esc.mustache" --data "$T/nonexistent.json"
check "missing data rc" 1 "$rc"
case "$err" in *nonexistent.json*) pass=$((pass + 1)) ;; *) fails=$((fails + 1)); echo "FAIL missing data message: $err" ;; esac

# 6. Usage errors exit 2.
run
check "no --template" 2 "$rc"
run --template
check "--template without a value" 2 "$rc"
run --template "$T/esc.mustache" --bogus
check "unknown option" 2 "$rc"
run --template "$T/esc.mustache" extra </dev/null
check "extra argument" 2 "$rc"
run --help
check "--help" 0 "$rc"

echo "test_render: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
