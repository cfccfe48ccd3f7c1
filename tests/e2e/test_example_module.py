#!/usr/bin/python3
"""test_example_module.py - the out-of-tree example sink (examples/modules/)
built as an outside developer builds it, loaded with `modules:`, and used
in a chain with the built-in email sink.

  - `make -C examples/modules INCLUDE=<source>/include` builds ntfy.so with
    the public headers as its only include path;
  - the daemon loads it, `-V` lists it, `-t` checks its keys;
  - channels [ntfy, email]: ntfy delivers (a strict fake ntfy server in
    this file checks the bearer token, Title and Priority), no mail;
    channels [email, ntfy]: the mail goes, ntfy is not tried;
    an ntfy topic the server refuses (403): the email takes over at once;
  - the module's state directory keeps the access token (0600) across a
    restart (the server is asked for one token in all), its metric is on
    /metrics, and its shipped template renders the body.
"""
import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SLOW, SOURCE, Daemon, alert, metric_samples, wait_for  # noqa: E402
from test_email_sink import Server  # noqa: E402

USER, PASSWORD, TOKEN = "alertsink", "ntfy-Pa55", "tk_examplemoduletoken1234"


class FakeNtfy:
    """An ntfy server: POST /v1/account/token (Basic auth) gives a token,
    POST /TOPIC with that bearer token publishes; topic "broken" is 403."""

    def __init__(self):
        self.published, self.tokens_issued = [], 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, obj):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                auth = self.headers.get("Authorization", "")
                if self.path == "/v1/account/token":
                    want = "Basic " + base64.b64encode(
                        ("%s:%s" % (USER, PASSWORD)).encode()).decode()
                    if auth != want:
                        return self.answer(401, {"error": "unauthorized"})
                    fake.tokens_issued += 1
                    return self.answer(200, {"token": TOKEN})
                if auth != "Bearer " + TOKEN:
                    return self.answer(401, {"error": "unauthorized"})
                topic = self.path.lstrip("/")
                if topic == "broken":
                    return self.answer(403, {"error": "topic not allowed"})
                fake.published.append({"topic": topic, "body": body.decode(),
                                       "title": self.headers.get("Title"),
                                       "priority": self.headers.get("Priority")})
                return self.answer(200, {"id": "m%d" % len(fake.published), "topic": topic})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class ExampleModule(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.build = tempfile.mkdtemp(prefix="as-example-")
        p = subprocess.run(["make", "-s", "-C", os.path.join(SOURCE, "examples", "modules"),
                            "INCLUDE=" + os.path.join(SOURCE, "include"), "OUT=" + cls.build],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError("the example does not build:\n" + p.stdout + p.stderr)
        cls.so = os.path.join(cls.build, "ntfy.so")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.build, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-example-t-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.ntfy = FakeNtfy()
        self.addCleanup(self.ntfy.stop)
        self.smtp = Server(self.tmp)
        self.addCleanup(self.smtp.stop)
        with open(os.path.join(self.tmp, "ntfy.pass"), "w") as f:
            f.write(PASSWORD + "\n")
        rcv = ""
        for name, order, topic in (("first", "[ntfy, email]", "oncall"),
                                   ("second", "[email, ntfy]", "oncall"),
                                   ("refused", "[ntfy, email]", "broken")):
            rcv += ("  - name: %s\n"
                    "    ntfy: {topic: %s, priority: high, title: \"{{status}}: {{title}}\"}\n"
                    "    email: {to: [%s@example.com]}\n"
                    "    channels: %s\n" % (name, topic, name, order))
        extra = ("modules: [%s]\n"
                 "ntfy: {url: %s, username: %s, password_file: %s}\n"
                 "smtp: {host: 127.0.0.1, port: %d, tls: none, from: \"a <a@example.com>\"}\n"
                 % (json.dumps(self.so), self.ntfy.url, USER,
                    json.dumps(os.path.join(self.tmp, "ntfy.pass")), self.smtp.port))
        self.d = Daemon(unix=False, receivers=rcv, extra=extra,
                        directory=tempfile.mkdtemp(dir=self.tmp))
        self.addCleanup(self.d.close)

    def post(self, receiver, name):
        r = self.d.post("/api/v1/alertmanager/" + receiver,
                        {"version": "4", "status": "firing", "receiver": receiver,
                         "groupLabels": {"alertname": name},
                         "commonLabels": {"alertname": name}, "commonAnnotations": {},
                         "externalURL": "", "groupKey": "{}:{alertname=\"%s\"}" % name,
                         "alerts": [{"status": "firing",
                                     "labels": {"alertname": name, "instance": "db1"},
                                     "annotations": {"summary": "disk nearly full"},
                                     "startsAt": "2026-12-01T10:00:00Z",
                                     "endsAt": "0001-01-01T00:00:00Z",
                                     "generatorURL": "", "fingerprint": ""}]})
        self.assertEqual(r.status, 200, r)

    def test_install_gives_headers_and_pkg_config(self):
        # `make install` (cmake --install) puts the public headers and
        # alertsink-module.pc where an outside build finds them.
        build = os.environ.get("AS_BUILD_DIR") or os.path.join(SOURCE, "build")
        dest = os.path.join(self.tmp, "dest")
        p = subprocess.run(["cmake", "--install", build, "--prefix", "/usr"],
                           env=dict(os.environ, DESTDIR=dest), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        inc = os.path.join(dest, "usr", "include")
        want = sorted(f for f in os.listdir(os.path.join(SOURCE, "include", "alertsink")))
        self.assertEqual(sorted(os.listdir(os.path.join(inc, "alertsink"))), want)
        pcs = [os.path.join(r, f) for r, _, fs in os.walk(dest) for f in fs
               if f == "alertsink-module.pc"]
        self.assertEqual(len(pcs), 1, pcs)
        p = subprocess.run(["pkg-config", "--cflags", "alertsink-module"],
                           env=dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0])),
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("-I/usr/include", p.stdout)
        out = os.path.join(self.tmp, "built")
        p = subprocess.run(["make", "-s", "-C", os.path.join(SOURCE, "examples", "modules"),
                            "INCLUDE=" + inc, "OUT=" + out], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue(os.path.exists(os.path.join(out, "ntfy.so")))

    def test_check_and_version(self):
        p = subprocess.run([BINARY, "-t", "-c", self.d.config], capture_output=True, text=True,
                           timeout=30 * SLOW)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run([BINARY, "-V", "-c", self.d.config], capture_output=True, text=True,
                           timeout=30 * SLOW)
        self.assertIn("ntfy", p.stdout)
        # A key of the module's own, checked by the core's loader.
        with open(self.d.config, "a") as f:
            f.write("# a typo in a module's section\n")
        with open(self.d.config) as f:
            text = f.read().replace("priority: high", "priority: loud", 1)
        with open(self.d.config, "w") as f:
            f.write(text)
        p = subprocess.run([BINARY, "-t", "-c", self.d.config], capture_output=True, text=True,
                           timeout=30 * SLOW)
        self.assertEqual(p.returncode, 1)
        self.assertIn("ntfy.priority: expected min, low, default, high or urgent, not 'loud'",
                      p.stderr)

    def test_chain_and_state_and_metric(self):
        self.d.start()
        self.post("first", "DiskFull")
        wait_for(lambda: self.ntfy.published, 10, what="an ntfy message")
        m = self.ntfy.published[0]
        self.assertEqual((m["topic"], m["priority"], m["title"]),
                         ("oncall", "high", "firing: DiskFull"))
        self.assertIn("DiskFull on db1", m["body"])  # the shipped template
        self.assertIn("disk nearly full", m["body"])

        self.post("second", "QueueStuck")
        wait_for(lambda: len(self.smtp.messages()) == 1, 10, what="the email")
        self.post("refused", "Refused")
        wait_for(lambda: len(self.smtp.messages()) == 2, 10 * SLOW, what="the fallback email")
        self.assertEqual(len(self.ntfy.published), 1)  # second: ntfy never tried
        self.assertRegex(self.d.log(), r"receiver=refused channel=ntfy attempt=1 "
                                       r"result=permanent status=403")

        token = os.path.join(self.d.spool, "state", "ntfy", "token")
        self.assertEqual(open(token).read(), TOKEN)
        self.assertEqual(stat.S_IMODE(os.stat(token).st_mode), 0o600)
        self.assertNotIn(TOKEN, self.d.log())
        samples = metric_samples(self.d.get("/metrics").body.decode())
        self.assertEqual(samples.get('alertsink_ntfy_published_total{topic="oncall"}'), 1)

        # A restart reads the token from the state directory.
        self.d.stop()
        self.d.start()
        self.post("first", "AfterRestart")
        wait_for(lambda: len(self.ntfy.published) == 2, 10, what="the second ntfy message")
        self.assertEqual(self.ntfy.tokens_issued, 1)
        self.d.finish()


if __name__ == "__main__":
    unittest.main(verbosity=2)
