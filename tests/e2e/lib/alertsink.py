"""alertsink.py - drive the real alertsink binary from end-to-end tests.

Standard library only (the tests run with Debian's /usr/bin/python3).

    from lib import Daemon

    with Daemon(token="s3cret") as d:          # temp dir, free port, file sink
        r = d.post("/api/v1/alerts", {"labels": {"alertname": "X"}})
        assert r.status == 200
        d.wait_outbox([r.json["id"]])

A Daemon writes its own configuration (HTTP on a free loopback port, the
Unix socket and the spool in a temp dir, one receiver "out" with the file
sink writing outbox.jsonl), starts the binary named by $ALERTSINK, waits
until it answers, and kills it and removes the directory on exit, even when
the test fails (and at interpreter exit, for daemons a test forgot).
$AS_KEEP=1 keeps the directories for a post-mortem.

Sanitizer builds are slower: timeouts are multiplied by SLOW.  wrapper=
runs the binary under another program (valgrind, in test_valgrind.py).
d.cli("queue", "--json") runs a command on the daemon's configuration.
"""
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

__all__ = [
    "BINARY", "SOURCE", "FIXTURES", "SLOW", "Daemon", "Response", "free_port", "wait_for",
    "http_request", "unix_session", "fixture", "alert", "am_payload", "metric_samples",
    "stop_process",
]

SOURCE = os.environ.get("AS_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIXTURES = os.path.join(os.environ.get("AS_TEST_DATA") or os.path.join(SOURCE, "tests"),
                        "fixtures")
BINARY = os.environ.get("ALERTSINK") or os.path.join(
    os.environ.get("AS_BUILD_DIR") or os.path.join(SOURCE, "build"), "alertsink")
SLOW = 3 if os.environ.get("AS_BUILD_TYPE", "").lower() == "sanitize" else 1
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
# The daemon's "started" line, in log.format logfmt or json.
STARTED = re.compile(rb'msg=started |"msg": ?"started"')

_live = []


def _cleanup_all():
    for d in list(_live):
        d.close()


atexit.register(_cleanup_all)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value (returned) or time runs out."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(interval)


def fixture(*parts):
    """Bytes of a file under tests/fixtures."""
    with open(os.path.join(FIXTURES, *parts), "rb") as f:
        return f.read()


def alert(name, **labels):
    """A single alert object (docs/inputs.md) with alertname=name."""
    return {"labels": dict(alertname=name, **labels), "annotations": {"summary": name}}


def am_payload(names, receiver="out", status="firing"):
    """An Alertmanager webhook payload (version 4) with one alert per name."""
    alerts = [{"status": status, "labels": {"alertname": n}, "annotations": {},
               "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
               "generatorURL": "", "fingerprint": ""} for n in names]
    return {"receiver": receiver, "status": status, "alerts": alerts,
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am.example", "version": "4",
            "groupKey": "{}:{}", "truncatedAlerts": 0}


def stop_process(proc, timeout):
    """SIGTERM a helper process, SIGKILL it if it is still there after timeout s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def metric_samples(text):
    """{'name{labels}': value} of every sample line of a /metrics answer."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:200])


def http_request(port, method, path, body=None, headers=None, timeout=10):
    """One request on a fresh connection; body may be bytes, str or JSON-able."""
    if body is not None and not isinstance(body, (bytes, bytearray)):
        body = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * SLOW)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        c.close()


def unix_session(path, data, timeout=10):
    """Send bytes, shut down the sending side, read every answer line."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout * SLOW)
    try:
        s.connect(path)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
        return out.decode().splitlines()
    finally:
        s.close()


def _q(v):
    """A YAML scalar (JSON is YAML)."""
    return json.dumps(v)


class Daemon:
    """One alertsink daemon with its own directory, configuration and ports."""

    def __init__(self, token=None, http=True, unix=True, max_body=None, spool=None,
                 http_extra=None, unix_extra=None, extra="", outbox_dir=True, workers=4,
                 dedup_window="0s", log_level="info", directory=None, receivers="",
                 route=None, wrapper=None):
        self.dir = directory or tempfile.mkdtemp(prefix="as-e2e-")
        self.token = token
        self.port = free_port() if http else None
        self.sock = os.path.join(self.dir, "alertsink.sock") if unix else None
        self.spool = os.path.join(self.dir, "spool")
        self.outbox_dir = os.path.join(self.dir, "out")
        self.outbox = os.path.join(self.outbox_dir, "outbox.jsonl")
        self.config = os.path.join(self.dir, "alertsink.yaml")
        self.logfile = os.path.join(self.dir, "alertsink.log")
        self.wrapper = list(wrapper or [])  # e.g. ["valgrind", ...] before the binary
        self.proc = None
        self._log = None
        self._log_from = 0
        self.returncode = None
        if outbox_dir:
            os.makedirs(self.outbox_dir, exist_ok=True)
        self.write_config(token=token, max_body=max_body, spool=spool, http_extra=http_extra,
                          unix_extra=unix_extra, extra=extra, workers=workers,
                          dedup_window=dedup_window, log_level=log_level, receivers=receivers,
                          route=route)
        _live.append(self)

    # --- configuration ----------------------------------------------------------------

    def write_config(self, token=None, max_body=None, spool=None, http_extra=None,
                     unix_extra=None, extra="", workers=4, dedup_window="0s", log_level="info",
                     receivers="", route=None):
        """receivers: YAML list items added after the file receiver "out";
        route: the route: mapping (YAML) instead of {receiver: out, ...}."""
        http = {"listen": "127.0.0.1:%d" % self.port if self.port else ""}
        if token is not None:
            http["bearer_token"] = token
        if max_body is not None:
            http["max_body"] = max_body
        http.update(http_extra or {})
        unix = {"path": self.sock or ""}
        unix.update(unix_extra or {})
        sp = {"dir": self.spool, "max_age": "1h"}
        sp.update(spool or {})

        def flow(d):
            return "{" + ", ".join("%s: %s" % (k, _q(v)) for k, v in d.items()) + "}"

        text = ("log: {level: %s}\n" % log_level +
                "workers: %d\n" % workers +
                "spool: %s\n" % flow(sp) +
                "http: %s\n" % flow(http) +
                "unix: %s\n" % flow(unix) +
                "defaults: {dedup_window: %s}\n" % dedup_window +
                "receivers:\n"
                "  - name: out\n"
                "    file: {path: %s}\n" % _q(self.outbox) + receivers +
                "route: %s\n" % (route or "{receiver: out, group_by: [alertname]}") + extra)
        with open(self.config, "w") as f:
            f.write(text)

    # --- process ------------------------------------------------------------------------

    def start(self, wait=True, timeout=15, env=None):
        """env: more environment variables for the daemon (LD_PRELOAD=...)."""
        self._close_log()
        self._log = open(self.logfile, "ab")
        self._log_from = self._log.tell()  # this start's lines begin here
        self.proc = subprocess.Popen(self.wrapper + [BINARY, "-c", self.config], stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.dir,
                                     env=dict(os.environ, **env) if env else None)
        self.returncode = None
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=15):
        """Until this start's "started" line: the spool is recovered and the
        inputs take alerts (they listen earlier, answering 503 "starting").
        Not /healthz, which also fails for a full or unwritable spool."""
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("alertsink exited with %d:\n%s" %
                                     (self.proc.returncode, self.log()))
            with open(self.logfile, "rb") as f:
                f.seek(self._log_from)
                return STARTED.search(f.read())
        wait_for(ready, timeout, what="alertsink to start")

    def run_to_exit(self, timeout=15):
        """Start and expect the daemon to give up: returns (exit code, log)."""
        self.start(wait=False)
        try:
            rc = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            raise AssertionError("alertsink kept running:\n" + self.log())
        self.returncode = rc
        return rc, self.log()

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal and wait; returns the exit code.  A sanitizer report in the
        log (ASan, LeakSanitizer, UBSan) fails the test."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("alertsink did not stop within %ds:\n%s" % (timeout, self.log()))
        self.check_sanitizers()
        return self.returncode

    def check_sanitizers(self):
        log = self.log()
        for marker in SANITIZER_MARKERS:
            if marker in log:
                raise AssertionError("sanitizer report in the daemon's log:\n" + log[-20000:])

    def cli(self, *args, stdin=None, timeout=60, wrapper=(), env=None):
        """Run `alertsink ARGS -c CONFIG` (a command on this daemon's
        configuration); returns the CompletedProcess (text).  A sanitizer
        report on its stderr fails the test."""
        p = subprocess.run(list(wrapper) + [BINARY] + list(args) + ["-c", self.config],
                           input=stdin, capture_output=True, text=True, timeout=timeout * SLOW,
                           cwd=self.dir, env=env)
        for marker in SANITIZER_MARKERS:
            if marker in p.stderr:
                raise AssertionError("sanitizer report from alertsink %s:\n%s"
                                     % (" ".join(args), p.stderr))
        return p

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_log()
        if self in _live:
            _live.remove(self)
        if not os.environ.get("AS_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def finish(self):
        """Stop with SIGTERM, require exit 0, and clean up."""
        try:
            if self.alive():
                rc = self.stop()
                if rc != 0:
                    raise AssertionError("alertsink exited with %d:\n%s" % (rc, self.log()))
        finally:
            self.close()

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.finish()
        else:
            self.close()

    # --- HTTP ---------------------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, token=True, timeout=10):
        """token=True: the configured token; a string: that one; None: none."""
        h = dict(headers or {})
        t = self.token if token is True else token
        if t:
            h.setdefault("Authorization", "Bearer " + t)
        return http_request(self.port, method, path, body, h, timeout)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    # --- Unix socket ----------------------------------------------------------------------

    def unix(self, data, timeout=10):
        if isinstance(data, str):
            data = data.encode()
        return unix_session(self.sock, data, timeout)

    # --- results ------------------------------------------------------------------------

    def attempts(self, nid, channel=None):
        """The core's "delivery attempt" lines of notification nid (of one
        channel, or any): [(attempt, result)] in log order."""
        out = []
        for line in self.log().splitlines():
            if 'msg="delivery attempt"' not in line or " id=%s " % nid not in line:
                continue
            if channel is not None and " channel=%s " % channel not in line:
                continue
            m = re.search(r" attempt=(\d+) result=(\w+)", line)
            out.append((int(m.group(1)), m.group(2)))
        return out

    def results(self, nid, channel, n=0, timeout=10):
        """The results of notification nid's attempts on channel, once at
        least n are logged (a server has a request before the daemon has
        its answer and logs the attempt), or what there is after timeout."""
        deadline = time.monotonic() + timeout
        while len(self.attempts(nid, channel)) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return [result for _, result in self.attempts(nid, channel)]

    def outbox_lines(self):
        try:
            with open(self.outbox, "rb") as f:
                return [json.loads(l) for l in f.read().splitlines() if l.strip()]
        except FileNotFoundError:
            return []

    def record_texts(self):
        """{record id: [text, ...]}: a record routed into several notifications
        has notes "ID", "ID.2", ... (the first keeps the id the input answered)."""
        texts = {}
        for l in self.outbox_lines():
            texts.setdefault(l["id"].split(".")[0], []).append(l["text"])
        return texts

    def outbox_counts(self):
        counts = {}
        for l in self.outbox_lines():
            counts[l["id"]] = counts.get(l["id"], 0) + 1
        return counts

    def wait_outbox(self, ids, timeout=20):
        """Wait until every id is in the outbox; returns {id: count} of the whole outbox."""
        ids = set(ids)

        def done():
            c = self.outbox_counts()
            return c if ids <= set(c) else None
        return wait_for(done, timeout, interval=0.1, what="%d ids in the outbox" % len(ids))

    def spool_files(self, *states):
        n = 0
        for st in states or ("incoming", "active", "deferred", "maildrop"):
            try:
                n += sum(1 for f in os.listdir(os.path.join(self.spool, st))
                         if not f.endswith(".log") and not f.startswith("."))
            except FileNotFoundError:
                pass
        return n

    def wait_drained(self, timeout=30):
        wait_for(lambda: self.spool_files() == 0, timeout, interval=0.1,
                 what="the spool to drain")
