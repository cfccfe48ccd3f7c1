#!/usr/bin/python3
"""test_delivery.py - the delivery rules end to end (docs/delivery.md,
docs/channels.md), through the real daemon and `alertsink send`,
with the real aiosmtpd server (tests/smtp_server.py: plain, and STARTTLS
with a certificate made here with openssl, plus AUTH) and the strict fake
Wamessage (tests/fake_wamessage.py):

  - fallback to email after a permanent WhatsApp failure (a 400), after a
    disconnected device, and after fallback_after while WhatsApp keeps
    failing transiently; once the email went, WhatsApp is not tried again;
  - mode both: WhatsApp and email, one each;
  - SMTP down then up: retried, delivered once;
  - a rejected recipient: delivered to the others, the rejected one logged;
  - dedup within dedup_window, after it, and across a daemon restart;
  - spool.max_age: dead/ with the reason logged, and the dead-letter count
    logged at the next start;
  - `send` exit codes 0, 3, 1 and 4;
  - a Turkish + emoji subject and body arrive intact over STARTTLS + AUTH
    (parsed with Python's email package);
  - and after each, /metrics counts delivered, failed and fallback by
    receiver and channel.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SLOW, Daemon, alert, free_port, metric_samples, wait_for  # noqa: E402
from test_email_sink import Server, make_pki  # noqa: E402
from test_wa_cli import PASSWORD, PHONE, Fake  # noqa: E402

SEND = "/whatsapp/sendmessage/multi"
ALERTS = "/api/v1/alerts"
SMTP_PASSWORD = "smtp-Pa55-w0rd"
FROM = "alertsink <alerts@example.com>"

PKI = None


def setUpModule():
    global PKI
    PKI = make_pki(tempfile.mkdtemp(prefix="as-delivery-pki-"))


def tearDownModule():
    if PKI:
        shutil.rmtree(PKI, ignore_errors=True)


class Delivery(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-delivery-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.fake = Fake(self.tmp, "--device", "7001:" + PHONE)
        self.addCleanup(self.fake.stop)
        self.d = None
        self.smtp = None
        self.addCleanup(self.cleanup)

    def cleanup(self):
        if self.d is not None:
            self.d.close()
        if self.smtp is not None:
            self.smtp.stop()

    # --- set-up ---------------------------------------------------------------------

    def smtp_server(self, *args):
        self.smtp = Server(self.tmp, *args)
        return self.smtp

    def daemon(self, mode="fallback", fallback_after="30s", to=("oncall@example.com",),
               smtp_port=None, smtp_extra="", dedup_window="0s", max_age="1h",
               subject=None, email=True, whatsapp=True):
        """A daemon (not started) with receiver "oncall": WhatsApp to two
        contacts and/or email, in mode; the WhatsApp account on the fake,
        SMTP on smtp_port (the server's by default), plain unless smtp_extra
        says otherwise."""
        rcv = "  - name: oncall\n"
        if whatsapp:
            rcv += "    whatsapp: {to: [\"+90 555 111 2233\", \"+90 555 111 2234\"]}\n"
        if email:
            rcv += "    email: {to: %s%s}\n" % (
                json.dumps(list(to)), ", subject: %s" % json.dumps(subject) if subject else "")
        rcv += "    mode: %s\n    fallback_after: %s\n" % (mode, fallback_after)
        port = smtp_port if smtp_port is not None else self.smtp.port
        extra = ("whatsapp:\n"
                 "  base_url: %s\n"
                 "  phone: \"+90 555 000 0001\"\n"
                 "  password: %s\n"
                 "  timeout: %ds\n"
                 "  rate_limit: 0\n"
                 "smtp:\n"
                 "  host: 127.0.0.1\n"
                 "  port: %d\n"
                 "  tls: none\n"
                 "  from: %s\n"
                 "  timeout: %ds\n"
                 % (json.dumps(self.fake.url), json.dumps(PASSWORD), 2 * SLOW, port,
                    json.dumps(FROM), 2 * SLOW)) + smtp_extra
        self.d = Daemon(token=None, unix=False, dedup_window=dedup_window,
                        spool={"max_age": max_age}, receivers=rcv,
                        route="{receiver: oncall, group_by: [alertname]}", extra=extra,
                        directory=tempfile.mkdtemp(dir=self.tmp, prefix="d-"))
        return self.d

    # --- observing ----------------------------------------------------------------

    def post(self, name, **labels):
        r = self.d.post(ALERTS, alert(name, **labels))
        self.assertEqual(r.status, 200, r)
        return r.json["id"]

    def sends(self):
        return self.fake.requests(SEND)

    def mails(self):
        return self.smtp.messages() if self.smtp else []

    def wait_mails(self, n, timeout=20):
        return wait_for(lambda: len(self.mails()) >= n and self.mails(), timeout,
                        interval=0.05, what="%d email(s)" % n)

    def wait_sends(self, n, status=200, timeout=20):
        return wait_for(lambda: len([r for r in self.sends() if r["status"] == status]) >= n,
                        timeout, interval=0.05, what="%d WhatsApp send(s) with %s" % (n, status))

    def metrics(self):
        r = self.d.get("/metrics", token=None)
        self.assertEqual(r.status, 200)
        return metric_samples(r.body.decode())

    def assert_counts(self, delivered=None, failed=None, fallback=None):
        """The series of receiver oncall, by channel; a channel not named
        must have no series (a count of zero is no series)."""
        m = self.metrics()
        for name, want in (("delivered", delivered), ("failed", failed),
                           ("fallback", fallback)):
            if want is None:
                continue
            got = {ch: m.get('alertsink_%s_total{receiver="oncall",channel="%s"}' % (name, ch))
                   for ch in ("whatsapp", "email")}
            got = {ch: v for ch, v in got.items() if v is not None}
            self.assertEqual(got, {ch: float(v) for ch, v in want.items()},
                             "alertsink_%s_total" % name)

    def finish(self):
        log = self.d.log()
        for secret in [PASSWORD, SMTP_PASSWORD] + self.fake.state()["issued"]:
            self.assertNotIn(secret, log)
        self.assertEqual(self.d.stop(), 0, log)

    # --- fallback ---------------------------------------------------------------------

    def test_fallback_after_a_permanent_whatsapp_failure(self):
        self.smtp_server()
        self.daemon().start()
        self.fake.control(fail=[{"status": 400, "path": SEND, "message": "invalid contact"}])
        nid = self.post("DeliveryPermanent")
        (raw, msg, meta), = self.wait_mails(1)
        self.assertIn("DeliveryPermanent", msg["Subject"])
        self.assertEqual(meta["rcpt_tos"], ["oncall@example.com"])
        time.sleep(1.5 * SLOW)  # more than a backoff: WhatsApp must stay quiet
        self.assertEqual([r["status"] for r in self.sends()], [400])
        self.assertEqual(len(self.mails()), 1)
        self.assertRegex(self.d.log(), r'msg="delivery attempt" id=%s receiver=oncall '
                                       r'channel=whatsapp attempt=1 result=permanent status=400 '
                                       r'.*reason="[^"]*invalid contact' % nid)
        self.assertRegex(self.d.log(), r'msg="delivery attempt" id=%s receiver=oncall '
                                       r'channel=email attempt=1 result=delivered .*role=fallback'
                         % nid)
        self.assert_counts(delivered={"email": 1}, failed={"whatsapp": 1},
                           fallback={"email": 1})
        self.finish()

    def test_fallback_on_a_disconnected_device(self):
        self.smtp_server()
        self.daemon().start()
        self.fake.control(disconnect="7001")
        t0 = time.time()
        self.post("DeliveryDisconnected")
        self.wait_mails(1)
        self.assertLess(time.time() - t0, 10)  # at once, not after fallback_after (30 s)
        time.sleep(1.5 * SLOW)
        self.assertEqual(self.sends(), [])  # the devices list said so: no send at all
        self.assertEqual(len(self.mails()), 1)
        # Unavailable, not permanent: the next channel at once, whatsapp superseded.
        self.assertRegex(self.d.log(), r'channel=whatsapp attempt=1 result=unavailable .*'
                                       r'reason="no connected WhatsApp device')
        self.assert_counts(delivered={"email": 1}, failed={"whatsapp": 1},
                           fallback={"email": 1})
        self.finish()

    def test_whatsapp_only_device_down_is_retried_then_delivered(self):
        # A receiver with WhatsApp alone: a disconnected device is
        # unavailable, retried like a transient failure, never dead at once;
        # once the phone is back the next retry delivers (the devices list
        # is not cached while the device is missing).
        self.daemon(mode="fallback", whatsapp=True, email=False, smtp_port=9).start()
        self.fake.control(disconnect="7001")
        nid = self.post("DeliveryDeviceDown")
        wait_for(lambda: len(re.findall(r'id=%s .*channel=whatsapp attempt=\d+ '
                                        r'result=unavailable' % re.escape(nid),
                                        self.d.log())) >= 2,
                 10, what="two unavailable attempts")
        dead = os.path.join(self.d.spool, "dead")
        self.assertEqual(os.listdir(dead) if os.path.isdir(dead) else [], [])
        self.assertEqual(self.sends(), [])
        self.fake.control(connect="7001")
        t0 = time.time()
        self.wait_sends(1, timeout=15)
        # Within one backoff step of the reconnection (the steps so far were
        # about 1 s and 2 s; the next is about 4 s, ±20 %).
        self.assertLess(time.time() - t0, 6 * SLOW)
        self.assertRegex(self.d.log(), r'id=%s .*channel=whatsapp attempt=\d+ result=delivered'
                         % re.escape(nid))
        self.assertEqual(os.listdir(dead) if os.path.isdir(dead) else [], [])
        self.finish()

    def test_fallback_after_fallback_after_then_whatsapp_stops(self):
        self.smtp_server()
        self.daemon(fallback_after="2s").start()
        self.fake.control(fail=[{"status": 503, "count": 1000, "path": SEND}])
        t0 = time.time()
        nid = self.post("DeliveryKeepsFailing")
        self.wait_mails(1)
        mailed = os.stat(os.path.join(self.smtp.spool, "1.eml")).st_mtime
        self.assertGreaterEqual(mailed - t0, 1.9)  # not before fallback_after
        tried = len(self.sends())
        self.assertGreaterEqual(tried, 2)  # WhatsApp was retried meanwhile
        # The next WhatsApp retry was due about 1 s after the email (backoff
        # 1 s, 2 s): wait well past it.  Nothing more may reach the fake.
        time.sleep(3 * SLOW)
        s = self.sends()
        self.assertEqual(len(s), tried)
        self.assertTrue(all(r["time"] <= mailed + 0.05 for r in s), (s[-1]["time"], mailed))
        self.assertEqual(len(self.mails()), 1)
        self.assertEqual(self.d.spool_files(), 0)
        self.assertIn("role=fallback", [l for l in self.d.log().splitlines()
                                        if "id=%s " % nid in l and "channel=email" in l
                                        and "delivery attempt" in l][0])
        self.assert_counts(delivered={"email": 1}, failed={"whatsapp": tried},
                           fallback={"email": 1})
        self.finish()

    def test_mode_both_sends_each_once(self):
        self.smtp_server()
        self.daemon(mode="both").start()
        self.post("DeliveryBoth")
        self.wait_sends(1)
        self.wait_mails(1)
        time.sleep(1)
        self.assertEqual(len(self.sends()), 1)
        self.assertEqual(self.sends()[0]["form"]["contacts"], "905551112233,905551112234")
        self.assertEqual(len(self.mails()), 1)
        self.assert_counts(delivered={"whatsapp": 1, "email": 1}, failed={}, fallback={})
        self.finish()

    # --- SMTP ---------------------------------------------------------------------------

    def test_smtp_down_then_up_is_retried_and_delivered_once(self):
        port = free_port()
        self.daemon(mode="email", whatsapp=False, smtp_port=port).start()
        nid = self.post("DeliverySmtpDown")
        wait_for(lambda: re.search(r'msg="delivery attempt" id=%s .*channel=email attempt=1 '
                                   r'result=transient' % nid, self.d.log()), 20,
                 what="the first, failed email attempt")
        self.smtp_server("--port", str(port))
        (raw, msg, meta), = self.wait_mails(1)
        self.assertIn("DeliverySmtpDown", msg["Subject"])
        time.sleep(2.5 * SLOW)
        self.assertEqual(len(self.mails()), 1)
        self.assertIn("Connection refused", self.d.log())
        self.assertEqual(self.d.spool_files(), 0)
        m = self.metrics()
        self.assertGreaterEqual(m['alertsink_failed_total{receiver="oncall",channel="email"}'], 1)
        self.assertEqual(m['alertsink_delivered_total{receiver="oncall",channel="email"}'], 1)
        self.assertNotIn('alertsink_fallback_total{receiver="oncall",channel="email"}', m)
        self.finish()

    def test_smtp_drop_in_the_middle_of_data_is_retried(self):
        # The server hangs up after the message's first line: no reply to
        # the data, so the message is not taken, a transient failure.
        self.smtp_server("--drop-in-data", "1")
        self.daemon(mode="email", whatsapp=False).start()
        nid = self.post("DeliveryDropInData")
        (raw, msg, meta), = self.wait_mails(1)
        self.assertIn("DeliveryDropInData", msg["Subject"])
        # The server has the message before the session ends and the
        # attempt is logged: wait for the line.
        delivered = re.compile(r'msg="delivery attempt" id=%s receiver=oncall channel=email '
                               r'attempt=2 result=delivered' % nid)
        wait_for(lambda: delivered.search(self.d.log()), 10, what="the second attempt's log line")
        self.assertRegex(self.d.log(), r'msg="delivery attempt" id=%s receiver=oncall '
                                       r'channel=email attempt=1 result=transient .*reason="[^"]*'
                                       r'session failed during the end of the message: '
                                       r'connection lost' % nid)
        time.sleep(1.5 * SLOW)
        self.assertEqual(len(self.mails()), 1)
        self.assertEqual(self.d.spool_files(), 0)
        self.assert_counts(delivered={"email": 1}, failed={"email": 1}, fallback={})
        self.finish()

    def test_rejected_recipient_the_others_get_it(self):
        self.smtp_server("--reject", "nobody@example.com")
        to = ["first@example.com", "nobody@example.com", "second@example.com"]
        self.daemon(mode="email", whatsapp=False, to=to).start()
        nid = self.post("DeliveryRejected")
        (raw, msg, meta), = self.wait_mails(1)
        self.assertEqual(meta["rcpt_tos"], ["first@example.com", "second@example.com"])
        self.assertEqual([a.addr_spec for a in msg["To"].addresses], to)
        time.sleep(1.5 * SLOW)
        self.assertEqual(len(self.mails()), 1)  # delivered: not retried
        line = [l for l in self.d.log().splitlines()
                if 'msg="delivery attempt"' in l and "id=%s " % nid in l]
        self.assertEqual(len(line), 1, line)  # one line an attempt
        self.assertIn("channel=email", line[0])
        self.assertIn("result=delivered", line[0])
        self.assertIn("refused: nobody@example.com (550", line[0])
        self.assert_counts(delivered={"email": 1}, failed={}, fallback={})
        self.finish()

    # --- dedup ------------------------------------------------------------------------------

    def test_dedup_within_after_and_across_a_restart(self):
        self.smtp_server()
        window = 4 * SLOW
        d = self.daemon(dedup_window="%ds" % window)
        d.start()
        t0 = time.time()
        first = self.post("DeliveryDedup", instance="db1")
        self.wait_sends(1)
        dup = self.post("DeliveryDedup", instance="db1")
        wait_for(lambda: "duplicate suppressed" in d.log(), 10, what="the duplicate logged")
        self.assertRegex(d.log(), r'msg="duplicate suppressed" id=%s receiver=oncall '
                                  r'duplicate_of=%s' % (dup, first))
        self.assertEqual(self.metrics()['alertsink_deduplicated_total{receiver="oncall"}'], 1)
        # Another alert is not a duplicate.
        self.post("DeliveryDedup", instance="db2")
        self.wait_sends(2)

        # Across a restart: the claim is in the spool.
        self.assertEqual(d.stop(), 0)
        d.start()
        again = self.post("DeliveryDedup", instance="db1")
        wait_for(lambda: "id=%s " % again in d.log(), 10, what="the repeat handled")
        wait_for(lambda: re.search(r'msg="duplicate suppressed" id=%s ' % again, d.log()), 10,
                 what="the duplicate after the restart")
        self.assertLess(time.time() - t0, window, "too slow: the window passed already")
        self.assertEqual(self.metrics()['alertsink_deduplicated_total{receiver="oncall"}'], 1)

        # After the window: sent again.
        time.sleep(max(0, t0 + window + 0.5 - time.time()))
        self.post("DeliveryDedup", instance="db1")
        self.wait_sends(3)
        time.sleep(0.5)
        s = self.sends()
        self.assertEqual(len(s), 3)
        self.assertEqual(sum("db1" in r["form"]["message"] for r in s), 2)
        self.assertEqual(self.mails(), [])
        self.assert_counts(delivered={"whatsapp": 1}, failed={}, fallback={})  # since the restart
        self.finish()

    # --- max_age ----------------------------------------------------------------------------

    def test_max_age_moves_to_dead_and_start_counts_dead_letters(self):
        d = self.daemon(mode="whatsapp", email=False, max_age="2s", smtp_port=free_port())
        d.start()
        self.fake.control(fail=[{"status": 500, "count": 1000, "path": SEND}])
        nid = self.post("DeliveryTooOld")
        dead = os.path.join(d.spool, "dead", nid)
        wait_for(lambda: os.path.exists(dead), 20, what="the dead letter")
        with open(dead) as f:
            state = json.loads(f.read().splitlines()[0])
        self.assertEqual(state["id"], nid)
        self.assertRegex(d.log(), r'level=error msg="notification moved to dead/" id=%s '
                                  r'receiver=oncall reason="not delivered within spool.max_age '
                                  r'\(2s\)" attempts=' % nid)
        self.assertIn("HTTP 500", d.log().split("moved to dead/")[1])
        tried = len(self.sends())
        self.assertGreaterEqual(tried, 2)
        m = self.metrics()
        self.assertEqual(m['alertsink_dead_total{receiver="oncall"}'], 1)
        self.assertEqual(m['alertsink_failed_total{receiver="oncall",channel="whatsapp"}'], tried)
        self.assertNotIn('alertsink_delivered_total{receiver="oncall",channel="whatsapp"}', m)
        self.assertEqual(d.stop(), 0)

        d.start()
        self.assertRegex(d.log(), r'level=warn msg="spool recovered" .*dead_letters=1')
        time.sleep(1)
        self.assertEqual(len(self.sends()), tried)  # a dead letter is not retried
        self.finish()

    # --- alertsink send -------------------------------------------------------------------

    def send(self, config, stdin, timeout="20s"):
        t0 = time.monotonic()
        r = subprocess.run([BINARY, "send", "-c", config, "--timeout", timeout],
                           input=stdin, capture_output=True, text=True, timeout=120)
        r.took = time.monotonic() - t0
        for secret in [PASSWORD] + self.fake.state()["issued"]:
            self.assertNotIn(secret, r.stdout + r.stderr)
        return r

    def test_send_exit_codes(self):
        self.smtp_server()
        cfg = self.daemon(fallback_after="1s").config
        one = json.dumps(alert("DeliverySend", severity="critical"))

        r = self.send(cfg, one)  # 0: WhatsApp delivered
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.sends()), 1)
        self.assertEqual(self.mails(), [])

        self.fake.control(disconnect="7001")  # 3: only the email fallback
        r = self.send(cfg, json.dumps(alert("DeliverySend3")))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(len(self.sends()), 1)
        (raw, msg, meta), = self.mails()
        self.assertIn("DeliverySend3", msg["Subject"])

        # 1: WhatsApp keeps failing and SMTP is down: nothing within --timeout.
        self.fake.control(connect="7001", fail=[{"status": 500, "count": 1000, "path": SEND}])
        self.smtp.stop()
        r = self.send(cfg, json.dumps(alert("DeliverySend1")), timeout="3s")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("not delivered within the timeout", r.stderr)
        self.assertLess(r.took, 3 + 5 * SLOW)
        self.assertGreaterEqual(len(self.sends()), 2)  # WhatsApp was retried within it

        for bad in ("{", '{"labels": "not an object"}'):  # 4: input rejected
            r = self.send(cfg, bad)
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("input rejected", r.stderr)

    # --- non-ASCII over STARTTLS + AUTH ----------------------------------------------------

    def test_turkish_and_emoji_arrive_intact_over_starttls_and_auth(self):
        self.smtp_server("--tls-cert", os.path.join(PKI, "good.pem"),
                         "--tls-key", os.path.join(PKI, "good.key"),
                         "--auth-user", "alerts@example.com", "--auth-password", SMTP_PASSWORD,
                         "--auth-require-tls")
        pw = os.path.join(self.tmp, "smtp.pass")
        with open(pw, "w") as f:
            f.write(SMTP_PASSWORD + "\n")
        summary = "İstanbul şubesi: disk %97 dolu 🔥🚒"
        description = "Çok acil — ğüşıöç ĞÜŞİÖÇ 😀 kontrol edin"
        self.daemon(mode="email", whatsapp=False,
                    subject="[{{status}}] {{commonLabels.alertname}}: "
                            "{{commonAnnotations.summary}}",
                    smtp_extra="")
        with open(self.d.config) as f:
            text = f.read()
        text = text.replace("  host: 127.0.0.1\n", "  host: localhost\n").replace(
            "  tls: none\n",
            "  tls: starttls\n  tls_ca_file: %s\n  username: alerts@example.com\n"
            "  password_file: %s\n" % (json.dumps(os.path.join(PKI, "ca.pem")),
                                       json.dumps(pw)))
        with open(self.d.config, "w") as f:
            f.write(text)
        self.d.start()
        body = {"labels": {"alertname": "DiskDolu", "city": "İzmir 🌊"},
                "annotations": {"summary": summary, "description": description}}
        self.assertEqual(self.d.post(ALERTS, body).status, 200)
        (raw, msg, meta), = self.wait_mails(1)
        self.assertTrue(meta["tls"])
        self.assertEqual(meta["auth_login"], "alerts@example.com")
        self.assertTrue(all(b < 0x80 for b in raw), "8-bit bytes on the wire")
        self.assertEqual(msg["Subject"], "[firing] DiskDolu: " + summary)
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        plain = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        self.assertEqual(plain.get_content_charset(), "utf-8")
        text = plain.get_content()
        for s in (summary, description, "city = İzmir 🌊"):
            self.assertIn(s, text)
            self.assertIn(s.split(" = ")[0], html.get_content())
        if os.environ.get("AS_SHOW_MAIL"):
            hdrs = raw.split(b"\r\n\r\n", 1)[0].decode()
            print("\n--- the message as received (headers) ---\n%s\n"
                  "--- its text/plain part, decoded ---\n%s" % (hdrs, text))
        self.assertNotIn(SMTP_PASSWORD, self.d.log())
        self.assert_counts(delivered={"email": 1}, failed={}, fallback={})
        self.finish()


if __name__ == "__main__":
    unittest.main(verbosity=2)
