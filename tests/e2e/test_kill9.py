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


class KillNine(unittest.TestCase):
    def kill_mid_load(self, d, clients, accepted, lock):
        """Run the (function, args) clients, which append the ids answered
        to accepted under lock; SIGKILL d once KILL_AFTER are in, while the
        load is still going; return a copy of what was accepted."""
        threads = [threading.Thread(target=f, args=a) for f, a in clients]
        for t in threads:
            t.start()
        wait_for(lambda: len(accepted) >= KILL_AFTER, 60, interval=0.001,
                 what="answers before the kill")
        d.kill9()
        for t in threads:
            t.join(60)
        with lock:
            accepted = list(accepted)
        self.assertLess(len(accepted), TOTAL, "the load was over before the kill")
        return accepted

    def check_durable(self, d, accepted):
        self.assertGreaterEqual(len(accepted), KILL_AFTER)
        self.assertEqual(len(accepted), len(set(accepted)), "an id answered twice")
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
            counter = iter(range(TOTAL))

            def client():
                while True:
                    with lock:
                        n = next(counter, None)
                    if n is None:
                        return
                    try:
                        r = d.post("/api/v1/alerts", alert("Kill9", n=str(n)), timeout=30)
                    except OSError:
                        return  # killed
                    if r.status == 200:
                        with lock:
                            accepted.append(r.json["id"])
            accepted = self.kill_mid_load(d, [(client, ()) for _ in range(THREADS)],
                                          accepted, lock)
            self.check_durable(d, accepted)
        finally:
            d.close()

    def test_http_kill9_while_delivering_batches(self):
        d = Daemon(unix=False)
        try:
            d.start()
            accepted, lock = [], threading.Lock()
            counter = iter(range(TOTAL * 4))

            def client():
                while True:
                    with lock:
                        n = next(counter, None)
                    if n is None:
                        return
                    try:
                        r = d.post("/api/v1/alertmanager",
                                   am_payload(["Batch%d" % n, "Batch%d" % n]), timeout=30)
                    except OSError:
                        return  # killed
                    if r.status == 200:
                        with lock:
                            accepted.append(r.json["id"])
            threads = [threading.Thread(target=client) for _ in range(THREADS * 2)]
            for t in threads:
                t.start()
            # Killed once deliveries are under way, the load still going.
            wait_for(lambda: len(accepted) >= KILL_AFTER and len(d.outbox_lines()) > 0, 60,
                     interval=0.001, what="answers and deliveries before the kill")
            d.kill9()
            for t in threads:
                t.join(60)
            with lock:
                accepted = list(accepted)
            self.assertLess(len(accepted), TOTAL * 4, "the load was over before the kill")
            d.start()
            d.wait_drained(timeout=90)
            counts = d.wait_outbox(accepted, timeout=30)
            missing = [i for i in accepted if i not in counts]
            self.assertEqual(missing, [], "answered but lost")
            twice = {i: n for i, n in counts.items() if n != 1}
            self.assertEqual(twice, {}, "delivered more than once")
            self.assertEqual(d.stop(), 0)
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
