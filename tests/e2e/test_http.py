"""test_http.py - the HTTP input against the real binary (docs/inputs.md).

Every status code the input answers, every class of malformed body, the
bearer token, the body limit with and without Content-Length, /healthz and
/metrics, concurrency, slow and idle clients, connection limits, reload
without refused connections, and SIGTERM with requests in flight.  An id
answered 200 must show up in the outbox exactly once.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import FIXTURES, SLOW, Daemon, alert, fixture, free_port, http_request, wait_for  # noqa: E402

TOKEN = "e2e-Token/with+odd=chars"
AM = "/api/v1/alertmanager"
ALERTS = "/api/v1/alerts"


def raw_exchange(port, data, read_timeout=5):
    """Send raw bytes, return what comes back until the server closes or goes quiet."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout * SLOW)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            out += d
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(rest) >= int(line.split(b":")[1]):
                            return out
        return out
    finally:
        s.close()


def status_of(raw):
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.") else None


class HttpInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(token=TOKEN, max_body="64KiB").start()

    @classmethod
    def tearDownClass(cls):
        cls.d.finish()

    def queued(self, r):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["content-type"], "application/json")
        self.assertEqual(r.json["status"], "queued")
        self.assertRegex(r.json["id"], r"^[0-9a-f]{12}-[0-9a-f]{6}-[0-9a-f]{4}$")
        return r.json["id"]

    def refused(self, r, status, contains=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.headers["content-type"], "application/json")
        body = r.json
        self.assertEqual(body["status"], "error")
        self.assertIsInstance(body["error"], str)
        if contains:
            self.assertIn(contains, body["error"])
        return body["error"]

    # --- accepted ---------------------------------------------------------------------

    def test_alertmanager_fixtures_are_queued_and_delivered_once(self):
        ids = {}
        names = sorted(n for n in os.listdir(os.path.join(FIXTURES, "alertmanager-0.25"))
                       if n.endswith(".json"))
        self.assertGreaterEqual(len(names), 4)
        for name in names:
            r = self.d.post(AM, fixture("alertmanager-0.25", name),
                            headers={"Content-Type": "application/json"})
            ids[self.queued(r)] = name
        counts = self.d.wait_outbox(ids)
        for i in ids:
            self.assertEqual(counts[i], 1, "id %s (%s) delivered %d times" % (i, ids[i], counts[i]))
        lines = {l["id"]: l for l in self.d.outbox_lines()}
        for i, name in ids.items():
            self.assertEqual(lines[i]["receiver"], "out")
            sent = json.loads(fixture("alertmanager-0.25", name))
            self.assertEqual(lines[i]["status"], sent["status"])
            for a in sent["alerts"]:
                self.assertIn(a["labels"]["alertname"], lines[i]["text"])

    def test_receiver_endpoint(self):
        i = self.queued(self.d.post(AM + "/out", fixture("alertmanager-0.25", "firing-group-2.json")))
        self.assertEqual(self.d.wait_outbox([i])[i], 1)
        self.refused(self.d.post(AM + "/nobody", fixture("alertmanager-0.25", "firing-group-2.json")),
                     404, "nobody")
        # A malformed body to an unknown receiver is still malformed.
        self.refused(self.d.post(AM + "/nobody", b"{"), 400)

    def test_single_alert_and_array(self):
        a = self.queued(self.d.post(ALERTS, alert("SingleOne", host="h1")))
        b = self.queued(self.d.post(ALERTS, [alert("ArrayOne"), alert("ArrayTwo")]))
        c = self.queued(self.d.post(ALERTS, {"title": "Only a title", "message": "and a message"}))
        counts = self.d.wait_outbox([a, b, c])
        self.assertEqual([counts[a], counts[b], counts[c]], [1, 1, 1])
        # Alerts of an array are grouped by the route's group_by (alertname):
        # two groups, two notifications of one record.
        self.d.wait_outbox([b + ".2"])
        text = self.d.record_texts()
        self.assertIn("SingleOne", " ".join(text[a]))
        self.assertEqual(len(text[b]), 2)
        self.assertIn("ArrayOne", " ".join(text[b]))
        self.assertIn("ArrayTwo", " ".join(text[b]))

    def test_keep_alive_connection_serves_many(self):
        c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10 * SLOW)
        ids = []
        try:
            for n in range(20):
                c.request("POST", ALERTS, body=json.dumps(alert("KeepAlive%d" % n)),
                          headers={"Authorization": "Bearer " + TOKEN})
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                ids.append(json.loads(r.read())["id"])
        finally:
            c.close()
        self.assertEqual(len(set(ids)), 20)
        counts = self.d.wait_outbox(ids)
        self.assertTrue(all(counts[i] == 1 for i in ids))

    # --- malformed ----------------------------------------------------------------------

    def test_malformed_bodies_are_400_with_the_parser_message(self):
        good = json.loads(fixture("alertmanager-0.25", "firing-group-2.json"))
        wrong_type = json.loads(json.dumps(good))
        wrong_type["alerts"][1]["labels"] = ["not", "an", "object"]
        cases = [
            (AM, fixture("alertmanager-0.25", "firing-group-2.json")[:-40], "invalid JSON"),
            (AM, json.dumps(wrong_type), "alerts[1].labels: expected object"),
            (AM, "[" * 100 + "]" * 100, "nested deeper"),
            (ALERTS, b'{"message":"caf\xe9"}', "UTF-8"),
            (ALERTS, b'{"labels":{"alertname":"A"}} x', "after the value"),
            (ALERTS, b"", "empty"),
            (ALERTS, b"   ", None),
            (ALERTS, b"plain text is not JSON", "invalid JSON"),
            (ALERTS, b"42", None),
            (ALERTS, b"null", None),
            (ALERTS, b'{"labels":{"alertname":1}}', "labels.alertname: expected string"),
            (ALERTS, b'[{"message":"ok"},{"labels":{"a":1}}]', "[1].labels.a: expected string"),
            (ALERTS, b"[]", None),
            (ALERTS, b'{"labels":{"a":"b"}}\x00', None),
            (ALERTS, json.dumps(good), "/api/v1/alertmanager"),  # a payload on the wrong path
            (AM, json.dumps(alert("X")), "/api/v1/alerts"),
            (AM, b'{"alerts":[]}', "alerts"),
        ]
        before = len(self.d.outbox_lines())
        for path, body, msg in cases:
            with self.subTest(path=path, body=body[:40]):
                self.refused(self.d.post(path, body), 400, msg)
        time.sleep(0.3)
        self.assertEqual(len(self.d.outbox_lines()), before, "a malformed body was delivered")

    # --- authorization ----------------------------------------------------------------------

    def test_bearer_token(self):
        body = alert("Auth")
        for token in (None, "wrong", TOKEN + "x", TOKEN[:-1], "", "x" * 5000):
            with self.subTest(token=token and token[:20]):
                r = self.d.post(ALERTS, body, token=token)
                self.refused(r, 401)
                self.assertTrue(r.headers["www-authenticate"].startswith("Bearer"))
        for hdr in ("Basic " + TOKEN, TOKEN, "Bearer", "Token " + TOKEN):
            with self.subTest(header=hdr[:12]):
                self.refused(self.d.post(ALERTS, body, token=None,
                                         headers={"Authorization": hdr}), 401)
        # The scheme is case-insensitive (RFC 6750 / 7235).
        self.queued(self.d.post(ALERTS, body, token=None,
                                headers={"Authorization": "bearer " + TOKEN}))
        self.queued(self.d.post(AM, fixture("alertmanager-0.25", "resolved.json")))
        # Also the receiver endpoint, and before the receiver is looked up.
        self.refused(self.d.post(AM + "/out", fixture("alertmanager-0.25", "resolved.json"),
                                 token="nope"), 401)
        self.refused(self.d.post(AM + "/nobody", b"{}", token=None), 401)
        # /healthz and /metrics never need it.
        self.assertEqual(self.d.get("/healthz", token=None).status, 200)
        self.assertEqual(self.d.get("/metrics", token=None).status, 200)
        # The token never reaches the log.
        self.assertNotIn(TOKEN, self.d.log())

    def test_401_keeps_the_connection_usable(self):
        c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10 * SLOW)
        try:
            c.request("POST", ALERTS, body=json.dumps(alert("K")))
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 401)
            c.request("POST", ALERTS, body=json.dumps(alert("K")),
                      headers={"Authorization": "Bearer " + TOKEN})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
        finally:
            c.close()

    # --- size -------------------------------------------------------------------------

    def test_content_length_over_max_body_is_413_before_the_body(self):
        # Headers only: the answer must come without a byte of the body.
        raw = raw_exchange(self.d.port, (
            "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (ALERTS, TOKEN, 64 * 1024 + 1)).encode())
        self.assertEqual(status_of(raw), 413, raw[:300])
        self.assertIn(b'"status":"error"', raw)
        # Without a token the answer is 401, still before the body.
        raw = raw_exchange(self.d.port, (
            "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" % ALERTS).encode())
        self.assertEqual(status_of(raw), 401, raw[:300])
        # Exactly max_body is fine (if malformed, then 400, not 413).
        body = json.dumps({"labels": {"alertname": "Big"}, "message": ""}).encode()
        body = body.replace(b'"message": ""', b'"message": "' + b"m" * (64 * 1024 - len(body)) + b'"')
        self.assertEqual(len(body), 64 * 1024)
        self.queued(self.d.post(ALERTS, body))
        self.refused(self.d.post(ALERTS, body + b" "), 413)

    def test_chunked_body_over_max_body_is_413(self):
        def chunked(total):
            part = b"x" * 8192
            sent = 0
            while sent < total:
                n = min(len(part), total - sent)
                yield part[:n]
                sent += n
        for size in (64 * 1024 + 1, 100 * 1024):
            with self.subTest(size=size):
                c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10 * SLOW)
                try:
                    c.request("POST", ALERTS, body=chunked(size), encode_chunked=True,
                              headers={"Authorization": "Bearer " + TOKEN,
                                       "Transfer-Encoding": "chunked"})
                    r = c.getresponse()
                    r.read()
                    self.assertEqual(r.status, 413)
                finally:
                    c.close()
        # A chunked body under the limit is read whole.
        c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10 * SLOW)
        try:
            body = json.dumps(alert("Chunked")).encode()
            c.request("POST", ALERTS, body=iter([body[:5], body[5:]]), encode_chunked=True,
                      headers={"Authorization": "Bearer " + TOKEN,
                               "Transfer-Encoding": "chunked"})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read())["status"], "queued")
        finally:
            c.close()

    def test_endless_chunked_body_is_cut_off(self):
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10 * SLOW)
        try:
            s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n" % (ALERTS, TOKEN)).encode())
            chunk = b"4000\r\n" + b"y" * 0x4000 + b"\r\n"
            sent = 0
            with self.assertRaises(OSError):
                while sent < 64 * 1024 * 1024:  # far beyond what the server reads
                    s.sendall(chunk)
                    sent += len(chunk)
                # Still open?  Then it must at least not have answered 200.
                raise OSError("server kept reading")
            self.assertLess(sent, 8 * 1024 * 1024)
        finally:
            s.close()

    # --- paths and methods -----------------------------------------------------------------

    def test_unknown_paths_are_404(self):
        for path in ("/", "/api/v1/alert", "/api/v1/alertmanager/", "/api/v1/alertmanager/out/x",
                     "/api/v2/alerts", "/healthz/", "/metrics.txt"):
            with self.subTest(path=path):
                self.refused(self.d.post(path, alert("X")), 404)
                self.refused(self.d.get(path), 404)

    def test_wrong_methods_are_405_with_allow(self):
        for path in (AM, AM + "/out", ALERTS):
            for method in ("GET", "PUT", "DELETE"):
                with self.subTest(path=path, method=method):
                    r = self.d.request(method, path)
                    self.refused(r, 405)
                    self.assertEqual(r.headers["allow"], "POST")
        for path in ("/healthz", "/metrics"):
            r = self.d.post(path, b"x")
            self.refused(r, 405)
            self.assertEqual(r.headers["allow"], "GET, HEAD")
        r = self.d.request("HEAD", "/healthz")
        self.assertEqual(r.status, 200)

    # --- /healthz, /metrics ----------------------------------------------------------------

    def test_healthz(self):
        r = self.d.get("/healthz", token=None)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body.strip(), b"ok")

    def test_metrics(self):
        self.queued(self.d.post(ALERTS, alert("ForMetrics")))
        self.d.post(ALERTS, b"{", token=None)
        r = self.d.get("/metrics", token=None)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = r.body.decode()
        for needle in ('alertsink_received_total{input="http"}',
                       'alertsink_queued_total{input="http"}',
                       'alertsink_rejected_total{input="http",reason="unauthorized"}',
                       '# TYPE alertsink_delivery_latency_seconds histogram',
                       'alertsink_queue_depth{state="incoming"}',
                       'alertsink_queue_depth{state="deferred"}'):
            self.assertIn(needle, text)
        wait_for(lambda: 'alertsink_delivered_total{receiver="out",channel="file"}'
                 in self.d.get("/metrics").body.decode(), 10, what="delivered counter")
        text = self.d.get("/metrics").body.decode()
        self.assertIn('alertsink_delivery_latency_seconds_bucket{channel="file",le="+Inf"}', text)
        promtool = shutil.which("promtool")
        if promtool:
            p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    # --- concurrency and slow clients ---------------------------------------------------------

    def test_fifty_concurrent_clients(self):
        results, errors = [], []
        lock = threading.Lock()

        def client(n):
            try:
                for k in range(5):
                    r = self.d.post(ALERTS, alert("Concurrent", client=str(n), k=str(k)))
                    with lock:
                        results.append((r.status, r.json.get("id")))
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(repr(e))
        threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 250)
        self.assertTrue(all(s == 200 for s, _ in results), results)
        ids = [i for _, i in results]
        self.assertEqual(len(set(ids)), 250)
        counts = self.d.wait_outbox(ids, timeout=60)
        self.assertTrue(all(counts[i] == 1 for i in ids))

    def test_stalled_clients_do_not_block_others(self):
        stalled = []
        try:
            for n in range(20):
                s = socket.create_connection(("127.0.0.1", self.d.port))
                if n % 2:
                    s.sendall(b"POST /api/v1/alerts HTTP/1.1\r\nHost: x\r\n")  # half the headers
                else:
                    s.sendall(("POST /api/v1/alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                               "%s\r\nContent-Length: 1000\r\n\r\n{\"lab" % TOKEN).encode())
                stalled.append(s)
            t0 = time.monotonic()
            for n in range(10):
                self.queued(self.d.post(ALERTS, alert("NotBlocked%d" % n)))
            self.assertLess(time.monotonic() - t0, 5 * SLOW)
        finally:
            for s in stalled:
                s.close()


class HttpLimits(unittest.TestCase):
    """Idle timeouts and the connection limit, on a daemon of their own."""

    def test_idle_connection_is_closed_after_timeout(self):
        with Daemon(http_extra={"timeout": "1s"}, unix=False) as d:
            s = socket.create_connection(("127.0.0.1", d.port), timeout=20 * SLOW)
            try:
                s.sendall(b"POST /api/v1/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
                t0 = time.monotonic()
                self.assertEqual(s.recv(100), b"")  # closed, no answer
                self.assertLess(time.monotonic() - t0, 5 * SLOW)
            finally:
                s.close()
            self.assertEqual(d.post(ALERTS, alert("AfterTimeout")).status, 200)

    def test_connection_limit(self):
        # Two stalled clients hold both slots: a third waits (in the listen
        # backlog) until the idle timeout frees one, and is then served.
        with Daemon(http_extra={"max_connections": 2, "timeout": "2s"}, unix=False) as d:
            stalled = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(2)]
            try:
                for s in stalled:
                    s.sendall(b"POST /api/v1/alerts HTTP/1.1\r\n")
                time.sleep(0.3)
                t0 = time.monotonic()
                r = d.post(ALERTS, alert("AfterLimit"), timeout=30)
                waited = time.monotonic() - t0
                self.assertEqual(r.status, 200)
                self.assertGreater(waited, 0.8, "served beyond max_connections")
                self.assertLess(waited, 10 * SLOW)
            finally:
                for s in stalled:
                    s.close()

    def test_spool_full_is_503_and_unhealthy(self):
        # The sink fails (its directory is missing), so everything stays in the spool.
        with Daemon(outbox_dir=False, spool={"max_size": "4KiB"}, unix=False) as d:
            statuses = []
            for n in range(40):
                r = d.post(ALERTS, alert("Fill%d" % n, pad="p" * 200))
                statuses.append(r.status)
                if r.status == 503:
                    self.assertEqual(r.json, {"status": "error", "error": "spool full"})
                    break
            self.assertIn(200, statuses)
            self.assertEqual(statuses[-1], 503, statuses)
            # Over the limit (restarted with a smaller one): /healthz says so.
            self.assertEqual(d.stop(), 0)
            d.write_config(spool={"max_size": "1KiB"})
            d.start()
            r = d.get("/healthz")
            self.assertEqual(r.status, 503)
            self.assertIn(b"spool full", r.body)
            self.assertEqual(d.post(ALERTS, alert("More")).status, 503)


class HttpLifecycle(unittest.TestCase):
    def test_sigterm_with_requests_in_flight(self):
        d = Daemon(unix=False)
        try:
            d.start()
            results, stop = [], threading.Event()
            lock = threading.Lock()

            def client(n):
                k = 0
                while not stop.is_set():
                    k += 1
                    try:
                        r = d.post(ALERTS, alert("Term", c=str(n), k=str(k)), timeout=20)
                        with lock:
                            results.append((r.status, r.json))
                    except (ConnectionRefusedError, ConnectionResetError,
                            http.client.RemoteDisconnected, BrokenPipeError) as e:
                        with lock:
                            results.append((type(e).__name__, None))
                        if not d.alive():
                            return
                        time.sleep(0.01)
            threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
            for t in threads:
                t.start()
            wait_for(lambda: sum(1 for s, _ in results if s == 200) >= 50, 30,
                     what="requests before SIGTERM")
            self.assertEqual(d.stop(signal.SIGTERM), 0, d.log())
            stop.set()
            for t in threads:
                t.join(60)
            statuses = {s for s, _ in results}
            print("sigterm:", {s: sum(1 for x, _ in results if x == s) for s in statuses})
            self.assertTrue(statuses <= {200, 503, "ConnectionRefusedError", "ConnectionResetError",
                                         "RemoteDisconnected", "BrokenPipeError"}, statuses)
            ok = [j["id"] for s, j in results if s == 200]
            # After exit: refused.
            with self.assertRaises(ConnectionRefusedError):
                http_request(d.port, "POST", ALERTS, alert("Late"))
            # Every 200 is delivered exactly once, if need be after a restart.
            d.start()
            counts = d.wait_outbox(ok, timeout=60)
            self.assertTrue(all(counts[i] == 1 for i in ok))
            self.assertEqual(d.stop(), 0)
        finally:
            d.close()

    def test_reload_refuses_no_connection(self):
        d = Daemon(token="first", unix=False)
        try:
            d.start()
            results, stop = [], threading.Event()
            lock = threading.Lock()

            def client():
                while not stop.is_set():
                    try:
                        r = d.post(ALERTS, alert("Reload"), token="first", timeout=20)
                        with lock:
                            results.append(r.status)
                    except OSError as e:
                        with lock:
                            results.append(repr(e))
            threads = [threading.Thread(target=client) for _ in range(4)]
            for t in threads:
                t.start()
            for _ in range(3):
                time.sleep(0.3)
                d.send_signal(signal.SIGHUP)
                wait_for(lambda: d.log().count("msg=reloaded") >= _ + 1, 20, what="reload")
            time.sleep(0.3)
            stop.set()
            for t in threads:
                t.join(60)
            self.assertTrue(results)
            self.assertEqual(set(results), {200}, [r for r in results if r != 200][:5])
            # A reload that changes the token takes effect.
            d.write_config(token="second")
            d.send_signal(signal.SIGHUP)
            wait_for(lambda: d.log().count("msg=reloaded") >= 4, 20, what="reload")
            self.assertEqual(d.post(ALERTS, alert("X"), token="first").status, 401)
            self.assertEqual(d.post(ALERTS, alert("X"), token="second").status, 200)
            self.assertEqual(d.stop(), 0)
        finally:
            d.close()

    def test_reload_to_another_address(self):
        d = Daemon(unix=False)
        try:
            d.start()
            old = d.port
            d.port = free_port()
            d.write_config()
            d.send_signal(signal.SIGHUP)
            wait_for(lambda: "msg=reloaded" in d.log(), 20, what="reload")
            self.assertEqual(d.post(ALERTS, alert("NewAddress")).status, 200)
            with self.assertRaises(ConnectionRefusedError):
                http_request(old, "POST", ALERTS, alert("OldAddress"))
            # A reload whose address cannot be bound is refused; the old one serves on.
            blocker = socket.socket()
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            try:
                serving = d.port
                d.port = blocker.getsockname()[1]
                d.write_config()
                d.port = serving
                d.send_signal(signal.SIGHUP)
                wait_for(lambda: "reload refused" in d.log(), 20, what="a refused reload")
                self.assertIn("Address already in use", d.log())
                self.assertEqual(d.post(ALERTS, alert("StillServing")).status, 200)
            finally:
                blocker.close()
            self.assertEqual(d.stop(), 0)
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
