#!/usr/bin/python3
"""test_log_json.py - log.format: json through the real daemon: every line
it writes once the configuration is read is one JSON object with time,
level and msg first, then the event's fields (the same keys as logfmt);
under systemd (JOURNAL_STREAM) the <N> priority prefix stays and time goes,
as in logfmt; an unknown format is a configuration error."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, Daemon, alert  # noqa: E402


class LogJson(unittest.TestCase):
    def events(self, log, prefix=""):
        out = []
        for line in log.splitlines():
            if not line.startswith(prefix + "{"):
                continue  # what comes before the configuration is read is logfmt
            out.append((line, json.loads(line[len(prefix):])))
        return out

    def test_daemon_lines_are_json(self):
        with Daemon(token="tok-SECRET-json", log_level="debug, format: json") as d:
            r = d.post("/api/v1/alerts", alert("JsonLog"))
            self.assertEqual(r.status, 200)
            d.wait_outbox([r.json["id"]])
            d.stop()
            events = self.events(d.log())
        self.assertTrue(events)
        for line, e in events:
            self.assertEqual(list(e)[:3], ["time", "level", "msg"], line)
            self.assertNotIn("tok-SECRET-json", line)
        msgs = [e["msg"] for _, e in events]
        for m in ("started", "stopped"):
            self.assertIn(m, msgs)
        attempts = [e for _, e in events if e["msg"] == "delivery attempt"]
        self.assertTrue(attempts, msgs)
        self.assertEqual(attempts[0]["receiver"], "out")
        self.assertIsInstance(attempts[0]["attempt"], int)

    def test_journal_prefix(self):
        d = Daemon(log_level="info, format: json")
        try:
            env = dict(os.environ, JOURNAL_STREAM="8:12345")
            d._log = open(d.logfile, "ab")
            d.proc = subprocess.Popen([BINARY, "-c", d.config], stdout=d._log,
                                      stderr=subprocess.STDOUT, cwd=d.dir, env=env)
            d.wait_ready()
            d.stop()
            events = self.events(d.log(), prefix="<6>")
        finally:
            d.close()
        self.assertTrue(events)
        for line, e in events:
            self.assertEqual(list(e)[:2], ["level", "msg"], line)
            self.assertNotIn("time", e)

    def test_unknown_format(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write("log: {format: xml}\nspool: {dir: /tmp/x}\n"
                    "receivers: [{name: r, file: {path: /tmp/o}}]\nroute: {receiver: r}\n")
            f.flush()
            r = subprocess.run([BINARY, "-t", "-c", f.name], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("format: unknown value 'xml' (one of: logfmt, json)", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
