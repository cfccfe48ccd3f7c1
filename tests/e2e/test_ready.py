"""test_ready.py - `alertsink ready`, the check of systemd units and
Kubernetes exec probes.

It reads the configuration and asks the daemon: GET /healthz on
http.listen (0 when the answer is 200, else 1 with the status and the
body), or with HTTP off a connection to unix.path.  Cases: a running
daemon; the same after it stopped; a 503 from the real daemon (its spool
over spool.max_size) and from a stand-in server (any status but 200 is
"not ready", the body is shown); a daemon that does not answer (SIGSTOP:
--timeout); a host name and an IPv6 literal in http.listen; a proxy in
the environment (never used); the Unix socket when HTTP is off; usage and
configuration errors (2).
"""
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SLOW, Daemon, alert, free_port, wait_for  # noqa: E402


def ready(config, *args, env=None, timeout=20):
    e = dict(os.environ)
    e.pop("ALERTSINK_CONFIG", None)
    e.update(env or {})
    p = subprocess.run([BINARY, "ready", "-c", config] + list(args), capture_output=True,
                       text=True, env=e, timeout=timeout * SLOW)
    return p.returncode, p.stdout, p.stderr


class Answer503(http.server.BaseHTTPRequestHandler):
    """/healthz as a daemon that is draining answers it."""

    def do_GET(self):
        body = b"not accepting: draining\n"
        self.send_response(503 if self.path == "/healthz" else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Ready(unittest.TestCase):
    def test_http_running_then_stopped(self):
        with Daemon(unix=False) as d:
            rc, out, err = ready(d.config)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, "http://127.0.0.1:%d/healthz: ok\n" % d.port)
            # A proxy in the environment is not asked for the daemon's own address.
            rc, out, err = ready(d.config, env={"http_proxy": "http://127.0.0.1:1",
                                                "HTTP_PROXY": "http://127.0.0.1:1"})
            self.assertEqual(rc, 0, err)
            self.assertEqual(d.stop(), 0)
            rc, out, err = ready(d.config)
            self.assertEqual(rc, 1)
            self.assertEqual(out, "")
            self.assertRegex(err, r"^alertsink ready: not ready: GET "
                             r"http://127\.0\.0\.1:%d: cannot connect" % d.port)

    def test_secrets_need_not_be_set(self):
        # A probe sends nothing: a secret its environment lacks is no error.
        with Daemon(unix=False) as d:
            conf = os.path.join(d.dir, "with-secret.yaml")
            with open(d.config) as f, open(conf, "w") as g:
                g.write(f.read() + '\nsmtp: {host: 127.0.0.1, from: a@example.org, '
                        'username: u, password: "${AS_READY_NO_SUCH_VAR}"}\n')
            rc, out, err = ready(conf)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, "http://127.0.0.1:%d/healthz: ok\n" % d.port)
            self.assertEqual(err, "")

    def test_spool_full_is_not_ready(self):
        # A 10 KiB notification that cannot be delivered (the file sink's
        # directory is missing) stays in the spool; restarted with
        # spool.max_size 1KiB, the daemon answers /healthz with 503.
        d = Daemon(unix=False, outbox_dir=False)
        try:
            d.start()
            a = alert("ReadyBig")
            a["annotations"]["description"] = "x" * 10240
            r = d.post("/api/v1/alerts", a)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(d.stop(), 0)
            d.write_config(spool={"max_size": "1KiB"}, dedup_window="0s")
            d.start()
            self.assertEqual(d.get("/healthz").status, 503)
            rc, out, err = ready(d.config)
            self.assertEqual(rc, 1, out)
            self.assertRegex(err, r"answered 503: spool full")
            self.assertEqual(d.stop(), 0)
        finally:
            d.close()

    def test_any_503_is_not_ready_and_shows_the_reason(self):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer503)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            d = Daemon(unix=False)
            try:
                d.port = srv.server_address[1]  # the stand-in takes the daemon's place
                d.write_config()
                rc, out, err = ready(d.config)
                self.assertEqual(rc, 1)
                self.assertEqual(err, "alertsink ready: not ready: GET http://127.0.0.1:%d/healthz "
                                 "answered 503: not accepting: draining\n" % d.port)
            finally:
                d.close()
        finally:
            srv.shutdown()
            srv.server_close()

    def test_timeout(self):
        with Daemon(unix=False) as d:
            d.send_signal(signal.SIGSTOP)
            try:
                t0 = time.monotonic()
                rc, out, err = ready(d.config, "--timeout", "500ms")
                took = time.monotonic() - t0
            finally:
                d.send_signal(signal.SIGCONT)
            self.assertEqual(rc, 1)
            self.assertIn("timed out after 500 ms", err)
            self.assertLess(took, 5 * SLOW)

    def test_named_host_and_ipv6_literal(self):
        # (Not ":PORT" or "0.0.0.0:PORT", which it asks on 127.0.0.1: the
        # tests listen on loopback only.)
        listens = ["localhost:%d"]
        if socket.has_ipv6 and os.path.exists("/proc/net/if_inet6"):
            listens.append("[::1]:%d")
        for listen in listens:
            port = free_port()
            # The Unix socket is on so that Daemon can tell it has started.
            d = Daemon(http_extra={"listen": listen % port})
            d.port = None
            with d:
                # The socket may listen a moment before HTTP does.
                rc, out, err = wait_for(lambda: (lambda r: r if r[0] == 0 else None)(
                    ready(d.config)), 10, interval=0.1, what="ready to say 0")
                self.assertEqual(out, "http://%s/healthz: ok\n" % (listen % port))

    def test_unix_socket_when_http_is_off(self):
        with Daemon(http=False) as d:
            rc, out, err = ready(d.config)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, "%s: accepts connections\n" % d.sock)
            self.assertEqual(d.stop(), 0)
            rc, out, err = ready(d.config)
            self.assertEqual(rc, 1)
            self.assertIn("cannot connect to %s" % d.sock, err)

    def test_usage_and_configuration_errors(self):
        d = Daemon(http=False, unix=False)
        try:
            rc, out, err = ready(d.config)
            self.assertEqual(rc, 2)
            self.assertIn("http.listen and unix.path are both off", err)
            rc, out, err = ready(d.config, "--timeout", "soon")
            self.assertEqual(rc, 2)
            self.assertIn("invalid --timeout 'soon'", err)
            rc, out, err = ready(d.config, "extra")
            self.assertEqual(rc, 2)
            with open(d.config, "a") as f:
                f.write("nonsense: 1\n")
            rc, out, err = ready(d.config)
            self.assertEqual(rc, 2)
            self.assertIn("unknown key 'nonsense'", err)
        finally:
            d.close()
        p = subprocess.run([BINARY, "ready", "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("usage: alertsink ready"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
