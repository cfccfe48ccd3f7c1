"""test_kill9.py - accepted means durable (docs/delivery.md), under SIGKILL.

A few hundred alerts are posted from several threads while the sink fails
(the file sink's directory does not exist: a transient failure, so every
notification is retried from the spool).  The daemon is killed with
SIGKILL in the middle of the load, the sink is repaired, the daemon is
restarted on the same spool, and once the spool has drained every alert
that was answered 200 must be in the outbox exactly once.  The same over
the Unix socket, whose OK means the same.

And with the sink working: Alertmanager webhooks (stored as they came)
delivered in batches while the load goes on, so that the kill lands in
the middle of commit rounds, of batches being routed, written to the
outbox and journalled; after the restart nothing answered 200 is missing
and nothing is in the outbox twice (a batch cut short is in doubt, and
the file sink finds its lines).
"""
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import SLOW, Daemon, alert, am_payload, wait_for  # noqa: E402

THREADS = 8
TOTAL = 400
KILL_AFTER = 150  # answers before the kill


def poster(d, path, body, total, accepted, lock):
    """A client that posts body(n) for n in range(total), shared with the
    other clients made with the same counter, and appends the ids answered
    200 to accepted under lock, until the daemon is killed."""
    counter = iter(range(total))

    def client():
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            try:
                r = d.post(path, body(n), timeout=30)
            except OSError:
                return  # killed
            if r.status == 200:
                with lock:
                    accepted.append(r.json["id"])
    return client


class KillNine(unittest.TestCase):
    def kill_mid_load(self, d, clients, accepted, lock, ready=None, total=TOTAL):
        """Run the (function, args) clients, which append the ids answered
        to accepted under lock; SIGKILL d once KILL_AFTER are in (and ready()
        says so), while the load is still going; return a copy of what was
        accepted."""
        threads = [threading.Thread(target=f, args=a) for f, a in clients]
        for t in threads:
            t.start()
        wait_for(lambda: len(accepted) >= KILL_AFTER and (ready is None or ready()), 60,
                 interval=0.001, what="answers before the kill")
        d.kill9()
        for t in threads:
            t.join(60)
        with lock:
            accepted = list(accepted)
        self.assertLess(len(accepted), total, "the load was over before the kill")
        return accepted

    def check_durable(self, d, accepted, sink_failed=True):
        self.assertGreaterEqual(len(accepted), KILL_AFTER)
        self.assertEqual(len(accepted), len(set(accepted)), "an id answered twice")
        if sink_failed:
            self.assertEqual(d.outbox_lines(), [], "the sink was meant to fail before the kill")
            os.makedirs(d.outbox_dir)
        d.start()
        d.wait_drained(timeout=90)
        counts = d.wait_outbox(accepted, timeout=30)
        missing = [i for i in accepted if i not in counts]
        self.assertEqual(missing, [], "answered but lost")
        twice = {i: n for i, n in counts.items() if n != 1}
        self.assertEqual(twice, {}, "delivered more than once")
        self.assertEqual(d.stop(), 0)

    def test_http_kill9_mid_load(self):
        d = Daemon(outbox_dir=False, unix=False)
        try:
            d.start()
            accepted, lock = [], threading.Lock()
            client = poster(d, "/api/v1/alerts", lambda n: alert("Kill9", n=str(n)), TOTAL,
                            accepted, lock)
            accepted = self.kill_mid_load(d, [(client, ())] * THREADS, accepted, lock)
            self.check_durable(d, accepted)
        finally:
            d.close()

    def test_http_kill9_while_delivering_batches(self):
        d = Daemon(unix=False)
        try:
            d.start()
            accepted, lock = [], threading.Lock()
            client = poster(d, "/api/v1/alertmanager",
                            lambda n: am_payload(["Batch%d" % n, "Batch%d" % n]), TOTAL * 4,
                            accepted, lock)
            # Killed once deliveries are under way, the load still going.
            accepted = self.kill_mid_load(d, [(client, ())] * (THREADS * 2), accepted, lock,
                                          ready=lambda: len(d.outbox_lines()) > 0,
                                          total=TOTAL * 4)
            self.check_durable(d, accepted, sink_failed=False)
        finally:
            d.close()

    def test_unix_kill9_mid_load(self):
        d = Daemon(outbox_dir=False, http=False)
        try:
            d.start()
            accepted, lock = [], threading.Lock()

            def client(k):
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(30 * SLOW)
                try:
                    s.connect(d.sock)
                    f = s.makefile("rwb")
                    for n in range(TOTAL // THREADS):
                        f.write(b"kill9 over the socket %d %d\n" % (k, n))
                        f.flush()
                        a = f.readline().decode()
                        if not a.startswith("OK "):
                            return
                        with lock:
                            accepted.append(a.split()[1])
                except OSError:
                    return  # killed
                finally:
                    s.close()
            accepted = self.kill_mid_load(d, [(client, (k,)) for k in range(THREADS)],
                                          accepted, lock)
            time.sleep(0.1)
            self.check_durable(d, accepted)
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
