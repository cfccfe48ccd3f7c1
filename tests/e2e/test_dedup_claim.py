"""test_dedup_claim.py - a crash while a note claims its dedup key does
not make it a duplicate of itself (docs/delivery.md).

The claim was a file created with O_EXCL and then written: killed in
between, the daemon left dedup/KEY empty, and after the restart the note,
meeting a claim that did not name it, was suppressed as "duplicate of ''"
-- accepted, delivered zero times (found by review).  A claim is now
written whole under a name of its own and linked to the key, and an empty
claim names nobody (stale).

tests/faultfs kills the daemon (SIGKILL) at its first write in dedup/.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Daemon, alert, wait_for  # noqa: E402
from lib.faults import FaultFS  # noqa: E402


class DedupClaim(unittest.TestCase):
    def test_killed_while_claiming_then_delivered(self):
        d = Daemon(unix=False, dedup_window="5m")
        self.addCleanup(d.close)
        fs = FaultFS(d.dir, os.path.join(d.spool, "dedup"))
        fs.set("write KILL")
        d.start(env=fs.env())
        # The claim comes after the commit; the kill may cut the answer
        # off (the worker can claim before the 200 is sent): what was
        # committed is on disk either way.
        try:
            r = d.post("/api/v1/alerts", alert("DedupCrash"))
            self.assertEqual(r.status, 200, r)
        except OSError:
            pass
        wait_for(lambda: d.proc.poll() is not None, 10, what="the kill in the claim")
        fs.clear()
        d.start(env=fs.env())

        def delivered():
            return [l for l in d.outbox_lines() if "DedupCrash" in l["text"]]
        wait_for(delivered, 20, what="the alert delivered after the restart")
        self.assertEqual(len(delivered()), 1)
        self.assertNotIn("duplicate suppressed", d.log())
        self.assertEqual(d.stop(), 0, d.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
