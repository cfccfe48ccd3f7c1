#!/usr/bin/python3
"""test_whatsapp_e2e.py - the WhatsApp flow end to end through the daemon.

The real daemon (tests/e2e/lib Daemon) delivers to the strict fake
Wamessage server (tests/fake_wamessage.py, driven through its control
API), with Debian's real prometheus-alertmanager in front for the first
test:

  - a group of 3 alerts from Alertmanager -> exactly one
    sendmessage/multi, with both contacts and the three alert names;
  - each fault class -> delivered after recovery, with the attempts the
    retry rules imply (docs/delivery.md): 500 twice (backoff about
    1 s then 2 s), 429 with Retry-After (waits at least that long), a hang
    past whatsapp.timeout, a connection reset, a 401 (one new login, the
    call repeated, one attempt), an expired token (the same), and a 401
    on the repeat too (transient; the next attempt logs in afresh);
  - the rate limit holds: no window of the sends exceeds the token
    bucket's allowance, the limit really held some back, and nothing was
    dropped.

The password and every token the fake issued must stay out of the log.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import SLOW, Daemon, alert, wait_for  # noqa: E402
from lib.alertmanager import AM_BINARY, Alertmanager, now  # noqa: E402
from test_wa_cli import PASSWORD, PHONE, Fake  # noqa: E402

SEND = "/whatsapp/sendmessage/multi"
ALERTS = "/api/v1/alerts"
TOKEN = "wa-e2e-token"
CONTACTS = "905551112233,905551112234"


class WhatsAppE2E(unittest.TestCase):
    timeout = 1  # whatsapp.timeout, seconds

    def setUp(self):
        self.d = None
        self.fake = None
        self.addCleanup(self.cleanup)

    def cleanup(self):
        if self.d is not None:
            self.d.close()
        if self.fake is not None:
            self.fake.stop()

    def start(self, rate_limit="0", group_by="alertname", log_level="info", timeout=None):
        self.d = Daemon(token=TOKEN, unix=False, log_level=log_level, receivers=(
            "  - name: oncall\n"
            "    whatsapp: {to: [\"+90 555 111 2233\", \"+90 555 111 2234\"]}\n"),
            route="{receiver: oncall, group_by: [%s]}" % group_by)
        self.fake = Fake(self.d.dir, "--device", "7001:" + PHONE)
        with open(self.d.config, "a") as f:
            f.write("whatsapp:\n"
                    "  base_url: %s\n"
                    "  phone: \"+90 555 000 0001\"\n"
                    "  password: %s\n"
                    "  timeout: %ds\n"
                    "  rate_limit: %s\n"
                    % (json.dumps(self.fake.url), json.dumps(PASSWORD),
                       timeout or self.timeout, json.dumps(rate_limit)))
        self.d.start()
        return self.d

    def stop(self):
        log = self.d.log()
        self.assertNotIn(PASSWORD, log)
        for token in self.fake.state()["issued"]:
            self.assertNotIn(token, log)
        self.assertEqual(self.d.stop(), 0, log)

    # --- reading what the fake saw ----------------------------------------

    def sends(self, name=None):
        return [r for r in self.fake.requests(SEND)
                if name is None or name in r.get("form", {}).get("message", "")]

    def wait_delivered(self, name, timeout=20):
        return wait_for(lambda: [r for r in self.sends(name) if r["status"] == 200], timeout,
                        interval=0.05, what="%s delivered to the fake" % name)

    def logins(self):
        return self.fake.state()["logins"]

    def attempts_logged(self, nid):
        """The core's "delivery attempt" lines for notification nid: [(attempt, result)]."""
        return self.d.attempts(nid)

    def post(self, name):
        r = self.d.post(ALERTS, alert(name, severity="critical"))
        self.assertEqual(r.status, 200, r)
        return r.json["id"]

    def deliver_through(self, name, fault, expect, timeout=20):
        """Inject fault, post one alert, wait for its delivery; returns
        (the fake's records of the sends since, the id).  A send the fake
        refused for its token has no form recorded: the sends are counted
        from before the post, not matched by text."""
        before = len(self.sends())
        self.fake.control(**fault)
        nid = self.post(name)
        self.wait_delivered(name, timeout)
        time.sleep(0.3)  # a stray extra send would show now
        s = self.sends()[before:]
        self.assertEqual([(r["status"], r.get("fault")) for r in s], expect)
        for r in s:
            if "form" in r:
                self.assertIn(name, r["form"]["message"])
                self.assertEqual(r["form"]["contacts"], CONTACTS)
                self.assertEqual(r["form"]["reg_id"], "7001")
        return s, nid

    # --- the whole flow -----------------------------------------------------

    @unittest.skipUnless(os.access(AM_BINARY, os.X_OK), "prometheus-alertmanager is not installed")
    def test_alertmanager_group_of_three_is_one_send(self):
        d = self.start(group_by="team", log_level="debug")
        am = Alertmanager(d.port, TOKEN, group_by=("team",), group_wait="1s")
        try:
            names = ["WaE2EDiskFull", "WaE2EHighLoad", "WaE2ESwapping"]
            # startsAt now: an older alert makes Alertmanager flush the new
            # group at once, before the other two are in it.
            am.post_alerts([{"labels": {"alertname": n, "team": "db", "instance": "db%d" % i},
                             "annotations": {"summary": "%s on db%d" % (n, i)},
                             "startsAt": now()} for i, n in enumerate(names)])
            wait_for(lambda: self.sends(), 30, interval=0.1, what="the send")
            time.sleep(2)  # past Alertmanager's group_interval: nothing more may come
            s = self.sends()
            self.assertEqual(len(s), 1, [r["form"] for r in s])
            self.assertEqual(s[0]["status"], 200)
            self.assertEqual(s[0]["form"]["contacts"], CONTACTS)
            self.assertEqual(s[0]["form"]["reg_id"], "7001")
            for i, n in enumerate(names):
                self.assertIn(n, s[0]["form"]["message"])
                self.assertIn("%s on db%d" % (n, i), s[0]["form"]["message"])
            self.assertNotIn(" 401 ", am.log())
            self.assertRegex(d.log(), r'(?m)msg="http request queued" .*path=/api/v1/alertmanager$')
        finally:
            am.close()
        self.stop()

    # --- fault classes --------------------------------------------------------

    def test_500_twice_backs_off_then_delivered(self):
        self.start()
        s, nid = self.deliver_through(
            "WaE2E500", {"fail": [{"status": 500, "count": 2, "path": SEND}]},
            [(500, "status"), (500, "status"), (200, None)])
        g1, g2 = s[1]["time"] - s[0]["time"], s[2]["time"] - s[1]["time"]
        # About 1 s, then about 2 s, each ±20 %.
        self.assertGreaterEqual(g1, 0.8)
        self.assertLess(g1, 1.2 + 0.5 * SLOW)
        self.assertGreaterEqual(g2, 1.6)
        self.assertLess(g2, 2.4 + 0.5 * SLOW)
        self.assertEqual(self.attempts_logged(nid),
                         [(1, "transient"), (2, "transient"), (3, "delivered")])
        self.stop()

    def test_429_retry_after_is_honoured(self):
        self.start()
        s, nid = self.deliver_through(
            "WaE2E429", {"fail": [{"status": 429, "retry_after": "2", "path": SEND}]},
            [(429, "status"), (200, None)])
        # The backoff alone would be 0.8-1.2 s: Retry-After asks for more.
        self.assertGreaterEqual(s[1]["time"] - s[0]["time"], 1.95)
        self.assertEqual(self.attempts_logged(nid), [(1, "transient"), (2, "delivered")])
        self.stop()

    def test_hang_past_timeout_then_delivered(self):
        t = self.timeout * SLOW
        self.start(timeout=t)
        s, nid = self.deliver_through(
            "WaE2EHang", {"hang": {"seconds": 2 * t + 1, "path": SEND}},
            [(None, "hang"), (200, None)])
        # The first attempt waited whatsapp.timeout, then backed off ~1 s.
        self.assertGreaterEqual(s[1]["time"] - s[0]["time"], t + 0.8)
        self.assertEqual(self.attempts_logged(nid), [(1, "transient"), (2, "delivered")])
        self.assertRegex(self.d.log(), r'msg="delivery attempt" id=%s .*attempt=1 '
                                       r'result=transient status=0 .*reason="[^"]*[Tt]ime' % nid)
        self.stop()

    def test_connection_reset_then_delivered(self):
        # libcurl sends a request again, once, on a fresh connection when a
        # reused one dies before any answer (a stale keep-alive connection
        # looks just like this), so the first attempt meets two resets: the
        # one on the connection kept from the devices call, and the one on
        # the fresh connection, which fails the attempt.
        self.start()
        s, nid = self.deliver_through("WaE2EReset", {"reset": {"path": SEND, "count": 2}},
                                      [(None, "reset"), (None, "reset"), (200, None)])
        self.assertEqual(self.attempts_logged(nid), [(1, "transient"), (2, "delivered")])
        self.stop()

    def test_401_logs_in_once_and_repeats(self):
        self.start()
        self.post("WaE2EWarm")
        self.wait_delivered("WaE2EWarm")
        before = self.logins()
        s, nid = self.deliver_through("WaE2E401", {"fail": [{"status": 401, "path": SEND}]},
                                      [(401, "status"), (200, None)])
        self.assertEqual(self.logins() - before, 1)
        self.assertEqual(self.attempts_logged(nid), [(1, "delivered")])
        # The repeat carried the new token.
        self.assertNotEqual(s[0]["headers"]["authorization"], s[1]["headers"]["authorization"])
        self.stop()

    def test_expired_token_logs_in_once_and_repeats(self):
        self.start()
        self.post("WaE2EWarm")
        self.wait_delivered("WaE2EWarm")
        before = self.logins()
        s, nid = self.deliver_through("WaE2EExpired", {"expire_tokens": True},
                                      [(401, None), (200, None)])
        self.assertEqual(s[0]["answer"]["message"], "Unauthenticated: unknown token")
        self.assertEqual(self.logins() - before, 1)
        self.assertEqual(self.attempts_logged(nid), [(1, "delivered")])
        self.stop()

    def test_401_on_the_repeat_is_transient_then_a_fresh_login(self):
        self.start()
        self.post("WaE2EWarm")
        self.wait_delivered("WaE2EWarm")
        before = self.logins()
        s, nid = self.deliver_through(
            "WaE2E401Twice", {"fail": [{"status": 401, "count": 2, "path": SEND}]},
            [(401, "status"), (401, "status"), (200, None)])
        # One login for the first 401, one at the start of the next attempt.
        self.assertEqual(self.logins() - before, 2)
        self.assertEqual(self.attempts_logged(nid), [(1, "transient"), (2, "delivered")])
        self.assertGreaterEqual(s[2]["time"] - s[1]["time"], 0.8)
        self.stop()

    # --- the rate limit ----------------------------------------------------------

    def test_rate_limit_holds_and_nothing_is_dropped(self):
        burst, per_s, total = 4, 4.0, 14
        self.start(rate_limit="%d/s" % burst, log_level="debug")
        names = ["WaE2ERate%02d" % i for i in range(total)]
        for n in names:
            self.post(n)
        wait_for(lambda: len(self.sends()) >= total, 30, interval=0.1,
                 what="%d sends" % total)
        time.sleep(0.5)
        s = self.sends()
        self.assertEqual(len(s), total)
        self.assertEqual([r["status"] for r in s], [200] * total)
        got = sorted(n for r in s for n in names if n in r["form"]["message"])
        self.assertEqual(got, names)  # each exactly once
        t = sorted(r["time"] for r in s)
        # A token bucket of `burst` refilled at per_s: any span of the sends
        # holds at most burst + span * per_s of them (0.1 s of slack for the
        # time between taking a token and the request reaching the fake).
        for i in range(total):
            for j in range(i, total):
                self.assertLessEqual(j - i + 1, burst + (t[j] - t[i] + 0.1 * SLOW) * per_s,
                                     "sends %d..%d within %.3f s" % (i, j, t[j] - t[i]))
        # And it did hold some back: the last could not go before this.
        self.assertGreaterEqual(t[-1] - t[0], (total - burst) / per_s - 0.1)
        self.assertIn('msg="rate limited: waiting"', self.d.log())
        self.assertNotRegex(self.d.log(), r"result=(transient|permanent)")
        self.stop()

    def test_device_gone_while_the_list_is_cached_is_unavailable(self):
        # The sink keeps the device list for 30 s.  The phone disconnects in
        # that time: the send is refused (400 "not connected"); asked again,
        # the list says so, and the notification is unavailable (retried),
        # not dead, and goes once the phone is back.
        d = self.start()
        self.post("WaE2EBefore")
        self.wait_delivered("WaE2EBefore")
        self.fake.control(disconnect="7001")
        nid = self.post("WaE2EGone")
        self.assertEqual(d.results(nid, "whatsapp", 1), ["unavailable"])
        self.assertEqual(os.listdir(os.path.join(d.spool, "dead")), [])
        self.fake.control(connect="7001")
        self.wait_delivered("WaE2EGone", timeout=30)
        self.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
