#!/usr/bin/env bash
# e2e.sh - end-to-end delivery latency and throughput: Alertmanager webhooks
# posted to the daemon, delivered through a WhatsApp sink to its fake
# server, which answers every call after 50 ms: SINK=whatsapp (default) is
# the Wamessage API (tests/fake_wamessage.py, two contacts in one call),
# SINK=whatsapp_cloud Meta's Cloud API (tests/fake_graph.py, one
# recipient: one request a notification).
#
#   bench/e2e.sh                     # WORKERS="8 32" N=1000 RATE=100 CONNS=16
#   SINK=whatsapp_cloud WORKERS=8 bench/e2e.sh
#
# For each worker count (the top-level `workers:` key, default 8), a fresh
# daemon (spool under $TMPDIR, default /var/tmp; whatsapp.rate_limit: 0,
# log level info as shipped) and a fresh fake, and two runs of N alert
# groups, each group one Alertmanager payload with an alertname of its own:
#
#   latency     the groups are posted at RATE a second, one at a time, below
#               what the workers can deliver (workers / 50 ms), so the figure
#               is alertsink's own delay, not a queue: for each group, the
#               time from the client reading the 200 to the fake receiving
#               the request that carries its alertname (the fake records a
#               receive time per request, before its delay).  p50 and p99.
#               Target: p50 < 5 ms (the fake's 50 ms come after it).
#   throughput  the groups are posted as fast as CONNS client connections
#               go; sends per second = N / (last send received - first post
#               sent).  A delivery holds a worker for the fake's 50 ms, so
#               the ceiling is workers / 0.05 s; reaching it means the rate
#               is limited by the worker count, not by a serial client.  Also
#               printed: what one send took as the daemon logged it (the 50 ms
#               plus the fake's own time under load), workers / that, and the
#               CPU seconds the daemon and the fake used, to tell which of the
#               two the machine ran out of.
#
# Exit 0 when every group was delivered exactly once, 1 otherwise.  The
# figures are printed, not judged (the machine decides them).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
export ALERTSINK=${ALERTSINK:-$here/build/alertsink}
export AS_SOURCE_DIR=$here AS_TEST_DATA=$here/tests
[ -x "$ALERTSINK" ] || { echo "e2e.sh: no alertsink binary at $ALERTSINK (build first)" >&2; exit 1; }
export WORKERS=${WORKERS:-"8 32"} N=${N:-1000} RATE=${RATE:-100} CONNS=${CONNS:-16}
export DELAY_MS=${DELAY_MS:-50} BENCH_TMP=${TMPDIR:-/var/tmp} SINK=${SINK:-whatsapp}
case $SINK in whatsapp|whatsapp_cloud) ;; *) echo "e2e.sh: SINK is whatsapp or whatsapp_cloud" >&2; exit 2;; esac

exec /usr/bin/python3 - <<'EOF'
import http.client
import json
import os
import re
import sys
import tempfile
import threading
import time

here = os.environ["AS_SOURCE_DIR"]
sys.path.insert(0, os.path.join(here, "tests", "e2e"))
from lib import Daemon, am_payload, wait_for  # noqa: E402
from lib.fakes import FakeProcess  # noqa: E402
from test_wa_cli import PASSWORD, PHONE, Fake  # noqa: E402

N, RATE, CONNS = int(os.environ["N"]), float(os.environ["RATE"]), int(os.environ["CONNS"])
DELAY_MS = float(os.environ["DELAY_MS"])
SINK = os.environ["SINK"]
NAME = re.compile(r"BenchE2E-[a-z]+-\d+")
CLOUD_ID, CLOUD_TOKEN = "106540352242922", "EAAG-bench-token"


class Sink:
    """The channel under test: its receiver, its fake, how a request reads."""

    def __init__(self, d):
        if SINK == "whatsapp_cloud":
            self.fake = FakeProcess("fake_graph.py", d.dir, "--phone-number-id", CLOUD_ID,
                                    "--token", CLOUD_TOKEN, "--window", "*",
                                    "--delay-ms", str(DELAY_MS))
            self.path = "/v24.0/%s/messages" % CLOUD_ID
            self.config = ("whatsapp_cloud: {base_url: %s, phone_number_id: \"%s\", token: %s, "
                           "timeout: 10s}\n" % (json.dumps(self.fake.url), CLOUD_ID, CLOUD_TOKEN))
        else:
            self.fake = Fake(d.dir, "--device", "7001:" + PHONE, "--delay-ms", str(DELAY_MS))
            self.path = "/whatsapp/sendmessage/multi"
            self.config = ("whatsapp: {base_url: %s, phone: \"+90 555 000 0001\", password: %s, "
                           "timeout: 10s, rate_limit: 0}\n"
                           % (json.dumps(self.fake.url), json.dumps(PASSWORD)))

    @staticmethod
    def receivers():
        if SINK == "whatsapp_cloud":
            return "  - name: oncall\n    whatsapp_cloud: {to: [\"+90 555 111 2233\"]}\n"
        return ("  - name: oncall\n"
                "    whatsapp: {to: [\"+90 555 111 2233\", \"+90 555 111 2234\"]}\n")

    def text(self, r):
        if SINK == "whatsapp_cloud":
            return ((r.get("json") or {}).get("text") or {}).get("body", "")
        return r.get("form", {}).get("message", "")


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class Poster:
    """One keep-alive connection to the daemon."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def post(self, name):
        body = json.dumps(am_payload([name], receiver="oncall")).encode()
        for _ in range(2):  # once more on a fresh connection if the kept one closed
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.c.request("POST", "/api/v1/alertmanager", body,
                               {"Content-Type": "application/json"})
                r = self.c.getresponse()
                r.read()
                t = time.time()
                if r.status != 200:
                    raise RuntimeError("%s: HTTP %d" % (name, r.status))
                return t
            except (http.client.HTTPException, ConnectionError):
                self.c.close()
                self.c = None
        raise RuntimeError("%s: no answer" % name)


def received(sink, phase):
    """{alertname: the fake's receive time} of this phase's sends."""
    out = {}
    for r in sink.fake.requests(sink.path):
        m = NAME.search(sink.text(r))
        if m and m.group(0).startswith("BenchE2E-%s-" % phase):
            if r["status"] != 200 or m.group(0) in out:
                raise RuntimeError("%s: sent twice or refused (%s)" % (m.group(0), r["status"]))
            out[m.group(0)] = r["time"]
    return out


def cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(workers):
    d = Daemon(unix=False, workers=workers, log_level="info",
               directory=tempfile.mkdtemp(prefix="as-bench-e2e-", dir=os.environ["BENCH_TMP"]),
               receivers=Sink.receivers(), route="{receiver: oncall, group_by: [alertname]}")
    sink = Sink(d)
    fake = sink.fake
    try:
        with open(d.config, "a") as f:
            f.write(sink.config)
        d.start()
        # Warm up: log in, list the devices, open the connections.
        p = Poster(d.port)
        p.post("BenchE2E-warm-0")
        wait_for(lambda: received(sink, "warm"), 30, what="the warm-up send")

        # Latency: paced, one at a time.
        ok = {}
        start = time.monotonic()
        for i in range(N):
            target = start + i / RATE
            now = time.monotonic()
            if target > now:
                time.sleep(target - now)
            name = "BenchE2E-lat-%d" % i
            ok[name] = p.post(name)
        got = wait_for(lambda: (lambda g: g if len(g) == N else None)(received(sink, "lat")),
                       120, interval=0.2, what="every latency send")
        lat = [(got[n] - ok[n]) * 1000 for n in ok]

        # Throughput: CONNS connections, as fast as they go.
        names = ["BenchE2E-tput-%d" % i for i in range(N)]
        errors = []
        log_at = len(d.log())
        cpu0 = (cpu_s(d.proc.pid), cpu_s(fake.proc.pid))
        t0 = time.time()

        def client(k):
            q = Poster(d.port)
            try:
                for name in names[k::CONNS]:
                    q.post(name)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=client, args=(k,)) for k in range(CONNS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        posted = time.time() - t0
        if errors:
            raise errors[0]
        got = wait_for(lambda: (lambda g: g if len(g) == N else None)(received(sink, "tput")),
                       300, interval=0.2, what="every throughput send")
        span = max(got.values()) - t0
        cpu = (cpu_s(d.proc.pid) - cpu0[0], cpu_s(fake.proc.pid) - cpu0[1])
        rate = N / span
        ceiling = workers * 1000.0 / DELAY_MS
        # What one send took as the daemon saw it (the fake's 50 ms plus its
        # own time under this load): workers / that is what the workers allow.
        took = sorted(int(m) for m in re.findall(
            r'msg="delivery attempt" .*channel=%s .*latency_ms=(\d+)' % SINK, d.log()[log_at:]))
        allow = workers * 1000.0 / pct(took, 50)
        print("workers=%-3d latency (paced %g/s, 1 connection): p50 %.2f ms  p99 %.2f ms  "
              "max %.2f ms   [target p50 < 5 ms: %s]"
              % (workers, RATE, pct(lat, 50), pct(lat, 99), max(lat),
                 "met" if pct(lat, 50) < 5 else "MISSED"))
        print("workers=%-3d throughput (%d connections): %d groups posted in %.2f s (%.0f/s); "
              "sent in %.2f s: %.1f sends/s = %.0f %% of the ceiling %d/%g ms = %.0f/s"
              % (workers, CONNS, N, posted, N / posted, span, rate, 100 * rate / ceiling,
                 workers, DELAY_MS, ceiling))
        print("            a send took p50 %d ms, p99 %d ms as the daemon saw it: workers / p50 "
              "= %.0f/s (%.0f %% reached); CPU over the run: alertsink %.2f s, the fake %.2f s "
              "(of %.2f s wall, %d CPUs)"
              % (pct(took, 50), pct(took, 99), allow, 100 * rate / allow, cpu[0], cpu[1], span,
                 os.cpu_count()))
        sys.stdout.flush()
        if d.stop() != 0:
            raise RuntimeError("alertsink did not stop cleanly:\n" + d.log()[-4000:])
        return True
    finally:
        d.close()
        fake.stop()


print("bench/e2e.sh: sink %s, %d alert groups per run, the fake answering after %g ms, "
      "rate limit off; %d CPUs" % (SINK, N, DELAY_MS, os.cpu_count()))
for w in os.environ["WORKERS"].split():
    run(int(w))
EOF
