"""test_faults.py - the spool fails under a running daemon, then mends.

With the LD_PRELOAD shim tests/faultfs, write(2) or fsync(2) on the
spool's files fails with EIO (or the disk hangs, or reads slowly) while
the daemon runs, and then works again.  Meanwhile the inputs answer 503 /
ERR and never 200 / OK, and /healthz answers 503 with the reason; once the
fault clears, the daemon takes alerts again by itself, without a restart
or a POST to wake it, and every id it answered 200 or OK for is delivered
once.  Also: /healthz while the spool is recovered at start and while the
daemon drains after SIGTERM, and spool files that are truncated, empty or
garbage at start (moved to corrupt/, the daemon starts, the good entries
are delivered).  A full disk and a read-only spool: test_faults_disk.py.
"""
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import SLOW, Daemon, alert, am_payload, metric_samples, wait_for  # noqa: E402
from lib.faults import Answers, FaultFS, health, wait_healthy  # noqa: E402

ALERTS = "/api/v1/alerts"


def answer(f, *args):
    """f(*args), or None while the daemon does not listen yet."""
    try:
        return f(*args)
    except OSError:
        return None


class SpoolFaults(unittest.TestCase, Answers):
    def holding(self, d, text):
        """The files of the spool's tmp/ and incoming/ that hold text."""
        out = []
        for sub in ("tmp", "incoming"):
            for name in os.listdir(os.path.join(d.spool, sub)):
                with open(os.path.join(d.spool, sub, name), "rb") as f:
                    if text.encode() in f.read():
                        out.append(sub + "/" + name)
        return out

    def io_fault(self, rule, reason):
        d = Daemon()
        fs = FaultFS(d.dir, d.spool)
        with d.start(env=fs.env()):
            ids = [self.accepted(d, "FaultBefore"), self.accepted_unix(d, "FaultBeforeUnix")]
            self.assertEqual(health(d)[0], 200)

            fs.set(rule)
            self.refused(d, "FaultDuring", "spool write failed")
            status, body = health(d)
            self.assertEqual(status, 503)
            self.assertIn("the last spool write failed: spool: cannot ", body)
            self.assertIn(reason, body)
            # Nothing of the refused alert is left on disk (tmp/ may hold
            # finished segments kept for reuse, with what they held before).
            self.assertEqual(self.holding(d, "FaultDuring"), [])
            # The committer's probes keep failing while the fault lasts.
            time.sleep(1.5)
            self.assertEqual(health(d)[0], 503)
            self.refused(d, "FaultStill", "spool write failed")

            fs.clear()
            took = wait_healthy(d)
            self.assertLess(took, 4 * SLOW, "the probe saw the spool mended late")
            ids += [self.accepted(d, "FaultAfter"), self.accepted_unix(d, "FaultAfterUnix")]
            counts = d.wait_outbox(ids)
            self.assertEqual(sorted(counts.values()), [1] * len(ids), counts)
            self.assertFalse([l for l in d.outbox_lines() if "During" in l["text"]
                              or "Still" in l["text"]])
            log = d.log()
            self.assertIn('msg="the spool cannot be written: refusing input until it can"', log)
            self.assertIn('msg="the spool takes writes again"', log)

    def test_eio_on_write(self):
        self.io_fault("write EIO", "Input/output error")

    def test_eio_on_fsync(self):
        self.io_fault("fsync EIO", "Input/output error")

    @unittest.skipIf(os.geteuid() == 0, "root writes whatever the permissions say: "
                     "test_faults_disk.py remounts the spool read-only instead")
    def test_spool_without_write_permission(self):
        with Daemon() as d:
            ids = [self.accepted(d, "PermBefore")]
            d.wait_outbox(ids)
            for sub in ("tmp", "incoming"):
                os.chmod(os.path.join(d.spool, sub), 0o500)
            try:
                status, body = health(d)
                self.assertEqual(status, 503)
                self.assertRegex(body, r"^spool not writable: .*/tmp: Permission denied")
                self.refused(d, "PermDuring", "spool write failed")
            finally:
                for sub in ("tmp", "incoming"):
                    os.chmod(os.path.join(d.spool, sub), 0o700)
            self.assertLess(wait_healthy(d), 4 * SLOW)
            ids += [self.accepted(d, "PermAfter"), self.accepted_unix(d, "PermAfterUnix")]
            counts = d.wait_outbox(ids)
            self.assertEqual(sorted(counts.values()), [1] * len(ids), counts)

    def test_a_stalled_disk_shows_before_the_posts_time_out(self):
        d = Daemon(unix=False)
        fs = FaultFS(d.dir, d.spool)
        with d.start(env=fs.env()):
            fs.set("fsync delay=7000")
            result = {}
            t = threading.Thread(target=lambda: result.setdefault(
                "r", d.post(ALERTS, alert("Stalled"), timeout=30)))
            t.start()
            wait_for(lambda: "spool stalled" in health(d)[1], 8, interval=0.2,
                     what="/healthz to report the stall")
            status, body = health(d)
            self.assertEqual(status, 503)
            self.assertRegex(body, r"^spool stalled: a write has waited for the disk for \d+ ms")
            fs.clear()
            t.join(30 * SLOW)
            self.assertEqual(result["r"].status, 200)  # slow, but on disk when answered
            wait_healthy(d)
            d.wait_outbox([result["r"].json["id"]])

    def test_starting_is_503_and_said(self):
        # Something to recover: a notification for a sink that fails.
        with Daemon(outbox_dir=False) as d:
            nid = self.accepted(d, "Recovered")
            wait_for(lambda: d.spool_files("deferred"), 10, what="a deferred notification")
            self.assertEqual(d.stop(), 0)
            fs = FaultFS(d.dir, d.spool)
            fs.set("read delay=1500")  # every read of a spool file at recovery
            d.start(wait=False, env=fs.env())
            self.assertEqual(wait_for(lambda: answer(health, d), 10, what="an answer"),
                             (503, "not accepting: starting\n"))
            self.refused(d, "TooEarly", "starting")
            fs.clear()
            d.wait_ready()
            wait_healthy(d)
            os.makedirs(d.outbox_dir)
            self.assertEqual(list(d.wait_outbox([nid], timeout=30)), [nid])

    def test_draining_is_503_and_said(self):
        d = Daemon(unix=False)
        try:
            d.start()
            keep = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10 * SLOW)
            keep.request("GET", "/healthz")
            r = keep.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"ok\n"))
            # A request in progress holds the drain open (up to 5 s).
            body = json.dumps(alert("Draining")).encode()
            slow = socket.create_connection(("127.0.0.1", d.port), timeout=10 * SLOW)
            slow.sendall(b"POST /api/v1/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                         b"\r\n%s" % (len(body), body[:1]))
            time.sleep(0.2)
            d.send_signal(signal.SIGTERM)
            wait_for(lambda: "msg=stopping" in d.log(), 5, what="the daemon to stop")
            keep.request("GET", "/healthz")
            r = keep.getresponse()
            self.assertEqual((r.status, r.read()), (503, b"not accepting: shutting down\n"))
            slow.sendall(body[1:])
            answer = slow.recv(4096)
            self.assertIn(b" 503 ", answer.split(b"\r\n")[0])
            self.assertIn(b'"error":"shutting down"', answer)
            slow.close()
            keep.close()
            self.assertEqual(d.proc.wait(15 * SLOW), 0)
            d.check_sanitizers()
        finally:
            d.close()


def record(rid, name):
    """A spool entry as the committer writes it: one line, a record."""
    return json.dumps({"kind": "record", "id": rid, "t": int(time.time() * 1000),
                       "input": "http", "grouped": True,
                       "payload": am_payload([name])}, separators=(",", ":")) + "\n"


def crc32c(data):
    """CRC-32C (Castagnoli), bit by bit: the segments' frame check."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def segment(epoch, bodies):
    """A segment of incoming/ as the committer writes it: a header, then a
    frame (its header, then the round's entry lines) per body."""
    out = b"ASSEG1 %016x\n" % epoch
    for body in bodies:
        body = body.encode()
        out += b"#F %016x %08x %08x\n" % (epoch, len(body), crc32c(body)) + body
    return out


class CorruptAtStart(unittest.TestCase):
    def test_segment_torn_at_its_end_or_damaged_inside(self):
        with Daemon() as d:
            d.stop()
            torn, damaged = "01a200000000-000011-0001", "01a200000000-000012-0001"
            r = ["01a200000000-0000f%d-0001" % i for i in range(1, 7)]
            # A crash tore the last round: it was never answered.
            one = segment(0x1234, [record(r[0], "SegA"), record(r[1], "SegB")])
            one += segment(0x1234, [record(r[2], "SegTorn")])[24:-20]
            # A bad round between good ones: damage, the good ones stay.
            two = segment(0x99, [record(r[3], "SegD"), record(r[4], "SegBad"),
                                 record(r[5], "SegF")])
            at = two.index(b"SegBad")
            two = two[:at] + b"X" + two[at + 1:]
            for name, data in ((torn, one), (damaged, two)):
                with open(os.path.join(d.spool, "incoming", name), "wb") as f:
                    f.write(data)
            d.start()
            counts = d.wait_outbox([r[0], r[1], r[3], r[5]])
            self.assertEqual(counts, {r[0]: 1, r[1]: 1, r[3]: 1, r[5]: 1})
            log = d.log()
            self.assertRegex(log, r'file=incoming/%s to=corrupt/%s '
                                  r'problem="a damaged frame in a segment" '
                                  r'bad_entries=1 kept_entries=2' % (damaged, damaged))
            self.assertNotIn("file=incoming/" + torn, log)
            corrupt = os.path.join(d.spool, "corrupt")
            self.assertEqual(os.listdir(corrupt), [damaged])
            with open(os.path.join(corrupt, damaged), "rb") as f:
                self.assertEqual(f.read(), two)  # byte for byte
            d.wait_drained()
            time.sleep(0.3)
            self.assertEqual(d.outbox_counts(), counts)

    def test_damaged_files_go_to_corrupt_and_the_rest_is_delivered(self):
        with Daemon() as d:
            d.stop()  # the spool's folders exist now
            ids = ["01a200000000-00000%d-0001" % i for i in range(1, 7)]
            a, b, c, e = "01a200000000-0000a1-0001", "01a200000000-0000b1-0001", \
                "01a200000000-0000c1-0001", "01a200000000-0000e1-0001"
            files = {
                # two good records (a finished before the "crash"), garbage,
                # and a last record cut short
                ("incoming", ids[0]): (record(a, "CorruptA") + "not json {\n" +
                                       record(b, "CorruptB") + record(c, "CorruptC")[:50]),
                ("incoming", ids[1]): "",
                ("incoming", ids[2]): "\0\0\0garbage\0\n",
                ("deferred", ids[3]): '{"kind":"note","id":"%s","recei' % ids[3],
                ("incoming", ids[4]): record(e, "CorruptE"),
            }
            for (state, name), text in files.items():
                with open(os.path.join(d.spool, state, name), "w") as f:
                    f.write(text)
            with open(os.path.join(d.spool, "incoming", ids[0] + ".log"), "w") as f:
                f.write("R %s 1\nX %s\n" % (a, a))
            corrupt = os.path.join(d.spool, "corrupt")
            # A start that crashed after linking ids[2] into corrupt/: linked
            # once, not twice.  An older, other file named ids[1] there: kept,
            # the new one beside it.
            os.link(os.path.join(d.spool, "incoming", ids[2]), os.path.join(corrupt, ids[2]))
            with open(os.path.join(corrupt, ids[1]), "w") as f:
                f.write("older evidence\n")

            d.start()
            log = d.log()
            moved = [l for l in log.splitlines()
                     if 'msg="corrupt spool file moved to corrupt/"' in l]
            self.assertEqual(len(moved), 4, log)
            self.assertRegex(log, r'file=incoming/%s to=corrupt/%s problem="line 2: .*" '
                                  r'bad_entries=2 kept_entries=2' % (ids[0], ids[0]))
            self.assertRegex(log, r'file=incoming/%s to=corrupt/%s~2 problem="empty file" '
                                  r'bad_entries=1 kept_entries=0' % (ids[1], ids[1]))
            self.assertRegex(log, r'file=incoming/%s .*problem="line 1: a NUL byte"' % ids[2])
            self.assertRegex(log, r'file=deferred/%s .*problem="line 1: truncated' % ids[3])
            for (state, name), text in files.items():
                if name == ids[4]:
                    continue
                moved = name + "~2" if name == ids[1] else name
                with open(os.path.join(corrupt, moved)) as f:
                    self.assertEqual(f.read(), text)  # byte for byte
            with open(os.path.join(corrupt, ids[1])) as f:
                self.assertEqual(f.read(), "older evidence\n")
            self.assertEqual(sorted(os.listdir(corrupt)), sorted(ids[:4] + [ids[1] + "~2"]))

            counts = d.wait_outbox([b, e])
            self.assertEqual(counts, {b: 1, e: 1})  # not a (finished), not c (cut short)
            d.wait_drained()
            m = metric_samples(d.get("/metrics").body.decode())
            self.assertEqual(m['alertsink_queue_depth{state="corrupt"}'], 5)
            self.assertEqual(health(d)[0], 200)

            # Nothing is left to move: a restart finds corrupt/ as it was.
            self.assertEqual(d.stop(), 0)
            d.start()
            self.assertEqual(d.log().count("moved to corrupt/"), 4)
            self.assertEqual(sorted(os.listdir(corrupt)), sorted(ids[:4] + [ids[1] + "~2"]))
            time.sleep(0.5)
            self.assertEqual(d.outbox_counts(), {b: 1, e: 1})


if __name__ == "__main__":
    unittest.main(verbosity=2)
