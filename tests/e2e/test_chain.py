#!/usr/bin/python3
"""test_chain.py - a receiver's chain of channels (docs/delivery.md), through
the real daemon and `alertsink send`, with channels that are loaded modules.

The sink tests/unit/modules/scripted.c is built three times, as the modules
alpha, beta and gamma; each answers what a test wrote in its state
directory's script ("permanent unavailable delivered") and records every
attempt in attempts.jsonl.  So one receiver holds a chain of one, two or
three channels, and every result a sink can give is played in each mode:

  fallback  the first channel; the next at once after a permanent failure
            or an unavailable channel, or after fallback_after; the others
            stop once one delivered;
  all       every channel; finished when each is settled, dead when none
            delivered;
  NAME      that channel alone;

with the chain's order from `channels:`, else the order the keys are
written in; a channel that is unavailable on a receiver's only channel is
retried, never dead at once; and `send` exits 0 (the first channel, or in
mode all every channel, delivered), 3 (another did), 1 (none did).
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SLOW, Daemon, alert, wait_for  # noqa: E402

BUILD = os.environ.get("AS_BUILD_DIR") or os.path.join(os.path.dirname(BINARY))
MODULES = [os.path.join(BUILD, "modules", "as_mod_%s.so" % n) for n in ("alpha", "beta", "gamma")]


def channels_yaml(names):
    return "".join("    %s: {}\n" % n for n in names)


class Chain(unittest.TestCase):
    def start(self, names, mode="fallback", order=None, fallback_after="30s", scripts=None,
              max_age="1h", run=True):
        """A daemon whose receiver "r" has the channels names (keys written
        in that order), mode, channels: order, and scripts {name: words}."""
        rcv = "  - name: r\n" + channels_yaml(names)
        rcv += "    mode: %s\n    fallback_after: %s\n" % (mode, fallback_after)
        if order is not None:
            rcv += "    channels: %s\n" % json.dumps(order)
        self.d = Daemon(unix=False, spool={"max_age": max_age}, receivers=rcv,
                        route="{receiver: r, group_by: [alertname]}",
                        extra="modules: %s\n" % json.dumps(MODULES))
        self.addCleanup(self.d.close)
        for name, words in (scripts or {}).items():
            self.script(name, words)
        if run:
            self.d.start()
        return self.d

    def state(self, name):
        return os.path.join(self.d.spool, "state", name)

    def script(self, name, words):
        os.makedirs(self.state(name), mode=0o700, exist_ok=True)
        with open(os.path.join(self.state(name), "script"), "w") as f:
            f.write(words)

    def attempts(self, name):
        try:
            with open(os.path.join(self.state(name), "attempts.jsonl")) as f:
                return [json.loads(l) for l in f]
        except FileNotFoundError:
            return []

    def outcomes(self, name):
        return [a["outcome"] for a in self.attempts(name)]

    def post(self, name="ChainTest"):
        r = self.d.post("/api/v1/alerts", alert(name))
        self.assertEqual(r.status, 200, r)
        return r.json["id"]

    def dead(self):
        d = os.path.join(self.d.spool, "dead")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def wait_outcomes(self, name, n, timeout=10):
        return wait_for(lambda: len(self.attempts(name)) >= n and self.outcomes(name), timeout,
                        what="%d attempt(s) on %s" % (n, name))

    def wait_settled(self, timeout=10):
        """The spool holds nothing but dead letters and state."""
        def settled():
            for q in ("incoming", "active", "deferred", "maildrop"):
                d = os.path.join(self.d.spool, q)
                if os.path.isdir(d) and any(not f.startswith(".") for f in os.listdir(d)):
                    return False
            return True
        wait_for(settled, timeout, what="the spool to settle")

    # --- one channel ----------------------------------------------------------------------

    def test_one_channel_transient_then_delivered(self):
        self.start(["alpha"], scripts={"alpha": "transient delivered"})
        self.post()
        self.assertEqual(self.wait_outcomes("alpha", 2), ["transient", "delivered"])
        self.wait_settled()
        self.assertEqual(self.dead(), [])

    def test_one_channel_unavailable_is_retried_not_dead(self):
        self.start(["alpha"], scripts={"alpha": "unavailable unavailable delivered"})
        self.post()
        self.assertEqual(self.wait_outcomes("alpha", 3, timeout=15),
                         ["unavailable", "unavailable", "delivered"])
        self.wait_settled()
        self.assertEqual(self.dead(), [])

    def test_one_channel_permanent_is_dead(self):
        self.start(["alpha"], scripts={"alpha": "permanent"})
        nid = self.post()
        wait_for(lambda: nid in self.dead(), 10, what="dead/")
        self.assertEqual(self.outcomes("alpha"), ["permanent"])
        self.assertIn("every channel failed permanently: alpha: scripted", self.d.log())

    # --- two channels, fallback -----------------------------------------------------------

    def test_two_permanent_then_next_at_once(self):
        self.start(["alpha", "beta"], scripts={"alpha": "permanent"})
        self.post()
        self.assertEqual(self.wait_outcomes("beta", 1), ["delivered"])
        self.wait_settled()
        self.assertEqual(self.outcomes("alpha"), ["permanent"])
        self.assertRegex(self.d.log(), r"channel=beta attempt=1 result=delivered .*role=fallback")

    def test_two_unavailable_then_next_at_once_and_the_first_stops(self):
        self.start(["alpha", "beta"], scripts={"alpha": "unavailable unavailable"})
        t0 = time.monotonic()
        self.post()
        self.wait_outcomes("beta", 1)
        self.assertLess(time.monotonic() - t0, 5 * SLOW)  # not after fallback_after (30 s)
        self.wait_settled()
        time.sleep(2.5 * SLOW)  # past alpha's first backoff step
        self.assertEqual(self.outcomes("alpha"), ["unavailable"])  # superseded: not retried
        self.assertEqual(self.outcomes("beta"), ["delivered"])

    def test_two_transient_until_fallback_after(self):
        self.start(["alpha", "beta"], fallback_after="2s",
                   scripts={"alpha": "transient " * 20})
        t0 = time.monotonic()
        self.post()
        self.wait_outcomes("beta", 1, timeout=15)
        self.assertGreaterEqual(time.monotonic() - t0, 1.9)
        self.wait_settled()
        n = len(self.attempts("alpha"))
        self.assertGreaterEqual(n, 1)
        time.sleep(3 * SLOW)
        self.assertEqual(len(self.attempts("alpha")), n)  # stopped once beta delivered

    def test_two_first_delivers_the_second_is_never_tried(self):
        self.start(["alpha", "beta"])
        self.post()
        self.wait_outcomes("alpha", 1)
        self.wait_settled()
        self.assertEqual(self.attempts("beta"), [])

    def test_two_both_permanent_is_dead_with_both_reasons(self):
        self.start(["alpha", "beta"], scripts={"alpha": "permanent", "beta": "permanent"})
        nid = self.post()
        wait_for(lambda: nid in self.dead(), 10, what="dead/")
        self.assertIn("alpha: scripted; beta: scripted", self.d.log())

    # --- three channels -------------------------------------------------------------------

    def test_three_fallback_down_the_chain(self):
        self.start(["alpha", "beta", "gamma"],
                   scripts={"alpha": "permanent", "beta": "unavailable"})
        self.post()
        self.assertEqual(self.wait_outcomes("gamma", 1), ["delivered"])
        self.wait_settled()
        self.assertEqual(self.outcomes("alpha"), ["permanent"])
        self.assertEqual(self.outcomes("beta"), ["unavailable"])
        self.assertRegex(self.d.log(), r"channel=gamma attempt=1 result=delivered .*rank=3")

    def test_three_all(self):
        self.start(["alpha", "beta", "gamma"], mode="all", scripts={"beta": "transient"})
        nid = self.post()
        self.wait_outcomes("beta", 2)
        self.wait_settled()
        self.assertEqual([len(self.attempts(n)) for n in ("alpha", "beta", "gamma")], [1, 2, 1])
        self.assertEqual([self.attempts(n)[-1]["id"] for n in ("alpha", "beta", "gamma")],
                         [nid] * 3)

    def test_three_all_one_fails_the_others_deliver(self):
        self.start(["alpha", "beta", "gamma"], mode="all", scripts={"alpha": "permanent"})
        self.post()
        self.wait_outcomes("gamma", 1)
        self.wait_settled()
        self.assertEqual(self.dead(), [])
        self.assertEqual(self.outcomes("beta"), ["delivered"])
        self.assertIn("delivered, but some channels failed permanently", self.d.log())

    def test_three_all_every_one_fails_is_dead(self):
        self.start(["alpha", "beta", "gamma"], mode="both",  # the old name of all
                   scripts={n: "permanent" for n in ("alpha", "beta", "gamma")})
        nid = self.post()
        wait_for(lambda: nid in self.dead(), 10, what="dead/")

    def test_three_mode_name_uses_that_channel_alone(self):
        self.start(["alpha", "beta", "gamma"], mode="beta")
        self.post()
        self.wait_outcomes("beta", 1)
        self.wait_settled()
        self.assertEqual(self.attempts("alpha") + self.attempts("gamma"), [])

    # --- the chain's order ----------------------------------------------------------------

    def test_a_channel_reached_stays_reached(self):
        # alpha unavailable at once: beta is reached at t=0.  alpha's retry
        # is then transient: beta stays reached, so gamma is due
        # fallback_after after beta was reached (t=4 s), not 4 s after
        # alpha's own fallback_after (t=8 s), as when the chain forgot.
        self.start(["alpha", "beta", "gamma"], fallback_after="4s",
                   scripts={"alpha": "unavailable " + "transient " * 40,
                            "beta": "transient " * 40})
        t0 = time.monotonic()
        self.post()
        self.wait_outcomes("gamma", 1, timeout=20)
        self.assertLess(time.monotonic() - t0, 6.5 * SLOW)

    def test_order_is_the_order_written(self):
        self.start(["gamma", "alpha", "beta"], scripts={"gamma": "permanent"})
        self.post()
        self.wait_outcomes("alpha", 1)
        self.wait_settled()
        self.assertEqual(self.outcomes("gamma"), ["permanent"])
        self.assertEqual(self.attempts("beta"), [])

    def test_channels_gives_the_order(self):
        self.start(["alpha", "beta", "gamma"], order=["beta", "gamma", "alpha"],
                   scripts={"beta": "unavailable"})
        self.post()
        self.wait_outcomes("gamma", 1)
        self.wait_settled()
        self.assertEqual(self.attempts("alpha"), [])

    def test_chain_errors_are_configuration_errors(self):
        cases = [
            (["alpha", "beta"], "fallback", ["alpha", "delta"],
             "channels: 'delta' is not a channel of this receiver (it has: "),
            (["alpha", "beta"], "fallback", ["alpha", "alpha", "beta"], "'alpha' is named twice"),
            (["alpha", "beta"], "fallback", ["alpha"],
             "channel 'beta' is configured but not in channels"),
            (["alpha"], "gamma", None, "mode 'gamma': expected fallback, all, or one of its "
                                       "channels (alpha)"),
        ]
        for names, mode, order, message in cases:
            with self.subTest(message=message):
                d = self.start(names, mode=mode, order=order, run=False)
                p = subprocess.run([BINARY, "-t", "-c", d.config], capture_output=True,
                                   text=True, timeout=30 * SLOW)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(message, p.stderr)

    # --- send's exit codes ----------------------------------------------------------------

    def send(self):
        p = subprocess.run([BINARY, "send", "-c", self.d.config, "--receiver", "r",
                            "--timeout", "%ds" % (5 * SLOW)], input="chain test",
                           capture_output=True, text=True, timeout=60 * SLOW)
        return p.returncode

    def test_send_exit_codes(self):
        cases = [
            ("fallback", {}, 0),
            ("fallback", {"alpha": "permanent"}, 3),
            ("fallback", {"alpha": "unavailable"}, 3),
            ("fallback", {"alpha": "permanent", "beta": "permanent"}, 1),
            ("all", {}, 0),
            ("all", {"beta": "permanent"}, 3),
            ("all", {"alpha": "permanent", "beta": "permanent"}, 1),
            ("beta", {"beta": "permanent"}, 1),
        ]
        for mode, scripts, code in cases:
            with self.subTest(mode=mode, scripts=scripts):
                self.start(["alpha", "beta"], mode=mode, scripts=scripts, run=False)
                self.assertEqual(self.send(), code, self.d.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
