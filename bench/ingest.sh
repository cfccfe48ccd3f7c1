#!/usr/bin/env bash
# ingest.sh - how fast does alertsink take Alertmanager webhooks, next to
# nginx answering `return 200`, and is every 200 it gives durable?
#
#   bench/ingest.sh                 # ALERTSINK=path/to/alertsink to choose the binary
#
# Both servers get the same load: wrk -t2 -c32 -d10s POSTing
# tests/fixtures/alertmanager-0.25/firing-group-2.json.  alertsink runs with
# the file sink and its spool on disk (under $TMPDIR, default /var/tmp), so
# every 200 costs a share of a group commit (write, fdatasync, rename,
# directory fsync) and a delivery (an fdatasync'ed line in the outbox).
#
# Durability check: wrk's response() hook collects the id of every 200.
# Right after the run alertsink is killed with SIGKILL (nothing is flushed
# or finished on the way out), restarted on the same spool, and left to
# drain it; then every collected id must be in the outbox exactly once.
# Requests still in flight when wrk stopped may be in the outbox too
# (accepted, but wrk never saw the answer): they are counted, not checked.
#
# Targets: alertsink >= 0.5x nginx's requests/s, p99 <= 2x nginx's p99,
# no non-2xx answer.  Exit 0 when all is well, 2 when a performance target
# is missed, 1 when an answer was wrong or an accepted alert was lost.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
ALERTSINK=${ALERTSINK:-$here/build/alertsink}
PY=/usr/bin/python3
FIXTURE=$here/tests/fixtures/alertmanager-0.25/firing-group-2.json
THREADS=${THREADS:-2} CONNS=${CONNS:-32} DURATION=${DURATION:-10s}

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

run_wrk() { # name port [ids file]
    BENCH_BODY=$FIXTURE BENCH_IDS=${3:-} wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency \
        -s "$dir/post.lua" "http://127.0.0.1:$2/api/v1/alertmanager" >"$dir/wrk-$1.txt"
}
run_wrk nginx "$nport"
run_wrk alertsink "$aport" "$dir/ids.txt"
{ kill -9 "$apid"; wait "$apid"; } 2>/dev/null || true

# --- after SIGKILL: restart, drain, check ---------------------------------------------
start_alertsink
drained=0
for _ in $(seq 1 600); do
    left=$(find "$dir/spool/incoming" "$dir/spool/active" "$dir/spool/deferred" -type f ! -name '*.log' | wc -l)
    if [ "$left" = 0 ]; then drained=1; break; fi
    sleep 0.2
done
{ kill -TERM "$apid"; wait "$apid"; } 2>/dev/null || true
[ "$drained" = 1 ] || echo "ingest.sh: the spool did not drain within 120 s" >&2

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
counts = {}
for line in open(d + "/outbox.jsonl"):
    i = json.loads(line)["id"]
    counts[i] = counts.get(i, 0) + 1
lost = [i for i in ids if i not in counts]
dup = [i for i, c in counts.items() if c != 1]
extra = len(set(counts) - set(ids))
print("durable    %d of %d ids answered 200 are in the outbox after kill -9 + restart; "
      "%d lost, %d delivered twice, %d more accepted while wrk stopped%s"
      % (len(ids) - len(lost), len(ids), len(lost), len(dup), extra,
         "" if drained else " (spool not drained)"))
bad = lost or dup or a[3] or a[4] or len(ids) != a[2] - a[3] or not drained
met = ratio >= 0.5 and p99ratio <= 2.0
print("targets    req/s >= 0.5x: %s   p99 <= 2x: %s   0 non-2xx: %s   durable: %s"
      % ("yes" if ratio >= 0.5 else "NO", "yes" if p99ratio <= 2 else "NO",
         "yes" if not a[3] else "NO", "NO" if bad else "yes"))
sys.exit(1 if bad else 0 if met else 2)
EOF
