#!/usr/bin/python3
"""test_wa_send.py - `alertsink send` delivering through the WhatsApp sink
to the strict fake Wamessage server, with email (tests/smtp_server.py) as
the fallback: the sink's outcomes as the delivery rules use them
(docs/delivery.md, docs/channels.md).

  - delivered: one sendmessage/multi with every contact, exit 0, no email;
  - a long message: its numbered parts, in order, each to every contact;
  - 500 then OK: retried within --timeout, exit 0;
  - 429 with Retry-After: the retry waits at least that long;
  - a disconnected device, a wrong password: permanent at once, the email
    goes out instead, exit 3, and no message reaches WhatsApp.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_email_sink import Server  # noqa: E402
from test_wa_cli import ALERTSINK, PASSWORD, PHONE, Fake  # noqa: E402

ALERT = {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db1"},
         "annotations": {"summary": "disk / is 97% full"}, "status": "firing"}


class SendTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-wa-send-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.fake = Fake(self.tmp, "--device", "7001:" + PHONE)
        self.addCleanup(self.fake.stop)
        self.smtp = Server(self.tmp)
        self.addCleanup(self.smtp.stop)

    def config(self, password=PASSWORD, max_length=4096, extra=""):
        path = os.path.join(self.tmp, "alertsink.yaml")
        with open(path, "w") as f:
            f.write("""\
spool: { dir: %s }
defaults: { dedup_window: 0s }
whatsapp:
  base_url: %s
  phone: "+90 555 000 0001"
  password: %s
  timeout: 2s
smtp: { host: 127.0.0.1, port: %d, tls: none, from: "alerts@example.com" }
receivers:
  - name: oncall
    whatsapp: { to: ["+90 555 111 2233", "+90 555 111 2234"], max_length: %d }
    email: { to: ["oncall@example.com"] }
route: { receiver: oncall }
%s""" % (json.dumps(os.path.join(self.tmp, "spool")), json.dumps(self.fake.url),
                json.dumps(password), self.smtp.port, max_length, extra))
        return path

    def send(self, config, alert=ALERT, timeout="20s"):
        t0 = time.monotonic()
        r = subprocess.run([ALERTSINK, "send", "-c", config, "--timeout", timeout],
                           input=json.dumps(alert), capture_output=True, text=True, timeout=120)
        self.took = time.monotonic() - t0
        out = r.stdout + r.stderr
        self.assertNotIn(PASSWORD, out)
        for token in self.fake.state()["issued"]:
            self.assertNotIn(token, out)
        return r

    def sends(self):
        return self.fake.requests("/whatsapp/sendmessage/multi")

    def test_delivered(self):
        r = self.send(self.config())
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.sends()
        self.assertEqual(len(s), 1)
        self.assertEqual(s[0]["form"]["contacts"], "905551112233,905551112234")
        self.assertEqual(s[0]["form"]["reg_id"], "7001")
        self.assertIn("DiskFull", s[0]["form"]["message"])
        self.assertIn("disk / is 97% full", s[0]["form"]["message"])
        self.assertEqual(len(self.smtp.messages()), 0)

    def test_long_message_parts_in_order(self):
        alert = dict(ALERT, annotations={"description": "\n".join(
            "line %02d of a long description" % i for i in range(40))})
        r = self.send(self.config(max_length=300), alert=alert)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.sends()
        self.assertGreater(len(s), 2)
        for i, req in enumerate(s):
            self.assertIn("(%d/%d)" % (i + 1, len(s)), req["form"]["message"])
            self.assertEqual(req["form"]["contacts"], "905551112233,905551112234")
        text = "".join(req["form"]["message"] for req in s)
        self.assertLess(text.index("line 05"), text.index("line 35"))

    def test_500_then_delivered(self):
        self.fake.control(fail=[{"status": 500, "path": "/whatsapp/sendmessage/multi"}])
        r = self.send(self.config())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([q["status"] for q in self.sends()], [500, 200])
        self.assertEqual(len(self.smtp.messages()), 0)

    def test_429_retry_after_is_honoured(self):
        self.fake.control(fail=[{"status": 429, "retry_after": "3",
                                 "path": "/whatsapp/sendmessage/multi"}])
        r = self.send(self.config())
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.sends()
        self.assertEqual([q["status"] for q in s], [429, 200])
        self.assertGreaterEqual(s[1]["time"] - s[0]["time"], 2.9)

    def test_disconnected_device_falls_back_to_email(self):
        self.fake.control(disconnect="7001")
        r = self.send(self.config())
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(self.sends(), [])
        self.assertEqual(len(self.smtp.messages()), 1)
        self.assertLess(self.took, 15)  # at once, not after fallback_after

    def test_wrong_password_falls_back_to_email(self):
        r = self.send(self.config(password="not-it"))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertNotIn("not-it", r.stdout + r.stderr)
        self.assertEqual(self.sends(), [])
        self.assertEqual(len(self.smtp.messages()), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
