#!/usr/bin/python3
"""test_queue.py - `alertsink queue`: list, show, retry and drop, beside a
running daemon and a stopped one (docs/delivery.md, "Operating the queue").

A receiver whose outbox folder does not exist fails every attempt
(transient), so its notifications wait in deferred/ with a growing
backoff (about 1 s, 2 s, 4 s ...); a short spool.max_age turns them into
dead letters.  Then:

  - the list: a table with a header line, and one JSON object a line
    with id, state, receiver, accepted (RFC 3339), attempts, last_error
    (null when there is none) and channels; --state filters it;
  - show: the stored notification, its channel states and errors, its
    alerts, and the message the channel would send (the same text the
    file sink then writes);
  - retry of a deferred note on a running daemon: due at once, its copy
    in the daemon's schedule replaced (no second attempt when the old
    copy would have come due), delivered exactly once;
  - drop of a deferred note on a running daemon: logged on stderr, and
    the daemon's copy in memory is forgotten when it comes due, even
    though the receiver works again by then: never delivered;
  - a note held by group_wait in incoming/: retry has nothing to do, drop
    is refused while the daemon runs and done through the journal once it
    is stopped; a record never routed loses only the note that is dropped;
  - maildrop/: what `send` left is listed and dropped; while `send` works
    on it, drop is refused;
  - dead letters: retry --dead and drop --dead;
  - usage errors, unknown ids, a missing spool, another user.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SLOW, Daemon, alert, wait_for  # noqa: E402

ALERTS = "/api/v1/alerts"
KEYS = {"id", "state", "receiver", "accepted", "attempts", "last_error", "channels"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def rows(d, *args):
    p = d.cli("queue", "--json", *args)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def attempts_logged(d, nid):
    return len(re.findall(r'msg="delivery attempt" id=%s ' % re.escape(nid), d.log()))


class QueueRunning(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(unix=False, outbox_dir=False)
        self.addCleanup(self.d.close)
        self.d.start()

    def post(self, name):
        r = self.d.post(ALERTS, alert(name, severity="critical"))
        self.assertEqual(r.status, 200, r)
        return r.json["id"]

    def wait_attempts(self, nid, n):
        """Until nid waits in deferred/ after n attempts; its row."""
        def ready():
            r = [x for x in rows(self.d) if x["id"] == nid]
            return r[0] if r and r[0]["state"] == "deferred" and r[0]["attempts"] >= n else None
        return wait_for(ready, 30, interval=0.1, what="%s deferred after %d attempts" % (nid, n))

    def test_list_and_show(self):
        a, b = self.post("DiskFull"), self.post("BackupFailed")
        self.wait_attempts(a, 1)
        self.wait_attempts(b, 1)
        got = rows(self.d)
        self.assertEqual([r["id"] for r in got], [a, b], "oldest first, newest last")
        for r in got:
            self.assertTrue(KEYS <= set(r), r)
            self.assertEqual((r["state"], r["receiver"]), ("deferred", "out"))
            self.assertRegex(r["accepted"], RFC3339)
            self.assertRegex(r["next"], RFC3339)
            self.assertGreaterEqual(r["attempts"], 1)
            self.assertIn("file: cannot open", r["last_error"])
            self.assertEqual(r["channels"]["file"]["state"], "pending")
            self.assertEqual(r["channels"]["file"]["attempts"], r["attempts"])
        self.assertEqual(rows(self.d, "--state", "dead"), [])
        self.assertEqual(len(rows(self.d, "--state", "deferred")), 2)

        p = self.d.cli("queue")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "STATE", "RECEIVER", "AGE", "ATTEMPTS", "NEXT",
                                            "LAST", "ERROR"])
        self.assertEqual(len(lines), 3, p.stdout)
        self.assertTrue(lines[1].startswith(a + " ") and " deferred " in lines[1], lines[1])
        self.assertIn("file: cannot open", lines[1])

        p = self.d.cli("queue", "show", a)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("state:     deferred", p.stdout)
        self.assertIn("receiver:  out", p.stdout)
        self.assertRegex(p.stdout, r"\n  file +pending +\d+ attempts? +next in ")
        self.assertIn("alerts:\n  firing   DiskFull severity=critical", p.stdout)
        msg = p.stdout.split("== out file ==\n", 1)[1]
        self.assertTrue(msg.startswith("[FIRING:1] DiskFull\nFIRING DiskFull severity=critical"),
                        msg)

        p = self.d.cli("queue", "show", a, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        j = json.loads(p.stdout)
        self.assertTrue(KEYS | {"alerts", "messages", "errors"} <= set(j), j)
        self.assertEqual(j["alerts"][0]["labels"]["alertname"], "DiskFull")
        self.assertEqual(j["messages"]["file"].rstrip("\n") + "\n", msg)
        self.assertIn("file: cannot open", j["errors"][-1])

        # What show said the channel would send is what it sends.
        os.makedirs(self.d.outbox_dir)
        self.d.wait_outbox([a, b], timeout=30)
        texts = {line["id"]: line["text"] for line in self.d.outbox_lines()}
        self.assertEqual(texts[a], j["messages"]["file"])

        p = self.d.cli("queue", "show", a)
        self.assertEqual(p.returncode, 1)
        self.assertIn("%s is not in the spool" % a, p.stderr)

    def test_retry_deferred_replaces_the_scheduled_copy(self):
        nid = self.post("Retry")
        row = self.wait_attempts(nid, 3)
        self.assertEqual(row["attempts"], 3)
        old_due = time.time() + 4  # its next attempt, at the latest (4 s +20 %)
        # Still failing: the queued copy fails too and waits again; the old
        # copy must not come back when its time comes.
        p = self.d.cli("queue", "retry", nid)
        self.assertEqual((p.returncode, p.stdout), (0, "retrying %s\n" % nid), p.stderr)
        self.assertIn("takes it within a second", p.stderr)
        wait_for(lambda: attempts_logged(self.d, nid) == 4, 10, what="the retry's attempt")
        self.assertIn('msg="a queued copy replaces the scheduled one" id=%s' % nid, self.d.log())
        while time.time() < old_due + 1:
            time.sleep(0.2)
        self.assertEqual(attempts_logged(self.d, nid), 4, "the old copy came back")
        self.assertEqual([r["attempts"] for r in rows(self.d)], [4])

        # The receiver works again: the next retry delivers it, once.
        os.makedirs(self.d.outbox_dir)
        p = self.d.cli("queue", "retry", "--deferred")
        self.assertEqual((p.returncode, p.stdout), (0, "retrying %s\n" % nid), p.stderr)
        self.assertEqual(self.d.wait_outbox([nid], timeout=10), {nid: 1})
        self.d.wait_drained()
        time.sleep(1)
        self.assertEqual(self.d.outbox_counts(), {nid: 1})
        self.assertEqual(rows(self.d), [])

    def test_drop_deferred_is_never_delivered(self):
        keep, drop = self.post("Keep"), self.post("Drop")
        self.wait_attempts(keep, 2)
        self.wait_attempts(drop, 2)
        p = self.d.cli("queue", "drop", drop)
        self.assertEqual((p.returncode, p.stdout), (0, "dropped %s\n" % drop), p.stderr)
        self.assertRegex(p.stderr, r'level=warn msg="notification dropped" id=%s receiver=out '
                                   r'state=deferred attempts=\d+ last_error=' % drop)
        self.assertEqual([r["id"] for r in rows(self.d)], [keep])
        # The receiver works before the daemon's copy comes due.
        os.makedirs(self.d.outbox_dir)
        self.d.wait_outbox([keep], timeout=20)
        wait_for(lambda: "msg=\"no longer in deferred/ (dropped or retried from the command "
                         "line)\" id=%s" % drop in self.d.log(), 20,
                 what="the daemon to forget the dropped note")
        self.d.wait_drained()
        self.assertNotIn(drop, self.d.outbox_counts())
        self.assertEqual(self.d.stop(), 0)

    def test_dead_letters(self):
        self.d.stop()
        self.d.write_config(spool={"max_age": "2s"})
        self.d.start()
        ids = [self.post("Dead%d" % i) for i in range(3)]
        wait_for(lambda: [r["id"] for r in rows(self.d, "--state", "dead")] == ids, 30,
                 interval=0.2, what="three dead letters")
        p = self.d.cli("queue", "show", ids[0])
        self.assertIn("next:      - (dead", p.stdout)
        p = self.d.cli("queue", "drop", ids[0])
        self.assertEqual((p.returncode, p.stdout), (0, "dropped %s\n" % ids[0]), p.stderr)
        self.assertIn("state=dead", p.stderr)
        self.d.stop()
        self.d.write_config(spool={"max_age": "1h"})
        self.d.start()
        os.makedirs(self.d.outbox_dir)
        p = self.d.cli("queue", "retry", "--dead")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(p.stdout.split()), sorted(["requeued", ids[1], "requeued", ids[2]]))
        self.assertEqual(self.d.wait_outbox(ids[1:], timeout=20), {i: 1 for i in ids[1:]})
        self.d.wait_drained()
        self.assertNotIn(ids[0], self.d.outbox_counts())
        p = self.d.cli("queue", "drop", "--dead")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("no dead notification", p.stderr)

    def test_usage_and_unknown_ids(self):
        for args in (["frob"], ["show"], ["show", "a", "b"], ["retry"], ["drop"],
                     ["drop", "--deferred"], ["--state", "bogus"], ["show", "x", "--state", "dead"],
                     ["retry", "x", "--json"], ["retry", "x", "--dead"], ["--all"]):
            p = self.d.cli("queue", *args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn("usage: alertsink queue", p.stderr)
        for cmd in ("show", "retry", "drop"):
            p = self.d.cli("queue", cmd, "no-such-id")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("no-such-id is not in the spool", p.stderr)
        p = self.d.cli("queue", "show", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("usage: alertsink queue show ID"), p.stdout)
        self.assertNotIn("queue drop", p.stdout)
        p = self.d.cli("queue", "--help")
        for cmd in ("show", "retry", "drop"):
            self.assertIn("usage: alertsink queue %s" % cmd, p.stdout)


class QueueStopped(unittest.TestCase):
    """Notes in flight: incoming/ (group_wait) and maildrop/ (send)."""

    def setUp(self):
        self.d = Daemon(unix=False, route="{receiver: out, group_by: [alertname], group_wait: 6s}")
        self.addCleanup(self.d.close)

    def test_incoming_while_running_then_stopped(self):
        self.d.start()
        r = self.d.post(ALERTS, [alert("Held"), alert("Kept")])
        self.assertEqual(r.status, 200, r)
        held, kept = r.json["id"], r.json["id"] + ".2"
        got = rows(self.d)
        self.assertEqual([(x["id"], x["state"], x["attempts"], x["last_error"]) for x in got],
                         [(held, "incoming", 0, None), (kept, "incoming", 0, None)])
        p = self.d.cli("queue", "drop", held)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("is in incoming/: the running daemon holds it", p.stderr)
        p = self.d.cli("queue", "retry", held)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("queued %s (already in incoming/" % held), p.stdout)
        self.assertEqual(self.d.stop(), 0)
        self.assertEqual([x["state"] for x in rows(self.d)], ["incoming", "incoming"],
                         "the daemon delivered before it was stopped: group_wait too short?")

        p = self.d.cli("queue", "drop", held)
        self.assertEqual((p.returncode, p.stdout), (0, "dropped %s\n" % held), p.stderr)
        self.assertEqual([x["id"] for x in rows(self.d)], [kept])
        self.d.start()
        # group_wait delivers it as a digest of one, "ID-g".
        self.assertEqual(self.d.wait_outbox([kept + "-g"], timeout=20), {kept + "-g": 1})
        self.d.wait_drained()
        time.sleep(0.5)
        self.assertEqual(self.d.outbox_counts(), {kept + "-g": 1})

    def test_record_never_routed(self):
        """A batch whose record the daemon never routed (it stopped first):
        dropping one of its notes leaves the others."""
        rid = "000000000001-000001-abcd"
        os.makedirs(os.path.join(self.d.spool, "incoming"))
        payload = {"receiver": "x", "status": "firing", "alerts": [
            {"status": "firing", "labels": {"alertname": n}, "annotations": {},
             "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
             "generatorURL": "", "fingerprint": ""} for n in ("One", "Two", "Three")],
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "", "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0}
        entry = {"kind": "record", "id": rid, "t": int(time.time() * 1000), "input": "http",
                 "receiver": None, "grouped": True, "payload": payload}
        with open(os.path.join(self.d.spool, "incoming", rid), "w") as f:
            f.write(json.dumps(entry) + "\n")
        got = rows(self.d)
        self.assertEqual([x["id"] for x in got], [rid, rid + ".2", rid + ".3"])
        p = self.d.cli("queue", "drop", rid + ".2")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.d.spool, "incoming", rid + ".log")) as f:
            self.assertEqual(f.read(), "R %s 3\nX %s.2\n" % (rid, rid))
        self.assertEqual([x["id"] for x in rows(self.d)], [rid, rid + ".3"])
        self.d.start()
        self.assertEqual(self.d.wait_outbox([rid, rid + ".3"], timeout=20),
                         {rid: 1, rid + ".3": 1})
        self.d.wait_drained()

    def test_maildrop_left_by_send(self):
        shutil.rmtree(self.d.outbox_dir)
        p = subprocess.run([BINARY, "send", "-c", self.d.config, "--timeout", "2s",
                            "--label", "alertname=Left"], input="left for the daemon",
                           capture_output=True, text=True, timeout=60 * SLOW)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("stays in the spool's maildrop/ for the daemon", p.stderr)
        got = rows(self.d)
        self.assertEqual(len(got), 1, got)
        self.assertEqual((got[0]["state"], got[0]["last_error"]), ("maildrop", None))
        self.assertGreaterEqual(got[0]["attempts"], 1)
        p = self.d.cli("queue", "drop", got[0]["id"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.listdir(os.path.join(self.d.spool, "maildrop")), [])
        os.makedirs(self.d.outbox_dir)
        self.d.start()
        time.sleep(2)
        self.assertEqual(self.d.outbox_counts(), {})

    def test_maildrop_locked_by_send(self):
        shutil.rmtree(self.d.outbox_dir)
        send = subprocess.Popen([BINARY, "send", "-c", self.d.config, "--timeout", "60s", "busy"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: self.d.spool_files("maildrop"), 20, interval=0.1,
                     what="send's maildrop/ file")
            got = rows(self.d)
            p = self.d.cli("queue", "drop", got[0]["id"])
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("being delivered right now by `alertsink send`", p.stderr)
        finally:
            send.send_signal(signal.SIGKILL)
            send.wait()
        p = self.d.cli("queue", "drop", got[0]["id"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(rows(self.d), [])


class QueueSpool(unittest.TestCase):
    def test_no_spool(self):
        d = Daemon(http=False, unix=False)
        self.addCleanup(d.close)
        p = d.cli("queue")
        self.assertEqual(p.returncode, 1)
        self.assertIn("there is no spool at %s" % d.spool, p.stderr)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_another_user(self):
        d = Daemon(http=False, unix=False)
        self.addCleanup(d.close)
        os.makedirs(os.path.join(d.spool, "dead"), mode=0o700)
        os.chmod(d.dir, 0o755)
        os.chmod(d.config, 0o644)
        nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        p = d.cli("queue", "drop", "--dead", wrapper=nobody)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("belongs to root: run this as that user", p.stderr)
        p = d.cli("queue", wrapper=nobody)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("dead: Permission denied: run this as its owner (runuser -u root", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
