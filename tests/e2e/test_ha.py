"""test_ha.py - alertsink behind a cluster of two real Alertmanagers.

The high-availability set-up the README describes, on loopback: two
Debian prometheus-alertmanager instances in one gossip cluster, each
sending its webhooks to its own alertsink (its own spool, file sink), and
the same alerts posted to both, as Prometheus posts every alert to every
Alertmanager.  Alertmanager's notification log, gossiped between the two,
is what keeps the second one from notifying a group the first one did:
the instance at cluster position 0 notifies at once, the one at position
1 waits --cluster.peer-timeout, then notifies only what the log does not
show as notified.

  1. steady:   STEADY groups while everything runs.  Every group must be
               delivered (by either alertsink); groups delivered twice are
               duplicates (the notification log's race), counted and
               bounded.
  2. held:     HELD groups that the first alertsink accepts (200, on disk)
               but cannot deliver yet: its receiver "held" writes into a
               directory that does not exist (a stand-in for WhatsApp
               being down).  Alertmanager takes the 200 as notified, so
               the second Alertmanager rightly leaves these groups alone:
               they now exist only in that alertsink's spool.
  3. kill:     the first alertsink is killed with SIGKILL; TAKEOVER new
               groups are posted.  The first Alertmanager's webhooks fail
               and nothing reaches its notification log, so the second
               one notifies them after the peer timeout: every group must
               be delivered, and the time from the kill to each delivery
               is measured.
  4. restart:  the first alertsink is started again on its spool (with
               the directory of "held" there now).  Every id it answered
               200 before the kill must be delivered: the held groups,
               late.  Alertmanager also retries the webhooks that failed
               while it was down (for at least 10 s, its minimum
               notification timeout), so groups the second alertsink
               delivered in phase 3 can arrive here again: counted as
               duplicates of the restart.

The figures are printed as "ha: ..." lines (grep '^ha:').  Timings of
Alertmanager are its own and do not scale with SLOW; alertsink's do.
"""
import datetime
import json
import os
import re
import socket
import statistics
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import SLOW, Daemon, wait_for  # noqa: E402
from lib.alertmanager import AM_BINARY, Alertmanager, now  # noqa: E402

TOKEN = "ha-e2e-token"
STEADY, HELD, TAKEOVER = 20, 5, 10
GROUP_WAIT = 1.0    # s, Alertmanager's route
PEER_TIMEOUT = 1.0  # s, --cluster.peer-timeout
AM_MIN_TIMEOUT = 10.0  # s, Alertmanager's notify.MinTimeout: how long it retries a webhook
# A duplicate of the steady phase needs a notification that took longer
# than the peer timeout, or a gossip message later than that: rare.
STEADY_DUPLICATES_MAX = STEADY // 10
CLUSTER_FLAGS = [
    "--cluster.peer-timeout=%ds" % PEER_TIMEOUT,
    "--cluster.gossip-interval=100ms",
    "--cluster.pushpull-interval=1s",
    # Settling polls every 10 gossip intervals until the peer count held
    # still three times; both peers are there from the start.
    "--cluster.settle-timeout=2s",
    "--cluster.reconnect-interval=1s",
]
ROUTE = ('{receiver: out, group_by: [alertname], '
         'routes: [{receiver: held, matchers: [\'stage="held"\']}]}')
HEADER = re.compile(r"^\[(?:FIRING:\d+|RESOLVED)\] (\S+)")


def free_cluster_port(taken):
    """A loopback port free for both TCP and UDP (memberlist uses both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in taken:
            return port


def group_alerts(names, stage):
    """Two alerts a group, starting now (so group_wait holds them together)."""
    start = now()
    return [{"labels": {"alertname": n, "instance": inst, "stage": stage},
             "annotations": {"summary": "%s on %s" % (n, inst)}, "startsAt": start}
            for n in names for inst in ("db1", "db2")]


def rfc3339(t):
    return datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Sink:
    """One alertsink of the cluster: the Daemon and what it delivered."""

    def __init__(self, name):
        self.name = name
        d = tempfile.mkdtemp(prefix="as-e2e-ha-")
        self.held_dir = os.path.join(d, "held")
        held = "  - name: held\n    file: {path: %s}\n" % json.dumps(
            os.path.join(self.held_dir, "outbox.jsonl"))
        self.daemon = Daemon(token=TOKEN, unix=False, log_level="debug", route=ROUTE,
                             receivers=held, directory=d)

    def deliveries(self):
        """[(group, receiver, id, time)] of both file sinks, in file order."""
        out = []
        for path in (self.daemon.outbox, os.path.join(self.held_dir, "outbox.jsonl")):
            try:
                with open(path, "rb") as f:
                    lines = [json.loads(l) for l in f.read().splitlines() if l.strip()]
            except FileNotFoundError:
                continue
            for l in lines:
                m = HEADER.match(l["text"])
                out.append((m.group(1) if m else None, l["receiver"], l["id"], rfc3339(l["time"])))
        return out

    def groups(self):
        return [d[0] for d in self.deliveries()]

    def answered_ids(self):
        """Ids this alertsink answered 200 for (its debug log says so once on disk)."""
        return set(re.findall(r'msg="http request queued" id=(\S+)', self.daemon.log()))

    def held_attempted(self):
        """Notes of "held" attempted at least once (so accepted)."""
        return set(re.findall(r'msg="delivery attempt" id=(\S+) receiver=held', self.daemon.log()))


def count(groups):
    c = {}
    for g in groups:
        c[g] = c.get(g, 0) + 1
    return c


@unittest.skipUnless(os.access(AM_BINARY, os.X_OK), "prometheus-alertmanager is not installed")
class AlertmanagerCluster(unittest.TestCase):
    def setUp(self):
        self.sinks, self.ams = [], []
        t0 = time.monotonic()
        try:
            self.sinks = [Sink("alertsink-1"), Sink("alertsink-2")]
            for s in self.sinks:
                s.daemon.start()
            p1 = free_cluster_port(())
            p2 = free_cluster_port((p1,))
            for sink, mine, peer in ((self.sinks[0], p1, p2), (self.sinks[1], p2, p1)):
                self.ams.append(Alertmanager(sink.daemon.port, TOKEN, group_wait="%ds" % GROUP_WAIT,
                                             group_interval="1s", repeat_interval="1h",
                                             cluster_port=mine, peers=[peer],
                                             cluster_flags=CLUSTER_FLAGS))

            def settled():
                sts = [am.cluster_status() for am in self.ams]
                return all(st["status"] == "ready" and len(st["peers"]) == 2 for st in sts)
            wait_for(settled, 20, interval=0.2, what="the Alertmanager cluster to settle")
        except BaseException:
            self.tearDown()
            raise
        print("ha: cluster of 2 ready in %.1f s" % (time.monotonic() - t0), flush=True)

    def tearDown(self):
        for am in self.ams:
            am.close()
        for s in self.sinks:
            s.daemon.close()

    def post_both(self, alerts):
        for am in self.ams:
            am.post_alerts(alerts)

    def delivered(self):
        """{group: total deliveries} over both alertsinks."""
        return count(g for s in self.sinks for g in s.groups())

    @staticmethod
    def delivery_times(sink, names, since):
        """Sorted seconds from since (wall clock) to each group's delivery by sink."""
        return sorted(d[3] - since for d in sink.deliveries() if d[0] in names)

    def wait_delivered(self, names, timeout, what):
        names = set(names)
        wait_for(lambda: names <= set(self.delivered()), timeout, interval=0.05, what=what)

    def test_cluster_dedup_takeover_and_restart(self):
        t_start = time.monotonic()
        pos = [am.cluster_position() for am in self.ams]
        self.assertEqual(sorted(pos), [0, 1], "the two instances disagree on their positions")
        first = pos.index(0)
        sink_p, sink_s = self.sinks[first], self.sinks[1 - first]
        # Only the second alertsink can deliver "held" (a channel that
        # works there and not on the first one).
        os.makedirs(sink_s.held_dir)
        print("ha: position 0 (notifies first) is %s's Alertmanager; --cluster.peer-timeout=%gs "
              "group_wait=%gs" % (sink_p.name, PEER_TIMEOUT, GROUP_WAIT), flush=True)

        # 1+2. Steady groups and held groups together.
        steady = ["HaSteady%02d" % i for i in range(STEADY)]
        held = ["HaHeld%02d" % i for i in range(HELD)]
        self.post_both(group_alerts(steady, "steady") + group_alerts(held, "held"))
        t_post = time.monotonic()
        self.wait_delivered(steady, 20, "every steady group delivered")
        wait_for(lambda: len(sink_p.held_attempted()) >= HELD, 20, interval=0.05,
                 what="the held groups accepted by %s" % sink_p.name)
        # The second Alertmanager decides at group_wait + peer timeout;
        # a duplicate shows up shortly after that or never.
        time.sleep(max(0.0, t_post + GROUP_WAIT + PEER_TIMEOUT + 1.5 - time.monotonic()))
        c = self.delivered()
        steady_dups = sum(c[g] - 1 for g in steady)
        print("ha: steady groups=%d delivered=%d deliveries=%d duplicates=%d "
              "(by %s %d, by %s %d)"
              % (STEADY, sum(1 for g in steady if g in c), sum(c[g] for g in steady),
                 steady_dups, sink_p.name, sum(1 for g in sink_p.groups() if g in steady),
                 sink_s.name, sum(1 for g in sink_s.groups() if g in steady)), flush=True)
        self.assertLessEqual(steady_dups, STEADY_DUPLICATES_MAX,
                             "the notification log let too many groups through twice")
        self.assertEqual([g for g in held if g in sink_p.groups()], [],
                         "held groups delivered where the sink cannot deliver")

        # 3. Kill the first alertsink; new groups must reach the second.
        answered = sink_p.answered_ids()
        sink_p.daemon.kill9()
        t_kill = time.time()
        answered |= sink_p.answered_ids()  # what it logged until it died
        before_restart = set(sink_p.deliveries())
        early = ["HaTakeoverA%02d" % i for i in range(TAKEOVER)]
        self.post_both(group_alerts(early, "takeover"))
        self.wait_delivered(early, 20, "every group posted after the kill delivered")
        took = self.delivery_times(sink_s, early, t_kill)
        print("ha: kill groups=%d delivered=%d time_to_delivery_after_kill_s p50=%.2f max=%.2f "
              "(group_wait %gs + peer timeout %gs)"
              % (TAKEOVER, len(set(early) & set(self.delivered())), statistics.median(took),
                 took[-1], GROUP_WAIT, PEER_TIMEOUT), flush=True)
        self.assertGreaterEqual(took[0], PEER_TIMEOUT - 0.1,
                                "delivered before the peer timeout: by the second Alertmanager?")
        self.assertLess(took[-1], GROUP_WAIT + PEER_TIMEOUT + 3 * SLOW,
                        "the second Alertmanager took too long to take over")

        # More groups shortly before the restart, while the first
        # Alertmanager still retries the early ones' webhooks.
        time.sleep(max(0.0, t_kill + AM_MIN_TIMEOUT - 1.0 - time.time()))
        recent = ["HaTakeoverB%02d" % i for i in range(TAKEOVER)]
        t_recent = time.time()
        self.post_both(group_alerts(recent, "takeover"))
        self.wait_delivered(recent, 20, "every group posted while it was down delivered")
        took_recent = self.delivery_times(sink_s, recent, t_recent)
        print("ha: down groups=%d delivered=%d time_to_delivery_s p50=%.2f max=%.2f"
              % (TAKEOVER, len(set(recent) & set(self.delivered())),
                 statistics.median(took_recent), took_recent[-1]), flush=True)
        self.assertLess(took_recent[-1], GROUP_WAIT + PEER_TIMEOUT + 3 * SLOW)

        # 4. Restart the first alertsink on its spool, its channel repaired,
        # once Alertmanager has given up on the early groups (it retries a
        # webhook for AM_MIN_TIMEOUT after its flush at group_wait) and
        # while it still retries the recent ones.
        time.sleep(max(0.0, t_kill + GROUP_WAIT + AM_MIN_TIMEOUT + 1.0 - time.time()))
        os.makedirs(sink_p.held_dir)
        t_restart = time.time()
        sink_p.daemon.start()
        self.wait_delivered(held, 30, "the held groups delivered after the restart")
        time.sleep(max(0.0, t_recent + GROUP_WAIT + AM_MIN_TIMEOUT + 1.0 - time.time()))
        late = [d for d in sink_p.deliveries() if d not in before_restart]
        late_spool = [d for d in late if d[0] in held]
        late_early = [d for d in late if d[0] in early]
        late_recent = [d for d in late if d[0] in recent]
        delivered_ids = {d[2].split(".")[0] for d in sink_p.deliveries()}
        lost = sorted(answered - delivered_ids)
        print("ha: restart answered_200_before_kill=%d lost=%d late_deliveries=%d "
              "(from the spool %d; Alertmanager retries of groups the peer delivered: "
              "posted %.0fs before the restart %d, %.0fs before %d) "
              "restart_to_held_delivered_s=%.2f"
              % (len(answered), len(lost), len(late), len(late_spool),
                 t_restart - t_kill, len(late_early), t_restart - t_recent, len(late_recent),
                 max(d[3] for d in late_spool) - t_restart), flush=True)
        self.assertEqual(lost, [], "answered 200 before the kill, never delivered")
        self.assertEqual(sorted(d[0] for d in late_spool), held,
                         "each held group delivered once by the restarted alertsink")
        self.assertEqual([d for d in late if d[0] not in held + early + recent], [],
                         "unexpected late deliveries")
        self.assertEqual(late_early, [], "Alertmanager retried past its notification timeout")
        self.assertLessEqual(len(late_recent), TAKEOVER)
        held_by_s = [g for g in held if g in sink_s.groups()]
        self.assertEqual(held_by_s, [], "the second Alertmanager notified groups already accepted")

        c = self.delivered()
        groups = steady + held + early + recent
        missing = [g for g in groups if g not in c]
        self.assertEqual(missing, [], "groups never delivered")
        self.assertEqual(set(c) - set(groups), set(), "deliveries of unknown groups")
        dups = sum(n - 1 for n in c.values())
        print("ha: total groups=%d delivered=%d deliveries=%d duplicates=%d wall_s=%.1f"
              % (len(groups), len(groups) - len(missing), sum(c.values()), dups,
                 time.monotonic() - t_start), flush=True)
        for s in self.sinks:
            s.daemon.finish()


if __name__ == "__main__":
    unittest.main(verbosity=2)
