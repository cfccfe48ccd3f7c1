#!/usr/bin/python3
"""test_render_budget.py - templates that never finish, through the real
binary: Mustache partials may include themselves, so a template can recurse
without end, and the engine stops any render past its budget (64 partial
levels, 10^7 steps, 16 MiB of output: docs/templates.md) with an error.

  - `alertsink render` on every template of tests/fuzz/regressions/mustache/
    (with that folder's data.json): exit 1 within seconds, "rendering
    stopped" on stderr, nothing on stdout; a recursion that the data ends
    still renders.
  - `alertsink -t` renders every channel's templates once with a sample
    notification (2 firing alerts): a receiver template that recurses is
    refused as FILE:LINE:COL naming the template, and so is a reload with
    it (the daemon stays up and serves on).
  - Delivery: boom-on-label.mustache recurses only for an alert labelled
    boom, so -t's sample passes and a real notification fails.  That
    channel fails for good with the render error as its reason, the daemon
    stays up, and the other channel delivers: another receiver's file sink
    (the failing one goes to dead/), and the email fallback of a WhatsApp
    channel (tests/smtp_server.py and the fake Wamessage).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SLOW, SOURCE, Daemon, alert, wait_for  # noqa: E402
from test_email_sink import Server  # noqa: E402
from test_wa_cli import PASSWORD, PHONE, Fake  # noqa: E402

REGRESSIONS = os.path.join(SOURCE, "tests", "fuzz", "regressions", "mustache")
DATA = os.path.join(REGRESSIONS, "data.json")
ALERTS = "/api/v1/alerts"
SEND = "/whatsapp/sendmessage/multi"

# The regression templates that run away with -t's sample notification
# (the others need data.json's values: a label, a list, a name).
RUNAWAY_WITH_SAMPLE = ["self", "binary-tree", "ping", "pong", "parent-self"]


def templates():
    names = sorted(f for f in os.listdir(REGRESSIONS) if f.endswith(".mustache"))
    if not names:
        raise AssertionError("no regression templates in " + REGRESSIONS)
    return [os.path.join(REGRESSIONS, n) for n in names]


def run(args, timeout=10):
    """Run alertsink; a run that does not end within timeout fails the test."""
    t0 = time.monotonic()
    try:
        p = subprocess.run([BINARY] + args, capture_output=True, timeout=timeout * SLOW)
    except subprocess.TimeoutExpired:
        raise AssertionError("alertsink %s did not finish within %ds" % (args, timeout * SLOW))
    return p, time.monotonic() - t0


def copy_templates(dest, *names):
    os.makedirs(dest, exist_ok=True)
    for n in names:
        shutil.copy(os.path.join(REGRESSIONS, n + ".mustache"), dest)
    return dest


class RenderCommand(unittest.TestCase):
    def test_every_runaway_template_stops_with_an_error(self):
        for path in templates():
            with self.subTest(template=os.path.basename(path)):
                p, took = run(["render", "--template", path, "--partials", REGRESSIONS,
                               "--data", DATA])
                err = p.stderr.decode(errors="replace")
                self.assertEqual(p.returncode, 1, err)  # not a signal, not 0
                self.assertEqual(p.stdout, b"", "a cut-short text was printed")
                self.assertRegex(err, r"^alertsink: %s: rendering stopped" % re.escape(path))
                self.assertRegex(err, r"partials nested deeper than 64|more than 10000000 steps"
                                      r"|more than 16 MiB of output")
                self.assertLess(took, 5 * SLOW, "the budget should stop it in well under a second")

    def test_recursion_that_the_data_ends_renders(self):
        tmp = tempfile.mkdtemp(prefix="as-render-")
        self.addCleanup(shutil.rmtree, tmp, True)
        with open(os.path.join(tmp, "node.mustache"), "w") as f:
            f.write("{{name}}({{#kids}}{{>node}}{{/kids}})")
        tree = {"name": "leaf", "kids": []}
        for i in range(30):  # 61 levels of JSON: the parser allows 64
            tree = {"name": "n%d" % i, "kids": [tree, {"name": "x", "kids": []}]}
        with open(os.path.join(tmp, "tree.json"), "w") as f:
            json.dump(tree, f)
        p, _ = run(["render", "--template", os.path.join(tmp, "node.mustache"), "--partials", tmp,
                    "--data", os.path.join(tmp, "tree.json")])
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        self.assertTrue(out.startswith("n29(n28(n27("), out[:100])
        self.assertEqual(out.count("leaf()"), 1)
        self.assertEqual(out.count("x()"), 30)


class ConfigCheck(unittest.TestCase):
    def config(self, d, template, tdir=REGRESSIONS):
        """A daemon's configuration with a second receiver, `bad`, whose file
        channel uses template (a name in tdir)."""
        d.write_config(receivers="  - name: bad\n"
                                 "    file: {path: %s, template: %s}\n"
                                 % (json.dumps(os.path.join(d.outbox_dir, "bad.jsonl")), template),
                       extra="templates: {dir: %s}\n" % json.dumps(tdir))

    def test_check_refuses_a_receiver_template_that_recurses(self):
        d = Daemon()
        self.addCleanup(d.close)
        for name in RUNAWAY_WITH_SAMPLE:
            with self.subTest(template=name):
                self.config(d, name)
                p, _ = run(["-t", "-c", d.config])
                err = p.stderr.decode(errors="replace")
                self.assertEqual(p.returncode, 1, err)
                self.assertRegex(err, r"(?m)^%s:\d+:\d+: receiver 'bad', channel file, a sample "
                                      r"notification: template %s: rendering stopped"
                                 % (re.escape(d.config),
                                    re.escape(os.path.join(REGRESSIONS, name + ".mustache"))))
        # One that runs away only for alerts labelled boom passes: the sample has none.
        self.config(d, "boom-on-label")
        p, _ = run(["-t", "-c", d.config])
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_reload_with_a_template_that_recurses_is_refused(self):
        with Daemon() as d:
            self.config(d, "binary-tree")
            d.send_signal(signal.SIGHUP)
            wait_for(lambda: "reload refused" in d.log() or not d.alive(), 20,
                     what="the refused reload")
            self.assertTrue(d.alive(), d.log())
            self.assertRegex(d.log(), r'error="%s:\d+:\d+: receiver \'bad\', channel file, '
                                      r'a sample notification: template [^"]*binary-tree.mustache: '
                                      r'rendering stopped' % re.escape(d.config))
            r = d.post(ALERTS, alert("StillServing"))
            self.assertEqual(r.status, 200, r)
            d.wait_outbox([r.json["id"]])


class DeliveryToAnotherReceiver(unittest.TestCase):
    def test_the_failing_channel_dies_and_the_other_receiver_delivers(self):
        d = Daemon(unix=False)
        self.addCleanup(d.close)
        tdir = copy_templates(os.path.join(d.dir, "templates"), "boom-on-label", "boom")
        boombox = os.path.join(d.outbox_dir, "boom.jsonl")
        d.write_config(receivers="  - name: boomfile\n"
                                 "    file: {path: %s, template: boom-on-label}\n"
                                 % json.dumps(boombox),
                       route="\n  receiver: out\n  group_by: [alertname]\n  routes:\n"
                             "    - {receiver: boomfile, continue: true}\n"
                             "    - {receiver: out}",
                       extra="templates: {dir: %s}\n" % json.dumps(tdir))
        d.start()

        # Without the label both receivers deliver, the template as written.
        r = d.post(ALERTS, alert("Quiet"))
        self.assertEqual(r.status, 200, r)
        quiet = r.json["id"]
        wait_for(lambda: len(d.outbox_lines()) == 1 and os.path.exists(boombox), 20,
                 what="both receivers")
        with open(boombox) as f:
            self.assertEqual(json.loads(f.readline())["text"], "Quiet\n")

        # With it, boomfile's channel fails for good with the render error;
        # `out` delivers; the daemon goes on.
        r = d.post(ALERTS, alert("Boom", boom="yes"))
        self.assertEqual(r.status, 200, r)
        boom = r.json["id"]
        wait_for(lambda: "result=permanent" in d.log(), 20, what="the failed attempt")
        why = (r'the message cannot be rendered: template %s: rendering stopped in partial '
               r'\'boom\'' % re.escape(os.path.join(tdir, "boom-on-label.mustache")))
        self.assertRegex(d.log(), r'msg="delivery attempt" id=%s(\.\d)? receiver=boomfile '
                                  r'channel=file attempt=1 result=permanent .*reason="%s'
                         % (re.escape(boom), why))
        # Every channel of boomfile failed for good: dead/, with the reason.
        wait_for(lambda: d.spool_files("dead") == 1, 20, what="the dead letter")
        self.assertRegex(d.log(), r'msg="notification moved to dead/" id=%s(\.\d)? '
                                  r'receiver=boomfile reason="every channel failed permanently: '
                                  r'file: %s' % (re.escape(boom), why))
        self.assertEqual(sorted(set(l["id"].split(".")[0] for l in d.outbox_lines())),
                         sorted([quiet, boom]))
        self.assertTrue(d.alive())

        r = d.post(ALERTS, alert("After"))
        self.assertEqual(r.status, 200, r)
        def boom_texts():
            with open(boombox) as f:
                return [json.loads(l)["text"] for l in f]
        wait_for(lambda: len(d.outbox_lines()) == 3 and len(boom_texts()) == 2, 20,
                 what="the next notification, to both receivers")
        self.assertEqual(boom_texts(), ["Quiet\n", "After\n"])
        d.finish()


class DeliveryFallback(unittest.TestCase):
    def test_whatsapp_fails_to_render_and_the_email_fallback_delivers(self):
        tmp = tempfile.mkdtemp(prefix="as-budget-")
        self.addCleanup(shutil.rmtree, tmp, True)
        fake = Fake(tmp, "--device", "7001:" + PHONE)
        self.addCleanup(fake.stop)
        smtp = Server(tmp)
        self.addCleanup(smtp.stop)
        tdir = copy_templates(os.path.join(tmp, "templates"), "boom-on-label", "boom")
        extra = ("templates: {dir: %s}\n"
                 "whatsapp: {base_url: %s, phone: \"+90 555 000 0001\", password: %s, "
                 "timeout: %ds, rate_limit: 0}\n"
                 "smtp: {host: 127.0.0.1, port: %d, tls: none, from: alerts@example.com}\n"
                 % (json.dumps(tdir), json.dumps(fake.url), json.dumps(PASSWORD), 2 * SLOW,
                    smtp.port))
        d = Daemon(unix=False, extra=extra,
                   receivers="  - name: oncall\n"
                             "    mode: fallback\n"
                             "    fallback_after: 1h\n"
                             "    whatsapp: {to: [\"+90 555 111 2233\"], template: boom-on-label}\n"
                             "    email: {to: [oncall@example.com]}\n",
                   route="{receiver: oncall, group_by: [alertname]}",
                   directory=tempfile.mkdtemp(dir=tmp, prefix="d-"))
        self.addCleanup(d.close)
        d.start()

        def sends():
            return [r for r in fake.requests(SEND) if r["status"] == 200]

        r = d.post(ALERTS, alert("Quiet"))
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: len(sends()) == 1, 20, what="the WhatsApp message")

        r = d.post(ALERTS, alert("Boom", boom="yes"))
        self.assertEqual(r.status, 200, r)
        boom = r.json["id"]
        t0 = time.monotonic()
        (raw, msg, meta), = wait_for(lambda: smtp.messages(), 20, what="the email fallback")
        self.assertLess(time.monotonic() - t0, 15 * SLOW)  # at once, not after fallback_after
        self.assertIn("Boom", msg["Subject"])
        self.assertEqual(meta["rcpt_tos"], ["oncall@example.com"])
        log = d.log()
        self.assertRegex(log, r'msg="delivery attempt" id=%s receiver=oncall channel=whatsapp '
                              r'attempt=1 result=permanent .*reason="the message cannot be '
                              r'rendered: template [^"]*boom-on-label.mustache: rendering stopped '
                              r'in partial \'boom\'' % re.escape(boom))
        # The server has the message before the session ends and the
        # attempt is logged: wait for the line.
        delivered = re.compile(r'msg="delivery attempt" id=%s receiver=oncall channel=email '
                               r'attempt=1 result=delivered .*role=fallback' % re.escape(boom))
        wait_for(lambda: delivered.search(d.log()), 10, what="the email attempt's log line")
        self.assertEqual(len(sends()), 1, "the WhatsApp sink was called for the failed render")

        # The worker is free and WhatsApp works for the next notification.
        r = d.post(ALERTS, alert("After"))
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: len(sends()) == 2, 20, what="the next WhatsApp message")
        time.sleep(0.5 * SLOW)
        self.assertEqual(len(smtp.messages()), 1)
        d.finish()


if __name__ == "__main__":
    unittest.main(verbosity=2)
