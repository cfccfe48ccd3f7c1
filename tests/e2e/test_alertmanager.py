"""test_alertmanager.py - Debian's real Alertmanager (0.25) posting to alertsink.

Alertmanager's webhook receiver points at alertsink's
/api/v1/alertmanager (and /api/v1/alertmanager/RECEIVER) with a bearer
token in http_config.  Alerts posted to Alertmanager's API must arrive in
alertsink's outbox, firing and then resolved; with a wrong token,
Alertmanager must log the 401 that alertsink answered, and nothing lands.
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import SLOW, Daemon, free_port, wait_for  # noqa: E402

AM_BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
TOKEN = "am-e2e-token"


def now(delta_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Alertmanager:
    """One Alertmanager with its own config, storage and port; no clustering."""

    def __init__(self, sink_port, token):
        self.dir = tempfile.mkdtemp(prefix="as-e2e-am-")
        self.port = free_port()
        self.config = os.path.join(self.dir, "alertmanager.yml")
        self.logfile = os.path.join(self.dir, "alertmanager.log")
        base = "http://127.0.0.1:%d/api/v1/alertmanager" % sink_port
        with open(self.config, "w") as f:
            f.write(
                "route:\n"
                "  receiver: alertsink\n"
                "  group_by: [alertname]\n"
                "  group_wait: 1s\n"
                "  group_interval: 1s\n"
                "  repeat_interval: 1h\n"
                "  routes:\n"
                "    - receiver: alertsink-direct\n"
                "      matchers: ['route=\"direct\"']\n"
                "receivers:\n"
                "  - name: alertsink\n"
                "    webhook_configs:\n"
                "      - url: %s\n"
                "        send_resolved: true\n"
                "        http_config: {authorization: {credentials: %s}}\n"
                "  - name: alertsink-direct\n"
                "    webhook_configs:\n"
                "      - url: %s/out\n"
                "        send_resolved: true\n"
                "        http_config: {authorization: {credentials: %s}}\n"
                % (base, json.dumps(token), base, json.dumps(token)))
        self.log_f = open(self.logfile, "wb")
        self.proc = subprocess.Popen(
            [AM_BINARY, "--config.file=" + self.config,
             "--storage.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port,
             "--cluster.listen-address=", "--log.level=debug"],
            stdout=self.log_f, stderr=subprocess.STDOUT)
        wait_for(self.ready, 30, interval=0.2, what="Alertmanager to start")

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("alertmanager exited:\n" + self.log())
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def post_alerts(self, alerts):
        req = urllib.request.Request("http://127.0.0.1:%d/api/v2/alerts" % self.port,
                                     data=json.dumps(alerts).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200, r.status

    def log(self):
        with open(self.logfile, "rb") as f:
            return f.read().decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_f.close()
        if not os.environ.get("AS_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(os.access(AM_BINARY, os.X_OK), "prometheus-alertmanager is not installed")
class RealAlertmanager(unittest.TestCase):
    def lines_with(self, d, needle):
        return [l for l in d.outbox_lines() if needle in l["text"]]

    def test_webhooks_arrive_firing_then_resolved(self):
        with Daemon(token=TOKEN, unix=False, log_level="debug") as d:
            am = Alertmanager(d.port, TOKEN)
            try:
                am.post_alerts([
                    {"labels": {"alertname": "AmE2EDiskFull", "severity": "critical",
                                "instance": "db1"},
                     "annotations": {"summary": "disk full on db1"}, "startsAt": now(-60)},
                    {"labels": {"alertname": "AmE2EDiskFull", "severity": "warning",
                                "instance": "db2"},
                     "annotations": {"summary": "disk filling on db2"}, "startsAt": now(-60)},
                    {"labels": {"alertname": "AmE2EDirect", "route": "direct"},
                     "annotations": {"summary": "straight to the receiver"},
                     "startsAt": now(-60)},
                ])
                wait_for(lambda: self.lines_with(d, "AmE2EDiskFull"), 30, interval=0.2,
                         what="the Alertmanager group in the outbox")
                wait_for(lambda: self.lines_with(d, "AmE2EDirect"), 30, interval=0.2,
                         what="the direct receiver's notification in the outbox")
                group = self.lines_with(d, "AmE2EDiskFull")
                self.assertEqual(len(group), 1, group)  # one notification for the group
                self.assertEqual(group[0]["status"], "firing")
                self.assertEqual(group[0]["receiver"], "out")
                self.assertIn("disk full on db1", group[0]["text"])
                self.assertIn("disk filling on db2", group[0]["text"])
                self.assertRegex(d.log(), r'msg="http request queued" .*path=/api/v1/alertmanager/out')

                # Resolve them: Alertmanager sends the resolved group.
                am.post_alerts([
                    {"labels": {"alertname": "AmE2EDiskFull", "severity": "critical",
                                "instance": "db1"},
                     "annotations": {"summary": "disk full on db1"},
                     "startsAt": now(-60), "endsAt": now(-1)},
                    {"labels": {"alertname": "AmE2EDiskFull", "severity": "warning",
                                "instance": "db2"},
                     "annotations": {"summary": "disk filling on db2"},
                     "startsAt": now(-60), "endsAt": now(-1)},
                ])
                wait_for(lambda: [l for l in self.lines_with(d, "AmE2EDiskFull")
                                  if l["status"] == "resolved"], 30, interval=0.2,
                         what="the resolved notification")
                self.assertNotIn(" 401 ", am.log())
                ids = [l["id"] for l in d.outbox_lines()]
                self.assertEqual(len(ids), len(set(ids)), "an id delivered twice")
            finally:
                am.close()

    def test_wrong_token_is_401_and_nothing_lands(self):
        with Daemon(token=TOKEN, unix=False) as d:
            am = Alertmanager(d.port, "not-the-token")
            try:
                am.post_alerts([{"labels": {"alertname": "AmE2EWrongToken"},
                                 "annotations": {"summary": "must not arrive"},
                                 "startsAt": now(-60)}])
                wait_for(lambda: "401" in am.log(), 30, interval=0.2,
                         what="Alertmanager to log the 401")
                self.assertIn("unexpected status code 401", am.log())
                self.assertIn("status=401", d.log())
                self.assertNotIn("not-the-token", d.log())
                self.assertEqual(self.lines_with(d, "AmE2EWrongToken"), [])
                self.assertEqual(d.outbox_lines(), [])
            finally:
                am.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
