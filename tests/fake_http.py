"""fake_http.py - what the strict fake API servers of the tests share
(fake_wamessage.py, fake_graph.py, fake_webhook.py): a threaded HTTP/1.1
server on 127.0.0.1 that records every request, injects faults, and is
steered over HTTP by the test.

A fake subclasses FakeState (its own state, and control keys of its own)
and FakeHandler (route() serves the API, fail() answers an error in the
API's own shape), and calls serve().  What every fake then has:

POST /_control  a JSON object, any of:
    "fail":  [{"status": 500, "count": 2, "path": "/x", "retry_after": "3",
               "message": "..."}]              answer the next N calls so
    "hang":  {"seconds": 5, "count": 1, "path": ...}   sleep, then drop the connection
    "reset": {"count": 1, "path": ...}                 reset the connection (RST)
    "clear": true                                      forget recorded requests and pending faults
    "delay_ms": MS                                     answer every API call after MS
  plus the fake's own keys.  A fault without "path" applies to any API
  call; "after": N lets N matching calls through first; faults are used
  in order.  A "fail" entry may carry more fields for the fake's fail()
  (the Graph API's error "code").
GET /_requests  every API request so far: method, path, query, headers
                (lower-case names), body (text), json (when it parses), the
                fake's own fields, answer status and body, fault, time (of
                arrival, before any delay).
GET /_state     the fake's state (FakeState.snapshot()).

Command line: --port (0: any), --port-file F (written once listening),
--delay-ms MS, --tls-cert PEM --tls-key PEM (HTTPS), and the fake's own
options.  The port is printed on stdout.
"""

import argparse
import json
import os
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeState:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.delay = args.delay_ms / 1000.0
        self.faults = []  # {"kind", "count", "path", ...}
        self.requests = []

    def take_fault(self, path):
        with self.lock:
            for f in self.faults:
                if f["count"] > 0 and (not f.get("path") or path.startswith(f["path"])):
                    if f.get("after", 0) > 0:  # let this many matching calls through first
                        f["after"] -= 1
                        continue
                    f["count"] -= 1
                    return dict(f)
        return None

    def control(self, c):
        """Apply a /_control object; called with the lock held.  A fake
        extends it with its own keys."""
        if c.get("clear"):  # first, so one call can clear and set up
            self.requests.clear()
            self.faults.clear()
        for f in c.get("fail", []):
            self.faults.append(dict(f, kind="status", count=f.get("count", 1)))
        for kind in ("hang", "reset"):
            if kind in c:
                for f in (c[kind] if isinstance(c[kind], list) else [c[kind]]):
                    self.faults.append(dict(f, kind=kind, count=f.get("count", 1)))
        if "delay_ms" in c:
            self.delay = c["delay_ms"] / 1000.0

    def snapshot(self):
        """What GET /_state shows; called with the lock held."""
        return {}


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client can reuse connections
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server_version = "Fake/1.0"
    record = None

    def log_message(self, fmt, *args):  # quiet: tests read /_requests instead
        pass

    # --- what a fake provides -------------------------------------------------

    def route(self, method, path):
        """Serve one API call (self.record is its record)."""
        self.fail(404, "no route %s %s" % (method, path))

    def fail(self, status, message, headers=None, **extra):
        """Answer an error in the API's shape."""
        self.answer(status, {"error": message}, headers)

    def note_body(self):
        """Record what was sent, for a call answered by a fault."""
        try:
            self.record["json"] = json.loads(self.body() or b"null")
        except ValueError:
            pass

    # --- plumbing -------------------------------------------------------------

    def body(self):
        # One handler serves every request of a kept-alive connection.
        if getattr(self, "_body_of", None) is not self.record:
            n = int(self.headers.get("Content-Length") or 0)
            self._body = self.rfile.read(n) if n > 0 else b""
            self._body_of = self.record
        return self._body

    def answer(self, status, obj, headers=None, content_type="application/json"):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        # Recorded before it is sent: a client that has the answer may ask
        # /_requests at once.
        self.record["status"] = status
        self.record["answer"] = obj if not isinstance(obj, bytes) else obj.decode(errors="replace")
        self.publish()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def publish(self):
        """Make the record visible to /_requests, complete: nothing changes
        it afterwards, so serving the list never races a handler."""
        if self.record is not None and not self.record.get("_published"):
            self.record["_published"] = True
            with self.server.state.lock:
                self.server.state.requests.append(self.record)

    def json_body(self):
        """The body as a JSON object, or None once an error is answered."""
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/json"):
            self.fail(415, "expected application/json, got %r" % ctype)
            return None
        try:
            obj = json.loads(self.body().decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            self.fail(400, "malformed JSON")
            return None
        if not isinstance(obj, dict):
            self.fail(400, "expected a JSON object")
            return None
        self.record["json"] = obj
        return obj

    # --- dispatch -------------------------------------------------------------

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        self.record = {
            "method": method,
            "path": path,
            "query": dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "time": time.time(),
        }
        if path.startswith("/_"):
            self.record["_published"] = True  # control calls are not recorded
            return self.control(method, path)
        self.body()  # read it whole before any fault, as a real server would
        fault = st.take_fault(path)
        if fault:
            self.record["fault"] = fault["kind"]
            self.record["status"] = None
            self.note_body()  # what was sent, though the answer is a fault
            if fault["kind"] in ("hang", "reset"):
                self.publish()
            if fault["kind"] == "hang":
                time.sleep(fault.get("seconds", 5))
                self.close_connection = True
                return
            if fault["kind"] == "reset":
                # SO_LINGER 0 turns close() into a RST.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            hdrs = {}
            if fault.get("retry_after") is not None:
                hdrs["Retry-After"] = str(fault["retry_after"])
            extra = {k: v for k, v in fault.items()
                     if k not in ("kind", "count", "path", "after", "status", "message",
                                  "retry_after")}
            return self.fail(fault["status"],
                             fault.get("message", "injected failure %d" % fault["status"]),
                             hdrs, **extra)
        if st.delay:
            time.sleep(st.delay)
        self.route(method, path)

    def control(self, method, path):
        st = self.server.state
        if method == "GET" and path == "/_requests":
            with st.lock:
                reqs = [{k: v for k, v in r.items() if k != "_published"} for r in st.requests]
            return self.answer(200, reqs)
        if method == "GET" and path == "/_state":
            with st.lock:
                return self.answer(200, st.snapshot())
        if method != "POST" or path != "/_control":
            return self.answer(404, {"error": "no control route %s %s" % (method, path)})
        try:
            c = json.loads(self.body() or b"{}")
        except ValueError:
            return self.answer(400, {"error": "malformed JSON"})
        with st.lock:
            st.control(c)
        self.answer(200, {"status": True})


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a client opening many connections
    # at once (the daemon's workers) would see SYNs dropped and retried
    # after a second, a stall that is the fake's, not the client's.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout tests) is not news


def parser(description):
    """An argument parser with the options every fake takes."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--delay-ms", type=float, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    return ap


def serve(args, state, handler):
    """Listen on 127.0.0.1:args.port, say where, and serve until killed."""
    srv = FakeServer(("127.0.0.1", args.port), handler)
    srv.state = state
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
