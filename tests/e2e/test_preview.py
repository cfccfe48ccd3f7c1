#!/usr/bin/python3
"""test_preview.py - `alertsink preview`, `send --dry-run`, and the
rough edges of `send` (docs/templates.md, docs/inputs.md).

  - preview prints, channel by channel, exactly what the daemon then
    sends for the same input: the WhatsApp text the strict fake Wamessage
    server receives (every part of a split message, in order), the email
    subject and text part aiosmtpd receives, the file sink's text; with
    the daemon's context (firing count, title, since, other labels), and
    without the WhatsApp password in the environment;
  - preview reads stdin by default, names the receivers when the one
    asked for does not exist, and writes nothing (not even the spool);
  - send --dry-run prints the same for every receiver the input routes
    to, and sends and writes nothing;
  - send takes its message as arguments (stdin is then not read); on a
    terminal with no message it says that it reads stdin and how to end
    it; --socket to a daemon that is not running says so and how to
    start it; with a spool it cannot write, it says at once and at the
    end that what is not delivered within the timeout is lost.
"""
import json
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, FIXTURES, SLOW, Daemon, fixture, wait_for  # noqa: E402
from test_email_sink import Server  # noqa: E402
from test_wa_cli import PASSWORD, PHONE, Fake  # noqa: E402

SEND = "/whatsapp/sendmessage/multi"
GROUP2 = os.path.join(FIXTURES, "alertmanager-0.25", "firing-group-2.json")
ENV_PASSWORD = "AS_TEST_WA_PASSWORD"


def sections(out):
    """[(receiver, channel, text)] of preview's output."""
    parts = re.split(r"^== (\S+) (\S+) ==\n", out, flags=re.M)
    assert parts[0] == "", parts[0]
    return [(parts[i], parts[i + 1], parts[i + 2]) for i in range(1, len(parts), 3)]


def without_env(name):
    env = dict(os.environ)
    env.pop(name, None)
    return env


class Preview(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-preview-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.fake = Fake(self.tmp, "--device", "7001:" + PHONE)
        self.addCleanup(self.fake.stop)
        self.smtp = Server(self.tmp)
        self.addCleanup(self.smtp.stop)
        rcv = ("  - name: oncall\n"
               "    whatsapp: {to: [\"+90 555 111 2233\"]}\n"
               "    email: {to: [oncall@example.com]}\n"
               "    mode: all\n"
               "  - name: short\n"
               "    whatsapp: {to: [\"+90 555 111 2233\"], max_length: 160}\n")
        extra = ("whatsapp:\n"
                 "  base_url: %s\n"
                 "  phone: \"+90 555 000 0001\"\n"
                 "  password: ${%s}\n"
                 "  rate_limit: 0\n"
                 "smtp: {host: 127.0.0.1, port: %d, tls: none, from: \"a <a@example.com>\"}\n"
                 % (json.dumps(self.fake.url), ENV_PASSWORD, self.smtp.port))
        route = ("{receiver: out, group_by: [alertname], routes: ["
                 "{matchers: ['severity=\"critical\"'], receiver: oncall, continue: true},"
                 "{matchers: ['severity=\"critical\"'], receiver: out}]}")
        self.d = Daemon(unix=False, receivers=rcv, route=route, extra=extra,
                        directory=tempfile.mkdtemp(dir=self.tmp, prefix="d-"))
        self.addCleanup(self.d.close)

    def preview(self, *args, stdin=None):
        return self.d.cli("preview", *args, stdin=stdin, env=without_env(ENV_PASSWORD))

    def test_preview_is_what_the_daemon_sends(self):
        p = self.preview("--receiver", "oncall", "--data", GROUP2)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("'%s' is not set" % ENV_PASSWORD, p.stderr)  # a warning, no error
        got = sections(p.stdout)
        self.assertEqual([(r, c) for r, c, _ in got], [("oncall", "whatsapp"), ("oncall", "email")])
        wa, mail = got[0][2], got[1][2]
        # The daemon's context: firing count, title, since, other labels.
        self.assertTrue(wa.startswith("\U0001f525 *[FIRING:2] DiskFull*\n"), wa)
        self.assertIn("*Since:* 2026-11-24 13:46:31 UTC", wa)
        self.assertIn("\u2022 instance: db1:9100", wa)
        self.assertTrue(mail.startswith("Subject: [FIRING:2] DiskFull\n"), mail)
        subject, text = mail.split("\n", 1)
        self.assertFalse(os.path.exists(self.d.spool), "preview wrote the spool")

        os.environ[ENV_PASSWORD] = PASSWORD
        self.addCleanup(os.environ.pop, ENV_PASSWORD, None)
        self.d.start()
        r = self.d.post("/api/v1/alertmanager/oncall", fixture("alertmanager-0.25",
                                                                "firing-group-2.json"))
        self.assertEqual(r.status, 200, r)
        sent = wait_for(lambda: [x for x in self.fake.requests(SEND) if x["status"] == 200], 20,
                        what="the WhatsApp message")
        self.assertEqual(sent[0]["form"]["message"].rstrip("\n"), wa.rstrip("\n"))
        mails = wait_for(lambda: self.smtp.messages(), 20, what="the email")
        msg = mails[0][1]
        self.assertEqual("Subject: " + msg["Subject"], subject)
        body = msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
        self.assertEqual(body.rstrip("\n"), text.rstrip("\n"))

        # A message longer than max_length: the parts, in order.
        p = self.preview("--receiver", "short", "--data", GROUP2)
        self.assertEqual(p.returncode, 0, p.stderr)
        parts = re.split(r"(?<=\n)(?=\(\d+/\d+\) )", sections(p.stdout)[0][2])
        self.assertGreater(len(parts), 2, parts)
        self.assertTrue(all(x.startswith("(%d/%d) " % (i + 1, len(parts)))
                            for i, x in enumerate(parts)), parts)
        before = len(self.fake.requests(SEND))
        r = self.d.post("/api/v1/alertmanager/short", fixture("alertmanager-0.25",
                                                               "firing-group-2.json"))
        self.assertEqual(r.status, 200, r)
        sent = wait_for(lambda: len(self.fake.requests(SEND)) >= before + len(parts) and
                        self.fake.requests(SEND)[before:], 20, what="the parts")
        self.assertEqual([x["form"]["message"].rstrip("\n") for x in sent],
                         [x.rstrip("\n") for x in parts])
        self.assertEqual(self.d.stop(), 0)

    def test_preview_file_stdin_and_errors(self):
        p = self.preview("--receiver", "out", stdin="disk full on db1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sections(p.stdout)[0][:2], ("out", "file"))
        self.assertRegex(sections(p.stdout)[0][2],
                         r"^\[FIRING:1\] Notification\nFIRING Notification since .* - disk full "
                         r"on db1\n$")
        p = self.preview("--receiver", "nobody", stdin="x")
        self.assertEqual(p.returncode, 2)
        self.assertIn("no receiver named 'nobody' in %s (receivers: out, oncall, short)"
                      % self.d.config, p.stderr)
        p = self.preview(stdin="x")
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage: alertsink preview", p.stderr)
        p = self.preview("--receiver", "out", "--data", os.path.join(self.tmp, "missing.json"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("missing.json", p.stderr)
        p = self.preview("--receiver", "out", stdin="{not json")
        self.assertEqual(p.returncode, 1)
        self.assertIn("input rejected", p.stderr)
        self.assertFalse(os.path.exists(self.d.spool))

    def test_send_dry_run(self):
        p = self.d.cli("send", "--dry-run", "--severity", "critical", "disk", "full",
                       env=without_env(ENV_PASSWORD))
        self.assertEqual(p.returncode, 0, p.stderr)
        got = sections(p.stdout)
        self.assertEqual([(r, c) for r, c, _ in got],
                         [("oncall", "whatsapp"), ("oncall", "email"), ("out", "file")])
        self.assertIn("disk full", got[0][2])
        self.assertTrue(got[1][2].startswith("Subject: [FIRING:1] Notification\n"), got[1][2])
        # The same messages as preview's for that receiver.
        pv = self.preview("--receiver", "oncall", "--severity", "critical", stdin="disk full")
        self.assertEqual(pv.returncode, 2)  # preview takes no --severity: the input says it
        pv = self.preview("--receiver", "oncall", stdin=json.dumps(
            {"labels": {"severity": "critical"}, "message": "disk full"}))
        self.assertEqual(pv.returncode, 0, pv.stderr)
        def untimed(text):  # "now" is a second later in the other run
            return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "TIME", text)
        self.assertEqual([untimed(s[2]) for s in sections(pv.stdout)],
                         [untimed(s[2]) for s in got[:2]])
        # Nothing sent, nothing written.
        self.assertEqual(self.fake.requests(SEND), [])
        self.assertEqual(self.smtp.messages(), [])
        self.assertFalse(os.path.exists(self.d.spool))
        self.assertFalse(os.path.exists(self.d.outbox))
        p = self.d.cli("send", "--dry-run", "--socket", "/nonexistent.sock", "x")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--dry-run cannot be used with --socket", p.stderr)


class PreviewData(unittest.TestCase):
    def test_channel_without_template_prints_its_data(self):
        """A webhook with no template posts the notification's data: preview
        prints that JSON."""
        d = Daemon(http=False, unix=False, receivers=(
            "  - name: hook\n    webhook: {url: \"http://127.0.0.1:9/x\"}\n"))
        self.addCleanup(d.close)
        p = d.cli("preview", "--receiver", "hook", "--data", GROUP2)
        self.assertEqual(p.returncode, 0, p.stderr)
        ((rcv, ch, text),) = sections(p.stdout)
        self.assertEqual((rcv, ch), ("hook", "webhook"))
        data = json.loads(text)
        self.assertEqual((data["receiver"], data["status"]), ("hook", "firing"))
        self.assertEqual([a["labels"]["instance"] for a in data["alerts"]],
                         ["db1:9100", "db2:9100"])


class Send(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(unix=False, http=False)
        self.addCleanup(self.d.close)

    def test_message_as_arguments(self):
        p = self.d.cli("send", "disk", "full on", "db1", stdin="NOT READ")
        self.assertEqual(p.returncode, 0, p.stderr)
        (line,) = self.d.outbox_lines()
        self.assertEqual(line["id"], p.stdout.strip())
        self.assertTrue(line["text"].endswith(" - disk full on db1\n"), line["text"])

    def test_terminal_says_it_reads_stdin(self):
        master, slave = pty.openpty()
        proc = subprocess.Popen([BINARY, "send", "-c", self.d.config], stdin=slave,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(slave)
        try:
            ready, _, _ = select.select([proc.stderr], [], [], 10 * SLOW)
            self.assertTrue(ready, "send said nothing on a terminal")
            hint = os.read(proc.stderr.fileno(), 4096).decode()
            self.assertIn("alertsink send: reading the notification from stdin; end it with "
                          "Ctrl-D", hint)
            self.assertIn("alertsink send 'disk full on db1'", hint)
            os.write(master, b"typed on a terminal\n\x04")
            out, err = proc.communicate(timeout=30 * SLOW)
        finally:
            os.close(master)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("typed on a terminal", self.d.outbox_lines()[0]["text"])

    def test_socket_of_a_stopped_daemon(self):
        missing = os.path.join(self.d.dir, "missing.sock")
        p = self.d.cli("send", "--socket", missing, "x")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no daemon is listening on %s (No such file or directory): start it with "
                      "`systemctl start alertsink` or `alertsink -c %s`" % (missing, self.d.config),
                      p.stderr)
        stale = os.path.join(self.d.dir, "stale.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(stale)  # bound, never listening: what a crashed daemon leaves
        s.close()
        p = self.d.cli("send", "--socket", stale, "x")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no daemon is listening on %s (Connection refused)" % stale, p.stderr)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_unwritable_spool_says_it_is_lost(self):
        shutil.rmtree(self.d.outbox_dir)  # not delivered: it stays pending
        for st in ("tmp", "maildrop", "incoming", "active", "deferred", "dead", "corrupt", "dedup"):
            os.makedirs(os.path.join(self.d.spool, st), mode=0o755)
        os.chmod(self.d.spool, 0o755)
        os.chmod(self.d.dir, 0o755)
        os.chmod(self.d.config, 0o644)
        nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        p = self.d.cli("send", "--timeout", "2s", "disk full", wrapper=nobody)
        self.assertEqual(p.returncode, 1, p.stderr)
        # Another user's spool: what nobody wrote there the daemon (root's
        # here) could read, but send takes no spool that is not its user's.
        self.assertIn("alertsink send: the spool cannot take it (the spool %s belongs to root"
                      % self.d.spool, p.stderr)
        self.assertIn("delivering without it; if it is not delivered within --timeout (2s), it is "
                      "lost", p.stderr)
        self.assertRegex(p.stderr, r"alertsink send: \S+ not delivered within the timeout: it is "
                                   r"lost \(the spool could not take it\)")
        self.assertNotIn("stays in the spool", p.stderr)
        self.assertEqual(os.listdir(os.path.join(self.d.spool, "maildrop")), [])
        # A spool it cannot even open: the same.
        os.chmod(self.d.spool, 0o700)
        p = self.d.cli("send", "--timeout", "1s", "disk full", wrapper=nobody)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("the spool cannot take it (the spool %s belongs to root"
                      % self.d.spool, p.stderr)
        self.assertIn("it is lost (the spool could not take it)", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
