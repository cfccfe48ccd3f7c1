"""test_send_edges.py - `alertsink send`'s exit codes at the edges
(docs/inputs.md, README's exit codes), each found by review:

  - a record routed to two notes, the first one's delivery outlasting
    --timeout, the second never attempted: exit 3 and a line saying what
    stays in maildrop/ (it exited 0 and said nothing); the daemon then
    delivers the second once;
  - --socket to a daemon that does not accept (its backlog full):
    --timeout bounds the connect too (it blocked for ever), exit 1;
  - --socket answered "ERR too many clients": the daemon's state, exit 1
    (it was 4, "input rejected": a caller that does not retry a 4 lost the
    alert).
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SLOW, Daemon, wait_for  # noqa: E402
from lib.fakes import FakeProcess  # noqa: E402


class SendEdges(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-send-edges-")

    def test_a_note_never_attempted_is_not_delivered(self):
        slow = FakeProcess("fake_webhook.py", self.tmp, "--delay-ms", "3000")
        fast = FakeProcess("fake_webhook.py", self.tmp)
        self.addCleanup(slow.stop)
        self.addCleanup(fast.stop)
        rcv = ("  - name: slow\n    webhook: {url: %s/hook, timeout: 10s}\n"
               "  - name: fast\n    webhook: {url: %s/hook, timeout: 10s}\n") % (slow.url, fast.url)
        route = ("{receiver: out, routes: [{matchers: ['alertname=\"X\"'], receiver: slow, "
                 "continue: true}, {matchers: ['alertname=\"X\"'], receiver: fast}]}")
        d = Daemon(http=False, unix=False, receivers=rcv, route=route)
        self.addCleanup(d.close)
        p = subprocess.run([BINARY, "send", "-c", d.config, "--timeout", "2s", "--label",
                            "alertname=X", "hi"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("1 more notification not attempted within the timeout; it stays in the "
                      "spool's maildrop/ for the daemon", p.stderr)
        self.assertEqual((len(slow.requests("/hook")), len(fast.requests("/hook"))), (1, 0))
        d.start()
        wait_for(lambda: len(fast.requests("/hook")) == 1, 20, what="the daemon's delivery")
        time.sleep(0.5)
        self.assertEqual((len(slow.requests("/hook")), len(fast.requests("/hook"))), (1, 1))
        self.assertEqual(d.stop(), 0, d.log())

    def test_socket_connect_is_bounded_by_the_timeout(self):
        path = os.path.join(self.tmp, "s.sock")
        listener = socket.socket(socket.AF_UNIX)
        self.addCleanup(listener.close)
        listener.bind(path)
        listener.listen(0)
        fill = []
        for _ in range(4):  # the backlog, full
            c = socket.socket(socket.AF_UNIX)
            c.setblocking(False)
            self.addCleanup(c.close)
            try:
                c.connect(path)
            except OSError:
                break
            fill.append(c)
        t0 = time.time()
        p = subprocess.run([BINARY, "send", "--socket", path, "--timeout", "1s", "hello"],
                           capture_output=True, text=True, timeout=20 * SLOW)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertLess(time.time() - t0, 5 * SLOW)
        self.assertIn("did not take the connection within --timeout", p.stderr)

    def test_socket_busy_is_the_daemons_state(self):
        d = Daemon(unix_extra={"max_clients": 1})
        self.addCleanup(d.close)
        d.start()
        hold = socket.socket(socket.AF_UNIX)
        self.addCleanup(hold.close)
        hold.connect(d.sock)
        time.sleep(0.3)
        p = d.cli("send", "--socket", d.sock, "disk full")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("ERR too many clients", p.stderr)
        hold.close()
        self.assertEqual(d.stop(), 0, d.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
