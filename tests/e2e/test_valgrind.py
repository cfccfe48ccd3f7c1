#!/usr/bin/python3
"""test_valgrind.py - the daemon itself under valgrind's memcheck.

The unit tests run under valgrind one by one (tests/CMakeLists.txt); this
runs the whole daemon under it, with its threads, libmicrohttpd, libcurl
and libesmtp, through one session that touches every path a day of
production does:

  - HTTP: an Alertmanager fixture and a single alert delivered to the file
    sink; malformed JSON (400), a wrong token (401), an unknown receiver
    (404), an oversized body (413); /healthz and /metrics;
  - the Unix socket: a good line and a malformed one;
  - WhatsApp on the strict fake: a 500 (retried), a 401 (one new login and
    the call repeated), then a permanent 400 that falls back to email on
    the real aiosmtpd server;
  - the WhatsApp Cloud API on its fake: a template message to two
    recipients, one of them undeliverable; a webhook, signed, answered
    503 once, then taken;
  - SIGHUP with a valid changed configuration and with a broken one,
    SIGUSR1 (reopen), and SIGTERM.

It passes when every alert arrived, the daemon exits 0 and valgrind
reports no error and no definite leak (--error-exitcode).  Release build
only: memcheck and AddressSanitizer cannot share a process.
"""
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Daemon, alert, fixture, wait_for  # noqa: E402
from lib.fakes import FakeProcess  # noqa: E402
from test_email_sink import Server  # noqa: E402
from test_wa_cli import PASSWORD, PHONE, Fake  # noqa: E402

VALGRIND = shutil.which("valgrind")
ERRORS = 99  # valgrind's exit code when it found something
SEND = "/whatsapp/sendmessage/multi"
TOKEN = "vg-token-1f0c"
SLOWDOWN = 20  # memcheck runs a program about this many times slower


class UnderValgrind(unittest.TestCase):
    def setUp(self):
        if VALGRIND is None:
            self.skipTest("valgrind is not installed")
        self.tmp = tempfile.mkdtemp(prefix="as-valgrind-")
        if not os.environ.get("AS_KEEP"):
            self.addCleanup(shutil.rmtree, self.tmp, True)
        self.fake = Fake(self.tmp, "--device", "7001:" + PHONE)
        self.addCleanup(self.fake.stop)
        self.smtp = Server(self.tmp)
        self.addCleanup(self.smtp.stop)
        self.graph = FakeProcess("fake_graph.py", self.tmp, "--phone-number-id", "1065",
                                 "--token", "vg-cloud-token", "--template", "alertsink_alert:en_US:3")
        self.addCleanup(self.graph.stop)
        self.hook = FakeProcess("fake_webhook.py", self.tmp, "--hmac-secret", "vg-hmac")
        self.addCleanup(self.hook.stop)
        self.vglog = os.path.join(self.tmp, "valgrind.log")
        self.d = Daemon(
            token=TOKEN, max_body="64KiB", log_level="info",
            directory=tempfile.mkdtemp(dir=self.tmp, prefix="d-"),
            wrapper=[VALGRIND, "--error-exitcode=%d" % ERRORS, "--leak-check=full",
                     "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                     "--track-fds=no", "--log-file=" + self.vglog],
            receivers=("  - name: oncall\n"
                       "    whatsapp: {to: [\"+90 555 111 2233\"]}\n"
                       "    email: {to: [oncall@example.com]}\n"
                       "    mode: fallback\n"
                       "  - name: cloud\n"
                       "    whatsapp_cloud: {to: [\"+90 555 111 2233\", \"+90 555 111 2234\"], "
                       "message_template: {name: alertsink_alert}}\n"
                       "  - name: hook\n"
                       "    webhook: {url: \"%s/hook\", hmac_secret: vg-hmac, "
                       "headers: {X-Team: vg}}\n" % self.hook.url),
            route=("{receiver: out, group_by: [alertname], routes: "
                   "[{receiver: oncall, matchers: ['team=\"wa\"']}, "
                   "{receiver: cloud, matchers: ['team=\"cloud\"']}, "
                   "{receiver: hook, matchers: ['team=\"hook\"']}]}"),
            extra=("whatsapp:\n"
                   "  base_url: \"%s\"\n"
                   "  phone: \"+90 555 000 0001\"\n"
                   "  password: \"%s\"\n"
                   "  timeout: 10s\n"
                   "smtp: {host: 127.0.0.1, port: %d, tls: none, from: alerts@example.com, "
                   "timeout: 10s}\n"
                   "whatsapp_cloud: {base_url: \"%s\", phone_number_id: \"1065\", "
                   "token: vg-cloud-token}\n"
                   % (self.fake.url, PASSWORD, self.smtp.port, self.graph.url)))
        self.addCleanup(self.d.close)

    def valgrind_report(self):
        try:
            with open(self.vglog) as f:
                return f.read()
        except FileNotFoundError:
            return "(no valgrind log)"

    def wait(self, pred, what, timeout=30):
        return wait_for(pred, timeout * SLOWDOWN / 4, interval=0.2, what=what)

    def test_a_day_of_production_is_memcheck_clean(self):
        d = self.d
        d.start(timeout=15 * SLOWDOWN)

        # HTTP, good and bad.
        payload = fixture("alertmanager-0.25", "firing-group-2.json")
        r = d.post("/api/v1/alertmanager", payload, timeout=60)
        self.assertEqual(r.status, 200, r)
        ids = [r.json["id"]]
        r = d.post("/api/v1/alerts", alert("Single", severity="page"), timeout=60)
        self.assertEqual(r.status, 200, r)
        ids.append(r.json["id"])
        self.assertEqual(d.post("/api/v1/alerts", b'{"labels": {', timeout=60).status, 400)
        self.assertEqual(d.post("/api/v1/alerts", alert("X"), token="wrong",
                                timeout=60).status, 401)
        self.assertEqual(d.post("/api/v1/alertmanager/nobody", payload, timeout=60).status, 404)
        big = b'{"labels": {"alertname": "' + b"x" * (80 << 10) + b'"}}'
        self.assertEqual(d.post("/api/v1/alerts", big, timeout=60).status, 413)
        self.assertEqual(d.get("/healthz", token=None, timeout=60).status, 200)
        self.assertIn(b"alertsink_received_total", d.get("/metrics", token=None,
                                                          timeout=60).body)

        # The Unix socket.
        answers = d.unix('{"labels": {"alertname": "FromSocket"}}\n{"labels": 5}\n',
                         timeout=60)
        self.assertTrue(answers[0].startswith("OK "), answers)
        self.assertTrue(answers[1].startswith("ERR "), answers)
        ids.append(answers[0].split()[1])
        self.wait(lambda: set(ids) <= set(d.outbox_counts()), "the file sink's lines")

        # WhatsApp: a 500 then a 401 (relogin), delivered.
        self.fake.control(fail=[{"status": 500, "count": 1, "path": SEND},
                                {"status": 401, "count": 1, "path": SEND}])
        r = d.post("/api/v1/alerts", alert("DiskFull", team="wa"), timeout=60)
        self.assertEqual(r.status, 200, r)
        self.wait(lambda: any(q["status"] == 200 for q in self.fake.requests(SEND)),
                  "the WhatsApp send")

        # A permanent WhatsApp failure: the email fallback.
        self.fake.control(fail=[{"status": 400, "count": 1, "path": SEND,
                                 "message": "invalid contact"}])
        r = d.post("/api/v1/alerts", alert("CpuHot", team="wa"), timeout=60)
        self.assertEqual(r.status, 200, r)
        mails = self.wait(lambda: self.smtp.messages(), "the fallback email")
        self.assertIn("CpuHot", mails[0][1]["Subject"])

        # The Cloud API: one recipient takes the template message, one cannot.
        self.graph.control(undeliverable=["905551112234"])
        r = d.post("/api/v1/alerts", alert("CloudVg", team="cloud"), timeout=60)
        self.assertEqual(r.status, 200, r)
        self.wait(lambda: len(self.graph.requests("/v24.0/1065/messages")) == 2,
                  "the two Cloud API requests")
        self.wait(lambda: "whatsapp_cloud recipients refused" in d.log(), "the refusal logged")

        # A webhook: 503 once, then taken, signed.
        self.hook.control(fail=[{"status": 503, "count": 1}])
        r = d.post("/api/v1/alerts", alert("HookVg", team="hook"), timeout=60)
        self.assertEqual(r.status, 200, r)
        taken = self.wait(lambda: [q for q in self.hook.requests("/hook") if q["status"] == 200],
                          "the webhook")
        self.assertTrue(taken[0]["signature_ok"])

        # Reload: a valid change, then a broken file; reopen.
        with open(d.config) as f:
            text = f.read()
        with open(d.config, "w") as f:
            f.write(text.replace("log: {level: info}", "log: {level: debug}"))
        d.send_signal(signal.SIGHUP)
        self.wait(lambda: re.search(r'msg="?reloaded', d.log()), "the reload")
        with open(d.config) as f:
            good = f.read()
        with open(d.config, "a") as f:
            f.write("no_such_key: 1\n")
        d.send_signal(signal.SIGHUP)
        self.wait(lambda: "no_such_key" in d.log(), "the refused reload")
        with open(d.config, "w") as f:
            f.write(good)
        d.send_signal(signal.SIGUSR1)
        time.sleep(1)
        r = d.post("/api/v1/alerts", alert("AfterReload"), timeout=60)
        self.assertEqual(r.status, 200, r)
        self.wait(lambda: r.json["id"] in d.outbox_counts(), "a line after the reload")

        self.assertNotIn(PASSWORD, d.log())
        rc = d.stop(timeout=60 * SLOWDOWN // 4)
        self.assertNotEqual(rc, ERRORS, "valgrind found errors:\n" + self.valgrind_report())
        self.assertEqual(rc, 0, d.log()[-4000:] + "\n" + self.valgrind_report())


if __name__ == "__main__":
    unittest.main()
