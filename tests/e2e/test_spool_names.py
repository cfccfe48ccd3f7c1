"""test_spool_names.py - a batch file never has a note's name (spool.h).

A segment of incoming/ was named after its first record, and the first
note of a record has the record's id.  So a note of that record, stored
apart while the segment was still in incoming/ (retried: deferred/, then
active/ during the retry), had the segment's name, and recovery, which
takes incoming/NAME for a newer copy of active/NAME, deleted the note
after a kill -9 during its retry: answered 200, never delivered.  The
same name in tmp/ (a finished segment kept there for reuse, and the
note's deferred/ copy being written through tmp/ID) let the two writers
share one file.  Batch files are now "ID-b".

The scenario: the first record of a segment goes to a webhook that fails
once (the note is deferred) and then hangs on the retry (the note is in
active/); steady traffic to another receiver keeps the segment open;
kill -9; on restart the note must be delivered.
"""
import os
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Daemon, alert, wait_for  # noqa: E402
from lib.fakes import FakeProcess  # noqa: E402

ALERTS = "/api/v1/alerts"


class SpoolNames(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-names-")
        self.fake = FakeProcess("fake_webhook.py", self.tmp, "--path", "/hook")
        rcv = ('  - name: hook\n    webhook: {url: "http://127.0.0.1:%d/hook", timeout: 20s}\n'
               % self.fake.port)
        route = ("{receiver: out, group_by: [alertname], "
                 "routes: [{matchers: ['dest=\"hook\"'], receiver: hook}]}")
        self.d = Daemon(unix=False, receivers=rcv, route=route,
                        directory=tempfile.mkdtemp(dir=self.tmp))

    def tearDown(self):
        self.d.close()
        self.fake.stop()

    def names(self, state):
        return [n for n in os.listdir(os.path.join(self.d.spool, state)) if not n.endswith(".log")]

    def test_retried_first_note_of_a_segment_survives_kill9(self):
        d = self.d
        # The first request fails (transient), the retry hangs: in active/.
        self.fake.control(fail=[{"status": 500, "count": 1}], hang={"seconds": 30, "count": 1})
        d.start()
        r = d.post(ALERTS, alert("Victim", dest="hook"))  # the first record of a segment
        self.assertEqual(r.status, 200, r)
        victim = r.json["id"]
        stop = threading.Event()

        def keep_the_segment_open():
            i = 0
            while not stop.is_set():
                try:
                    d.post(ALERTS, alert("Keep%d" % i))
                except OSError:
                    return  # killed
                i += 1
                time.sleep(0.03)
        t = threading.Thread(target=keep_the_segment_open)
        t.start()
        try:
            wait_for(lambda: len(self.fake.requests("/hook")) >= 2, 20, what="the retry in flight")
            wait_for(lambda: victim in self.names("active"), 10, what="the note in active/")
            # A batch file has no note's name, here and in tmp/.
            for state in ("incoming", "tmp"):
                for name in self.names(state):
                    self.assertTrue(name.endswith("-b"), "%s/%s" % (state, name))
            d.kill9()
        finally:
            stop.set()
            t.join()
        self.fake.control(clear=True)
        d.start()
        d.wait_drained(timeout=30)
        wait_for(lambda: any(h.get("status") == 200 and
                             h["headers"].get("x-alertsink-id") == victim
                             for h in self.fake.requests("/hook")),
                 20, what="the victim delivered after the restart")
        self.assertEqual(d.stop(), 0, d.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
