"""test_sink_secrets.py - the HTTP sinks' secrets stay out of logs and off
the wire where they do not belong (found by review):

  - a peer quoting a long token back (Graph: "Malformed access token
    <TOKEN>", code 190) had its words cut before the token was redacted,
    and the cut token no longer matched: most of it was in the log and in
    `queue show`.  Secrets are now hidden before the cut;
  - a webhook peer that says which path it did not find quoted the key of
    the URL (Slack-like /hooks/T/B/KEY); a long enough path (and query) is
    now a secret as the whole URL is;
  - a token with a line break (a trailing newline from its file or
    variable) ended the request's headers early: the peer got an empty
    body, answered 200, and the notification counted as delivered; or it
    added headers of its own.  Such a token is refused at load.
"""
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Daemon, alert, wait_for  # noqa: E402
from lib.fakes import FakeProcess  # noqa: E402

PNID = "106540352242922"
R1 = "905551112233"


class SinkSecrets(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-sink-secrets-")
        self.d = self.fake = None

    def tearDown(self):
        if self.d is not None:
            self.d.close()
        if self.fake is not None:
            self.fake.stop()
        shutil.rmtree(self.tmp, True)

    def test_graph_echoing_a_long_token(self):
        token = "EAAG" + "Zx9Q" * 80  # 324 characters
        self.fake = FakeProcess("fake_graph.py", self.tmp, "--phone-number-id", PNID,
                                "--token", token, "--window", "*")
        self.fake.control(fail=[{"status": 400, "code": 190,
                                 "message": "Malformed access token " + token}])
        extra = "whatsapp_cloud: %s\n" % json.dumps({"base_url": self.fake.url,
                                                     "phone_number_id": PNID, "token": token})
        self.d = Daemon(unix=False, receivers="  - name: oncall\n    whatsapp_cloud: %s\n"
                        % json.dumps({"to": ["+" + R1]}), extra=extra, route="{receiver: oncall}",
                        directory=tempfile.mkdtemp(dir=self.tmp))
        self.d.start()
        r = self.d.post("/api/v1/alerts", alert("Leak1"))
        self.assertEqual(r.status, 200, r)
        nid = r.json["id"]
        self.assertEqual(self.d.results(nid, "whatsapp_cloud", 1), ["permanent"])
        wait_for(lambda: "dead/" in self.d.log(), 10, what="dead/")
        self.assertNotIn("Zx9QZx9QZx9Q", self.d.cli("queue", "show", nid).stdout)
        self.assertNotIn("Zx9QZx9QZx9Q", self.d.log())
        self.assertIn("Malformed access token <redacted>", self.d.log())

    def test_webhook_peer_echoing_the_path(self):
        self.fake = FakeProcess("fake_webhook.py", self.tmp, "--path", "/elsewhere")
        url = "http://127.0.0.1:%d/hooks/T0001/B0002/SeCrEtKeYxyz123" % self.fake.port
        self.d = Daemon(unix=False, receivers='  - name: hook\n    webhook: {url: "%s"}\n' % url,
                        route="{receiver: hook}", directory=tempfile.mkdtemp(dir=self.tmp))
        self.d.start()
        r = self.d.post("/api/v1/alerts", alert("Leak2"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.d.results(r.json["id"], "webhook", 1), ["permanent"])
        self.assertNotIn("SeCrEtKeY", self.d.log())

    def test_token_with_a_line_break_is_refused(self):
        for channel, extra in (
                ('webhook: {url: "http://127.0.0.1:1/x", bearer_token: "tok-abc\\n"}', ""),
                ('whatsapp_cloud: {to: ["+%s"]}' % R1,
                 'whatsapp_cloud: {phone_number_id: "%s", token: "tok-abc\\r\\nX-Injected: yes"}\n'
                 % PNID)):
            d = Daemon(unix=False, receivers="  - name: r\n    %s\n" % channel, extra=extra,
                       route="{receiver: r}", directory=tempfile.mkdtemp(dir=self.tmp))
            self.addCleanup(d.close)
            p = d.cli("-t")
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)  # -t: invalid
            self.assertIn("holds a line break or a tab", p.stderr)
            self.assertNotIn("tok-abc", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
