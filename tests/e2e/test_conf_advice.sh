#!/usr/bin/env bash
# test_conf_advice.sh - what the configuration loader tells a person, through
# the real binary: "did you mean", advice for Alertmanager's keys, -c with a
# directory or a missing file, no configuration at all, a <redacted> secret
# pasted from -T, YAML merge keys, match: {k: } read as "", --no-env and
# routes with no secrets set.
set -u
source "$(dirname "$0")/lib/check.sh"
: "${ALERTSINK:?}" "${AS_SOURCE_DIR:?}"
unset ALERTSINK_CONFIG

# --- did you mean ---------------------------------------------------------------
cat >"$tmp/typo.yaml" <<YAML
log: {levl: info}
spool: {dir: $tmp/spool, max_sizee: 1GiB}
smtp: {host: smtp.example.com, from: a@example.com, password_fiel: /x}
receivers:
  - name: r
    fiel: {path: $tmp/out.jsonl}
route: {receiver: r, recevier: x, colour: blue}
YAML
"$ALERTSINK" -t -c "$tmp/typo.yaml" 2>"$tmp/err"
check "typos -t" 1 $?
contains "levl" "$tmp/err" "typo.yaml:1:7: unknown key 'levl': did you mean 'level'?"
contains "max_sizee" "$tmp/err" "unknown key 'max_sizee': did you mean 'max_size'?"
contains "password_file form" "$tmp/err" "unknown key 'password_fiel': did you mean 'password_file'?"
contains "receiver channel" "$tmp/err" "typo.yaml:6:5: unknown key 'fiel': did you mean 'file'?"
contains "route key (swap)" "$tmp/err" "unknown key 'recevier': did you mean 'receiver'?"
contains "nothing near: plain" "$tmp/err" "unknown key 'colour'"
absent "nothing near: no guess" "$tmp/err" "'colour': did you mean"

# --- Alertmanager's keys -----------------------------------------------------------
cat >"$tmp/am.yaml" <<YAML
global:
  smtp_smarthost: mail.example.com:587
  smtp_from: alerts@example.com
  smtp_require_tls: true
  resolve_timeout: 5m
templates: ['/etc/alertmanager/templates/*.tmpl']
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
spool: {dir: $tmp/spool}
receivers:
  - name: team
    email_configs: [{to: team@example.com}]
    slack_configs: [{channel: '#alerts'}]
    webhook_configs: [{url: 'http://example.com/hook'}]
route: {receiver: team}
YAML
"$ALERTSINK" -t -c "$tmp/am.yaml" 2>"$tmp/err"
check "Alertmanager keys -t" 1 $?
contains "inhibit_rules" "$tmp/err" "unknown key 'inhibit_rules': inhibition is not supported"
contains "inhibit_rules: what instead" "$tmp/err" "mute_time_intervals, or keep the inhibit_rules in an Alertmanager in front of alertsink"
contains "global" "$tmp/err" "unknown key 'global': Alertmanager's global: section is not read here; SMTP settings go under smtp:"
contains "global: smtp_smarthost" "$tmp/err" "smtp_smarthost -> smtp.host and smtp.port"
contains "global: smtp_from" "$tmp/err" "smtp_from -> smtp.from"
contains "global: smtp_require_tls" "$tmp/err" "smtp_require_tls -> smtp.tls"
absent "global: only the keys written" "$tmp/err" "smtp_auth_username"
contains "global: resolve_timeout" "$tmp/err" "resolve_timeout, http_config and the *_api_url settings are Alertmanager's"
contains "templates list" "$tmp/err" "am.yaml:6:12: templates: a list of files is Alertmanager's form (Go templates, *.tmpl)"
contains "templates: Mustache" "$tmp/err" "Mustache files, NAME.mustache, in one directory: templates: {dir:"
contains "email_configs" "$tmp/err" "unknown key 'email_configs': Alertmanager's receiver form: here a receiver has channels; write email: {to: [...]}"
contains "slack_configs" "$tmp/err" "unknown key 'slack_configs': Alertmanager's receiver form: alertsink has no slack channel"
contains "webhook_configs" "$tmp/err" "unknown key 'webhook_configs': Alertmanager's receiver form"

# --- -c DIR, a missing file, no configuration -------------------------------------------
mkdir "$tmp/etc"
"$ALERTSINK" -t -c "$tmp/etc" 2>"$tmp/err"
check "-c DIR" 1 $?
contains "-c DIR says so" "$tmp/err" "$tmp/etc: is a directory, not a configuration file"
absent "-c DIR: no YAML input error" "$tmp/err" "input error"
cp "$tmp/typo.yaml" "$tmp/etc/alertsink.yaml"
"$ALERTSINK" -t -c "$tmp/etc/" 2>"$tmp/err"
contains "-c DIR names the file in it" "$tmp/err" "did you mean $tmp/etc/alertsink.yaml?"
"$ALERTSINK" -t -c "$tmp/none.yaml" 2>"$tmp/err"
check "missing file" 1 $?
contains "missing file named" "$tmp/err" "$tmp/none.yaml: cannot open: No such file or directory"
contains "missing file: hint" "$tmp/err" "there is no configuration file at $tmp/none.yaml: name one with -c FILE or \$ALERTSINK_CONFIG"
if [ ! -e /etc/alertsink/alertsink.yaml ]; then
    "$ALERTSINK" -t 2>"$tmp/err"
    check "no configuration at all" 1 $?
    contains "no configuration: hint" "$tmp/err" "there is no configuration file at /etc/alertsink/alertsink.yaml: name one with -c FILE or \$ALERTSINK_CONFIG"
fi
ALERTSINK_CONFIG="$tmp/gone.yaml" "$ALERTSINK" routes a=b 2>"$tmp/err"
check "routes, \$ALERTSINK_CONFIG missing" 2 $?
contains "hint names \$ALERTSINK_CONFIG" "$tmp/err" "no configuration file at $tmp/gone.yaml (\$ALERTSINK_CONFIG)"

# --- a secret pasted from -T ------------------------------------------------------------
cat >"$tmp/redacted.yaml" <<YAML
spool: {dir: $tmp/spool}
http: {bearer_token: "<redacted>"}
whatsapp: {phone: "+90 555 000 0001", password: "<redacted>"}
receivers: [{name: r, file: {path: $tmp/out.jsonl}}]
route: {receiver: r}
YAML
"$ALERTSINK" -t -c "$tmp/redacted.yaml" 2>"$tmp/err"
check "<redacted> secret" 1 $?
contains "<redacted> token" "$tmp/err" "redacted.yaml:2:22: bearer_token: \"<redacted>\" looks like a value copied from alertsink -T output"
contains "<redacted> password" "$tmp/err" "password: \"<redacted>\" looks like a value copied from alertsink -T output, which hides secrets: write the real secret (or use password_file)"
printf '<redacted>\n' >"$tmp/pw"
cat >"$tmp/redacted-file.yaml" <<YAML
spool: {dir: $tmp/spool}
whatsapp: {phone: "+90 555 000 0001", password_file: $tmp/pw}
receivers: [{name: r, file: {path: $tmp/out.jsonl}}]
route: {receiver: r}
YAML
"$ALERTSINK" -t -c "$tmp/redacted-file.yaml" 2>"$tmp/err"
check "<redacted> in a *_file" 1 $?
contains "<redacted> in a *_file named" "$tmp/err" "looks like a value copied from alertsink -T output"

# --- merge keys and empty values --------------------------------------------------------
cat >"$tmp/merge.yaml" <<YAML
spool: {dir: $tmp/spool}
receivers:
  - name: a
    file: &file {path: $tmp/out.jsonl}
  - name: b
    file: {<<: *file, mode: "0640"}
route:
  receiver: a
  routes:
    - &db {match: {team: db}, receiver: b, continue: true}
    - <<: *db
      receiver: a
    - match: {env: }
      receiver: b
YAML
"$ALERTSINK" routes -c "$tmp/merge.yaml" team=db >"$tmp/out" 2>"$tmp/err"
check "merge keys" 0 $?
# The second route is the first with its own receiver: match and continue
# come from the merge; the last one (env="") matches any alert without env.
[ "$(tr '\n' ' ' <"$tmp/out")" = "b a b " ] && echo "ok: merged route keeps match and continue, own receiver wins" ||
    { echo "FAIL: merge routes: $(cat "$tmp/out")"; fails=$((fails + 1)); }
"$ALERTSINK" routes -c "$tmp/merge.yaml" team=web >"$tmp/out" 2>"$tmp/err"
[ "$(tr '\n' ' ' <"$tmp/out")" = "b " ] && echo "ok: match {env: } is env=\"\"" ||
    { echo "FAIL: empty match: $(cat "$tmp/out")"; fails=$((fails + 1)); }
"$ALERTSINK" -T -c "$tmp/merge.yaml" >"$tmp/out" 2>"$tmp/err"
contains "merged channel keeps the path" "$tmp/out" "path: $tmp/out.jsonl"
contains "merged channel has its own mode" "$tmp/out" 'mode: "0640"'
printf 'spool: {dir: /x}\na: &a {b: 1}\nroute: {<<: 3}\n' >"$tmp/badmerge.yaml"
"$ALERTSINK" -t -c "$tmp/badmerge.yaml" 2>"$tmp/err"
contains "merge of a scalar" "$tmp/err" "the merge key '<<' takes a map or a list of maps"

# --- secrets where nothing is sent ----------------------------------------------------------
unset WAMESSAGE_PASSWORD SMTP_PASSWORD ALERTSINK_TOKEN
"$ALERTSINK" routes -c "$AS_SOURCE_DIR/rules/example.yaml" severity=critical team=db >"$tmp/out" 2>"$tmp/err"
check "routes with no secrets set" 0 $?
[ "$(tr '\n' ' ' <"$tmp/out")" = "audit dba " ] && echo "ok: routes answers" ||
    { echo "FAIL: routes: $(cat "$tmp/out")"; fails=$((fails + 1)); }
contains "routes: unset variable is a warning" "$tmp/err" "warning: environment variable 'WAMESSAGE_PASSWORD' is not set"
# -c before the subcommand is the same as after it (-c FILE and -cFILE).
"$ALERTSINK" -c "$AS_SOURCE_DIR/rules/example.yaml" routes severity=critical team=db >"$tmp/out-pre" 2>"$tmp/err"
check "routes with -c before it" 0 $?
same "-c FILE before routes prints what -c after it does" "$tmp/out" "$tmp/out-pre"
"$ALERTSINK" -c"$AS_SOURCE_DIR/rules/example.yaml" routes severity=critical team=db >"$tmp/out-pre" 2>"$tmp/err"
same "-cFILE before routes too" "$tmp/out" "$tmp/out-pre"
cat >"$tmp/files.yaml" <<YAML
spool: {dir: $tmp/spool}
http: {bearer_token_file: $tmp/nonexistent-token}
whatsapp: {phone: "+90 555 000 0001", password: "\${AS_NO_SUCH_VAR}"}
smtp: {host: smtp.example.com, from: a@example.com, username: u, password_file: $tmp/nonexistent-pw}
receivers: [{name: r, whatsapp: {to: ["+90 555 111 2233"]}, email: {to: [a@example.com]}}]
route: {receiver: r}
YAML
"$ALERTSINK" routes -c "$tmp/files.yaml" a=b >"$tmp/out" 2>"$tmp/err"
check "routes with unreadable secret files" 0 $?
contains "unreadable *_file is a warning" "$tmp/err" "warning: cannot read '$tmp/nonexistent-token': No such file or directory (ignored: this command sends nothing)"
"$ALERTSINK" -t -c "$tmp/files.yaml" 2>"$tmp/err"
check "plain -t: unset and unreadable secrets are errors" 1 $?
contains "plain -t: unset variable" "$tmp/err" "files.yaml:3:49: environment variable 'AS_NO_SUCH_VAR' is not set"
absent "plain -t: no warning" "$tmp/err" "warning: environment"
"$ALERTSINK" -t --no-env -c "$tmp/files.yaml" 2>"$tmp/err"
check "-t --no-env: the modules' checks pass without secrets" 0 $?
contains "-t --no-env warns" "$tmp/err" "files.yaml:3:49: warning: environment variable 'AS_NO_SUCH_VAR' is not set"
contains "-t --no-env valid" "$tmp/err" "configuration $tmp/files.yaml is valid"
"$ALERTSINK" -T --no-env -c "$tmp/files.yaml" >"$tmp/out" 2>"$tmp/err"
check "-T --no-env" 0 $?
absent "-T --no-env prints no stand-in" "$tmp/out" "(unset)"
"$ALERTSINK" --no-env -c "$tmp/files.yaml" 2>"$tmp/err"
check "--no-env without -t" 2 $?
contains "--no-env without -t says why" "$tmp/err" "--no-env goes with -t or -T"
( cd "$AS_SOURCE_DIR" && "$ALERTSINK" -t --no-env -c rules/example.yaml ) 2>"$tmp/err"
check "example.yaml -t --no-env" 0 $?


finish
