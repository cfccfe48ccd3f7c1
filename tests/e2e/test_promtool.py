#!/usr/bin/python3
"""test_promtool.py - GET /metrics passes `promtool check metrics` (Debian's
prometheus package), on the live output of a daemon that has been through
every kind of event: deliveries, failed attempts, a dead letter, a
duplicate, a muted notification, requests refused for each reason, both
inputs, and a receiver whose name needs escaping in a label value.  The
build and process metrics (alertsink_build_info, process_*) agree with
`alertsink -V` and with what /proc says about the daemon.

promtool checks the format and lints it (counter names, HELP, TYPE); the
test also checks that the numbers are the ones the events imply, and that
promtool does reject a broken exposition, so that the check can fail.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SLOW, Daemon, alert, metric_samples, wait_for  # noqa: E402

ALERTS = "/api/v1/alerts"
WEIRD = 'we"ird\\name'  # a receiver name with a quote and a backslash
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def promtool(text):
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=60)
    return p.returncode, (p.stdout + p.stderr).decode()


class Promtool(unittest.TestCase):
    def test_live_metrics_pass_promtool(self):
        self.assertTrue(os.path.exists(PROMTOOL), "promtool is missing (apt-get install prometheus)")
        d = Daemon(token="tok", max_body="4KiB", spool={"max_age": "2s"},
                   dedup_window="5m")
        try:
            with open(d.config) as f:
                text = f.read()
            broken = os.path.join(d.dir, "missing", "x.jsonl")
            text = text.replace(
                "route: {receiver: out, group_by: [alertname]}\n",
                "  - name: %s\n"
                "    file: {path: %s}\n"
                "time_intervals:\n"
                "  - name: always\n"
                "    time_intervals: [{times: [{start_time: '00:00', end_time: '24:00'}]}]\n"
                "route:\n"
                "  receiver: out\n"
                "  group_by: [alertname]\n"
                "  routes:\n"
                "    - {matchers: ['team=\"weird\"'], receiver: %s}\n"
                "    - {matchers: ['team=\"muted\"'], receiver: out,"
                " mute_time_intervals: [always]}\n"
                % (json.dumps(WEIRD), json.dumps(broken), json.dumps(WEIRD)))
            with open(d.config, "w") as f:
                f.write(text)
            d.start()

            ok = [d.post(ALERTS, alert("Ok%d" % i)).json["id"] for i in range(5)]
            self.assertEqual(d.post(ALERTS, alert("Ok0")).status, 200)  # a duplicate
            self.assertEqual(d.post(ALERTS, alert("Muted", team="muted")).status, 200)
            dead = d.post(ALERTS, alert("Weird", team="weird")).json["id"]
            self.assertEqual(d.post(ALERTS, alert("NoToken"), token=None).status, 401)
            self.assertEqual(d.post(ALERTS, b"{", token="tok").status, 400)
            self.assertEqual(d.post(ALERTS, b"x" * 8192).status, 413)
            answers = d.unix("from the socket\n")
            self.assertTrue(answers[0].startswith("OK "), answers)
            ok.append(answers[0][3:])
            d.wait_outbox(ok)
            wait_for(lambda: os.path.exists(os.path.join(d.spool, "dead", dead)), 30,
                     what="the dead letter")
            wait_for(lambda: "deduplicated_total" in d.get("/metrics", token=None).body.decode()
                     and "muted_total{" in d.get("/metrics", token=None).body.decode(), 10,
                     what="dedup and mute counted")

            r = d.get("/metrics", token=None)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"))
            body = r.body.decode()
            rc, out = promtool(body)
            print("promtool check metrics: exit %d, %d lines checked%s"
                  % (rc, len(body.splitlines()), (": " + out.strip()) if out.strip() else ""))
            self.assertEqual(rc, 0, out + "\n" + body)
            self.assertEqual(out.strip(), "", "promtool lint findings")

            s = metric_samples(body)
            esc = WEIRD.replace("\\", "\\\\").replace('"', '\\"')
            self.assertEqual(s['alertsink_queued_total{input="http"}'], 8)
            self.assertGreaterEqual(s['alertsink_received_total{input="http"}'], 8)
            self.assertEqual(s['alertsink_received_total{input="unix"}'], 1)
            self.assertEqual(s['alertsink_delivered_total{receiver="out",channel="file"}'], 6)
            self.assertGreaterEqual(
                s['alertsink_failed_total{receiver="%s",channel="file"}' % esc], 1)
            self.assertEqual(s['alertsink_dead_total{receiver="%s"}' % esc], 1)
            self.assertEqual(s['alertsink_deduplicated_total{receiver="out"}'], 1)
            self.assertEqual(s['alertsink_muted_total{receiver="out"}'], 1)
            for reason in ("unauthorized", "malformed", "too_large"):
                self.assertIn('alertsink_rejected_total{input="http",reason="%s"}' % reason, s,
                              "no rejected_total for %s" % reason)
            self.assertEqual(s['alertsink_queue_depth{state="dead"}'], 1)
            self.assertEqual(
                s['alertsink_delivery_latency_seconds_count{channel="file"}'], 6)
            self.assertEqual(
                s['alertsink_delivery_latency_seconds_bucket{channel="file",le="+Inf"}'], 6)
            self.assertEqual(d.stop(), 0)
        finally:
            d.close()

    def test_process_and_build_metrics(self):
        """alertsink_build_info and the process_* metrics of Prometheus client
        libraries, compared with what /proc says about the daemon."""
        d = Daemon(unix=False)
        try:
            d.start()
            pid = d.proc.pid
            r = d.get("/metrics", token=None)
            body = r.body.decode()
            rc, out = promtool(body)
            self.assertEqual((rc, out.strip()), (0, ""), out)
            s = metric_samples(body)
            version = subprocess.run([BINARY, "-V"], capture_output=True, text=True).stdout
            version = re.match(r"alertsink (\S+) ", version).group(1)
            self.assertEqual(s['alertsink_build_info{version="%s"}' % version], 1)
            for name, kind in (("process_cpu_seconds_total", "counter"),
                               ("process_resident_memory_bytes", "gauge"),
                               ("process_virtual_memory_bytes", "gauge"),
                               ("process_open_fds", "gauge"), ("process_max_fds", "gauge"),
                               ("process_start_time_seconds", "gauge")):
                self.assertIn("# TYPE %s %s\n" % (name, kind), body)
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read().rsplit(")", 1)[1].split()
            tick = os.sysconf("SC_CLK_TCK")
            with open("/proc/stat") as f:
                btime = int(re.search(r"^btime (\d+)$", f.read(), re.M).group(1))
            self.assertAlmostEqual(s["process_start_time_seconds"],
                                   btime + int(stat[19]) / tick, delta=0.02)
            self.assertAlmostEqual(s["process_start_time_seconds"], time.time(), delta=60 * SLOW)
            cpu = (int(stat[11]) + int(stat[12])) / tick
            self.assertLessEqual(s["process_cpu_seconds_total"], cpu + 0.5)
            self.assertGreaterEqual(s["process_cpu_seconds_total"], 0)
            with open("/proc/%d/status" % pid) as f:
                rss = int(re.search(r"^VmRSS:\s+(\d+) kB$", f.read(), re.M).group(1)) * 1024
            self.assertAlmostEqual(s["process_resident_memory_bytes"], rss, delta=rss / 4)
            fds = len(os.listdir("/proc/%d/fd" % pid))
            # The scrape's own connection is open while it is counted.
            self.assertIn(s["process_open_fds"], (fds, fds + 1), body)
            with open("/proc/%d/limits" % pid) as f:
                soft = re.search(r"^Max open files\s+(\S+)", f.read(), re.M).group(1)
            self.assertEqual(s["process_max_fds"], float(soft))
            # CPU time grows with work.
            for i in range(300):
                d.get("/metrics", token=None)
            later = metric_samples(d.get("/metrics", token=None).body.decode())
            self.assertGreater(later["process_cpu_seconds_total"], s["process_cpu_seconds_total"])
            self.assertEqual(d.stop(), 0)
        finally:
            d.close()

    def test_promtool_rejects_broken_expositions(self):
        self.assertTrue(os.path.exists(PROMTOOL), "promtool is missing (apt-get install prometheus)")
        good = ('# HELP alertsink_dead_total Notifications moved to dead/.\n'
                '# TYPE alertsink_dead_total counter\n'
                'alertsink_dead_total{receiver="we\\"ird"} 1\n')
        self.assertEqual(promtool(good)[0], 0)
        for bad in (good.replace('we\\"ird', 'we"ird'),          # unescaped quote
                    good.replace("alertsink_dead_total", "alertsink_dead")):  # lint: no _total
            rc, out = promtool(bad)
            self.assertNotEqual(rc, 0, "promtool accepted:\n" + bad)
        self.assertTrue(re.search(r"counter", promtool(good.replace(
            "alertsink_dead_total", "alertsink_dead"))[1]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
