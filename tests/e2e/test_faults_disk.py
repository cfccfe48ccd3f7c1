"""test_faults_disk.py - the spool's file system fills up, or turns read-only.

The spool sits on a small tmpfs of its own (mounting one needs root: the
test is skipped, exit 77, without).  While the disk is full, or mounted
read-only, the inputs answer 503 / ERR and never 200 / OK, and /healthz
answers 503 with the reason; when space comes back (or the file system is
remounted read-write), the daemon takes alerts again by itself, and every
id it answered 200 or OK for is delivered once, including notifications
that were waiting for a retry while the disk was full.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import SLOW, Daemon, wait_for  # noqa: E402
from lib.faults import Answers, Tmpfs, health, wait_healthy  # noqa: E402

AVAILABLE, WHY = Tmpfs.available()

# Receiver "later" writes to a folder that appears only when the test says:
# its notifications wait in the spool for a retry meanwhile.
LATER = ("  - name: later\n"
         "    file: {path: %s}\n")
ROUTE = "{receiver: out, routes: [{matchers: ['to=\"later\"'], receiver: later}]}"


@unittest.skipUnless(AVAILABLE, WHY)
class DiskFaults(unittest.TestCase, Answers):
    def setUp(self):
        self.d = Daemon()
        self.later = os.path.join(self.d.dir, "later")
        self.d.write_config(spool={"dir": os.path.join(self.d.dir, "disk", "spool")},
                            receivers=LATER % json.dumps(os.path.join(self.later, "out.jsonl")),
                            route=ROUTE)
        self.d.spool = os.path.join(self.d.dir, "disk", "spool")
        self.disk = Tmpfs(os.path.join(self.d.dir, "disk"), "1m")
        self.addCleanup(self.d.close)
        self.addCleanup(self.disk.close)

    def delivered_once(self, ids, later_ids):
        counts = self.d.wait_outbox(ids, timeout=30)
        self.assertEqual(sorted(counts.values()), [1] * len(ids), counts)
        os.makedirs(self.later, exist_ok=True)

        def later_counts():
            try:
                with open(os.path.join(self.later, "out.jsonl")) as f:
                    lines = [json.loads(l)["id"] for l in f if l.strip()]
            except FileNotFoundError:
                return None
            return lines if set(later_ids) <= set(lines) else None
        got = wait_for(later_counts, 30, interval=0.2, what="the retried notifications")
        self.assertEqual(sorted(got), sorted(later_ids))

    def test_disk_full_then_space_again(self):
        d = self.d
        d.start()
        ids = [self.accepted(d, "DiskBefore"), self.accepted_unix(d, "DiskBeforeUnix")]
        waiting = [self.accepted(d, "DiskWaiting", to="later")]
        # Delivered and gone (their files would free space), but for the
        # one waiting for its retry.
        d.wait_outbox(ids)
        wait_for(lambda: d.spool_files() == 1 and d.spool_files("deferred") == 1, 10,
                 what="only the waiting notification in the spool")

        self.disk.fill()
        self.refused(d, "DiskFull", "spool write failed")
        status, body = health(d)
        self.assertEqual(status, 503)
        self.assertIn("the last spool write failed: ", body)
        self.assertIn("No space left on device", body)
        self.assertEqual(os.listdir(os.path.join(d.spool, "tmp")), [])  # nothing half-written
        time.sleep(1.5)  # retries of "later" meet the full disk too
        self.assertEqual(health(d)[0], 503)
        self.refused(d, "DiskStillFull", "spool write failed")

        self.disk.unfill()
        self.assertLess(wait_healthy(d), 4 * SLOW, "the probe saw the space late")
        ids += [self.accepted(d, "DiskAfter"), self.accepted_unix(d, "DiskAfterUnix")]
        self.delivered_once(ids, waiting)
        self.assertFalse([l for l in d.outbox_lines() if "DiskFull" in l["text"]
                          or "DiskStillFull" in l["text"]])
        self.assertIn("No space left on device", d.log())
        d.wait_drained()
        d.finish()

    def test_read_only_then_writable_again(self):
        d = self.d
        d.start()
        ids = [self.accepted(d, "RoBefore")]
        waiting = [self.accepted(d, "RoWaiting", to="later")]
        wait_for(lambda: d.spool_files("deferred"), 10, what="a deferred notification")

        self.disk.remount(read_only=True)
        status, body = health(d)
        self.assertEqual(status, 503)
        self.assertRegex(body, r"^spool not writable: .*/tmp: Read-only file system")
        self.refused(d, "RoDuring", "spool write failed")
        # Delivered while the spool is read-only: its file cannot go yet.
        os.makedirs(self.later)
        wait_for(lambda: "cannot remove finished spool files: trying again" in d.log(), 10,
                 what="the waiting notification delivered, its file still there")
        self.assertTrue(os.path.exists(os.path.join(self.later, "out.jsonl")))
        self.assertEqual(d.spool_files(), 1)

        self.disk.remount(read_only=False)
        self.assertLess(wait_healthy(d), 4 * SLOW, "the probe saw the spool mended late")
        ids += [self.accepted(d, "RoAfter"), self.accepted_unix(d, "RoAfterUnix")]
        self.delivered_once(ids, waiting)
        self.assertFalse([l for l in d.outbox_lines() if "RoDuring" in l["text"]])
        d.wait_drained(timeout=5)  # the finished file is removed once it can be
        # Nothing comes back after a restart.
        self.assertEqual(d.stop(), 0)
        d.start()
        time.sleep(1)
        self.delivered_once(ids, waiting)
        d.finish()

if __name__ == "__main__":
    if not AVAILABLE:
        print("skipped: " + WHY)
        sys.exit(77)
    unittest.main(verbosity=2)
