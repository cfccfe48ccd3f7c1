#!/usr/bin/python3
"""Differential test: `alertsink routes` against the real `amtool config
routes test` (Debian's prometheus-alertmanager, 0.25).

Each tree below is one `route:` block, written twice: into an alertsink
configuration (receivers with a `file` channel) and into an Alertmanager
configuration (receivers with a name only).  For every tree, hand-written
label sets plus label sets drawn (with a fixed seed) from the label names
and values the tree's matchers talk about (and near misses of them: a
suffix, another case, a trailing newline, the empty string, absent) are
given to both tools.  amtool prints the receivers on one line joined by
commas; alertsink prints one a line: only that separator is normalised.

Some trees are invalid for Alertmanager; for those both tools must refuse
the configuration (amtool exits non-zero, alertsink exits 2).

The test fails on any disagreement and prints the number of cases compared.
"""
import concurrent.futures
import os
import random
import shutil
import subprocess
import sys
import tempfile

ALERTSINK = os.environ.get("ALERTSINK") or os.path.join(
    os.environ.get("AS_BUILD_DIR", "build"), "alertsink")
AMTOOL = "/usr/bin/amtool"

# --- the trees -------------------------------------------------------------
# route: the YAML of the route block (indented under "route:");
# labels: candidate label names -> candidate values for the random cases;
# cases: hand-written label sets.

TREES = [
    {
        "name": "continue-chains",
        "receivers": ["default", "a", "b", "c", "d", "e"],
        "route": """
  receiver: default
  routes:
    - matchers: ['x="1"']
      receiver: a
      continue: true
    - matchers: ['y="1"']
      receiver: b
      continue: true
    - matchers: ['x="1"']
      receiver: c
    - matchers: ['x=~"1|2"']
      receiver: d
    - matchers: ['z="1"']
      receiver: e
      continue: true
    - receiver: a
""",
        "labels": {"x": ["1", "2", "3", ""], "y": ["1", "0"], "z": ["1", "2"]},
        "cases": [{}, {"x": "1"}, {"y": "1"}, {"x": "1", "y": "1"}, {"x": "2", "y": "1"},
                  {"z": "1"}, {"x": "3", "z": "1"}, {"x": "2", "z": "1"}],
    },
    {
        "name": "nested-inheritance",
        "receivers": ["root", "team-db", "team-web", "pager", "mail", "night"],
        "route": """
  receiver: root
  group_by: [alertname]
  group_wait: 0s
  routes:
    - matchers: ['team="db"']
      routes:
        - matchers: ['severity="critical"']
          receiver: pager
          routes:
            - matchers: ['env="prod"']
              continue: true
            - matchers: ['env=~"prod|stage"']
              receiver: night
        - matchers: ['severity="warning"']
          continue: true
        - matchers: ['severity=~"warning|info"']
          receiver: mail
    - matchers: ['team="web"']
      receiver: team-web
      group_by: ['...']
      routes:
        - matchers: ['severity="critical"']
          receiver: pager
          continue: true
        - matchers: ['env!="prod"']
        - matchers: ['env="prod"']
          receiver: ""
    - matchers: ['team=~"db|web"']
      receiver: team-db
""",
        "labels": {"team": ["db", "web", "dbx", "DB", ""], "severity": ["critical", "warning", "info", "page"],
                   "env": ["prod", "stage", "dev", ""]},
        "cases": [{"team": "db"}, {"team": "db", "severity": "critical"},
                  {"team": "db", "severity": "critical", "env": "prod"},
                  {"team": "db", "severity": "critical", "env": "stage"},
                  {"team": "db", "severity": "warning"}, {"team": "db", "severity": "info"},
                  {"team": "web"}, {"team": "web", "env": "prod"},
                  {"team": "web", "severity": "critical", "env": "prod"}],
    },
    {
        "name": "regex-anchoring",
        "receivers": ["default", "db", "dbprefix", "prod", "web", "nocase", "digits", "alt", "uni", "dot", "classes"],
        "route": """
  receiver: default
  routes:
    - matchers: ['team=~"db"']
      receiver: db
      continue: true
    - matchers: ['team=~"db.*"']
      receiver: dbprefix
      continue: true
    - matchers: ['cluster=~".*-prod"']
      receiver: prod
      continue: true
    - matchers: ['host=~"web[0-9]+"']
      receiver: web
      continue: true
    - matchers: ['service=~"(?i)checkout"']
      receiver: nocase
      continue: true
    - matchers: ['port=~"\\\\d{2,4}"']
      receiver: digits
      continue: true
    - matchers: ['team=~"a|b"']
      receiver: alt
      continue: true
    - matchers: ['city=~"İstanbul|Zürich|\\\\p{Greek}+"']
      receiver: uni
      continue: true
    - matchers: ['msg=~"a.c"']
      receiver: dot
      continue: true
    - matchers: ['id=~"[[:alpha:]]+_[^_]*"']
      receiver: classes
""",
        "labels": {"team": ["db", "dbx", "xdb", "db\n", "DB", "a", "b", "ab", "a|b", ""],
                   "cluster": ["eu-prod", "prod", "-prod", "eu-prod-2", "eu-prod\n"],
                   "host": ["web1", "web", "web12x", "aweb1", "web007"],
                   "service": ["checkout", "CHECKOUT", "CheckOut", "checkouts"],
                   "port": ["80", "8080", "9", "80800", "٣٣"],
                   "city": ["İstanbul", "istanbul", "Zürich", "Αθήνα", "Athens"],
                   "msg": ["abc", "a\nc", "ac", "a.c", "aXc"],
                   "id": ["abc_", "abc_def", "abc_d_e", "_x", "ab1_c"]},
        "cases": [{"team": "dbx"}, {"team": "db"}, {"team": "xdb"}, {"team": "db\n"},
                  {"cluster": "eu-prod\n"}, {"msg": "a\nc"}],
    },
    {
        "name": "negative-and-missing",
        "receivers": ["default", "not-prod", "no-env", "empty-env", "any-env", "not-db", "set-env", "regex-empty"],
        "route": """
  receiver: default
  routes:
    - matchers: ['env!="prod"']
      receiver: not-prod
      continue: true
    - matchers: ['env!~".+"']
      receiver: no-env
      continue: true
    - matchers: ['env=""']
      receiver: empty-env
      continue: true
    - matchers: ['env=~".*"']
      receiver: any-env
      continue: true
    - matchers: ['team!~"db|storage"', 'team!=""']
      receiver: not-db
      continue: true
    - matchers: ['env=~".+"', 'env!~"prod"']
      receiver: set-env
      continue: true
    - matchers: ['env=~""']
      receiver: regex-empty
""",
        "labels": {"env": ["prod", "dev", "", "prod "], "team": ["db", "storage", "web", "", "dbx"]},
        "cases": [{}, {"env": ""}, {"env": "prod"}, {"team": "db"}, {"team": "web", "env": "prod"}],
    },
    {
        "name": "legacy-match",
        "receivers": ["default", "crit", "re", "mixed", "both"],
        "route": """
  receiver: default
  routes:
    - match:
        severity: critical
      receiver: crit
      continue: true
    - match_re:
        service: "api|web.*"
      receiver: re
      continue: true
    - match:
        team: db
      match_re:
        env: prod|stage
      matchers: ['severity!="info"']
      receiver: mixed
      continue: true
    - match:
        a: "1"
        b: "2"
      receiver: both
""",
        "labels": {"severity": ["critical", "info", "warning"], "service": ["api", "web", "webshop", "xapi", "api\n"],
                   "team": ["db", "web"], "env": ["prod", "stage", "dev", "production"],
                   "a": ["1", "2"], "b": ["1", "2"]},
        "cases": [{"severity": "critical"}, {"service": "webshop"}, {"service": "xapi"},
                  {"team": "db", "env": "prod"}, {"team": "db", "env": "prod", "severity": "info"},
                  {"a": "1", "b": "2"}, {"a": "1"}],
    },
    {
        "name": "matcher-syntax",
        "receivers": ["default", "unquoted", "spaces", "multi", "braces", "escapes", "comma", "trailing",
                      "re-unquoted", "newline", "backslash", "double-eq"],
        "route": r"""
  receiver: default
  routes:
    - matchers: ['severity=critical']
      receiver: unquoted
      continue: true
    - matchers: ['  team   =   "db"  ']
      receiver: spaces
      continue: true
    - matchers: ['severity=warning, team=~db|storage']
      receiver: multi
      continue: true
    - matchers: ['{env="prod",team!="web"}']
      receiver: braces
      continue: true
    - matchers: ['msg="say \"hi\""']
      receiver: escapes
      continue: true
    - matchers: ['list="a,b", other=x']
      receiver: comma
      continue: true
    - matchers: ['env=stage, ']
      receiver: trailing
      continue: true
    - matchers: ['host =~ web-[0-9]+ ']
      receiver: re-unquoted
      continue: true
    - matchers: ['text="line1\nline2"']
      receiver: newline
      continue: true
    - matchers: ['path="C:\\dir"', 'odd="a\b"']
      receiver: backslash
      continue: true
    - matchers: ['eq==1']
      receiver: double-eq
""",
        "labels": {"severity": ["critical", "warning", "info"], "team": ["db", "storage", "web", " db"],
                   "env": ["prod", "stage", "dev"], "msg": ['say "hi"', "say hi", 'say \\"hi\\"'],
                   "list": ["a,b", "a", "b"], "other": ["x", "y"], "host": ["web-1", "web-", "web-12 "],
                   "text": ["line1\nline2", "line1\\nline2", "line1"], "path": ["C:\\dir", "C:\\\\dir"],
                   "odd": ["a\\b", "ab", "a\\\\b"], "eq": ["=1", "1", "==1"]},
        "cases": [{"msg": 'say "hi"'}, {"list": "a,b", "other": "x"}, {"path": "C:\\dir", "odd": "a\\b"},
                  {"text": "line1\nline2"}, {"severity": "warning", "team": "storage"}],
    },
    {
        # Alertmanager anchors a match_re value twice (it keeps the compiled
        # regexp's String(), "^(?:v)$"), a matchers: regex once: with a
        # value such as "a)|(b" the two differ.
        "name": "regex-grouping",
        "receivers": ["default", "single", "double", "flags", "legacy-flags"],
        "route": """
  receiver: default
  routes:
    - matchers: ['x=~"a)|(b"']
      receiver: single
      continue: true
    - match_re:
        x: "a)|(b"
      receiver: double
      continue: true
    - matchers: ['y=~"(?i)Prod|stage"']
      receiver: flags
      continue: true
    - match_re:
        y: "(?i)prod)|(stage"
      receiver: legacy-flags
""",
        "labels": {"x": ["a", "b", "ab", "axx", "xxb", "x", "ba", ""],
                   "y": ["prod", "PROD", "Stage", "stage", "prodx", "xstage", "STAGEx"]},
        "cases": [{"x": "ab"}, {"x": "axx"}, {"x": "a"}, {"y": "Stage"}, {"y": "prodSTAGE"}],
    },
    {
        "name": "deep-continue",
        "receivers": ["r0", "r1", "r2", "r3", "r4"],
        "route": """
  receiver: r0
  routes:
    - matchers: ['a=~"1|2"']
      receiver: r1
      continue: true
      routes:
        - matchers: ['b="1"']
          continue: true
          routes:
            - matchers: ['c="1"']
              receiver: r2
              continue: true
            - matchers: ['c=~"1|2"']
              receiver: r3
        - matchers: ['b=~"1|2"']
          receiver: r4
        - matchers: ['b="3"']
          receiver: r2
    - matchers: ['a="2"']
      receiver: r3
      routes:
        - matchers: ['b!="1"']
          receiver: r4
          continue: true
    - matchers: ['a!="3"']
      receiver: r2
""",
        "labels": {"a": ["1", "2", "3", ""], "b": ["1", "2", "3", ""], "c": ["1", "2", "3"]},
        "cases": [{}, {"a": "1", "b": "1", "c": "1"}, {"a": "2", "b": "2"}, {"a": "3"}],
    },
    {
        # YAML merge keys (yaml.v2 applies them: the map's own keys win, the
        # first map of a list wins over the later ones), and the empty
        # values Alertmanager reads as "" (match: {env: }) or as unset.
        "name": "merge-keys-and-empty-values",
        "receivers": ["r0", "r1", "r2", "r3", "r4", "r5"],
        "route": """
  receiver: r0
  group_by:
  routes:
    - &critical
      matchers: ['severity="critical"']
      receiver: r1
      continue: true
    - <<: *critical
      receiver: r2
      matchers: ['severity="critical"', 'team="db"']
    - &web
      match: {team: web}
      receiver: r3
      continue: true
    - <<: [*web, *critical]
      receiver: r4
    - receiver: ''
      match: {env: }
      continue:
      group_wait:
      routes:
        - match: {env: ~}
          receiver: r5
""",
        "labels": {"severity": ["critical", "warning", ""], "team": ["db", "web", ""],
                   "env": ["prod", ""]},
        "cases": [{}, {"severity": "critical"}, {"severity": "critical", "team": "db"},
                  {"team": "web"}, {"team": "web", "severity": "critical"}, {"env": "prod"}],
    },
]

# Configurations Alertmanager refuses: alertsink must refuse them too.
INVALID = [
    ("root-matchers", "  receiver: r0\n  matchers: ['a=\"1\"']\n"),
    ("root-continue", "  receiver: r0\n  continue: true\n"),
    ("root-no-receiver", "  group_by: [a]\n"),
    ("unknown-receiver", "  receiver: r0\n  routes:\n    - receiver: nobody\n"),
    ("bad-regex", "  receiver: r0\n  routes:\n    - matchers: ['a=~\"(\"']\n"),
    ("bad-match-re", "  receiver: r0\n  routes:\n    - match_re: {a: \"[\"}\n"),
    ("bad-matcher", "  receiver: r0\n  routes:\n    - matchers: ['a']\n"),
    ("bad-operator", "  receiver: r0\n  routes:\n    - matchers: ['a~=1']\n"),
    ("unescaped-quote", "  receiver: r0\n  routes:\n    - matchers: ['a=\"b\"c\"']\n"),
    ("unclosed-quote", "  receiver: r0\n  routes:\n    - matchers: ['a=\"b']\n"),
    ("empty-middle-token", "  receiver: r0\n  routes:\n    - matchers: ['a=1,,b=2']\n"),
    ("bad-label-name", "  receiver: r0\n  routes:\n    - matchers: ['1a=b']\n"),
    ("match-bad-name", "  receiver: r0\n  routes:\n    - match: {\"a-b\": x}\n"),
    ("group-by-all-and-more", "  receiver: r0\n  group_by: ['...', a]\n"),
    ("group-by-duplicate", "  receiver: r0\n  group_by: [a, a]\n"),
    ("group-by-bad-name", "  receiver: r0\n  group_by: [a-b]\n"),
    ("group-by-colon", "  receiver: r0\n  routes:\n    - group_by: ['a:b']\n"),
    ("group-interval-zero", "  receiver: r0\n  routes:\n    - group_interval: 0s\n"),
    ("repeat-interval-zero", "  receiver: r0\n  repeat_interval: 0s\n"),
    ("match-re-empty", "  receiver: r0\n  routes:\n    - match_re: {a: }\n"),
    ("merge-a-scalar", "  receiver: r0\n  routes:\n    - <<: r0\n"),
    ("regex-lookahead", "  receiver: r0\n  routes:\n    - matchers: ['a=~\"(?=x)x\"']\n"),
    ("regex-backreference", "  receiver: r0\n  routes:\n    - match_re: {a: '(x)\\1'}\n"),
    ("regex-possessive", "  receiver: r0\n  routes:\n    - matchers: ['a=~\"x*+\"']\n"),
]


def alertsink_config(tmp, name, route, receivers):
    lines = ["spool: { dir: %s/spool }" % tmp, "receivers:"]
    for r in receivers:
        lines += ["  - name: %s" % r, "    file: { path: %s/out.jsonl }" % tmp]
    path = os.path.join(tmp, name + ".alertsink.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\nroute:" + route)
    return path


def amtool_config(tmp, name, route, receivers):
    lines = ["receivers:"] + ["  - name: %s" % r for r in receivers]
    path = os.path.join(tmp, name + ".alertmanager.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\nroute:" + route)
    return path


def quote(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def plain(v):
    """Can v be written unquoted in a --labels list and read back as is?"""
    return v != "" and v.strip() == v and not any(c in v for c in ',"\\{}\n')


def alertsink_args(labels, style):
    """The same label set in one of alertsink's spellings."""
    items = sorted(labels.items())
    if style == 0 or not items:  # one --labels, all quoted
        return ["--labels", ",".join("%s=%s" % (k, quote(v)) for k, v in items)] if items else []
    if style == 1:  # unquoted where possible, spaces after commas, braces
        return ["--labels", "{" + ", ".join("%s=%s" % (k, v if plain(v) else quote(v))
                                            for k, v in items) + "}"]
    if style == 2:  # one --labels per label
        out = []
        for k, v in items:
            out += ["--labels", "%s = %s" % (k, quote(v))]
        return out
    return ["%s=%s" % (k, quote(v)) for k, v in items]  # amtool-style words


ANSWERS = set()


def run_case(cfg_as, cfg_am, labels, style, env):
    a = subprocess.run([ALERTSINK, "routes", "-c", cfg_as] + alertsink_args(labels, style),
                       capture_output=True, text=True, env=env, timeout=60)
    b = subprocess.run([AMTOOL, "config", "routes", "test", "--config.file=" + cfg_am] +
                       ["%s=%s" % (k, quote(v)) for k, v in sorted(labels.items())],
                       capture_output=True, text=True, env=env, timeout=60)
    if a.returncode != 0:
        return "alertsink exited %d: %s" % (a.returncode, a.stderr.strip())
    if b.returncode != 0:
        return "amtool exited %d: %s" % (b.returncode, b.stderr.strip())
    got = ",".join(a.stdout.splitlines())
    want = b.stdout.strip("\n")
    if got != want:
        return "alertsink %r, amtool %r" % (got, want)
    ANSWERS.add((cfg_am, want))
    return None


def draw(rng, pool):
    labels = {}
    for name, values in pool.items():
        if rng.random() < 0.35:
            continue
        labels[name] = rng.choice(values)
    if rng.random() < 0.2:
        labels["unrelated"] = "x"
    return labels


def main():
    for tool in (ALERTSINK, AMTOOL):
        if not os.access(tool, os.X_OK):
            print("missing %s" % tool)
            return 1
    tmp = tempfile.mkdtemp(prefix="as-routes-")
    env = dict(os.environ, HOME=tmp)  # no user amtool configuration
    rng = random.Random(20250425)
    failures = []
    compared = 0
    try:
        jobs = []
        for t in TREES:
            cfg_as = alertsink_config(tmp, t["name"], t["route"], t["receivers"])
            cfg_am = amtool_config(tmp, t["name"], t["route"], t["receivers"])
            sets = list(t["cases"]) + [draw(rng, t["labels"]) for _ in range(60)]
            for i, labels in enumerate(sets):
                jobs.append((t["name"], cfg_as, cfg_am, labels, i % 4))
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
            futs = {ex.submit(run_case, j[1], j[2], j[3], j[4], env): j for j in jobs}
            for fut in concurrent.futures.as_completed(futs):
                j = futs[fut]
                compared += 1
                err = fut.result()
                if err:
                    failures.append("%s %r (style %d): %s" % (j[0], j[3], j[4], err))

        for name, route in INVALID:
            cfg_as = alertsink_config(tmp, "bad-" + name, "\n" + route, ["r0"])
            cfg_am = amtool_config(tmp, "bad-" + name, "\n" + route, ["r0"])
            a = subprocess.run([ALERTSINK, "routes", "-c", cfg_as], capture_output=True,
                               text=True, env=env, timeout=60)
            b = subprocess.run([AMTOOL, "config", "routes", "test", "--config.file=" + cfg_am],
                               capture_output=True, text=True, env=env, timeout=60)
            compared += 1
            if b.returncode == 0:
                failures.append("invalid %s: amtool accepted it (the test is wrong)" % name)
            elif a.returncode != 2:
                failures.append("invalid %s: alertsink exited %d (want 2), amtool: %s" %
                                (name, a.returncode, b.stderr.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for f in sorted(failures):
        print("DISAGREE:", f)
    print("%d cases compared with amtool (%d distinct answers), %d disagreements" %
          (compared, len(ANSWERS), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
