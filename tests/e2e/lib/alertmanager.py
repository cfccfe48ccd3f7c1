"""alertmanager.py - Debian's real prometheus-alertmanager in front of alertsink.

    from lib.alertmanager import AM_BINARY, Alertmanager, now

    am = Alertmanager(daemon.port, token)            # its own dir, port, storage
    am.post_alerts([{"labels": {...}, "startsAt": now(-60)}])
    ...
    am.close()

Its webhook receiver "alertsink" posts to /api/v1/alertmanager with the
bearer token; "alertsink-direct" (alerts labelled route="direct") posts to
/api/v1/alertmanager/out.  group_by and group_wait are its route's (default
[alertname] and 1s: with 0s, Alertmanager may flush the first alert of a
group alone under load); group_interval 1s keeps tests quick, and
repeat_interval 1h keeps a group from being notified again during a test.

With mirror_url, receiver "alertsink" also posts every notification
there, as a second webhook: the same payload alertsink receives, to
compare with what alertsink sends on.

No clustering unless cluster_port is given: then it gossips on
127.0.0.1:cluster_port (TCP and UDP, advertised as such: on loopback
Alertmanager cannot find an address to advertise by itself) with the
cluster addresses in peers, and cluster_flags are added to its command
line (--cluster.peer-timeout=1s, ...).  cluster_status() is the "cluster"
object of /api/v2/status; cluster_position() this instance's place in the
cluster, which is how long (times --cluster.peer-timeout) it waits before
it notifies a group that no peer has notified yet.
"""
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

from .alertsink import free_port, stop_process, wait_for

__all__ = ["AM_BINARY", "Alertmanager", "now"]

AM_BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"


def now(delta_s=0):
    """An RFC 3339 time delta_s seconds from now, as Alertmanager's API takes it."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Alertmanager:
    """One Alertmanager with its own config, storage and port; clustered with
    cluster_port and peers."""

    def __init__(self, sink_port, token, group_by=("alertname",), group_wait="1s",
                 group_interval="1s", repeat_interval="1h", cluster_port=None, peers=(),
                 cluster_flags=(), mirror_url=None):
        self.dir = tempfile.mkdtemp(prefix="as-e2e-am-")
        self.port = free_port()
        self.cluster_port = cluster_port
        self.config = os.path.join(self.dir, "alertmanager.yml")
        self.logfile = os.path.join(self.dir, "alertmanager.log")
        base = "http://127.0.0.1:%d/api/v1/alertmanager" % sink_port
        mirror = ("      - url: %s\n"
                  "        send_resolved: true\n" % json.dumps(mirror_url)) if mirror_url else ""
        with open(self.config, "w") as f:
            f.write(
                "route:\n"
                "  receiver: alertsink\n"
                "  group_by: %s\n"
                "  group_wait: %s\n"
                "  group_interval: %s\n"
                "  repeat_interval: %s\n"
                "  routes:\n"
                "    - receiver: alertsink-direct\n"
                "      matchers: ['route=\"direct\"']\n"
                "receivers:\n"
                "  - name: alertsink\n"
                "    webhook_configs:\n"
                "      - url: %s\n"
                "        send_resolved: true\n"
                "        http_config: {authorization: {credentials: %s}}\n"
                "%s"
                "  - name: alertsink-direct\n"
                "    webhook_configs:\n"
                "      - url: %s/out\n"
                "        send_resolved: true\n"
                "        http_config: {authorization: {credentials: %s}}\n"
                % (json.dumps(list(group_by)), group_wait, group_interval, repeat_interval,
                   base, json.dumps(token), mirror, base, json.dumps(token)))
        if cluster_port is None:
            cluster = ["--cluster.listen-address="]
        else:
            addr = "127.0.0.1:%d" % cluster_port
            cluster = (["--cluster.listen-address=" + addr, "--cluster.advertise-address=" + addr] +
                       ["--cluster.peer=127.0.0.1:%d" % p for p in peers] + list(cluster_flags))
        self.log_f = open(self.logfile, "wb")
        self.proc = subprocess.Popen(
            [AM_BINARY, "--config.file=" + self.config,
             "--storage.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=debug"] + cluster,
            stdout=self.log_f, stderr=subprocess.STDOUT)
        try:
            wait_for(self.ready, 30, interval=0.2, what="Alertmanager to start")
        except BaseException:
            self.close()
            raise

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("alertmanager exited:\n" + self.log())
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def cluster_status(self):
        """The "cluster" object of /api/v2/status: name, status, peers."""
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v2/status" % self.port,
                                    timeout=5) as r:
            return json.loads(r.read())["cluster"]

    def cluster_position(self):
        """This instance's index among the peers sorted by name, as
        Alertmanager's cluster.Peer.Position() computes it."""
        st = self.cluster_status()
        return sorted(p["name"] for p in st["peers"]).index(st["name"])

    def post_alerts(self, alerts):
        req = urllib.request.Request("http://127.0.0.1:%d/api/v2/alerts" % self.port,
                                     data=json.dumps(alerts).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200, r.status

    def log(self):
        with open(self.logfile, "rb") as f:
            return f.read().decode(errors="replace")

    def close(self):
        stop_process(self.proc, 10)
        self.log_f.close()
        if not os.environ.get("AS_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
