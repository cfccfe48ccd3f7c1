#!/usr/bin/python3
"""test_sdnotify.py - the daemon speaks systemd's notify protocol (Type=notify).

A Python AF_UNIX datagram socket stands in for systemd: NOTIFY_SOCKET names
it, and the test reads what the daemon sends.  It checks that

  - READY=1 comes only once the HTTP port and the Unix socket accept
    connections (they are probed the moment READY=1 arrives);
  - STATUS= carries the queue depth;
  - a reload is framed by RELOADING=1 (with MONOTONIC_USEC) and READY=1,
    a refused reload too, and the daemon keeps serving after both;
  - SIGTERM sends STOPPING=1 before the exit, and the exit code is 0;
  - with NOTIFY_SOCKET unset nothing is sent and the daemon runs as usual.
"""
import os
import signal
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import SLOW, Daemon, alert, wait_for  # noqa: E402

ALERTS = "/api/v1/alerts"


class Notify:
    """The systemd side: a datagram socket collecting the daemon's messages."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="as-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []  # one dict per datagram, in arrival order

    def next(self, timeout=15):
        """The next datagram as {KEY: value}."""
        self.sock.settimeout(timeout * SLOW)
        data = self.sock.recv(4096).decode()
        msg = dict(line.split("=", 1) for line in data.split("\n") if "=" in line)
        self.messages.append(msg)
        return msg

    def until(self, key, timeout=15):
        """Read datagrams until one carries key; returns (skipped, that one)."""
        skipped = []
        deadline = time.monotonic() + timeout * SLOW
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s= from the daemon; got %r" % (key, skipped))
            m = self.next(left / SLOW)
            if key in m:
                return skipped, m
            skipped.append(m)

    def pending(self):
        """Datagrams already waiting, without blocking."""
        out = []
        self.sock.setblocking(False)
        try:
            while True:
                out.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
        return out

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
            os.rmdir(self.dir)
        except OSError:
            pass


def listening(d):
    """Do both inputs accept a connection right now?"""
    try:
        with socket.create_connection(("127.0.0.1", d.port), timeout=1):
            pass
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(d.sock)
        return True
    except OSError:
        return False


class SdNotify(unittest.TestCase):
    def setUp(self):
        self.n = Notify()
        self.saved = os.environ.get("NOTIFY_SOCKET")
        os.environ["NOTIFY_SOCKET"] = self.n.path

    def tearDown(self):
        if self.saved is None:
            os.environ.pop("NOTIFY_SOCKET", None)
        else:
            os.environ["NOTIFY_SOCKET"] = self.saved
        self.n.close()

    def test_ready_reloading_stopping(self):
        d = Daemon()
        try:
            d.start(wait=False)
            before, ready = self.n.until("READY")
            # The moment systemd hears READY=1, the inputs already listen.
            self.assertTrue(listening(d), "READY=1 before the inputs listen:\n" + d.log())
            self.assertEqual(ready["READY"], "1")
            self.assertNotIn("STOPPING", "".join(str(m) for m in before))
            self.assertRegex(ready.get("STATUS", ""), r"queue \d+, deferred \d+, dead \d+")
            self.assertIn("msg=started", d.log())

            r = d.post(ALERTS, alert("BeforeReload"))
            self.assertEqual(r.status, 200)

            # A good reload: RELOADING=1 (with MONOTONIC_USEC), then READY=1.
            d.send_signal(signal.SIGHUP)
            _, m = self.n.until("RELOADING")
            self.assertEqual(m["RELOADING"], "1")
            self.assertRegex(m.get("MONOTONIC_USEC", ""), r"^\d+$")
            usec = int(m["MONOTONIC_USEC"])
            self.assertLessEqual(usec, time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)
            skipped, m = self.n.until("READY")
            self.assertNotIn("STOPPING", "".join(str(x) for x in skipped))
            self.assertIn("queue", m.get("STATUS", ""))
            wait_for(lambda: "msg=reloaded" in d.log(), 10, what="the reload")

            # A refused reload is framed the same way, and the old configuration serves on.
            with open(d.config) as f:
                good = f.read()
            with open(d.config, "w") as f:
                f.write(good + "no_such_key: 1\n")
            d.send_signal(signal.SIGHUP)
            self.n.until("RELOADING")
            self.n.until("READY")
            wait_for(lambda: "reload refused" in d.log(), 10, what="the refused reload")
            self.assertRegex(d.log(), r"alertsink\.yaml:\d+:\d+: ")
            with open(d.config, "w") as f:
                f.write(good)
            r2 = d.post(ALERTS, alert("AfterReload"))
            self.assertEqual(r2.status, 200)
            d.wait_outbox([r.json["id"], r2.json["id"]])

            # Stop: STOPPING=1 arrives while the daemon is still shutting down.
            d.send_signal(signal.SIGTERM)
            self.n.until("STOPPING")
            d.proc.wait(30 * SLOW)
            self.assertEqual(d.proc.returncode, 0, d.log())
            d.check_sanitizers()
            self.assertFalse(any("READY" in m for m in self.n.pending()))
        finally:
            d.close()

    def test_status_counts_the_queue(self):
        # The outbox's folder is missing: every delivery fails and waits in
        # deferred/, which STATUS= reports after the next reload.
        d = Daemon(unix=False, outbox_dir=False)
        try:
            d.start(wait=False)
            self.n.until("READY")
            ids = [d.post(ALERTS, alert("Stuck%d" % i)).json["id"] for i in range(3)]
            self.assertEqual(len(ids), 3)
            wait_for(lambda: d.spool_files("deferred") == 3, 20, what="three deferred notes")
            d.send_signal(signal.SIGHUP)
            self.n.until("RELOADING")
            _, m = self.n.until("READY")
            self.assertRegex(m["STATUS"], r"queue 3, deferred 3, dead 0")
            self.assertEqual(d.stop(), 0)
        finally:
            d.close()

    def test_no_notify_socket(self):
        os.environ.pop("NOTIFY_SOCKET", None)
        with Daemon() as d:
            r = d.post(ALERTS, alert("Plain"))
            self.assertEqual(r.status, 200)
            d.send_signal(signal.SIGHUP)
            wait_for(lambda: "msg=reloaded" in d.log(), 10, what="the reload")
            d.wait_outbox([r.json["id"]])
        self.assertEqual(self.n.pending(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
