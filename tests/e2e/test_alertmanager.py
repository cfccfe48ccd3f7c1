"""test_alertmanager.py - Debian's real Alertmanager (0.25) posting to alertsink.

Alertmanager's webhook receiver points at alertsink's
/api/v1/alertmanager (and /api/v1/alertmanager/RECEIVER) with a bearer
token in http_config.  Alerts posted to Alertmanager's API must arrive in
alertsink's outbox, firing and then resolved; with a wrong token,
Alertmanager must log the 401 that alertsink answered, and nothing lands.
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Daemon, wait_for  # noqa: E402
from lib.alertmanager import AM_BINARY, Alertmanager, now  # noqa: E402

TOKEN = "am-e2e-token"


@unittest.skipUnless(os.access(AM_BINARY, os.X_OK), "prometheus-alertmanager is not installed")
class RealAlertmanager(unittest.TestCase):
    def lines_with(self, d, needle):
        return [l for l in d.outbox_lines() if needle in l["text"]]

    def test_webhooks_arrive_firing_then_resolved(self):
        with Daemon(token=TOKEN, unix=False, log_level="debug") as d:
            am = Alertmanager(d.port, TOKEN)
            # startsAt now, not in the past: Alertmanager flushes a new group
            # at once when an alert's startsAt + group_wait has passed, which
            # could split the two alerts of one API call into two webhooks.
            start = now()
            try:
                am.post_alerts([
                    {"labels": {"alertname": "AmE2EDiskFull", "severity": "critical",
                                "instance": "db1"},
                     "annotations": {"summary": "disk full on db1"}, "startsAt": start},
                    {"labels": {"alertname": "AmE2EDiskFull", "severity": "warning",
                                "instance": "db2"},
                     "annotations": {"summary": "disk filling on db2"}, "startsAt": start},
                    {"labels": {"alertname": "AmE2EDirect", "route": "direct"},
                     "annotations": {"summary": "straight to the receiver"},
                     "startsAt": start},
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
                # Waited for, not asserted at once: the commit hands the
                # notification to a worker before the HTTP thread answers
                # (and logs) the 200, so under load the outbox line can
                # come first.
                wait_for(lambda: re.search(r'msg="http request queued" .*'
                                           r'path=/api/v1/alertmanager/out', d.log()), 10,
                         what="the 200 to the direct receiver's webhook in the log")

                # Resolve them: Alertmanager sends the resolved group.
                am.post_alerts([
                    {"labels": {"alertname": "AmE2EDiskFull", "severity": "critical",
                                "instance": "db1"},
                     "annotations": {"summary": "disk full on db1"},
                     "startsAt": start, "endsAt": now(-1)},
                    {"labels": {"alertname": "AmE2EDiskFull", "severity": "warning",
                                "instance": "db2"},
                     "annotations": {"summary": "disk filling on db2"},
                     "startsAt": start, "endsAt": now(-1)},
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
                # The whole phrase: a bare "401" also turns up in a log
                # line's milliseconds (ts=...:01.401Z) or a random port, and
                # then the wait ends before Alertmanager has tried at all.
                wait_for(lambda: "unexpected status code 401" in am.log(), 30, interval=0.2,
                         what="Alertmanager to log the 401")
                self.assertIn("status=401", d.log())
                self.assertNotIn("not-the-token", d.log())
                self.assertEqual(self.lines_with(d, "AmE2EWrongToken"), [])
                self.assertEqual(d.outbox_lines(), [])
            finally:
                am.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
