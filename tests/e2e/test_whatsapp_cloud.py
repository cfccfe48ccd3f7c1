#!/usr/bin/python3
"""test_whatsapp_cloud.py - the whatsapp_cloud sink and `alertsink
wa-cloud check` end to end: the real daemon sending to the strict fake
Graph API (tests/fake_graph.py), Debian's real prometheus-alertmanager in
front, aiosmtpd (tests/smtp_server.py) behind in `channels:
[whatsapp_cloud, email]`:

  - a group of three alerts from Alertmanager is one text message per
    recipient, each with the three alerts, on the configured path, with
    the bearer token;
  - message_template: a template message per recipient, with the default
    parameters (the template README.md describes) or the configured ones;
  - a recipient outside the 24-hour window (131047) or undeliverable
    (131026) is refused alone: delivered to the others, the refused one
    logged and named; every recipient refused: permanent, email at once;
  - an expired token (190): permanent after one request, a reason that
    names whatsapp_cloud.token and how to renew it, email at once;
  - 130429 with Retry-After and HTTP 500: transient, retried no sooner;
  - a long text split into parts, in order, each within max_length;
  - a receiver sending from its own number (its own phone_number_id and
    base_url over the section's);
  - `alertsink wa-cloud check`: exit 0 with the number's details, 1 on an
    expired token, a wrong id or no server, 2 on a bad configuration;
  - the configuration's checks and -T.

The token never appears in the daemon's log nor in the command's output.
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
from lib import BINARY, SLOW, Daemon, alert, free_port, wait_for  # noqa: E402
from lib.alertmanager import AM_BINARY, Alertmanager, now  # noqa: E402
from lib.fakes import FakeProcess  # noqa: E402
from test_email_sink import Server  # noqa: E402

PNID = "106540352242922"
TOKEN = "EAAG-e2e-Cloud-Token-5hJq"
HOOK_TOKEN = "cloud-e2e-input-token"
R1, R2 = "905551112233", "905551112234"
MESSAGES = "/v24.0/%s/messages" % PNID
ALERTS = "/api/v1/alerts"


def fake_args(*more):
    return ("--phone-number-id", PNID, "--token", TOKEN,
            "--template", "alertsink_alert:en_US:3", "--template", "custom_alert:tr:2") + more


CHANNEL = "whatsapp_cloud"

class WhatsAppCloud(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-wacloud-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.d = self.fake = self.smtp = None
        self.addCleanup(self.cleanup)

    def cleanup(self):
        if self.d is not None:
            self.d.close()
        if self.fake is not None:
            self.fake.stop()
        if self.smtp is not None:
            self.smtp.stop()

    def config(self, channel=None, email=False, section=None, receivers=""):
        """The receiver "oncall" (whatsapp_cloud to R1 and R2, with channel's
        keys; with email, `channels: [whatsapp_cloud, email]`) and the
        whatsapp_cloud: section on the fake."""
        ch = {"to": ["+90 555 111 2233", "+90 555 111 2234"]}
        ch.update(channel or {})
        rcv = "  - name: oncall\n    whatsapp_cloud: %s\n" % json.dumps(ch)
        extra = "whatsapp_cloud: %s\n" % json.dumps(dict(
            {"base_url": self.fake.url, "phone_number_id": PNID, "token": TOKEN,
             "timeout": "%ds" % (2 * SLOW)}, **(section or {})))
        if email:
            self.smtp = Server(self.tmp)
            rcv += ("    email: {to: [oncall@example.com]}\n"
                    "    channels: [whatsapp_cloud, email]\n")
            extra += ("smtp: {host: 127.0.0.1, port: %d, tls: none, "
                      "from: \"alertsink <alerts@example.com>\"}\n" % self.smtp.port)
        return rcv + receivers, extra

    def start(self, channel=None, email=False, args=(), section=None, receivers="",
              group_by="alertname", log_level="info"):
        self.fake = FakeProcess("fake_graph.py", self.tmp, *fake_args(*args))
        rcv, extra = self.config(channel, email, section, receivers)
        self.d = Daemon(token=HOOK_TOKEN, unix=False, receivers=rcv, extra=extra,
                        log_level=log_level,
                        route="{receiver: oncall, group_by: [%s]}" % group_by,
                        directory=tempfile.mkdtemp(dir=self.tmp, prefix="d-"))
        self.d.start()
        return self.d

    # --- observing -------------------------------------------------------------------

    def messages(self, status=None):
        return [r for r in self.fake.requests(MESSAGES) if status is None or r["status"] == status]

    def wait_messages(self, n, status=200, timeout=20):
        return wait_for(lambda: (lambda m: m if len(m) >= n else None)(self.messages(status)),
                        timeout, interval=0.05, what="%d message(s) answered %s" % (n, status))

    def post(self, name, **annotations):
        a = alert(name, severity="critical")
        a["annotations"].update(annotations)
        r = self.d.post(ALERTS, a)
        self.assertEqual(r.status, 200, r)
        return r.json["id"]


    def finish(self):
        log = self.d.log()
        self.assertNotIn(TOKEN, log)
        self.assertEqual(self.d.stop(), 0, log)

    # --- text messages ------------------------------------------------------------------

    @unittest.skipUnless(os.access(AM_BINARY, os.X_OK), "prometheus-alertmanager is not installed")
    def test_alertmanager_group_is_one_text_per_recipient(self):
        d = self.start(args=("--window", "*"), group_by="team")
        am = Alertmanager(d.port, HOOK_TOKEN, group_by=("team",))
        try:
            names = ["CloudDiskFull", "CloudHighLoad", "CloudSwapping"]
            am.post_alerts([{"labels": {"alertname": n, "team": "db", "instance": "db%d" % i},
                             "annotations": {"summary": "%s on db%d" % (n, i)},
                             "startsAt": now()} for i, n in enumerate(names)])
            self.wait_messages(2, timeout=30)
            time.sleep(1.5)  # past group_interval: nothing more may come
        finally:
            am.close()
        m = self.messages()
        self.assertEqual(sorted(r["to"] for r in m), [R1, R2])
        for r in m:
            self.assertEqual(r["status"], 200)
            self.assertEqual(r["method"], "POST")
            self.assertEqual(r["headers"]["authorization"], "Bearer " + TOKEN)
            self.assertTrue(r["headers"]["content-type"].startswith("application/json"))
            self.assertEqual(r["json"]["type"], "text")
            body = r["json"]["text"]["body"]
            self.assertTrue(body.startswith("🔥 *[FIRING:3]"), body)
            for i, n in enumerate(names):
                self.assertIn("%s on db%d" % (n, i), body)
        self.assertRegex(d.log(), r'msg="delivery attempt" .*channel=whatsapp_cloud attempt=1 '
                                  r'result=delivered status=200')
        self.finish()

    def test_long_text_is_split_in_order(self):
        self.start(channel={"max_length": 300}, args=("--window", "*"))
        self.post("CloudLong", description=" ".join("word%03d" % i for i in range(150)))
        self.wait_messages(2)
        time.sleep(0.5)
        m = self.messages()
        self.assertGreater(len(m), 4)  # at least three parts each
        for to in (R1, R2):
            parts = [r["json"]["text"]["body"] for r in m if r["to"] == to]
            self.assertTrue(all(len(p.encode()) <= 300 for p in parts), parts)
            n = len(parts)
            for i, p in enumerate(parts):
                self.assertIn("(%d/%d)" % (i + 1, n), p)
            self.assertIn("word149", parts[-1])
        self.finish()

    # --- template messages ----------------------------------------------------------------

    def test_template_message_with_the_default_params(self):
        # No window open: only a template message gets through.
        self.start(channel={"message_template": {"name": "alertsink_alert"}})
        nid = self.post("CloudTemplated", summary="disk 95% full\non /var")
        self.wait_messages(2)
        for r in self.messages():
            t = r["json"]["template"]
            self.assertEqual(r["json"]["type"], "template")
            self.assertEqual((t["name"], t["language"]["code"]), ("alertsink_alert", "en_US"))
            self.assertEqual(r["params"][0], "FIRING:1")
            self.assertEqual(r["params"][1], "CloudTemplated")
            # One line: the fake refuses new lines (132018).
            self.assertEqual(r["params"][2],
                             "🔥 CloudTemplated severity=critical: disk 95% full on /var.")
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["delivered"])
        self.finish()

    def test_template_message_with_configured_params(self):
        self.start(channel={"message_template": {
            "name": "custom_alert", "language": "tr",
            "params": ["{{commonLabels.severity}}", "{{#firing}}{{title}} {{/firing}}"]}})
        self.post("CloudCustom")
        self.wait_messages(2)
        for r in self.messages():
            self.assertEqual(r["json"]["template"]["language"]["code"], "tr")
            self.assertEqual(r["params"], ["critical", "CloudCustom"])
        self.finish()

    # --- recipients refused ----------------------------------------------------------------

    def test_one_recipient_outside_the_window_the_other_delivered(self):
        self.start(args=("--window", R1))
        nid = self.post("CloudHalfWindow")
        self.wait_messages(1)
        time.sleep(1.5 * SLOW)  # more than a backoff: nothing is retried
        got = sorted((r["to"], r["status"]) for r in self.messages())
        self.assertEqual(got, [(R1, 200), (R2, 400)])
        self.assertEqual(self.messages(400)[0]["answer"]["error"]["code"], 131047)
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["delivered"])
        log = self.d.log()
        self.assertRegex(log, r'level=warn msg="whatsapp_cloud recipients refused" id=%s '
                              r'receiver=oncall refused=1 recipients=2 reason="delivered to 1 of 2 '
                              r'recipients; to %s: outside the 24-hour window' % (nid, R2))
        self.assertRegex(log, r'result=delivered status=200 .*reason="delivered to 1 of 2')
        self.finish()

    def test_undeliverable_recipient_alone_is_refused(self):
        self.start(channel={"message_template": {"name": "alertsink_alert"}})
        self.fake.control(undeliverable=[R2])
        nid = self.post("CloudUndeliverable")
        self.wait_messages(1)
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["delivered"])
        self.assertRegex(self.d.log(), r'to %s: the recipient cannot receive it .*131026' % R2)
        self.finish()

    def test_every_recipient_outside_the_window_falls_back_at_once(self):
        self.start(email=True)
        t0 = time.time()
        nid = self.post("CloudNoWindow")
        wait_for(lambda: self.smtp.messages(), 20, what="the email")
        self.assertLess(time.time() - t0, 10)  # at once, not after fallback_after (2 m)
        time.sleep(1.5 * SLOW)
        self.assertEqual(sorted((r["to"], r["status"]) for r in self.messages()),
                         [(R1, 400), (R2, 400)])
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["permanent"])
        self.assertEqual(self.d.results(nid, "email", 1), ["delivered"])
        self.finish()

    def test_expired_token_is_permanent_names_the_token_and_falls_back(self):
        self.start(email=True, args=("--window", "*"))
        self.fake.control(expire_token=True)
        nid = self.post("CloudExpired")
        wait_for(lambda: self.smtp.messages(), 20, what="the email")
        time.sleep(1.5 * SLOW)
        m = self.messages()
        self.assertEqual([(r["status"], r["answer"]["error"]["code"]) for r in m], [(401, 190)])
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["permanent"])
        log = self.d.log()
        self.assertRegex(log, r'channel=whatsapp_cloud attempt=1 result=permanent status=401 .*'
                              r'reason="the access token \(whatsapp_cloud.token\) was refused, '
                              r'expired or revoked: make a new one in Meta Business Settings')
        self.finish()

    # --- transient failures ----------------------------------------------------------------

    def test_rate_limit_with_retry_after_is_retried_no_sooner(self):
        self.start(args=("--window", "*"))
        self.fake.control(fail=[{"status": 400, "code": 130429, "count": 2, "retry_after": "2",
                                 "message": "(#130429) Rate limit hit"}])
        nid = self.post("CloudRate")
        self.wait_messages(2)
        m = self.messages()
        self.assertEqual([r["status"] for r in m], [400, 400, 200, 200])
        self.assertGreaterEqual(m[2]["time"] - m[1]["time"], 1.95)
        self.assertEqual(self.d.results(nid, CHANNEL, 2), ["transient", "delivered"])
        self.assertRegex(self.d.log(), r'result=transient status=400 .*reason="to %s: rate limit '
                                       r'reached; Graph API error 130429' % R1)
        self.finish()

    def test_500_is_transient(self):
        self.start(args=("--window", "*"))
        self.fake.control(fail=[{"status": 500, "count": 2}])
        nid = self.post("Cloud500")
        self.wait_messages(2)
        self.assertEqual([r["status"] for r in self.messages()], [500, 500, 200, 200])
        self.assertEqual(self.d.results(nid, CHANNEL, 2), ["transient", "delivered"])
        self.finish()

    # --- accounts ---------------------------------------------------------------------------

    def test_a_receiver_sends_from_its_own_number(self):
        other = FakeProcess("fake_graph.py", self.tmp, "--phone-number-id", "777000111",
                            "--token", "EAAG-other-token", "--window", "*")
        self.addCleanup(other.stop)
        self.start(args=("--window", "*"), receivers=(
            "  - name: sales\n"
            "    whatsapp_cloud: {to: [\"+1 415 555 0100\"], phone_number_id: \"777000111\", "
            "token: EAAG-other-token, base_url: %s}\n" % json.dumps(other.url)),
            group_by="alertname")
        r = self.d.post("/api/v1/alertmanager/sales", {
            "receiver": "x", "status": "firing", "version": "4", "groupKey": "g",
            "alerts": [{"status": "firing", "labels": {"alertname": "CloudSales"},
                        "annotations": {}, "startsAt": now()}]})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: other.requests("/v24.0/777000111/messages"), 20, what="the message")
        sent = other.requests("/v24.0/777000111/messages")
        self.assertEqual([(x["to"], x["status"]) for x in sent], [("14155550100", 200)])
        self.assertEqual(sent[0]["headers"]["authorization"], "Bearer EAAG-other-token")
        self.assertEqual(self.messages(), [])

        # The check asks each account once, and says who sends with it.
        p = self.check(self.d.config)
        self.assertEqual(p.returncode, 0, p.stderr)
        blocks = p.stdout.strip().split("\n\n")
        self.assertEqual(len(blocks), 2, p.stdout)
        self.assertIn("phone_number_id: %s" % PNID, blocks[0])
        self.assertIn("receivers: oncall", blocks[0])
        self.assertIn("phone_number_id: 777000111", blocks[1])
        self.assertIn("receivers: sales", blocks[1])
        self.finish()

    # --- alertsink wa-cloud check -----------------------------------------------------------

    def check(self, config, *more):
        p = subprocess.run([BINARY, "wa-cloud", "check", "-c", config] + list(more),
                           capture_output=True, text=True, timeout=60)
        self.assertNotIn(TOKEN, p.stdout + p.stderr)
        return p

    def write_config(self, section):
        cfg = os.path.join(self.tmp, "check.yaml")
        with open(cfg, "w") as f:
            f.write("spool: {dir: %s}\nhttp: {listen: \"\"}\nunix: {path: \"\"}\n"
                    "whatsapp_cloud: %s\nreceivers: [{name: r, file: {path: %s}}]\n"
                    "route: {receiver: r}\n"
                    % (json.dumps(os.path.join(self.tmp, "spool")), json.dumps(section),
                       json.dumps(os.path.join(self.tmp, "out"))))
        return cfg

    def test_check_command(self):
        self.fake = FakeProcess("fake_graph.py", self.tmp, *fake_args("--quality", "YELLOW"))
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        section = {"base_url": self.fake.url, "phone_number_id": PNID, "token_file": token_file}
        cfg = self.write_config(section)
        p = self.check(cfg)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "phone_number_id: %s\ndisplay_phone_number: +1 555-025-3483\n"
                                   "verified_name: Alertsink Test\nquality_rating: YELLOW\n" % PNID)
        got, = self.fake.requests("/v24.0/" + PNID)
        self.assertEqual((got["method"], got["headers"]["authorization"]),
                         ("GET", "Bearer " + TOKEN))

        self.fake.control(expire_token=True)
        p = self.check(cfg)
        self.assertEqual(p.returncode, 1)
        self.assertIn("the access token (whatsapp_cloud.token) was refused", p.stderr)
        self.fake.control(expire_token=False)

        p = self.check(self.write_config(dict(section, phone_number_id="999")))
        self.assertEqual(p.returncode, 1)
        self.assertIn("Object with ID '999' does not exist", p.stderr)

        p = self.check(self.write_config(dict(section, api_version="v23.0")))
        self.assertEqual(p.returncode, 1)  # the fake speaks v24.0 only
        self.assertIn("Graph API error 2500", p.stderr)

        p = self.check(self.write_config(dict(section,
                                              base_url="http://127.0.0.1:%d" % free_port())))
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot connect", p.stderr)

        p = self.check(self.write_config({"base_url": self.fake.url, "token": TOKEN}))
        self.assertEqual(p.returncode, 2)
        self.assertIn("whatsapp_cloud.phone_number_id is not set", p.stderr)

        p = self.check(os.path.join(self.tmp, "missing.yaml"))
        self.assertEqual(p.returncode, 2)
        for argv in (["wa-cloud"], ["wa-cloud", "nope"], ["wa-cloud", "check", "extra"],
                     ["wa-cloud", "check", "--bogus"]):
            p = subprocess.run([BINARY] + argv, capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, argv)
            self.assertIn("usage: alertsink wa-cloud check", p.stderr)
        p = subprocess.run([BINARY, "wa-cloud", "check", "--help"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertIn("quality rating", p.stdout)

    # --- the configuration -------------------------------------------------------------------

    def test_configuration(self):
        self.fake = FakeProcess("fake_graph.py", self.tmp, *fake_args())
        cfg = os.path.join(self.tmp, "c.yaml")

        def run(channel, section=None, flag="-t"):
            rcv, extra = self.config(channel, section=section)
            with open(cfg, "w") as f:
                f.write("spool: {dir: %s}\nhttp: {listen: \"\"}\nunix: {path: \"\"}\n"
                        "receivers:\n%sroute: {receiver: oncall}\n%s"
                        % (json.dumps(os.path.join(self.tmp, "spool")), rcv, extra))
            return subprocess.run([BINARY, flag, "-c", cfg], capture_output=True, text=True,
                                  timeout=30)

        p = run({"message_template": {"name": "alertsink_alert"}}, flag="-T")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(TOKEN, p.stdout)
        # The receiver's effective account, its defaults, the default params.
        rcv = p.stdout[p.stdout.index("receivers:"):]
        self.assertRegex(rcv, r'phone_number_id: "?%s"?\n\s+token: "<redacted>"\n\s+base_url: '
                              r'%s\n\s+api_version: v24.0\n\s+timeout: %ds'
                         % (PNID, self.fake.url, 2 * SLOW))
        self.assertIn("language: en_US", rcv)
        self.assertIn("{{title}}", rcv)

        bad = [({"max_length": 5000}, None, "whatsapp_cloud.max_length: 16 (a part's number and "
                "one character) to 4096"),
               ({"max_length": 9}, None, "whatsapp_cloud.max_length: 16"),
               ({"message_template": {"name": "Alert Name"}}, None, "is not a template name"),
               ({"message_template": {"language": "en"}}, None, "missing required key 'name'"),
               ({"message_template": {"name": "a", "params": ["{{#x}}"]}}, None,
                "message_template.params[0]"),
               ({}, {"api_version": "24"}, "api_version: expected a Graph API version"),
               ({}, {"phone_number_id": None}, "phone_number_id is not set"),
               ({}, {"token": ""}, "whatsapp_cloud.token (or token_file) is not set"),
               ({"phone_number_id": "+1 415"}, None, "expected the number's id"),
               ({"to": []}, None, "whatsapp_cloud.to is empty")]
        for channel, section, want in bad:
            p = run(channel, section)
            self.assertEqual(p.returncode, 1, (channel, section, p.stderr))
            self.assertIn(want, p.stderr, (channel, section))
            self.assertRegex(p.stderr, r"c\.yaml:\d+:\d+: ", (channel, section))


if __name__ == "__main__":
    unittest.main(verbosity=2)
