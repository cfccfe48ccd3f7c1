#!/usr/bin/env bash
# test_completion.sh - the bash completion (packaging/completion/alertsink.bash):
# it registers for alertsink, completes subcommands, options, wa and queue
# subcommands, option values (formats, states, files, receivers read from the
# configuration), notification ids read from the spool, and
# `make install` (cmake --install) puts it where bash-completion looks.
set -u
source "$(dirname "$0")/lib/check.sh"
: "${ALERTSINK:?}" "${AS_SOURCE_DIR:?}"

# alertsink on the PATH, as it is once installed.
mkdir "$tmp/bin"
ln -s "$ALERTSINK" "$tmp/bin/alertsink"
export PATH="$tmp/bin:$PATH"
unset ALERTSINK_CONFIG
source "$AS_SOURCE_DIR/packaging/completion/alertsink.bash"

[ "$(complete -p alertsink)" = "complete -F _alertsink alertsink" ] && ok "complete -p alertsink" ||
    bad "complete -p alertsink: $(complete -p alertsink 2>&1)"

# comp WANT WORD... : complete the last word of the line, compare the sorted
# answers with WANT (space-separated, sorted).
comp() {
    local want=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _alertsink
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" = "$want" ]; then ok "[$*] -> $want"; else bad "[$*] -> '$got', want '$want'"; fi
}

comp "help preview queue ready render requeue routes send status wa wa-cloud" alertsink ""
comp "check" alertsink wa-cloud ""
comp "ready render requeue routes" alertsink r
comp "--help --no-env --version -T -V -c -t" alertsink -
comp "send" alertsink -c x.yaml se
comp "devices login logout pair send" alertsink wa ""
comp "--help -c" alertsink wa -
comp "login logout" alertsink wa lo
comp "--at --file --help --to -c" alertsink wa send ""
comp "--phone" alertsink wa pair --p
comp "--format" alertsink send --fo
comp "json" alertsink send --format j
comp "auto collectd json nagios text" alertsink send --format ""
comp "wa wa-cloud" alertsink help w
comp "devices login logout pair send" alertsink help wa ""
comp "--labels" alertsink routes --l
comp "--all" alertsink requeue --a
comp "" alertsink send --title ""
comp "--dry-run" alertsink send --dr
comp "drop list retry show" alertsink queue ""
comp "--help --json --state" alertsink queue --
comp "--help --json --state" alertsink queue list --
comp "deferred" alertsink queue --state def
comp "--dead --deferred" alertsink queue retry --de
comp "--dead" alertsink queue drop --de
comp "--data" alertsink preview --da
comp "--json" alertsink status --j
comp "drop retry show" alertsink help queue ""

# Files and directories.
mkdir -p "$tmp/conf/sub"
touch "$tmp/conf/a.yaml" "$tmp/conf/b.yaml"
comp "$tmp/conf/a.yaml $tmp/conf/b.yaml $tmp/conf/sub" alertsink -c "$tmp/conf/"
comp "$tmp/conf/sub" alertsink render --partials "$tmp/conf/"

# Receivers, from the configuration named by -c, with no secrets set.
cat >"$tmp/c.yaml" <<YAML
spool: {dir: $tmp/spool}
whatsapp: {phone: "+90 555 000 0001", password: "\${AS_TEST_UNSET_SECRET}"}
receivers:
  - name: oncall
    whatsapp: {to: ["+90 555 111 2233"]}
  - name: "db team"
    file: {path: $tmp/o.jsonl}
  - name: audit
    file: {path: $tmp/o.jsonl}
route: {receiver: oncall}
YAML
comp "audit db\\ team oncall" alertsink -c "$tmp/c.yaml" send --receiver ""
comp "audit db\\ team oncall" alertsink preview -c "$tmp/c.yaml" --receiver ""

# Notification ids, from the spool of the configuration named by -c.
mkdir -p "$tmp/spool/dead"
for id in 01a24000aaaa-000001-0001 01a24000aaab-000002-0001; do
    printf '{"kind":"note","id":"%s","record":"%s","index":0,"t":1,"input":"http","receiver":"audit","grouped":true,"group_key":"{}:{}","route":"0","due":0,"channels":{},"payload":{"alerts":[]}}\n' \
        $id $id >"$tmp/spool/dead/$id"
done
comp "01a24000aaaa-000001-0001 01a24000aaab-000002-0001" alertsink queue show -c "$tmp/c.yaml" ""
comp "01a24000aaab-000002-0001" alertsink queue -c "$tmp/c.yaml" drop 01a24000aaab
comp "01a24000aaaa-000001-0001" alertsink requeue -c "$tmp/c.yaml" 01a24000aaaa
comp "oncall" alertsink send -c "$tmp/c.yaml" --receiver on
ALERTSINK_CONFIG="$tmp/c.yaml" comp "audit" alertsink send --receiver au

# make install puts it where bash-completion finds it.
if [ -n "${AS_BUILD_DIR:-}" ] && [ -f "$AS_BUILD_DIR/cmake_install.cmake" ]; then
    if DESTDIR="$tmp/dest" cmake --install "$AS_BUILD_DIR" >"$tmp/install.log" 2>&1; then
        f=$(find "$tmp/dest" -path '*/share/bash-completion/completions/alertsink')
        [ -n "$f" ] && cmp -s "$f" "$AS_SOURCE_DIR/packaging/completion/alertsink.bash" &&
            ok "installed as ${f#$tmp/dest}" || bad "not installed: $(grep -i completion "$tmp/install.log")"
    else
        bad "cmake --install failed: $(tail -3 "$tmp/install.log")"
    fi
fi

finish
