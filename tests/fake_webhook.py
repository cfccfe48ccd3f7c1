#!/usr/bin/python3
"""fake_webhook.py - a strict fake webhook receiver for tests.

It takes any method on any path (or only --path), records it whole, and
checks what it was told to: with --bearer, Authorization: Bearer TOKEN
(else 401); with --hmac-secret, X-Alertsink-Signature: sha256=HEX, the
HMAC-SHA256 of exactly the bytes of the body (else 401, and the record
says "signature_ok": false).  It answers 200 {"status": "ok"}.

Usage:
    fake_webhook.py [--port 0] [--port-file F] [--delay-ms MS] [--path /hook]
                    [--bearer TOKEN] [--hmac-secret SECRET]

Steered over HTTP (fake_http.py: /_control with "fail" (status, count,
retry_after, message: answered {"error": message}), "hang", "reset",
"clear"; /_requests; /_state), with this control key of its own:

    "answer": {"status": 202, "body": "accepted"}   what a taken request gets

A request's record also holds "body" (the text as received) and
"signature_ok" (when a secret is set).  /_state: how many it took.
"""

import hashlib
import hmac

from fake_http import FakeHandler, FakeState, parser, serve


class State(FakeState):
    def __init__(self, args):
        super().__init__(args)
        self.path = args.path
        self.bearer = args.bearer
        self.secret = args.hmac_secret
        self.answer = {"status": 200, "body": {"status": "ok"}}
        self.taken = 0

    def control(self, c):
        super().control(c)
        if "answer" in c:
            self.answer = {"status": c["answer"].get("status", 200),
                           "body": c["answer"].get("body", {"status": "ok"})}

    def snapshot(self):
        return {"taken": self.taken}


class Handler(FakeHandler):
    server_version = "FakeWebhook/1.0"

    def note_body(self):
        self.record["body"] = self.body().decode("utf-8", errors="replace")
        super().note_body()

    def route(self, method, path):
        st = self.server.state
        self.note_body()
        if st.path and path != st.path:
            return self.fail(404, "no hook at %s" % path)
        if st.bearer is not None:
            if self.headers.get("Authorization", "") != "Bearer " + st.bearer:
                return self.fail(401, "wrong or missing bearer token")
        if st.secret is not None:
            want = "sha256=" + hmac.new(st.secret.encode(), self.body(), hashlib.sha256).hexdigest()
            got = self.headers.get("X-Alertsink-Signature", "")
            self.record["signature_ok"] = hmac.compare_digest(want, got)
            if not self.record["signature_ok"]:
                return self.fail(401, "bad signature")
        with st.lock:
            st.taken += 1
            answer = dict(st.answer)
        body = answer["body"]
        if isinstance(body, str):
            self.answer(answer["status"], body.encode(), content_type="text/plain")
        else:
            self.answer(answer["status"], body)


def main():
    ap = parser(__doc__.split("\n")[0])
    ap.add_argument("--path")
    ap.add_argument("--bearer")
    ap.add_argument("--hmac-secret")
    args = ap.parse_args()
    serve(args, State(args), Handler)


if __name__ == "__main__":
    main()
