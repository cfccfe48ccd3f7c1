#!/usr/bin/python3
"""test_check_start.py - `alertsink -t` checks what the daemon meets when it
starts, and the daemon's start errors say what to change.

  - the spool directory: usable, or creatable, by the user running -t (as
    root the test runs the binary as nobody); a relative spool.dir is
    shown with the absolute path it means; nothing is created;
  - each file sink's file: writable, or creatable in its directory, or in
    one that creating the spool makes;
  - with --no-env those are warnings;
  - a port in use: the daemon's error names http.listen and the file;
  - the shipped examples: rules/example.yaml only writes where the
    packaged systemd unit lets it, rules/quickstart.yaml's fixture exists.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SOURCE, Daemon  # noqa: E402


def as_other_user():
    """The command prefix that runs the binary as an unprivileged user."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise unittest.SkipTest("running as root without setpriv")
    return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


class CheckStart(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-check-")
        os.chmod(self.tmp, 0o755)  # others may look in, not write
        self.user = as_other_user()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config(self, text, name="c.yaml"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def check(self, path, *args, cwd=None):
        r = subprocess.run(self.user + [BINARY, "-t", "-c", path] + list(args),
                           capture_output=True, text=True, cwd=cwd or self.tmp, timeout=60)
        return r.returncode, r.stderr

    def listing(self):
        return sorted(os.listdir(self.tmp))

    def test_spool_that_cannot_be_created(self):
        path = self.config("spool: {dir: var/spool}\n"
                           "receivers: [{name: r, file: {path: /tmp/as-check-out.jsonl}}]\n"
                           "route: {receiver: r}\n")
        before = self.listing()
        rc, err = self.check(path)
        self.assertEqual(rc, 1, err)
        # The relative name, the absolute one it means here, and why.
        self.assertIn("spool.dir var/spool (%s/var/spool here): " % self.tmp, err)
        self.assertRegex(err, r"(user|uid) \S+ cannot write to %s, where the spool would be "
                              r"created: Permission denied" % re.escape(self.tmp))
        self.assertIn("is valid, but the daemon would not start (1 problem above)", err)
        self.assertEqual(self.listing(), before, "-t created something")
        rc, err = self.check(path, "--no-env")
        self.assertEqual(rc, 0, err)
        self.assertIn("warning: spool.dir var/spool", err)

    def test_spool_that_exists_but_is_not_ours(self):
        spool = os.path.join(self.tmp, "spool")
        os.makedirs(os.path.join(spool, "incoming"))
        os.chmod(spool, 0o755)
        path = self.config("spool: {dir: %s}\n"
                           "receivers: [{name: r, file: {path: /tmp/as-check-out.jsonl}}]\n"
                           "route: {receiver: r}\n" % spool)
        rc, err = self.check(path)
        self.assertEqual(rc, 1, err)
        self.assertIn("spool.dir %s: " % spool, err)
        self.assertIn("cannot write to %s" % spool, err)

    def test_file_sink_paths(self):
        os.makedirs(os.path.join(self.tmp, "open"), mode=0o777)
        os.chmod(os.path.join(self.tmp, "open"), 0o777)
        path = self.config(
            "spool: {dir: %(t)s/open/spool}\n"
            "receivers:\n"
            "  - {name: a, file: {path: %(t)s/out.jsonl}}\n"       # dir not writable
            "  - {name: b, file: {path: %(t)s/no/such/out.jsonl}}\n"  # no such directory
            "  - {name: c, file: {path: %(t)s/open/ok.jsonl}}\n"    # fine
            "  - {name: d, file: {path: %(t)s/open/spool/o.jsonl}}\n"  # made with the spool
            "route: {receiver: a}\n" % {"t": self.tmp})
        rc, err = self.check(path)
        self.assertEqual(rc, 1, err)
        self.assertIn("receiver 'a': file.path %s/out.jsonl: " % self.tmp, err)
        self.assertIn("cannot write to %s, where the file would be created" % self.tmp, err)
        self.assertIn("receiver 'b': file.path %s/no/such/out.jsonl: the directory %s/no/such "
                      "does not exist" % (self.tmp, self.tmp), err)
        self.assertNotIn("receiver 'c'", err)
        self.assertNotIn("receiver 'd'", err)
        self.assertIn("(2 problems above)", err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "open", "spool")))

    def test_all_good(self):
        os.chmod(self.tmp, 0o777)
        path = self.config("spool: {dir: spool}\n"
                           "receivers: [{name: r, file: {path: o.jsonl}}]\n"
                           "route: {receiver: r}\n")
        rc, err = self.check(path)
        self.assertEqual(rc, 0, err)
        self.assertIn("is valid", err)
        self.assertEqual(self.listing(), ["c.yaml"], "-t created something")

    def test_files_the_configuration_names(self):
        """smtp.tls_ca_file, *_file secrets and templates: read (compiled)
        by -t, as by the daemon's start."""
        path = self.config(
            "spool: {dir: /tmp/as-check-spool}\n"
            "smtp: {host: smtp.example.com, from: a@example.com, username: u,\n"
            "       password_file: %(t)s/no-such-pw, tls_ca_file: %(t)s/no-such-ca.pem}\n"
            "templates: {dir: %(t)s}\n"
            "receivers: [{name: r, email: {to: [b@example.com], template: nosuch}}]\n"
            "route: {receiver: r}\n" % {"t": self.tmp})
        rc, err = self.check(path)
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot read '%s/no-such-pw': No such file or directory" % self.tmp, err)
        with open(os.path.join(self.tmp, "pw"), "w") as f:
            f.write("secret\n")
        os.chmod(os.path.join(self.tmp, "pw"), 0o644)
        with open(path) as f:
            text = f.read().replace("no-such-pw", "pw")
        self.config(text)
        rc, err = self.check(path)
        self.assertEqual(rc, 1, err)
        self.assertIn("smtp.tls_ca_file: cannot load '%s/no-such-ca.pem'" % self.tmp, err)
        self.config(text.replace(", tls_ca_file: %s/no-such-ca.pem" % self.tmp, ""))
        rc, err = self.check(path)
        self.assertEqual(rc, 1, err)
        self.assertIn("template 'nosuch' not found", err)

    def test_port_in_use_names_the_key_and_the_file(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            d = Daemon(http=False)
            try:
                d.write_config(http_extra={"listen": "127.0.0.1:%d" % port})
                rc, log = d.run_to_exit()
            finally:
                d.close()
        self.assertEqual(rc, 1, log)
        line = [x for x in log.splitlines() if "cannot start" in x]
        self.assertTrue(line, log)
        self.assertIn("http.listen: cannot listen on 127.0.0.1:%d: Address already in use" % port,
                      line[0])
        self.assertIn("set another http.listen", line[0])
        self.assertIn("config=%s" % d.config, line[0])


class Examples(unittest.TestCase):
    def test_example_writes_where_the_unit_allows(self):
        """Every path rules/example.yaml writes is under one the hardened
        unit makes writable (StateDirectory, RuntimeDirectory, LogsDirectory,
        ReadWritePaths)."""
        unit = open(os.path.join(SOURCE, "packaging", "alertsink.service")).read()
        allowed = []
        for key, base in (("StateDirectory", "/var/lib"), ("RuntimeDirectory", "/run"),
                          ("LogsDirectory", "/var/log"), ("CacheDirectory", "/var/cache")):
            for m in re.finditer(r"^%s=(.+)$" % key, unit, re.M):
                allowed += [os.path.join(base, d) for d in m.group(1).split()]
        for m in re.finditer(r"^ReadWritePaths=(.+)$", unit, re.M):
            allowed += m.group(1).split()
        self.assertTrue(allowed)
        env = dict(os.environ)
        r = subprocess.run([BINARY, "-T", "--no-env", "-c", "rules/example.yaml"], cwd=SOURCE,
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        import yaml
        cfg = yaml.safe_load(r.stdout)
        written = [cfg["spool"]["dir"], cfg["unix"]["path"]]
        written += [rv["file"]["path"] for rv in cfg["receivers"] if rv.get("file")]
        for p in written:
            self.assertTrue(any(p == a or p.startswith(a + "/") for a in allowed),
                            "%s is not writable under the unit (%s)" % (p, allowed))

    def test_quickstart_fixture_exists(self):
        text = open(os.path.join(SOURCE, "rules", "quickstart.yaml")).read()
        for ref in re.findall(r"@(tests/fixtures/\S+)", text):
            self.assertTrue(os.path.exists(os.path.join(SOURCE, ref)), ref)


class PrintLoadsBack(unittest.TestCase):
    def test_dash_T_output_loads_back(self):
        # Found by review: a receiver named NULL was printed bare and read
        # back as null; U+2028, U+2029 and NEL were printed raw, which
        # libyaml reads as line breaks; a *_file naming a directory was
        # "larger than 8191 bytes".
        with tempfile.TemporaryDirectory(prefix="as-print-") as d:
            names = ["NULL", "Null", "yes", "a\u2028b", "c\u2029d", "e\u0085f"]
            cfg = os.path.join(d, "a.yaml")
            with open(cfg, "w") as f:
                f.write("spool: {dir: %s/spool}\nreceivers:\n" % d)
                for n in names:
                    f.write("  - {name: %s, file: {path: %s/o}}\n" % (json.dumps(n), d))
                f.write("route: {receiver: NULL-not, routes: []}\n".replace(
                    "NULL-not", json.dumps(names[0])))
            p = subprocess.run([BINARY, "-T", "-c", cfg], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            again = os.path.join(d, "again.yaml")
            with open(again, "w") as f:
                f.write(p.stdout)
            q = subprocess.run([BINARY, "-T", "-c", again], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(q.returncode, 0, q.stderr)
            self.assertEqual(q.stdout.split("\n", 1)[1], p.stdout.split("\n", 1)[1])  # but its file
            bad = os.path.join(d, "dir.yaml")
            with open(bad, "w") as f:
                f.write("spool: {dir: %s/spool}\nhttp: {bearer_token_file: %s}\n"
                        "receivers: [{name: r, file: {path: %s/o}}]\nroute: {receiver: r}\n"
                        % (d, d, d))
            r = subprocess.run([BINARY, "-t", "-c", bad], capture_output=True, text=True,
                               timeout=60)
            self.assertIn("cannot read '%s': Is a directory" % d, r.stderr)


    def test_include_does_not_change_an_aliased_list(self):
        # An included route.group_by was appended to the node an alias
        # shared, so the child route that used *g got it too (found by
        # review).
        import yaml
        with tempfile.TemporaryDirectory(prefix="as-alias-") as d:
            with open(os.path.join(d, "extra.yaml"), "w") as f:
                f.write("route:\n  group_by: [cluster]\n")
            cfg = os.path.join(d, "main.yaml")
            with open(cfg, "w") as f:
                f.write("include: [extra.yaml]\nspool: {dir: %s/spool}\n"
                        "receivers: [{name: a, file: {path: %s/o}}]\n"
                        "route:\n  receiver: a\n  group_by: &g [alertname]\n  routes:\n"
                        "    - {matchers: ['team=\"db\"'], receiver: a, group_by: *g}\n"
                        % (d, d))
            p = subprocess.run([BINARY, "-T", "-c", cfg], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            route = yaml.safe_load(p.stdout)["route"]
            self.assertEqual(route["group_by"], ["alertname", "cluster"])
            self.assertEqual(route["routes"][0]["group_by"], ["alertname"])

if __name__ == "__main__":
    unittest.main(verbosity=2)
