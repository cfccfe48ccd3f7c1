#!/usr/bin/python3
"""test_badconfig.py - configurations that once crashed or hung alertsink,
replayed through the real binary (-t and a reload, alertsink(8)).

Every file of tests/fuzz/regressions/config/ is such an input (a map or a
list written as a key, a null key, an alias inside the node it names, an
alias bomb).  For each one:

  - `alertsink -t -c FILE` exits 1, within seconds, never by a signal, and
    prints at least one error as FILE:LINE:COL: message;
  - a running daemon that gets SIGHUP with that file on disk refuses it,
    logs the errors and goes on: it stays up, and a POST is accepted and
    delivered by the old configuration.

The folder is read when the test runs, so a new regression input is covered
by adding its file.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SLOW, SOURCE, Daemon, alert, wait_for  # noqa: E402

REGRESSIONS = os.path.join(SOURCE, "tests", "fuzz", "regressions", "config")


def regression_files():
    # NAME.valid.yaml: a configuration that loads, kept for what the
    # harness checks after (its -T output loads back); not refused.
    files = sorted(os.path.join(REGRESSIONS, f) for f in os.listdir(REGRESSIONS)
                   if not f.startswith(".") and not f.endswith(".valid.yaml"))
    if not files:
        raise AssertionError("no regression inputs in " + REGRESSIONS)
    return files


class CheckRefuses(unittest.TestCase):
    def test_every_regression_input_is_refused_with_a_position(self):
        for path in regression_files():
            with self.subTest(input=os.path.basename(path)):
                try:
                    p = subprocess.run([BINARY, "-t", "-c", path], capture_output=True,
                                       timeout=10 * SLOW)
                except subprocess.TimeoutExpired:
                    self.fail("alertsink -t did not finish on " + path)
                err = p.stderr.decode(errors="replace")
                self.assertGreaterEqual(p.returncode, 0, "killed by a signal:\n" + err)
                self.assertEqual(p.returncode, 1, err)
                self.assertRegex(err, r"(?m)^%s:\d+:\d+: \S" % re.escape(path))
                self.assertIn("is invalid", err)
                for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                    self.assertNotIn(marker, err)


class ReloadRefuses(unittest.TestCase):
    def test_sighup_with_each_regression_input_keeps_the_daemon(self):
        with Daemon() as d:
            good = d.config + ".good"
            shutil.copyfile(d.config, good)
            for n, path in enumerate(regression_files(), 1):
                with self.subTest(input=os.path.basename(path)):
                    shutil.copyfile(path, d.config)
                    d.send_signal(signal.SIGHUP)
                    wait_for(lambda: d.log().count("reload refused") >= n or not d.alive(), 20,
                             what="the reload of %s to be refused" % path)
                    self.assertTrue(d.alive(), "the daemon died on SIGHUP with %s:\n%s"
                                    % (path, d.log()[-5000:]))
                    d.check_sanitizers()
                    # The errors are logged with the file's position.
                    self.assertRegex(d.log(), r'error="%s:\d+:\d+: ' % re.escape(d.config))
                    # The old configuration serves on.
                    r = d.post("/api/v1/alerts", alert("AfterBadReload%d" % n))
                    self.assertEqual(r.status, 200, r)
                    d.wait_outbox([r.json["id"]])
            # And a good configuration loads again after all of them.
            shutil.copyfile(good, d.config)
            d.send_signal(signal.SIGHUP)
            wait_for(lambda: "msg=reloaded" in d.log(), 20, what="the good reload")
            r = d.post("/api/v1/alerts", alert("AfterGoodReload"))
            self.assertEqual(r.status, 200, r)
            d.wait_outbox([r.json["id"]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
