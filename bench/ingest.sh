#!/usr/bin/env bash
# ingest.sh - how fast does alertsink take Alertmanager webhooks, next to
# nginx answering `return 200`, what does each request cost it, and is
# every 200 it gives durable?
#
#   bench/ingest.sh                 # ALERTSINK=path/to/alertsink to choose the binary
#   PROFILE=top.txt bench/ingest.sh # and the daemon's top 10 symbols (perf) in top.txt
#
# Both servers get the same load: wrk -t2 -c32 -d10s POSTing
# tests/fixtures/alertmanager-0.25/firing-group-2.json.  alertsink runs with
# the file sink and its spool on disk (under $TMPDIR, default /var/tmp), so
# every 200 costs a share of a group commit (write, fdatasync, rename,
# directory fsync) and a delivery (a line in the outbox, fdatasync'ed with
# the rest of its batch).  Delivery runs during the load, as in production.
#
# Printed from /proc, over the run and the drain after it (the work the
# requests caused, whenever it ran): the daemon's CPU time (utime + stime
# of every thread, /proc/PID/stat) per accepted request, and its context
# switches (voluntary + nonvoluntary, summed over /proc/PID/task/*/status)
# per accepted request.  Then how long the queue took to drain after the
# last answer (the outbox keeping up: incoming/, active/ and deferred/
# empty).
#
# Durability check: wrk's response() hook collects the id of every 200.
# A second, short run is cut by a SIGKILL of alertsink in the middle of
# the load (nothing is flushed or finished on the way out); alertsink is
# restarted on the same spool and left to drain it; then every id answered
# 200 in either run must be in the outbox exactly once.  Requests in
# flight at the kill may be in the outbox too (accepted, but wrk never saw
# the answer): they are counted, not checked.
#
# Targets: alertsink >= 0.5x nginx's requests/s, p99 <= 2x nginx's p99,
# no non-2xx answer, CPU <= 50 us and <= 1 context switch per accepted
# request, drained within 2 s.  Exit 0 when all is well, 2 when a
# performance target is missed, 1 when an answer was wrong or an accepted
# alert was lost.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
ALERTSINK=${ALERTSINK:-$here/build/alertsink}
PY=/usr/bin/python3
FIXTURE=$here/tests/fixtures/alertmanager-0.25/firing-group-2.json
THREADS=${THREADS:-2} CONNS=${CONNS:-32} DURATION=${DURATION:-10s}
KILL_AFTER=${KILL_AFTER:-2} KILL_RUN=${KILL_RUN:-4s}

die() { echo "ingest.sh: $*" >&2; exit 1; }
[ -x "$ALERTSINK" ] || die "no alertsink binary at $ALERTSINK (build first, or set ALERTSINK)"
missing=""
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
command -v wrk >/dev/null || missing="$missing wrk"
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || die "missing:$missing (apt-get install$missing)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

dir=$(mktemp -d "${TMPDIR:-/var/tmp}/as-bench-XXXXXX")
pids=()
cleanup() {
    # nginx's master stops its workers on TERM; a KILL would orphan them.
    [ -z "${ngx_pid:-}" ] || kill -TERM "$ngx_pid" 2>/dev/null || true
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 100); do
        $PY -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null && return 0
        sleep 0.1
    done
    die "nothing listens on port $1"
}
# "UTICKS STICKS CTXSW": user and system CPU clock ticks of the whole
# process, context switches of all its threads.
proc_sample() {
    local t c=0 v
    t=$(awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/$1/stat")
    for v in $(cat /proc/"$1"/task/*/status 2>/dev/null |
               awk '/^(non)?voluntary_ctxt_switches/ { print $2 }'); do
        c=$((c + v))
    done
    echo "$t $c"
}
queue_left() {
    find "$dir/spool/incoming" "$dir/spool/active" "$dir/spool/deferred" -type f ! -name '*.log' |
        wc -l
}

echo "ingest.sh: $(nproc) CPUs; load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- nginx: return 200 ------------------------------------------------------------
nport=$(free_port)
mkdir -p "$dir/nginx/logs"
cat >"$dir/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/nginx/body;
    server {
        listen 127.0.0.1:$nport;
        location / { return 200 '{"status":"queued","id":"nginx"}'; }
    }
}
EOF
"$NGINX" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g 'daemon off;' &
ngx_pid=$!
wait_port "$nport"

# --- alertsink: file sink, spool on disk ------------------------------------------
aport=$(free_port)
cat >"$dir/alertsink.yaml" <<EOF
log: { level: warn }
spool: { dir: $dir/spool, max_age: 1h, max_size: 4GiB }
http: { listen: 127.0.0.1:$aport, max_body: 1MiB }
unix: { path: "" }
defaults: { dedup_window: 0s }
receivers:
  - name: outbox
    file: { path: $dir/outbox.jsonl }
route: { receiver: outbox, group_by: [alertname] }
EOF
start_alertsink() {
    "$ALERTSINK" -c "$dir/alertsink.yaml" >>"$dir/alertsink.log" 2>&1 &
    apid=$!
    pids+=($apid)
    wait_port "$aport"
}
start_alertsink

# --- the load -----------------------------------------------------------------------
cat >"$dir/post.lua" <<'EOF'
-- POST the fixture; collect the id of every 200 (alertsink's answer names it).
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ids = {} nids = 0 end
function response(status, headers, body)
    if status == 200 then
        local id = body:match('"id":"([^"]+)"')
        if id then nids = nids + 1; ids[nids] = id end
    end
end
function done(summary, latency, requests)
    local out = os.getenv("BENCH_IDS")
    if not out or out == "" then return end
    local f = assert(io.open(out, "w"))
    for _, t in ipairs(threads) do
        for _, id in ipairs(t:get("ids")) do f:write(id, "\n") end
    end
    f:close()
end
EOF

run_wrk() { # name port duration [ids file]
    BENCH_BODY=$FIXTURE BENCH_IDS=${4:-} wrk -t"$THREADS" -c"$CONNS" -d"$3" --latency \
        -s "$dir/post.lua" "http://127.0.0.1:$2/api/v1/alertmanager" >"$dir/wrk-$1.txt"
}
run_wrk nginx "$nport" "$DURATION"

before=$(proc_sample "$apid")
# PROFILE=FILE: perf samples the daemon (call graphs) during its run, and
# its top 10 symbols go to FILE.
if [ -n "${PROFILE:-}" ]; then
    perf record -q -g -o "$dir/perf.data" -p "$apid" 2>/dev/null &
    perf_pid=$!
fi
run_wrk alertsink "$aport" "$DURATION" "$dir/ids.txt"
if [ -n "${PROFILE:-}" ]; then
    kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
    { perf report -i "$dir/perf.data" --no-children --stdio -F overhead,sym 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -10 >"$PROFILE"; } || true
fi
t0=$(date +%s%N)
drain_ms=-1
for _ in $(seq 1 3000); do
    if [ "$(queue_left)" = 0 ]; then drain_ms=$((($(date +%s%N) - t0) / 1000000)); break; fi
    sleep 0.01
done
after=$(proc_sample "$apid")
echo "$before $after $(getconf CLK_TCK) $drain_ms" >"$dir/proc.txt"

# --- kill -9 in the middle of the load, restart, drain, check ------------------------
( sleep "$KILL_AFTER"; kill -9 "$apid" 2>/dev/null ) &
killer=$!
run_wrk kill "$aport" "$KILL_RUN" "$dir/ids-kill.txt" || true
wait "$killer" 2>/dev/null || true
wait "$apid" 2>/dev/null || true

start_alertsink
drained=0
for _ in $(seq 1 600); do
    if [ "$(queue_left)" = 0 ]; then drained=1; break; fi
    sleep 0.2
done
{ kill -TERM "$apid"; wait "$apid"; } 2>/dev/null || true
[ "$drained" = 1 ] || echo "ingest.sh: the spool did not drain within 120 s after the restart" >&2

$PY - "$dir" "$drained" <<'EOF'
import json, re, sys
d, drained = sys.argv[1], sys.argv[2] == "1"

def wrk(name):
    t = open("%s/wrk-%s.txt" % (d, name)).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", t, re.M)
    p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    total = int(re.search(r"(\d+) requests in", t).group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
    non2xx = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    errors = sum(map(int, m.groups())) if m else 0
    return rps, p99, total, non2xx, errors

n, a = wrk("nginx"), wrk("alertsink")
for name, (rps, p99, total, non2xx, errors) in (("nginx", n), ("alertsink", a)):
    print("%-10s %10.0f req/s   p99 %8.2f ms   %7d requests   non-2xx %d   socket errors %d"
          % (name, rps, p99, total, non2xx, errors))
ratio, p99ratio = a[0] / n[0], a[1] / n[1]
print("ratio      %10.2f x nginx's req/s   p99 %.2f x nginx's" % (ratio, p99ratio))

ids = open(d + "/ids.txt").read().split()
u0, s0, c0, u1, s1, c1, hz, drain_ms = map(int, open(d + "/proc.txt").read().split())
acc = max(len(ids), 1)
cpu_us = (u1 - u0 + s1 - s0) * 1e6 / hz / acc
csw = (c1 - c0) / acc
print("cost       %.1f us CPU (user %.1f, system %.1f) and %.2f context switches per accepted "
      "request (%d requests, %.2f s CPU, %d switches)"
      % (cpu_us, (u1 - u0) * 1e6 / hz / acc, (s1 - s0) * 1e6 / hz / acc, csw, len(ids),
         (u1 - u0 + s1 - s0) / hz, c1 - c0))
print("drain      %s after the last answer" %
      ("%.2f s" % (drain_ms / 1000.0) if drain_ms >= 0 else "NOT within 30 s"))

kids = open(d + "/ids-kill.txt").read().split()
counts = {}
for line in open(d + "/outbox.jsonl"):
    i = json.loads(line)["id"]
    counts[i] = counts.get(i, 0) + 1
answered = ids + kids
lost = [i for i in answered if i not in counts]
dup = [i for i, c in counts.items() if c != 1]
extra = len(set(counts) - set(answered))
print("durable    %d of %d ids answered 200 (%d of them in the run cut by kill -9) are in the "
      "outbox after the restart; %d lost, %d delivered twice, %d more accepted unanswered%s"
      % (len(answered) - len(lost), len(answered), len(kids), len(lost), len(dup), extra,
         "" if drained else " (spool not drained)"))
bad = lost or dup or a[3] or a[4] or len(ids) != a[2] - a[3] or not drained
checks = [("req/s >= 0.5x", ratio >= 0.5), ("p99 <= 2x", p99ratio <= 2.0),
          ("0 non-2xx", not a[3]), ("CPU <= 50 us", cpu_us <= 50), ("switches <= 1", csw <= 1),
          ("drain <= 2 s", 0 <= drain_ms <= 2000)]
print("targets    " + "   ".join("%s: %s" % (k, "yes" if v else "NO") for k, v in checks) +
      "   durable: %s" % ("NO" if bad else "yes"))
sys.exit(1 if bad else 0 if all(v for _, v in checks) else 2)
EOF
