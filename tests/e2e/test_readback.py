"""test_readback.py - what an input accepts, the spool reads back.

A webhook body is stored as it came (docs/inputs.md), inside a spool entry
that holds the payload one level down.  Two bodies were answered 200 and
then could not be read back after a restart, so they went to corrupt/ and
were never delivered:
  - a payload nested exactly 64 levels deep (the input's limit): its
    entry was 65 deep, past the reader's limit.  The reader now allows
    the levels an entry adds;
  - a body starting with a byte order mark, which cJSON skips: copied
    into the entry, the mark sat in the middle of a line.  It is refused
    (RFC 8259: a JSON text has none), 400 with the reason.
Other text that cJSON lets pass is refused the same way: a control
character between tokens, a number outside JSON's grammar, \\u0000.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Daemon, am_payload, wait_for  # noqa: E402

AM = "/api/v1/alertmanager"


class ReadBack(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(unix=False)
        self.outdir = os.path.join(self.d.dir, "late")  # missing: every attempt fails (transient)
        self.outbox = os.path.join(self.outdir, "out.jsonl")
        self.d.write_config(
            receivers="  - name: late\n    file: {path: %s}\n" % json.dumps(self.outbox),
            route="{receiver: late, group_by: [alertname]}")

    def tearDown(self):
        self.d.close()

    def test_payload_64_deep_is_delivered_after_a_restart(self):
        d = self.d
        d.start()
        p = am_payload(["Deep"])
        deep = "x"
        for _ in range(63):  # with the payload's own object: 64 levels
            deep = [deep]
        p["extra"] = deep
        r = d.post(AM, p)
        self.assertEqual(r.status, 200, r)
        nid = r.json["id"]
        wait_for(lambda: any(n == nid or n.startswith(nid + ".") for n in
                             os.listdir(os.path.join(d.spool, "deferred"))),
                 20, what="the note deferred (its sink failed)")
        self.assertEqual(d.stop(), 0, d.log())
        os.makedirs(self.outdir)
        d.start()
        def delivered():
            if not os.path.exists(self.outbox):
                return False
            with open(self.outbox) as f:
                return "Deep" in f.read()
        wait_for(delivered, 30, what="the deep payload delivered after the restart")
        self.assertEqual(os.listdir(os.path.join(d.spool, "corrupt")), [])
        self.assertEqual(d.stop(), 0, d.log())

    def test_json_that_cjson_lets_pass_is_refused(self):
        d = self.d
        d.start()
        body = json.dumps(am_payload(["Fine"])).encode()
        cases = [
            (b"\xef\xbb\xbf" + body, "a byte order mark (U+FEFF) before the value at offset 0"),
            (body.replace(b'"truncatedAlerts": 0', b'"truncatedAlerts": 00'),
             "a number outside JSON's grammar"),
            (body.replace(b'"status": "firing",', b'"status":\x01"firing",', 1),
             "a control character between tokens"),
            (body.replace(b'"alertname": "Fine"', b'"alertname": "Fi\\u0000ne"'),
             "\\u0000 in a string"),
        ]
        for raw, why in cases:
            self.assertNotEqual(raw, body)
            r = d.post(AM, raw)
            self.assertEqual(r.status, 400, (raw[:60], r))
            self.assertIn(why, r.body.decode(), raw[:60])
        self.assertEqual(d.stop(), 0, d.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
