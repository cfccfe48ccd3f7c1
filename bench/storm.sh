#!/usr/bin/env bash
# storm.sh - an alert storm: N Alertmanager webhook payloads of ALERTS
# alerts each, posted by CONNS keep-alive connections as fast as they go,
# to a daemon with its spool and the file sink's outbox on disk.
#
#   bench/storm.sh                   # N=1000 ALERTS=20 CONNS=32; ALERTSINK=path
#
# Each payload is one Alertmanager group (an alertname of its own, ALERTS
# alerts of five labels and two annotations each, about 9 KB), so each is
# one notification of ALERTS alerts in the outbox.  Printed: how many were
# accepted (every one must be: 200), the time from the first post to the
# last 200, the time from the last 200 to the last line in the outbox,
# and the daemon's peak RSS (VmHWM in /proc, for its whole life).
#
# Targets: every payload accepted, every notification in the outbox within
# 3 s of the last 200, peak RSS <= 32 MB.  Exit 0 when all are met, 2 when
# a figure misses its target, 1 when something was lost or refused.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
export ALERTSINK=${ALERTSINK:-$here/build/alertsink}
export AS_SOURCE_DIR=$here AS_TEST_DATA=$here/tests
[ -x "$ALERTSINK" ] || { echo "storm.sh: no alertsink binary at $ALERTSINK (build first)" >&2; exit 1; }
export N=${N:-1000} ALERTS=${ALERTS:-20} CONNS=${CONNS:-32} BENCH_TMP=${TMPDIR:-/var/tmp}

exec /usr/bin/python3 - <<'EOF'
import http.client
import json
import os
import sys
import tempfile
import threading
import time

here = os.environ["AS_SOURCE_DIR"]
sys.path.insert(0, os.path.join(here, "tests", "e2e"))
from lib import Daemon, wait_for  # noqa: E402

N, ALERTS, CONNS = int(os.environ["N"]), int(os.environ["ALERTS"]), int(os.environ["CONNS"])


def payload(g):
    """Alertmanager's webhook for group g: ALERTS alerts of one alertname."""
    name = "Storm%04d" % g
    alerts = []
    for i in range(ALERTS):
        alerts.append({
            "status": "firing",
            "labels": {"alertname": name, "cluster": "prod", "instance": "node%02d:9100" % i,
                       "job": "node", "severity": "critical" if i % 3 == 0 else "warning"},
            "annotations": {"description": "Filesystem /var on node%02d has %d%% left" % (i, i % 9),
                            "summary": "Disk almost full on node%02d" % i},
            "startsAt": "2026-11-24T13:46:31.697740356Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=node_filesystem",
            "fingerprint": "%016x" % (g * 1000 + i)})
    return json.dumps({
        "receiver": "out", "status": "firing", "alerts": alerts,
        "groupLabels": {"alertname": name}, "commonLabels": {"alertname": name, "cluster": "prod",
                                                             "job": "node"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093",
        "version": "4", "groupKey": "{}:{alertname=\"%s\"}" % name,
        "truncatedAlerts": 0}, separators=(",", ":")).encode()


bodies = [payload(g) for g in range(N)]
d = Daemon(unix=False, log_level="info", workers=8,
           directory=tempfile.mkdtemp(prefix="as-bench-storm-", dir=os.environ["BENCH_TMP"]))
ok, bad, answered = [], [], []
lock = threading.Lock()
try:
    d.start()

    def client(k):
        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
        for g in range(k, N, CONNS):
            c.request("POST", "/api/v1/alertmanager", bodies[g],
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            body = r.read()
            t = time.monotonic()
            with lock:
                answered.append(t)
                (ok if r.status == 200 else bad).append(
                    json.loads(body)["id"] if r.status == 200 else r.status)
        c.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CONNS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last_200 = max(answered)

    def delivered():
        try:
            with open(d.outbox) as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0
    wait_for(lambda: delivered() >= len(ok), 120, interval=0.005, what="every notification")
    last_line = time.monotonic()
    with open("/proc/%d/status" % d.proc.pid) as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    counts = d.outbox_counts()
    lost = [i for i in ok if counts.get(i, 0) != 1]
    lag = last_line - last_200
    print("storm.sh: %d CPUs; load average %s" %
          (os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
    print("posted     %d payloads of %d alerts (%d KB each) on %d connections: %d accepted, "
          "%d refused, in %.2f s (%.0f payloads/s, %.0f alerts/s)"
          % (N, ALERTS, len(bodies[0]) // 1024, CONNS, len(ok), len(bad), last_200 - t0,
             N / (last_200 - t0), N * ALERTS / (last_200 - t0)))
    print("delivered  %d notifications in the outbox, the last %.3f s after the last 200; "
          "%d missing or doubled" % (sum(counts.values()), lag, len(lost)))
    print("memory     peak RSS %.1f MB (VmHWM)" % (hwm / 1024.0))
    checks = [("all accepted", not bad and len(ok) == N), ("delivered <= 3 s", lag <= 3.0),
              ("peak RSS <= 32 MB", hwm <= 32 * 1024)]
    print("targets    " + "   ".join("%s: %s" % (k, "yes" if v else "NO") for k, v in checks))
    d.stop()
    sys.exit(1 if bad or lost else 0 if all(v for _, v in checks) else 2)
finally:
    d.close()
EOF
