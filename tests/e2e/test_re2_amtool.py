#!/usr/bin/python3
"""test_re2_amtool.py - the regular expression cases of
tests/fixtures/re2/cases.jsonl against Go itself, through the real
`amtool` (Debian's prometheus-alertmanager), and through `alertsink routes`.

The cases' expectations come from Go's documentation and source (each
says where); this test checks them against Go, so that a wrong expectation
cannot hide, and checks that alertsink agrees with both:

  - the cases that match or not: one routing tree with a route per case
    (matchers: ['lN=~"RE"'], continue: true, receiver rN) and one label
    set holding every input (lN=IN); `amtool config routes test` and
    `alertsink routes` must both print exactly the receivers of the cases
    expected to match;
  - the refused ones: a configuration with that matcher alone, which
    `amtool check-config` and `alertsink -t` must both refuse, alertsink
    saying what the case expects.

Cases marked "go" (a newer Go than amtool's) or "diverges" are left out of
the amtool comparison; the cmocka test (tests/unit/test_re2.c) covers them.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, FIXTURES  # noqa: E402

AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"


def load_cases():
    cases = []
    with open(os.path.join(FIXTURES, "re2", "cases.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                cases.append(json.loads(line))
    return cases


def matcher_value(s):
    """A matcher value as Alertmanager's parser reads it back: \\ \" \\n."""
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def yaml_str(s):
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(s, ensure_ascii=False)


class Re2Amtool(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(AMTOOL, os.X_OK):
            raise unittest.SkipTest("amtool is not installed (prometheus-alertmanager)")
        cls.cases = load_cases()
        cls.tmp = tempfile.mkdtemp(prefix="as-re2-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def configs(self, name, routes, receivers):
        """The same tree for Alertmanager and for alertsink."""
        tree = "route:\n  receiver: none\n  routes:\n" + routes
        am = self.write(name + ".yml", tree + "receivers:\n" +
                        "".join("  - name: %s\n" % r for r in receivers))
        out = os.path.join(self.tmp, "out.jsonl")
        asc = self.write(name + ".yaml", "spool: {dir: %s/spool}\n" % self.tmp + tree +
                         "receivers:\n" + "".join("  - name: %s\n    file: {path: %s}\n" % (r, out)
                                                  for r in receivers))
        return am, asc

    def test_matches_agree_with_go(self):
        cases = [c for c in self.cases if "match" in c and "go" not in c and "diverges" not in c]
        self.assertGreaterEqual(len(cases), 50)
        routes, labels, want = "", [], []
        for i, c in enumerate(cases):
            m = 'l%d=~"%s"' % (i, matcher_value(c["re"]))
            routes += "    - matchers: [%s]\n      receiver: r%d\n      continue: true\n" % (
                yaml_str(m), i)
            labels.append('l%d="%s"' % (i, matcher_value(c["in"])))
            if c["match"]:
                want.append("r%d" % i)
        am, asc = self.configs("match", routes, ["none"] + ["r%d" % i for i in range(len(cases))])
        r = subprocess.run([AMTOOL, "config", "routes", "test", "--config.file=" + am] + labels,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        got_go = [x for x in r.stdout.strip().split(",") if x and x != "none"]
        r = subprocess.run([BINARY, "routes", "-c", asc] + labels, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        got_as = [x for x in r.stdout.split("\n") if x and x != "none"]
        wrong_go = [(cases[int(x[1:])]["re"], cases[int(x[1:])]["in"])
                    for x in set(got_go) ^ set(want)]
        wrong_as = [(cases[int(x[1:])]["re"], cases[int(x[1:])]["in"])
                    for x in set(got_as) ^ set(want)]
        self.assertEqual(wrong_go, [], "expectations that Go (amtool) does not share")
        self.assertEqual(wrong_as, [], "cases where alertsink is not Go")
        print("%d pattern x input cases agree with amtool" % len(cases))

    def test_refusals_agree_with_go(self):
        cases = [c for c in self.cases if "error" in c and "go" not in c and "diverges" not in c]
        for c in cases:
            with self.subTest(re=c["re"]):
                m = 'l=~"%s"' % matcher_value(c["re"])
                routes = "    - matchers: [%s]\n      receiver: r\n" % yaml_str(m)
                am, asc = self.configs("refuse", routes, ["none", "r"])
                r = subprocess.run([AMTOOL, "check-config", am], capture_output=True, text=True,
                                   timeout=60)
                self.assertNotEqual(r.returncode, 0, "Go accepts %r" % c["re"])
                r = subprocess.run([BINARY, "-t", "-c", asc], capture_output=True, text=True,
                                   timeout=60)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(c["error"], r.stderr)
        print("%d refused patterns agree with amtool" % len(cases))

    def test_divergences_are_real(self):
        """What alertsink refuses on purpose, Go does accept: the
        divergence is documented, not imagined."""
        for c in self.cases:
            if "diverges" not in c:
                continue
            m = 'l=~"%s"' % matcher_value(c["re"])
            am, _ = self.configs("diverge", "    - matchers: [%s]\n      receiver: r\n" %
                                 yaml_str(m), ["none", "r"])
            r = subprocess.run([AMTOOL, "check-config", am], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, "Go refuses %r too: drop 'diverges'" % c["re"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
