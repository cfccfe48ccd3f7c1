#!/usr/bin/env bash
# idle.sh - memory at rest: alertsink next to Debian's prometheus-alertmanager,
# in the same run, each started with its own directory and warmed up by
# one alert group that Alertmanager sends through to alertsink (its
# webhook), then left alone for IDLE seconds.
#
#   bench/idle.sh                    # IDLE=3; ALERTSINK=path/to/alertsink
#
# Printed for both: RSS (VmRSS) and USS, the memory that is the process's
# own (Private_Clean + Private_Dirty of /proc/PID/smaps_rollup: what
# stopping it would give back; shared libraries' pages that other
# processes map too are not in it), and of it the dirty part (heap,
# stacks, written data: what the process made, whoever else runs).  USS
# depends on the machine: the code pages of alertsink and its libraries
# (libgnutls, which libmicrohttpd links, libcrypto, ...) count as private
# while no other process maps them, about 2.9 MB here, and as shared when
# one does (another alertsink, say).  alertsink runs as `make run` does:
# the file sink, its spool on disk, HTTP on loopback.
#
# Target: alertsink's USS <= 2 MB.  Exit 0 when met, 2 when not, 1 on an
# error.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
export ALERTSINK=${ALERTSINK:-$here/build/alertsink}
export AS_SOURCE_DIR=$here AS_TEST_DATA=$here/tests
[ -x "$ALERTSINK" ] || { echo "idle.sh: no alertsink binary at $ALERTSINK (build first)" >&2; exit 1; }
export IDLE=${IDLE:-3} BENCH_TMP=${TMPDIR:-/var/tmp}

exec /usr/bin/python3 - <<'EOF'
import os
import sys
import tempfile
import time

here = os.environ["AS_SOURCE_DIR"]
sys.path.insert(0, os.path.join(here, "tests", "e2e"))
from lib import Daemon, wait_for  # noqa: E402
from lib.alertmanager import Alertmanager, now  # noqa: E402

TOKEN = "bench-idle-token"


def memory(pid):
    """(RSS, USS, private dirty) in kB."""
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    uss = dirty = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                uss += int(line.split()[1])
            if line.startswith("Private_Dirty:"):
                dirty += int(line.split()[1])
    return rss, uss, dirty


d = Daemon(token=TOKEN, unix=False, log_level=os.environ.get("LOG_LEVEL", "info"), workers=8,
           directory=tempfile.mkdtemp(prefix="as-bench-idle-", dir=os.environ["BENCH_TMP"]))
am = None
try:
    d.start()
    am = Alertmanager(d.port, TOKEN, group_wait="0s")
    am.post_alerts([{"labels": {"alertname": "BenchIdle", "instance": "db1"},
                     "annotations": {"summary": "warm-up"}, "startsAt": now(-5)}])
    wait_for(lambda: len(d.outbox_counts()) >= 1, 30, interval=0.1, what="the warm-up group")
    time.sleep(float(os.environ["IDLE"]))
    a, m = memory(d.proc.pid), memory(am.proc.pid)
    if os.environ.get("IDLE_DEBUG"):
        os.system("grep Threads /proc/%d/status; cat /proc/%d/smaps_rollup | grep Private; awk '/^[0-9a-f]+-/{m=$6" "$1} /^Private_(Clean|Dirty)/{p[m]+=$2} END{for(k in p) if(p[k]>=8) print p[k], k}' /proc/%d/smaps | sort -rn | head -30" % (d.proc.pid, d.proc.pid, d.proc.pid))
    print("idle.sh: %d CPUs; load average %s; measured %s s after one alert group went "
          "through both" % (os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3]),
                            os.environ["IDLE"]))
    print("%-14s %10s %16s %16s" % ("", "RSS", "USS (private)", "of it dirty"))
    for name, (rss, uss, dirty) in (("alertsink", a), ("alertmanager", m)):
        print("%-14s %7.1f MB %13.2f MB %13.2f MB" % (name, rss / 1024.0, uss / 1024.0,
                                                     dirty / 1024.0))
    met = a[1] <= 2048
    print("target     alertsink USS <= 2 MB: %s (%.1fx less private memory than Alertmanager)"
          % ("yes" if met else "NO", m[1] / max(a[1], 1)))
    sys.exit(0 if met else 2)
finally:
    if am is not None:
        am.close()
    d.stop()
    d.close()
EOF
