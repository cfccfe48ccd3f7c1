"""fakes.py - the strict fake API servers of tests/ (fake_wamessage.py,
fake_graph.py, fake_webhook.py, all on tests/fake_http.py) run from a test.

    from lib.fakes import FakeProcess

    fake = FakeProcess("fake_graph.py", tmp, "--token", "t")   # a free port
    fake.control(fail=[{"status": 500}])
    fake.requests("/v24.0/1/messages")                          # what it got
    fake.stop()

The fake runs as a child process on a free loopback port (it writes the
port to a file in tmp once it listens); its stderr goes to tmp too.  Given
--tls-cert, it speaks HTTPS, and the control calls do too (unverified: the
test made the certificate).
"""
import itertools
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

from .alertsink import SOURCE, stop_process

__all__ = ["FakeProcess", "DATA"]

_serial = itertools.count(1)  # several fakes may share a directory

DATA = os.environ.get("AS_TEST_DATA") or os.path.join(SOURCE, "tests")


class FakeProcess:
    """A fake server in a subprocess, and its control API."""

    def __init__(self, script, tmp, *args):
        name = "%s.%d" % (os.path.splitext(script)[0], next(_serial))
        port_file = os.path.join(tmp, name + ".port")
        with open(os.path.join(tmp, name + ".err"), "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, os.path.join(DATA, script), "--port", "0",
                 "--port-file", port_file] + list(args),
                stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 20
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("%s did not start" % script)
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        tls = "--tls-cert" in args
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self._ssl = ssl._create_unverified_context() if tls else None

    def _call(self, method, path, obj=None):
        data = json.dumps(obj).encode() if obj is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10, context=self._ssl) as r:
            return json.loads(r.read())

    def control(self, **kw):
        return self._call("POST", "/_control", kw)

    def requests(self, path=None):
        return [r for r in self._call("GET", "/_requests") if path is None or r["path"] == path]

    def state(self):
        return self._call("GET", "/_state")

    def stop(self):
        stop_process(self.proc, 10)
