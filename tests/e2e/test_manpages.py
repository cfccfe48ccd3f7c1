#!/usr/bin/python3
"""test_manpages.py - the man pages build, format cleanly, and document the
configuration that the binary actually reads.

  - alertsink(8) and alertsink.yaml(5) are built from man/*.scd into the
    build tree, and `man --warnings -l PAGE` prints no warning;
  - alertsink.yaml(5) documents exactly the keys that `alertsink -T` prints
    for a configuration that uses every section (every key of every table,
    in both directions: no key left out, no key that does not exist), every
    top-level key among them, and the *_file form of each secret;
  - a default the page states is the default `alertsink -T` shows;
  - alertsink(8) names every subcommand of the usage and every signal the
    daemon handles.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SOURCE  # noqa: E402

BUILD = os.environ.get("AS_BUILD_DIR") or os.path.join(SOURCE, "build")
PAGES = {"alertsink.8": os.path.join(BUILD, "man", "alertsink.8"),
         "alertsink.yaml.5": os.path.join(BUILD, "man", "alertsink.yaml.5")}
SCD = os.path.join(SOURCE, "man", "alertsink.yaml.5.scd")

# Every section, every channel, a time interval with every field: -T then
# prints every key the tables know.
FULL = """
include: []
modules: []
spool: {dir: %(dir)s/spool}
templates: {dir: %(dir)s}
http: {listen: "127.0.0.1:1", bearer_token: tok}
unix: {path: %(dir)s/s.sock}
whatsapp: {phone: "+90 555 000 0001", password: pw}
whatsapp_cloud: {phone_number_id: "1065", token: tok}
smtp: {host: smtp.example.com, from: "a <a@example.com>", username: u, password: pw}
receivers:
  - name: r
    whatsapp: {to: ["+90 555 111 2233"]}
    email: {to: [a@example.com]}
    file: {path: %(dir)s/o.jsonl}
    whatsapp_cloud: {to: ["+90 555 111 2233"], message_template: {name: t}}
    webhook: {url: "http://127.0.0.1:1/", headers: {X-A: b}, bearer_token: t, hmac_secret: s}
time_intervals:
  - name: ti
    time_intervals:
      - times: [{start_time: "09:00", end_time: "18:00"}]
        weekdays: ["monday:friday"]
        days_of_month: ["1:5"]
        months: ["january"]
        years: ["2030"]
        location: UTC
mute_time_intervals:
  - name: mti
    time_intervals: [{weekdays: [sunday]}]
route:
  receiver: r
  routes: [{matchers: ['a="b"'], receiver: r}]
"""


def key_paths(node, prefix="", out=None):
    """{path: value} of every key, containers included; list items as []."""
    if out is None:
        out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            p = prefix + "." + k if prefix else k
            out[p] = v
            key_paths(v, p, out)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict):
                key_paths(item, prefix + "[]", out)
    return out


def normalise(path):
    """route.routes[].X is documented as route.X; mute_time_intervals takes
    the keys of time_intervals; the names of a webhook's headers are the
    user's."""
    while "route.routes[]." in path:
        path = path.replace("route.routes[].", "route.")
    if path.startswith("mute_time_intervals[]"):
        path = "time_intervals[]" + path[len("mute_time_intervals[]"):]
    if ".headers." in path:
        path = path[:path.index(".headers.") + len(".headers")]
    return path


def documented():
    """{key: stated default or None} of the definition lines of the scd source."""
    keys = {}
    with open(SCD) as f:
        for line in f:
            m = re.match(r"^\*([a-z_.\[\]]+)\* (\(.*)$", line.rstrip("\n"))
            if m:
                d = re.search(r"default \*([^*]+)\*\)", m.group(2))
                keys[m.group(1)] = d.group(1) if d else None
    return keys


class ManPages(unittest.TestCase):
    def test_pages_format_without_warnings(self):
        env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
        for name, path in PAGES.items():
            self.assertTrue(os.path.exists(path), "%s was not built (scdoc missing?)" % path)
            p = subprocess.run(["man", "--warnings", "-l", path], capture_output=True,
                               env=env, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stderr.decode(), "", "%s: groff warnings" % name)
            text = p.stdout.decode()
            self.assertIn("NAME", text)
            self.assertGreater(len(text.splitlines()), 100, name)

    def effective(self):
        with tempfile.TemporaryDirectory(prefix="as-man-") as d:
            cfg = os.path.join(d, "full.yaml")
            with open(cfg, "w") as f:
                f.write(FULL % {"dir": d})
            p = subprocess.run([BINARY, "-T", "-c", cfg], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            return yaml.safe_load(p.stdout)

    def test_yaml5_documents_every_key_and_only_those(self):
        eff = self.effective()
        paths = key_paths(eff)
        secrets = {normalise(p) for p, v in paths.items() if v == "<redacted>"}
        self.assertEqual(secrets, {"http.bearer_token", "whatsapp.password", "smtp.password",
                                   "whatsapp_cloud.token", "receivers[].whatsapp_cloud.token",
                                   "receivers[].webhook.url", "receivers[].webhook.bearer_token",
                                   "receivers[].webhook.hmac_secret"})
        real = {normalise(p) for p in paths}
        leaves = {normalise(p) for p, v in paths.items()
                  if not isinstance(v, dict) or not v}
        doc = documented()
        missing = sorted(k for k in leaves if k not in doc)
        self.assertEqual(missing, [], "keys alertsink reads that alertsink.yaml(5) leaves out")
        allowed = real | {s + "_file" for s in secrets}
        unknown = sorted(k for k in doc if k not in allowed)
        self.assertEqual(unknown, [], "keys alertsink.yaml(5) documents that do not exist")
        for s in secrets:
            self.assertIn(s + "_file", doc)
        tops = {k.split(".")[0].rstrip("[]") for k in doc}
        self.assertEqual(tops, set(eff), "top-level keys")
        print("alertsink.yaml(5): %d keys documented, %d top-level; -T has %d leaves"
              % (len(doc), len(tops), len(leaves)))

    def test_stated_defaults_are_the_real_ones(self):
        # A configuration that sets nothing it can leave out: what -T shows
        # is the defaults.
        with tempfile.TemporaryDirectory(prefix="as-man-") as d:
            cfg = os.path.join(d, "min.yaml")
            with open(cfg, "w") as f:
                f.write("spool: {dir: %s/spool}\nreceivers: [{name: r, file: {path: %s/o}}]\n"
                        "route: {receiver: r}\n" % (d, d))
            p = subprocess.run([BINARY, "-T", "-c", cfg], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
        paths = {normalise(k): v for k, v in key_paths(yaml.safe_load(p.stdout)).items()}
        checked = 0
        doc = documented()
        for key, default in doc.items():
            if default is None or default in doc or key not in paths or paths[key] is None:
                continue
            if key == "spool.dir" or isinstance(paths[key], (dict, list)):
                continue
            self.assertEqual(str(paths[key]).lower(), default.strip('"').lower(),
                             "default of %s" % key)
            checked += 1
        self.assertGreater(checked, 15)

    def test_alertsink8_names_commands_and_signals(self):
        p = subprocess.run([BINARY, "-h"], capture_output=True, text=True, timeout=30)
        commands = set(re.findall(r"alertsink ([a-z][a-z-]*) ", p.stdout))
        self.assertTrue({"send", "preview", "render", "routes", "status", "queue", "wa",
                         "wa-cloud", "requeue", "ready"} <= commands, commands)
        with open(os.path.join(SOURCE, "man", "alertsink.8.scd")) as f:
            page = f.read()
        for c in commands:
            self.assertRegex(page, r"\*%s\*" % c, "alertsink(8) lacks the command " + c)
        for sig in ("SIGHUP", "SIGUSR1", "SIGTERM", "SIGINT"):
            self.assertIn("*%s*" % sig, page)
        for section in ("SYNOPSIS", "OPTIONS", "SIGNALS", "EXIT STATUS", "FILES"):
            self.assertIn("# " + section, page)


if __name__ == "__main__":
    unittest.main(verbosity=2)
