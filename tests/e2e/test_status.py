#!/usr/bin/python3
"""test_status.py - `alertsink status`: the daemon, the spool and the
channels at a glance.

  - a daemon that runs and takes alerts: exit 0, its pid (the one that
    holds the spool's lock) and what /healthz answered;
  - notifications stuck behind a failing channel: the count by state, the
    oldest one, the next retry, and the channel's newest error with its
    age; dead letters are pointed at `queue`;
  - --json says the same as one object;
  - a daemon that is not running: exit 1, said so.
"""
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Daemon, alert, wait_for  # noqa: E402


class Status(unittest.TestCase):
    def test_status(self):
        d = Daemon(unix=False, outbox_dir=False)
        self.addCleanup(d.close)
        d.start()
        p = d.cli("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("daemon:    running (pid %d); taking alerts: http://127.0.0.1:%d/healthz: ok"
                      % (d.proc.pid, d.port), p.stdout)
        self.assertIn("oldest:    nothing is waiting", p.stdout)
        self.assertIn("file:      0 waiting; no error in the spool", p.stdout)

        ids = [d.post("/api/v1/alerts", alert("Stuck%d" % i)).json["id"] for i in range(2)]

        def deferred():
            j = json.loads(d.cli("status", "--json").stdout)
            return j if j["spool"]["deferred"] == 2 else None
        j = wait_for(deferred, 20, interval=0.1, what="two deferred notifications")
        self.assertEqual(j["daemon"], {"running": True, "pid": d.proc.pid, "ready": True,
                                       "health": "http://127.0.0.1:%d/healthz: ok" % d.port})
        self.assertEqual(j["oldest"]["id"], ids[0])
        self.assertIn(j["next"]["id"], ids)
        self.assertEqual(j["channels"]["file"]["waiting"], 2)
        self.assertIn("cannot open", j["channels"]["file"]["last_error"])

        p = d.cli("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("spool:     %s: 0 maildrop, 0 incoming, 0 active, 2 deferred, 0 dead"
                      % d.spool, p.stdout)
        self.assertRegex(p.stdout, r"oldest:    %s \(deferred, out\), accepted \d+s ago" % ids[0])
        self.assertRegex(p.stdout, r"next try:  (now|in \d+s) \(")
        self.assertRegex(p.stdout, r"file:      2 waiting; last error \d+s ago: cannot open "
                                   r"\S+outbox.jsonl: No such file or directory")
        self.assertNotIn("dead:", p.stdout)

        self.assertEqual(d.stop(), 0)
        p = d.cli("status")
        self.assertEqual(p.returncode, 1)
        self.assertIn("daemon:    NOT running (nothing holds the spool's lock)", p.stdout)
        self.assertTrue(re.search(r"Connection refused|Couldn't connect", p.stdout), p.stdout)
        j = json.loads(d.cli("status", "--json").stdout)
        self.assertEqual((j["daemon"]["running"], j["daemon"]["ready"]), (False, False))
        self.assertEqual(j["spool"]["deferred"], 2)

    def test_dead_letters_and_usage(self):
        d = Daemon(unix=False, outbox_dir=False, spool={"max_age": "1s"})
        self.addCleanup(d.close)
        d.start()
        d.post("/api/v1/alerts", alert("Dead"))
        wait_for(lambda: json.loads(d.cli("status", "--json").stdout)["spool"]["dead"] == 1, 20,
                 interval=0.2, what="a dead letter")
        p = d.cli("status")
        self.assertIn("dead:      1 dead letter: alertsink queue --state dead", p.stdout)
        p = d.cli("status", "extra")
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage: alertsink status", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
