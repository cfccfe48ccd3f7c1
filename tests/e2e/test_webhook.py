#!/usr/bin/python3
"""test_webhook.py - the webhook sink end to end: the real daemon
(tests/e2e/lib Daemon) posting to the strict fake webhook receiver
(tests/fake_webhook.py, which checks the bearer token and the HMAC
signature itself), Debian's real prometheus-alertmanager in front, and
aiosmtpd (tests/smtp_server.py) for the chain with email:

  - Alertmanager's payload goes on as it came: Alertmanager posts each
    group both to alertsink and straight to the fake, and the two bodies
    are the same JSON but for the receiver and the group key (alertsink's
    route's); the request carries the receiver's headers, the
    bearer token, X-Alertsink-Id and a signature the fake verifies;
  - with template: the body is that template's text, byte for byte, with
    the method and Content-Type the receiver asks for;
  - 503 with Retry-After: retried no sooner, then delivered, one id;
  - a hang past webhook.timeout: transient, then delivered;
  - a 422: permanent with the server's words, and the next channel of
    `channels: [webhook, email]` sends at once; alone, straight to dead/;
  - HTTPS against a private CA: delivered with tls_ca_file, refused
    (transient, TLS named) without it;
  - -T shows the url and the secrets as <redacted>, -t checks
    tls_ca_file and header names.

No secret (token, HMAC secret, URL) may appear in the daemon's log.
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
from lib import BINARY, SLOW, Daemon, alert, wait_for  # noqa: E402
from lib.alertmanager import AM_BINARY, Alertmanager, now  # noqa: E402
from lib.fakes import FakeProcess  # noqa: E402
from test_email_sink import Server, make_pki  # noqa: E402

TOKEN = "hook-Bearer-7fA2"
SECRET = "hook-Hmac-Secret-93kQ"
ALERTS = "/api/v1/alerts"

PKI = None


def setUpModule():
    global PKI
    PKI = make_pki(tempfile.mkdtemp(prefix="as-webhook-pki-"))


def tearDownModule():
    if PKI:
        shutil.rmtree(PKI, ignore_errors=True)


def flow(d):
    return "{" + ", ".join("%s: %s" % (k, json.dumps(v)) for k, v in d.items()) + "}"


CHANNEL = "webhook"

class Webhook(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-webhook-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.d = self.fake = self.smtp = None
        self.addCleanup(self.cleanup)

    def cleanup(self):
        for x in (self.d, self.fake):
            if x is not None:
                x.close() if x is self.d else x.stop()
        if self.smtp is not None:
            self.smtp.stop()

    def start(self, hook=None, fake_args=(), email=False, channels=None, extra="",
              fake_path="/hook", scheme="http", log_level="info", group_by="alertname"):
        """The fake (checking TOKEN and SECRET) and a daemon whose receiver
        "hook" posts to it with hook's keys (url, bearer_token, hmac_secret
        by default)."""
        self.fake = FakeProcess("fake_webhook.py", self.tmp, "--path", fake_path, "--bearer",
                                TOKEN, "--hmac-secret", SECRET, *fake_args)
        keys = {"url": "%s://127.0.0.1:%d/hook" % (scheme, self.fake.port),
                "bearer_token": TOKEN, "hmac_secret": SECRET, "timeout": "%ds" % (2 * SLOW)}
        keys.update(hook or {})
        rcv = "  - name: hook\n    webhook: %s\n" % flow({k: v for k, v in keys.items()
                                                          if v is not None})
        if email:
            self.smtp = Server(self.tmp)
            rcv += "    email: {to: [oncall@example.com]}\n"
            extra += ("smtp: {host: 127.0.0.1, port: %d, tls: none, "
                      "from: \"alertsink <alerts@example.com>\"}\n" % self.smtp.port)
        if channels:
            rcv += "    channels: %s\n" % json.dumps(channels)
        self.d = Daemon(token=TOKEN, unix=False, receivers=rcv, log_level=log_level,
                        route="{receiver: hook, group_by: [%s]}" % group_by, extra=extra,
                        directory=tempfile.mkdtemp(dir=self.tmp, prefix="d-"))
        self.d.start()
        return self.d

    def hooks(self):
        return self.fake.requests("/hook")

    def wait_hooks(self, n, status=200, timeout=20):
        return wait_for(lambda: (lambda r: r if len(r) >= n else None)(
            [r for r in self.hooks() if r["status"] == status]), timeout, interval=0.05,
            what="%d webhook request(s) answered %s" % (n, status))

    def post(self, name):
        r = self.d.post(ALERTS, alert(name, severity="critical"))
        self.assertEqual(r.status, 200, r)
        return r.json["id"]

    def finish(self):
        log = self.d.log()
        for secret in (TOKEN, SECRET, "127.0.0.1:%d/hook" % self.fake.port):
            self.assertNotIn(secret, log)
        self.assertEqual(self.d.stop(), 0, log)

    # --- the body -----------------------------------------------------------------

    @unittest.skipUnless(os.access(AM_BINARY, os.X_OK), "prometheus-alertmanager is not installed")
    def test_alertmanager_payload_goes_on_as_it_came(self):
        d = self.start(hook={"headers": {"X-Team": "db", "X-Env": "prod"}}, group_by="team")
        am = Alertmanager(d.port, TOKEN, group_by=("team",),
                          mirror_url="%s/direct" % self.fake.url)
        try:
            names = ["HookDiskFull", "HookHighLoad"]
            am.post_alerts([{"labels": {"alertname": n, "team": "db", "instance": "db%d" % i},
                             "annotations": {"summary": "%s on db%d" % (n, i)},
                             "startsAt": now()} for i, n in enumerate(names)])
            self.wait_hooks(1, timeout=30)
            direct = wait_for(lambda: self.fake.requests("/direct"), 10, what="the mirror")
            time.sleep(1.5)  # past group_interval: nothing more may come
        finally:
            am.close()
        hooks = self.hooks()
        self.assertEqual(len(hooks), 1, [r["json"] for r in hooks])
        via = hooks[0]
        # The payload Alertmanager sent, every alert and every field, but
        # the receiver and the group key: alertsink's own route's.
        got, sent = dict(via["json"]), dict(direct[0]["json"])
        self.assertEqual(got.pop("receiver"), "hook")
        self.assertEqual(sent.pop("receiver"), "alertsink")
        self.assertEqual(got.pop("groupKey"), '{}:{team="db"}')
        sent.pop("groupKey")
        self.assertEqual(got, sent)
        self.assertEqual(via["json"]["version"], "4")
        self.assertEqual(sorted(a["labels"]["alertname"] for a in via["json"]["alerts"]), names)
        h = via["headers"]
        self.assertEqual(via["method"], "POST")
        self.assertEqual(h["authorization"], "Bearer " + TOKEN)
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual((h["x-team"], h["x-env"]), ("db", "prod"))
        self.assertTrue(via["signature_ok"])
        self.assertRegex(h["x-alertsink-id"], r"^\S+$")
        self.assertIn(" id=%s " % h["x-alertsink-id"], d.log())
        self.finish()

    def test_template_body_method_and_content_type(self):
        tdir = os.path.join(self.tmp, "templates")
        os.makedirs(tdir)
        with open(os.path.join(tdir, "chat.mustache"), "w") as f:
            f.write('{"text": "{{status}}: {{title}} ({{firingCount}}) ünï"}\n')
        self.start(hook={"template": "chat", "method": "PUT",
                         "headers": {"Content-Type": "application/vnd.chat+json"}},
                   extra="templates: {dir: %s}\n" % json.dumps(tdir))
        nid = self.post("HookTemplated")
        r, = self.wait_hooks(1)
        self.assertEqual(r["method"], "PUT")
        self.assertEqual(r["body"], '{"text": "firing: HookTemplated (1) ünï"}\n')
        self.assertEqual(r["headers"]["content-type"], "application/vnd.chat+json")
        self.assertTrue(r["signature_ok"])  # over exactly these bytes
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["delivered"])
        self.finish()

    def test_template_values_are_json_escaped(self):
        # {{x}} in a webhook template is escaped for the inside of a JSON
        # string: a quote, a backslash or a newline in a label does not
        # break the JSON the template writes; {{{x}}} inserts JSON as is.
        tdir = os.path.join(self.tmp, "templates")
        os.makedirs(tdir)
        with open(os.path.join(tdir, "chat.mustache"), "w") as f:
            f.write('{"text": "{{title}}: {{#alerts}}{{annotations.summary}}{{/alerts}}", '
                    '"labels": {{{commonLabels}}}}\n')
        self.start(hook={"template": "chat"}, extra="templates: {dir: %s}\n" % json.dumps(tdir))
        summary = 'disk "/var" at 99%\\ full\nnow\t\u00e9'
        a = alert('Quote"d', path='C:\\tmp "x"')
        a["annotations"]["summary"] = summary
        r = self.d.post(ALERTS, a)
        self.assertEqual(r.status, 200, r)
        nid = r.json["id"]
        got, = self.wait_hooks(1)
        body = json.loads(got["body"])  # valid JSON, whatever the labels held
        self.assertEqual(body["text"], 'Quote"d: ' + summary)
        self.assertEqual(body["labels"]["path"], 'C:\\tmp "x"')
        self.assertTrue(got["signature_ok"])
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["delivered"])
        self.finish()

    # --- failures ---------------------------------------------------------------------

    def test_retry_after_past_max_age_is_dead_at_max_age(self):
        # A Retry-After longer than what is left of spool.max_age: the note
        # is given up at max_age, not held until the peer's time (an hour).
        self.fake = FakeProcess("fake_webhook.py", self.tmp, "--path", "/hook")
        d = Daemon(unix=False, spool={"max_age": "3s"},
                   receivers='  - name: hook\n    webhook: {url: "http://127.0.0.1:%d/hook", '
                             'timeout: 2s}\n' % self.fake.port,
                   route="{receiver: hook, group_by: [alertname]}",
                   directory=tempfile.mkdtemp(dir=self.tmp))
        self.d = d
        self.fake.control(fail=[{"status": 503, "count": 100, "retry_after": "3600"}])
        d.start()
        r = d.post(ALERTS, alert("HookPastMaxAge"))
        self.assertEqual(r.status, 200, r)
        nid = r.json["id"]
        wait_for(lambda: os.path.exists(os.path.join(d.spool, "dead", nid)), 8 * SLOW,
                 what="dead/ at max_age")
        self.assertEqual(len(self.hooks()), 1)
        self.assertEqual(d.stop(), 0, d.log())

    def test_long_secret_url_never_reaches_the_log(self):
        # The URL is a secret; a transport error named it whole, and one
        # longer than the room of a reason was cut before the redaction,
        # which then no longer matched (found by review).  Errors name the
        # scheme, host and port only.
        secret = "tok" + "S3cr3T" * 200
        self.d = Daemon(unix=False,
                        receivers='  - name: hook\n    webhook: {url: "http://127.0.0.1:1/'
                                  'hook?token=%s", timeout: 1s}\n' % secret,
                        route="{receiver: hook, group_by: [alertname]}",
                        directory=tempfile.mkdtemp(dir=self.tmp))
        self.d.start()
        r = self.d.post(ALERTS, alert("HookLongUrl"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.d.results(r.json["id"], CHANNEL, 1), ["transient"])
        log = self.d.log()
        self.assertIn("POST http://127.0.0.1:1: cannot connect", log)
        self.assertNotIn("S3cr3T", log)
        self.assertEqual(self.d.stop(), 0, log)

    def test_503_with_retry_after_is_retried_no_sooner(self):
        self.start()
        self.fake.control(fail=[{"status": 503, "retry_after": "2", "message": "maintenance"}])
        nid = self.post("HookBusy")
        self.wait_hooks(1)
        first, second = self.hooks()
        self.assertEqual((first["status"], second["status"]), (503, 200))
        # The backoff alone would be about 1 s: Retry-After asks for 2.
        self.assertGreaterEqual(second["time"] - first["time"], 1.95)
        self.assertEqual(first["headers"]["x-alertsink-id"], second["headers"]["x-alertsink-id"])
        self.assertEqual(self.d.results(nid, CHANNEL, 2), ["transient", "delivered"])
        self.assertRegex(self.d.log(), r'result=transient status=503 .*reason="HTTP 503: '
                                       r'maintenance \(Retry-After 2 s\)"')
        self.finish()

    def test_hang_past_the_timeout_is_transient(self):
        t = 1 * SLOW
        self.start(hook={"timeout": "%ds" % t})
        self.fake.control(hang={"seconds": 2 * t + 1})
        nid = self.post("HookHang")
        self.wait_hooks(1, timeout=20)
        self.assertEqual(self.d.results(nid, CHANNEL, 2), ["transient", "delivered"])
        self.assertRegex(self.d.log(), r'result=transient status=0 .*reason="[^"]*timed out')
        self.finish()

    def test_4xx_is_permanent_and_the_next_channel_sends(self):
        self.start(email=True, channels=["webhook", "email"])
        self.fake.control(fail=[{"status": 422, "message": "unknown field 'foo'"}])
        nid = self.post("HookRefused")
        wait_for(lambda: self.smtp.messages(), 20, what="the email")
        time.sleep(1.5 * SLOW)  # more than a backoff: the webhook must stay quiet
        self.assertEqual([r["status"] for r in self.hooks()], [422])
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["permanent"])
        self.assertEqual(self.d.results(nid, "email", 1), ["delivered"])
        self.assertRegex(self.d.log(), r'channel=webhook attempt=1 result=permanent status=422 '
                                       r'.*reason="HTTP 422: unknown field \'foo\'"')
        self.finish()

    def test_4xx_alone_goes_to_dead_at_once(self):
        self.start()
        self.fake.control(fail=[{"status": 400, "message": "bad payload"}])
        nid = self.post("HookDead")
        wait_for(lambda: self.d.spool_files("dead"), 20, what="the notification in dead/")
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["permanent"])
        self.assertEqual(len(self.hooks()), 1)
        self.finish()

    # --- TLS --------------------------------------------------------------------------------

    def test_https_with_a_private_ca(self):
        tls = ("--tls-cert", os.path.join(PKI, "good.pem"), "--tls-key",
               os.path.join(PKI, "good.key"))
        self.start(hook={"tls_ca_file": os.path.join(PKI, "ca.pem")}, fake_args=tls,
                   scheme="https")
        nid = self.post("HookTls")
        r, = self.wait_hooks(1)
        self.assertTrue(r["signature_ok"])
        self.assertEqual(self.d.results(nid, CHANNEL, 1), ["delivered"])
        self.finish()

    def test_https_without_the_ca_is_refused(self):
        tls = ("--tls-cert", os.path.join(PKI, "good.pem"), "--tls-key",
               os.path.join(PKI, "good.key"))
        self.start(fake_args=tls, scheme="https")
        nid = self.post("HookNoCa")
        self.assertEqual(self.d.results(nid, CHANNEL, 1, 20)[0], "transient")
        self.assertRegex(self.d.log(), r'channel=webhook attempt=1 result=transient status=0 '
                                       r'.*reason="[^"]*TLS failed')
        self.assertEqual(self.hooks(), [])
        self.finish()

    # --- the configuration -------------------------------------------------------------------

    def check(self, hook, flag="-t"):
        cfg = os.path.join(self.tmp, "c.yaml")
        with open(cfg, "w") as f:
            f.write("spool: {dir: %s}\nhttp: {listen: \"\"}\nunix: {path: \"\"}\n"
                    "receivers: [{name: hook, webhook: %s}]\nroute: {receiver: hook}\n"
                    % (json.dumps(os.path.join(self.tmp, "spool")), flow(hook)))
        return subprocess.run([BINARY, flag, "-c", cfg], capture_output=True, text=True,
                              timeout=30)

    def test_configuration(self):
        secret_file = os.path.join(self.tmp, "hmac")
        with open(secret_file, "w") as f:
            f.write(SECRET + "\n")
        p = self.check({"url": "https://hooks.example.com/T000/B000/XXXX", "bearer_token": TOKEN,
                        "hmac_secret_file": secret_file, "headers": {"X-A": "1"}}, "-T")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('url: "<redacted>"', p.stdout)
        self.assertIn('hmac_secret: "<redacted>"', p.stdout)
        self.assertIn('bearer_token: "<redacted>"', p.stdout)
        self.assertIn("X-A: 1", p.stdout)
        for s in (TOKEN, SECRET, "XXXX"):
            self.assertNotIn(s, p.stdout + p.stderr)

        bad = [({"url": "ftp://x"}, "webhook.url: expected an http:// or https:// URL"),
               ({"url": "http://x", "tls_ca_file": "/nonexistent/ca.pem"},
                "webhook.tls_ca_file: cannot read '/nonexistent/ca.pem'"),
               ({"url": "http://x", "tls_ca_file": secret_file}, "holds no PEM certificate"),
               ({"url": "http://x", "headers": {"Bad Name": "1"}}, "is not a header name"),
               ({"url": "http://x", "headers": {"X-Alertsink-Signature": "1"}},
                "X-Alertsink-Signature is set by alertsink"),
               ({"url": "http://x", "headers": {"Authorization": "Basic eA=="},
                 "bearer_token": "t"}, "keep one"),
               ({"url": "http://x", "method": "GET"}, "method"),
               ({"url": "http://x", "headers": ["X-A: 1"]}, "expected a map of strings"),
               ({"method": "POST"}, "missing required key 'url'")]
        for hook, want in bad:
            p = self.check(hook)
            self.assertEqual(p.returncode, 1, (hook, p.stderr))
            self.assertIn(want, p.stderr, hook)
            self.assertRegex(p.stderr, r"c\.yaml:\d+:\d+: ", hook)


if __name__ == "__main__":
    unittest.main(verbosity=2)
